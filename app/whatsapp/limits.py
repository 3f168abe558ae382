"""How much a number may send, and when: caps per contact, per hour and per day, warm-up, quiet hours.

Windows roll (the last 60 minutes, the last 24 hours) rather than reset on the clock, so a cap cannot be doubled
around midnight. A refusal says exactly when sending may resume and why, so the queue can show "next send at …".
A new number starts low and grows (20 → 50 → 120 → 300 a day by default), as WhatsApp expects of a new account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class SendLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    per_contact_per_hour: int = Field(12, ge=1)
    per_hour: int = Field(60, ge=1)
    per_day: int = Field(300, ge=1)
    warmup_per_day: tuple[int, ...] = (20, 50, 120, 300)  # day 1, 2, 3, and from day 4 of the number
    quiet_start: time | None = time(22, 0)
    quiet_end: time | None = time(8, 0)
    timezone: str = "UTC"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    not_before: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class Send:
    contact_id: str
    at: datetime
    automated: bool = False  # queued without a human author (campaigns, agents): paced by ``app.whatsapp.pacing``


def daily_cap(settings: SendLimits, first_send: datetime | None, now: datetime) -> int:
    """Today's cap: the warm-up step for the number's age (in whole days since its first send), at most per_day."""
    steps = settings.warmup_per_day
    if first_send is None or not steps:
        return min(settings.per_day, steps[0]) if steps else settings.per_day
    age = max(0, (now - first_send) // DAY)
    warm = steps[min(age, len(steps) - 1)]
    return min(settings.per_day, warm)


def _quiet_until(settings: SendLimits, now: datetime) -> datetime | None:
    if settings.quiet_start is None or settings.quiet_end is None or settings.quiet_start == settings.quiet_end:
        return None
    local = now.astimezone(ZoneInfo(settings.timezone))
    start, end, t = settings.quiet_start, settings.quiet_end, local.timetz().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    resume = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if resume <= local:
        resume += DAY
    return resume.astimezone(now.tzinfo)


def window_full(times: list[datetime], cap: int, span: timedelta, now: datetime) -> datetime | None:
    """When a slot frees in a rolling window holding ``cap`` sends already, or None if there is room."""
    recent = sorted(t for t in times if now - span < t <= now)
    if len(recent) < cap:
        return None
    return recent[len(recent) - cap] + span


def check(
    now: datetime,
    contact_id: str,
    sends: Sequence[Send],
    first_send: datetime | None,
    settings: SendLimits | None = None,
) -> Decision:
    """May a message go to ``contact_id`` at ``now``, given the number's recent ``sends``?"""
    s = settings or SendLimits()
    quiet = _quiet_until(s, now)
    if quiet is not None:
        return Decision(False, quiet, "quiet hours")
    everyone = [x.at for x in sends]
    waits = [
        (
            window_full([x.at for x in sends if x.contact_id == contact_id], s.per_contact_per_hour, HOUR, now),
            f"at most {s.per_contact_per_hour} messages an hour to one contact",
        ),
        (window_full(everyone, s.per_hour, HOUR, now), f"at most {s.per_hour} messages an hour"),
    ]
    cap = daily_cap(s, first_send, now)
    reason = f"at most {cap} messages a day" + (" while the number warms up" if cap < s.per_day else "")
    waits.append((window_full(everyone, cap, DAY, now), reason))
    blocked = [(when, why) for when, why in waits if when is not None]
    if not blocked:
        return Decision(True)
    when, why = max(blocked, key=lambda item: item[0])
    later_quiet = _quiet_until(s, when)
    return Decision(False, later_quiet or when, why)
