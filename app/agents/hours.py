"""Business hours: a weekly schedule with holidays, in the org's time zone, and the questions the greetings ask of it.

Stored as JSON in ``orgs.business_hours`` (schema 13); the zone is ``orgs.timezone``. ``{}`` means no schedule was set:
the business is always open (an away message never fires). The stored shape::

    {"week": {"mon": [{"start": "09:00", "end": "18:00"}], "fri": [{"start": "22:00", "end": "02:00"}], ...},
     "holidays": [{"date": "2026-12-25", "name": "Christmas"}]}

Rules, chosen so a person can predict them:

- **Intervals** are wall-clock times on the day they start, ``start`` included, ``end`` excluded; several per day.
  ``end`` may be ``24:00`` (to midnight). An ``end`` earlier than its ``start`` runs **past midnight**: Friday
  ``22:00``–``02:00`` is open from Friday 22:00 to Saturday 02:00. It may not run into the next day's own intervals.
- **Holidays** are local dates; on a holiday the intervals that *start* that day do not open. Thursday's
  ``22:00``–``02:00`` still runs into a Friday holiday (the night belongs to the day it started).
- **Daylight saving.** A wall time is the first instant the business's clock shows it. A time the clock skips (02:30
  in Berlin on the last Sunday of March) is the instant the clock jumps (03:00 summer time): an opening at 02:30 opens
  then, and an interval lying wholly in the gap never opens. A time the clock shows twice (02:30 on the last Sunday of
  October) is its first occurrence, so ``01:00``–``02:30`` that night ends at the first 02:30.
- A day with no intervals is closed; a week with none at all is always closed (except it is still a valid schedule).

No Qt here (house rule 1); the UI edits a ``Schedule`` and saves it through ``app.store.ops.business_hours``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.core.errors import InvalidInput

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES: dict[str, str] = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
# How far ahead the next opening or closing is looked for (a year of holidays, and some).
HORIZON_DAYS = 400

_CLOCK = re.compile(r"([01]\d|2[0-3]):[0-5]\d|24:00")


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


class Interval(BaseModel):
    """One open stretch of a day, ``start`` to ``end`` as ``HH:MM`` (``end`` before ``start``: past midnight)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str
    end: str

    @field_validator("start")
    @classmethod
    def _start(cls, value: str) -> str:
        if not _CLOCK.fullmatch(value) or value == "24:00":
            raise ValueError(f"“{value}” is not a time: write it like 09:00 (00:00 to 23:59)")
        return value

    @field_validator("end")
    @classmethod
    def _end(cls, value: str) -> str:
        if not _CLOCK.fullmatch(value):
            raise ValueError(f"“{value}” is not a time: write it like 18:00 (00:00 to 24:00)")
        return value

    @property
    def start_minute(self) -> int:
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        """Minutes after the start day's midnight; past midnight adds a day (22:00–02:00 ends at 26 h)."""
        end = _minutes(self.end)
        return end + 24 * 60 if end <= self.start_minute and self.end != "24:00" else end

    @property
    def past_midnight(self) -> bool:
        return self.end_minute > 24 * 60

    def label(self) -> str:
        return f"{self.start}–{self.end}"


class Holiday(BaseModel):
    """A local date the business stays closed, optionally named (“Christmas”)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    name: str = ""


class Schedule(BaseModel):
    """The weekly intervals and the holidays. ``Schedule()`` (stored ``{}``) is *no schedule*: always open."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    week: dict[Weekday, list[Interval]] | None = None
    holidays: list[Holiday] = Field(default_factory=list)

    @property
    def always_open(self) -> bool:
        return self.week is None

    def day(self, weekday: Weekday) -> list[Interval]:
        return list((self.week or {}).get(weekday, []))

    def to_json(self) -> dict[str, Any]:
        """The stored form (``{}`` for no schedule); days in week order, intervals by start, holidays by date."""
        if self.week is None and not self.holidays:
            return {}
        out: dict[str, Any] = {}
        if self.week is not None:
            out["week"] = {
                d: [i.model_dump() for i in sorted(self.day(d), key=lambda i: i.start_minute)]
                for d in WEEKDAYS
                if self.day(d)
            }
        if self.holidays:
            out["holidays"] = [
                {"date": h.date.isoformat(), "name": h.name} for h in sorted(self.holidays, key=lambda h: h.date)
            ]
        return out


def parse_schedule(raw: dict[str, Any] | None) -> Schedule:
    """The schedule in ``raw`` (the stored JSON), checked; ``InvalidInput`` with a sentence saying what is wrong."""
    if not raw:
        return Schedule()
    try:
        schedule = Schedule.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        message = str(first.get("msg", "")).removeprefix("Value error, ")
        where = [str(p) for p in first.get("loc", ()) if isinstance(p, str)]
        day = next((DAY_NAMES[p] for p in where if p in DAY_NAMES), None)
        if first.get("type") == "literal_error" or (where and where[0] == "week" and day is None and len(where) > 1):
            raise InvalidInput("Days are mon, tue, wed, thu, fri, sat and sun.") from None
        if "holidays" in where:
            raise InvalidInput(f"A holiday's date is not a date ({message}); pick it from the calendar.") from None
        prefix = f"{day}: " if day else ""
        raise InvalidInput(f"{prefix}{message}.") from None
    check_schedule(schedule)
    return schedule


