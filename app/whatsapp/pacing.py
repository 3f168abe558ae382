"""One pacing budget per WhatsApp number, shared by every automated sender.

Campaigns, retention follow-ups, autopilot answers and away/welcome messages all go out on the same number, and
WhatsApp judges the number, not the feature: four senders each "within limits" add up to a ban (whatsapp-web.js
#1872). So every message without a human author draws from one budget, computed from the number's own send history
(the store), never from a per-campaign counter:

- a random gap between automated messages to different contacts (drawn once per send, so a restart keeps the pace);
- caps per rolling hour and rolling 24 h for automated messages, the daily one following a warm-up curve by the
  number's age (DeskcommCRM: 20/50/100/200 a day from day 0/4/8/15);
- a sending window in the business's time zone (09:00–20:00 by default; a window may cross midnight);
- a pause after each batch: never more than ``batch_size`` automated messages in a row without a pause of at least
  ``batch_pause_seconds`` between two of them. Counted from the send times themselves — Whaticket's "long pause"
  compared a millisecond delay with a message index and never fired.

A person's own replies are not paced here (``app.whatsapp.limits`` still applies quiet hours and the per-contact cap
to them). A campaign may make the pace stricter, never looser: ``stricter(base, override)`` keeps the stricter of
each rule. Everything here is a pure function of the time, the pace and the history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.whatsapp.limits import DAY, HOUR, Send, window_full

Window = tuple[time, time]  # local start, end; end before start crosses midnight
DEFAULT_WARMUP: tuple[tuple[int, int], ...] = ((0, 20), (4, 50), (8, 100), (15, 200))


@dataclass(frozen=True)
class Pace:
    gap_min_seconds: float = 30.0
    gap_max_seconds: float = 60.0
    per_hour: int = 30
    per_day: int = 200
    warmup: tuple[tuple[int, int], ...] = DEFAULT_WARMUP  # (from day of the number's age, automated a day); () off
    windows: tuple[Window, ...] = ((time(9, 0), time(20, 0)),)  # a send must fall inside every one; () any time
    batch_size: int = 20
    batch_pause_seconds: float = 300.0
    timezone: str = "UTC"  # the business's (``orgs.timezone``)


@dataclass(frozen=True)
class Wait:
    until: datetime
    reason: str


def _warm_cap(warmup: tuple[tuple[int, int], ...], age_days: int) -> int | None:
    cap: int | None = None
    for start, value in sorted(warmup):
        if age_days >= start:
            cap = value
    return cap


def _combine_warmup(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    if not a or not b:
        return a or b
    days = sorted({d for d, _ in a} | {d for d, _ in b})
    steps: list[tuple[int, int]] = []
    for day in days:
        caps = [c for c in (_warm_cap(a, day), _warm_cap(b, day)) if c is not None]
        if caps:
            steps.append((day, min(caps)))
    return tuple(steps)


def stricter(base: Pace, override: Pace | None) -> Pace:
    """The stricter of each rule of ``base`` and ``override`` (a campaign's own pace): longer gaps and pauses, lower
    caps, smaller batches, and both sending windows at once. The business's time zone stays ``base``'s."""
    if override is None:
        return base
    gap_min = max(base.gap_min_seconds, override.gap_min_seconds)
    return Pace(
        gap_min_seconds=gap_min,
        gap_max_seconds=max(base.gap_max_seconds, override.gap_max_seconds, gap_min),
        per_hour=min(base.per_hour, override.per_hour),
        per_day=min(base.per_day, override.per_day),
        warmup=_combine_warmup(base.warmup, override.warmup),
        windows=base.windows + tuple(w for w in override.windows if w not in base.windows),
        batch_size=min(base.batch_size, override.batch_size),
        batch_pause_seconds=max(base.batch_pause_seconds, override.batch_pause_seconds),
        timezone=base.timezone,
    )


def _clock(value: Any) -> time:
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


def pace_from_json(data: Mapping[str, Any] | None, base: Pace) -> Pace | None:
    """A campaign's ``pace`` column (``{"gap_min_seconds": 60, "per_day": 100, "window": ["10:00", "18:00"], …}``)
    as an override of ``base``; None when it sets nothing. Keys it leaves out keep ``base``'s value; the result is
    still combined with ``stricter`` by the sender, so nothing here can loosen the number's budget."""
    if not data:
        return None
    fields: dict[str, Any] = {}
    for key in ("gap_min_seconds", "gap_max_seconds", "batch_pause_seconds"):
        if key in data:
            fields[key] = float(data[key])
    for key in ("per_hour", "per_day", "batch_size"):
        if key in data:
            fields[key] = max(1, int(data[key]))
    if data.get("window"):
        start, end = data["window"]
        fields["windows"] = ((_clock(start), _clock(end)),)
    if not fields:
        return None
    return replace(base, **fields)


# ---- rules ---------------------------------------------------------------------------------------------------


def gap_seconds(pace: Pace, fraction: float) -> float:
    """The gap for a draw ``fraction`` in [0, 1) (the humanizer's RNG draws it once per automated send)."""
    return pace.gap_min_seconds + fraction * max(0.0, pace.gap_max_seconds - pace.gap_min_seconds)


def number_age_days(first_send: datetime | None, now: datetime) -> int:
    return 0 if first_send is None else max(0, (now - first_send) // DAY)


def daily_cap(pace: Pace, first_send: datetime | None, now: datetime) -> int:
    """Automated messages allowed in 24 h: ``per_day``, lower while the number warms up (by its age in days)."""
    warm = _warm_cap(pace.warmup, number_age_days(first_send, now))
    return pace.per_day if warm is None else min(pace.per_day, warm)


def _inside(window: Window, t: time) -> bool:
    start, end = window
    if start == end:
        return True
    return start <= t < end if start < end else (t >= start or t < end)


def _local_time(moment: datetime, zone: ZoneInfo) -> time:
    return moment.astimezone(zone).time().replace(tzinfo=None)


def window_opens(pace: Pace, now: datetime) -> datetime | None:
    """None when ``now`` is inside every sending window; else when the next moment inside all of them starts.

    Openings are local wall-clock times in the business's zone, so a window opens at 09:00 on the day the clocks
    change just as on any other day (never an hour early or late)."""
    if not pace.windows:
        return None
    zone = ZoneInfo(pace.timezone)
    if all(_inside(w, _local_time(now, zone)) for w in pace.windows):
        return None
    today = now.astimezone(zone).date()
    candidates: list[datetime] = []
    for offset in range(-1, 9):
        day = today + timedelta(days=offset)
        for start, _end in pace.windows:
            opening = _at(day, start, zone).astimezone(now.tzinfo)
            if opening > now and all(_inside(w, _local_time(opening, zone)) for w in pace.windows):
                candidates.append(opening)
    return min(candidates) if candidates else None


def _at(day: date, t: time, zone: ZoneInfo) -> datetime:
    """``t`` on ``day`` in ``zone``; a time the clocks skip (spring forward) is taken after the jump."""
    naive = datetime.combine(day, t)
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return aware
    # A skipped wall time: the moment the clocks jump (the first local time after ``t``), found by the minute.
    lo, hi = sorted((naive.replace(tzinfo=zone, fold=1).astimezone(UTC), aware.astimezone(UTC)))
    while lo < hi and lo.astimezone(zone).replace(tzinfo=None) < naive:
        lo += timedelta(minutes=1)
    return lo


def _batch_run(times: Sequence[datetime], pause: timedelta) -> int:
    """How many automated sends in a row end the history without a pause of at least ``pause`` between two."""
    if not times:
        return 0
    run = 1
    for earlier, later in zip(reversed(times[:-1]), reversed(times[1:]), strict=True):
        if later - earlier >= pause:
            break
        run += 1
    return run


def _clock_text(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def next_slot(
    now: datetime,
    pace: Pace,
    sends: Sequence[Send],
    first_send: datetime | None,
    *,
    contact: str | None = None,
    gap_fraction: float = 0.0,
    last_done: datetime | None = None,
) -> Wait | None:
    """When the next automated message (to ``contact``) may go, and which rule holds it; None when it may go now.

    ``sends`` are the number's automated sends in the last 24 h (at least); ``last_done`` is when the latest of them
    finished (the sender knows it; the store keeps when typing began), used for the gap and the batch pause."""
    zone = ZoneInfo(pace.timezone)
    times = sorted(s.at for s in sends)
    waits: list[Wait] = []
    if times:
        latest = max(times[-1], last_done or times[-1])
        last_contact = max(sends, key=lambda s: s.at).contact_id
        if contact is None or contact != last_contact:
            gap = gap_seconds(pace, gap_fraction)
            waits.append(Wait(latest + timedelta(seconds=gap), "pause between automated messages"))
        pause = timedelta(seconds=pace.batch_pause_seconds)
        if _batch_run(times, pause) >= pace.batch_size:
            waits.append(Wait(latest + pause, f"pause after {pace.batch_size} automated messages"))
    hourly = window_full(times, pace.per_hour, HOUR, now)
    if hourly is not None:
        waits.append(Wait(hourly, f"at most {pace.per_hour} automated messages an hour"))
    cap = daily_cap(pace, first_send, now)
    daily = window_full(times, cap, DAY, now)
    if daily is not None:
        day = number_age_days(first_send, now) + 1
        warming = f" while the number warms up (day {day})" if cap < pace.per_day else ""
        waits.append(Wait(daily, f"at most {cap} automated messages a day{warming}"))
    held = max((w for w in waits if w.until > now), key=lambda w: w.until, default=None)
    moment = held.until if held is not None else now
    opens = window_opens(pace, moment)
    if opens is not None:
        return Wait(opens, f"automated sending window opens at {_clock_text(opens, zone)}")
    return held


@dataclass(frozen=True)
class Budget:
    """The budget as the WhatsApp page shows it."""

    used_today: int  # automated messages in the last 24 h
    cap_today: int
    next_slot: datetime | None  # None: an automated message may go now
    why_waiting: str  # a sentence; "" when nothing holds automated sending


def budget(now: datetime, pace: Pace, sends: Sequence[Send], first_send: datetime | None, halt: str | None) -> Budget:
    """Used today / cap, the next automated slot (at the shortest gap) and why it waits."""
    recent = [s for s in sends if now - DAY < s.at <= now]
    cap = daily_cap(pace, first_send, now)
    if halt is not None:
        return Budget(len(recent), cap, None, f"Automated sending is stopped: {halt}")
    wait = next_slot(now, pace, recent, first_send)
    if wait is None:
        return Budget(len(recent), cap, None, "")
    zone = ZoneInfo(pace.timezone)
    when = wait.until.astimezone(zone)
    day = "" if when.date() == now.astimezone(zone).date() else when.strftime(" %a %d %b")
    sentence = f"Next automated message at {when:%H:%M:%S}{day}: {wait.reason}."
    return Budget(len(recent), cap, wait.until, sentence)
