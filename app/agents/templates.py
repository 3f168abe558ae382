"""The welcome and away messages' templates: which ``{variables}`` they may use, and filling them for a customer.

Unlike a quick reply (which a person reads before sending, so a typo is left visible), these go out on their own:
an unknown variable is refused when the template is saved (``check_template``), and every known one always has a
value — a contact with no usable name gets a neutral word, never ``{first_name}``, ``None`` or a phone number.
``{next_opening}`` is a day and a 24-hour time in the business's zone (``Monday 09:00``; ``2027-01-04 09:00`` when
more than a week away), which reads the same in most languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from app.agents.hours import DAY_NAMES, WEEKDAYS
from app.core.errors import InvalidInput
from app.core.templates import render

# name -> what it is, for the Settings page's list of variables
VARIABLES: dict[str, str] = {
    "first_name": "the customer's first name",
    "name": "the customer's full name",
    "business_name": "your business's name",
    "next_opening": "when you open next, e.g. Monday 09:00",
}
# what a missing value becomes (the customer never reads a placeholder)
FALLBACKS: dict[str, str] = {
    "first_name": "there",
    "name": "there",
    "business_name": "us",
    "next_opening": "soon",
}
TEMPLATE_MAX = 1000  # characters; a greeting is a short message

# ``{{`` / ``}}`` are literal braces; any other ``{word}`` is meant as a variable.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A "name" that is only a number (WhatsApp shows the phone when the contact has none).
_PHONE_LIKE = re.compile(r"[+(\d][\d\s()./-]*")


def used_variables(template: str) -> list[str]:
    """The ``{names}`` in ``template``, in order of first use."""
    names: list[str] = []
    for match in _TOKEN.finditer(template):
        name = match.group(1)
        if name is not None and name not in names:
            names.append(name)
    return names


def unknown_variables(template: str) -> list[str]:
    return [name for name in used_variables(template) if name not in VARIABLES]


def known_list() -> str:
    return ", ".join(f"{{{name}}}" for name in VARIABLES)


def check_template(template: str, what: str) -> str:
    """``template`` trimmed, or InvalidInput naming what is wrong (``what``: "The welcome message")."""
    text = template.strip()
    if not text:
        raise InvalidInput(f"{what} is empty; write the message first.")
    if len(text) > TEMPLATE_MAX:
        raise InvalidInput(f"{what} is {len(text)} characters long; keep it under {TEMPLATE_MAX}.")
    unknown = unknown_variables(text)
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise InvalidInput(
            f"{what} uses the unknown variable{plural} {names}. The variables you can use are {known_list()}.",
            hint="Braces meant as text are written twice: {{ and }}.",
        )
    return text


@dataclass(frozen=True)
class Recipient:
    """What a greeting knows about the customer: their name as the workspace has it ("" when none)."""

    name: str = ""


def clean_name(name: str | None) -> str:
    """The contact's name when it is one a person would be called by ("" for none, a phone number, "None")."""
    text = " ".join((name or "").split())
    if not text or text.lower() in {"none", "null", "unknown"} or _PHONE_LIKE.fullmatch(text):
        return ""
    return text


def format_opening(at: datetime | None, now: datetime, tz: tzinfo) -> str:
    """``at`` as the customer reads it: "today 14:00", "Monday 09:00", or a date when more than a week away."""
    if at is None:
        return ""
    local, today = at.astimezone(tz), now.astimezone(tz).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return f"today {clock}"
    if local.date() - today < timedelta(days=7):
        return f"{DAY_NAMES[WEEKDAYS[local.weekday()]]} {clock}"
    return f"{local.date().isoformat()} {clock}"


def variables_for(recipient: Recipient, business_name: str, next_opening: str) -> dict[str, str]:
    """Every variable with a value: the contact's, or the fallback word."""
    name = clean_name(recipient.name)
    values = {
        "first_name": name.split()[0] if name else "",
        "name": name,
        "business_name": " ".join(business_name.split()),
        "next_opening": next_opening,
    }
    return {key: value or FALLBACKS[key] for key, value in values.items()}


def fill(template: str, variables: dict[str, str]) -> str:
    """The message to send. A variable with no value (a template saved before this check) becomes its fallback
    word, or is dropped, so no ``{placeholder}`` ever reaches a customer."""
    lowered = _lower_names(template)
    complete = {name: variables.get(name) or FALLBACKS.get(name, "") for name in used_variables(lowered)}
    return render(lowered, complete).strip()


def _lower_names(template: str) -> str:
    # ``app.core.templates.render`` fills lower-case names only; an upper-case one was refused at save, but a
    # template from elsewhere must not leak "{Name}" either.
    return _TOKEN.sub(lambda m: m.group(0) if m.group(1) is None else "{" + m.group(1).lower() + "}", template)