def check_schedule(schedule: Schedule) -> None:
    """Refuse what cannot be meant: an empty interval, overlaps within a day, a night running into the next day's
    intervals, a holiday listed twice."""
    for index, weekday in enumerate(WEEKDAYS):
        intervals = sorted(schedule.day(weekday), key=lambda i: i.start_minute)
        name = DAY_NAMES[weekday]
        for interval in intervals:
            if interval.start == interval.end:
                raise InvalidInput(
                    f"{name}: {interval.label()} opens and closes at the same time; for the whole day use 00:00–24:00."
                )
        for a, b in pairwise(intervals):
            if b.start_minute < a.end_minute:
                raise InvalidInput(f"{name}: {a.label()} and {b.label()} overlap; join them or move one.")
        if intervals and intervals[-1].past_midnight:
            night = intervals[-1]
            following = WEEKDAYS[(index + 1) % 7]
            early = sorted(schedule.day(following), key=lambda i: i.start_minute)
            if early and early[0].start_minute < night.end_minute - 24 * 60:
                raise InvalidInput(
                    f"{name}'s {night.label()} runs past midnight into {DAY_NAMES[following]}'s "
                    f"{early[0].label()}; end it earlier or start {DAY_NAMES[following]} later."
                )
    seen: set[date] = set()
    for holiday in schedule.holidays:
        if holiday.date in seen:
            raise InvalidInput(f"{holiday.date.isoformat()} is listed as a holiday twice.")
        seen.add(holiday.date)


def zone(name: str) -> tzinfo:
    """The org's time zone; an unknown name (a typo synced from elsewhere) falls back to UTC rather than fail."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def wall_to_instant(day: date, minute: int, tz: tzinfo) -> datetime:
    """The first instant (UTC) at which the clock in ``tz`` shows ``day`` + ``minute`` minutes; for a wall time
    the clock skips (spring forward), the instant the clock jumps."""
    day = day + timedelta(days=minute // (24 * 60))
    minute %= 24 * 60
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # exists (fold=0 is the first of two in the autumn)
    # In the gap: fold=1 reads it with the offset after the jump (earlier in UTC), fold=0 with the one before
    # (later); the jump lies between. Find the first instant whose wall time is at or past ``naive``.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = first
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


class BusinessHours:
    """A schedule in a time zone, asked about instants (aware datetimes)."""

    def __init__(self, schedule: Schedule, tz: tzinfo | str) -> None:
        self.schedule = schedule
        self.tz = zone(tz) if isinstance(tz, str) else tz
        self._holidays = {h.date for h in schedule.holidays}

    @classmethod
    def from_org(cls, business_hours: dict[str, Any], timezone: str) -> BusinessHours:
        """From an org's stored fields; a stored schedule that no longer parses counts as no schedule."""
        try:
            schedule = parse_schedule(business_hours)
        except InvalidInput:
            schedule = Schedule()
        return cls(schedule, timezone)

    def local(self, at: datetime) -> datetime:
        return _aware(at).astimezone(self.tz)

    def _day_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self._holidays:
            return []
        weekday = WEEKDAYS[day.weekday()]
        out = []
        for interval in sorted(self.schedule.day(weekday), key=lambda i: i.start_minute):
            start = wall_to_instant(day, interval.start_minute, self.tz)
            end = wall_to_instant(day, interval.end_minute, self.tz)
            if end > start:  # an interval wholly inside a skipped hour never opens
                out.append((start, end))
        return out

    def windows(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open windows (UTC, merged where one ends as the next starts) from the one around ``at`` onwards."""
        first_day = self.local(at).date() - timedelta(days=1)  # yesterday's night may still be open
        current: tuple[datetime, datetime] | None = None
        for offset in range(HORIZON_DAYS):
            for start, end in self._day_windows(first_day + timedelta(days=offset)):
                if current is not None and start <= current[1]:
                    current = (current[0], max(current[1], end))
                    continue
                if current is not None and current[1] > _aware(at):
                    yield current
                current = (start, end)
        if current is not None and current[1] > _aware(at):
            yield current

    def is_open(self, at: datetime) -> bool:
        if self.schedule.always_open:
            return True
        moment = _aware(at)
        for start, end in self.windows(moment):
            return start <= moment < end
        return False

    def next_opening(self, at: datetime) -> datetime | None:
        """The next instant after ``at`` at which the business opens (after the current stretch when open now);
        None with no schedule (always open) or no opening within ``HORIZON_DAYS``."""
        if self.schedule.always_open:
            return None
        moment = _aware(at)
        return next((start for start, _ in self.windows(moment) if start > moment), None)

    def next_closing(self, at: datetime) -> datetime | None:
        """When the current stretch ends (open now), else when the next one will; None with no schedule."""
        if self.schedule.always_open:
            return None
        return next((end for _, end in self.windows(_aware(at))), None)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("business hours are asked about aware datetimes")
    return at.astimezone(UTC)
