"""Business hours and the welcome / away messages: saving them.

The schedule lives on the org row (``orgs.business_hours``, synced like the business's name, so every teammate and
the device that sends see the same hours); it is checked by ``app.agents.hours`` and stored in its canonical form
(days in order, intervals by start, holidays by date). The greetings' switches and texts are a new version of the
acquisition agent's config (see ``app.agents.greetings`` for why there and not in the per-device settings).
"""

from __future__ import annotations

from typing import Any

from app.agents import greetings
from app.agents.hours import Schedule, parse_schedule
from app.core.errors import InvalidInput
from app.core.models import Org
from app.core.zones import is_zone
from app.store.ops import Done, done, op_transaction
from app.store.store import Store


def save_business_hours(store: Store, schedule: Schedule | dict[str, Any], *, timezone: str | None = None) -> Done[Org]:
    """Check ``schedule`` (a ``Schedule`` or its stored JSON; ``{}``: no hours, always open) and save it on the
    org, with the business's time zone when given (``orgs.timezone``: the hours, follow-ups and WhatsApp's quiet
    hours are in it); InvalidInput with a sentence when it cannot be meant (overlaps, a bad time, a holiday twice, a
    zone this computer does not know)."""
    raw = schedule.to_json() if isinstance(schedule, Schedule) else schedule
    stored = parse_schedule(raw).to_json()
    changes: dict[str, object] = {"business_hours": stored}
    if timezone is not None:
        if not is_zone(timezone):
            raise InvalidInput(
                f"“{timezone.strip()[:60]}” is not a time zone Parley knows: pick one from the list (like "
                "Asia/Jakarta or Europe/Madrid)."
            )
        changes["timezone"] = timezone
    with op_transaction(store) as tx:
        org = store.orgs.update(store.org_id, **changes)
    return done(tx, org)


def save_greetings(store: Store, config: greetings.GreetingsConfig) -> Done[greetings.GreetingsConfig]:
    """Save the welcome / away switches and texts (unknown variables, an empty switched-on message refused)."""
    checked = greetings.check_config(config)
    with op_transaction(store) as tx:
        saved = greetings.save_config_version(store, checked)
    return done(tx, saved)
