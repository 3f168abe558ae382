"""A campaign's words: the template and its variants, their ``{variables}``, and the text each recipient gets.

The variables reuse the agents' templates (``app.agents.templates``: an unknown one is refused when the campaign is
saved; a missing value becomes a neutral word, never ``{first_name}``). A campaign has its template and up to
``MAX_VARIANTS - 1`` more variants; recipients get them in turn from the campaign's *own* counter
(``campaigns.next_variant``) — Whaticket rotated one module-level counter shared by every campaign, so two campaigns
sent side by side each skipped variants. The text is rendered once, when the audience is frozen, and kept on the
recipient (``body``): what a person saw in the audience is what goes out.

Many people getting nearly the same text is what spam reports are made of: ``near_identical`` flags a variant that
would go to more than ``NEAR_IDENTICAL_LIMIT`` people (names and numbers do not make two texts different).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.agents.templates import FALLBACKS, TEMPLATE_MAX, clean_name, fill, used_variables
from app.core.errors import InvalidInput
from app.core.models import Campaign
from app.core.templates import render as render_lower

MAX_VARIANTS = 5
NEAR_IDENTICAL_LIMIT = 50  # recipients of one variant beyond which the campaign is flagged

VARIABLES: dict[str, str] = {
    "first_name": "the customer's first name",
    "name": "the customer's full name",
    "business_name": "your business's name",
    "product": "the last product they bought (or 'our products')",
}
CAMPAIGN_FALLBACKS: dict[str, str] = {**FALLBACKS, "product": "our products"}

_DIGITS = re.compile(r"\d+")
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


def check_bodies(template: str, variants: Sequence[str]) -> tuple[str, list[str]]:
    """The template and variants trimmed (empty variants dropped), or InvalidInput naming what is wrong."""
    bodies = [template.strip(), *(v.strip() for v in variants if v.strip())]
    if not bodies[0]:
        raise InvalidInput("The campaign's message is empty; write the message first.")
    if len(bodies) > MAX_VARIANTS:
        raise InvalidInput(f"A campaign has at most {MAX_VARIANTS} versions of its message; remove one.")
    for n, body in enumerate(bodies):
        what = "The message" if n == 0 else f"Variant {n + 1}"
        if len(body) > TEMPLATE_MAX:
            raise InvalidInput(f"{what} is {len(body)} characters long; keep it under {TEMPLATE_MAX}.")
        unknown = [name for name in used_variables(body) if name.lower() not in VARIABLES]
        if unknown:
            known = ", ".join(f"{{{name}}}" for name in VARIABLES)
            raise InvalidInput(
                f"{what} uses {', '.join(f'{{{u}}}' for u in unknown)}, which a campaign cannot fill. "
                f"The variables you can use are {known}.",
                hint="Braces meant as text are written twice: {{ and }}.",
            )
    return bodies[0], bodies[1:]


def bodies_of(campaign: Campaign) -> list[str]:
    """The template then its variants (variant ``n`` is ``bodies_of(c)[n]``)."""
    return [b for b in [campaign.template, *campaign.variants] if b.strip()]


@dataclass(frozen=True)
class Person:
    """What a message may say about its recipient."""

    name: str = ""
    product: str = ""


def variables_for(person: Person, business_name: str) -> dict[str, str]:
    name = clean_name(person.name)
    values = {
        "first_name": name.split()[0] if name else "",
        "name": name,
        "business_name": " ".join(business_name.split()),
        "product": " ".join(person.product.split()),
    }
    return {key: value or CAMPAIGN_FALLBACKS[key] for key, value in values.items()}


def render(body: str, person: Person, business_name: str) -> str:
    """The text ``person`` gets for ``body``: every variable filled (a missing one as its neutral word)."""
    return fill(body, variables_for(person, business_name))


class Renderer:
    """``render`` for many people at once: each body's variable names are read once (a preparation renders 10k)."""

    def __init__(self, bodies: Sequence[str], business_name: str) -> None:
        self._bodies = [_TOKEN.sub(_lower, body) for body in bodies]
        self._business = business_name

    def text(self, variant: int, person: Person) -> str:
        return render_lower(self._bodies[variant], variables_for(person, self._business)).strip()


def _lower(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1) is None else "{" + match.group(1).lower() + "}"


def variant_for(start: int, index: int, count: int) -> int:
    """The variant of the ``index``-th included recipient of a campaign whose counter stood at ``start``."""
    return (start + index) % max(1, count)


def skeleton(text: str) -> str:
    """A text with what differs between people taken out (case, digits, spacing), for near-identical checks."""
    return " ".join(_DIGITS.sub("#", text.casefold()).split())


def near_identical(per_variant: dict[int, int], limit: int = NEAR_IDENTICAL_LIMIT) -> list[str]:
    """A sentence per variant that would reach more than ``limit`` people with nearly the same text."""
    found = []
    for variant, count in sorted(per_variant.items()):
        if count > limit:
            found.append(
                f"{count} people would get nearly the same text (version {variant + 1}); many identical messages "
                "are what spam reports are made of. Add versions of the message, or send to fewer people at once."
            )
    return found
