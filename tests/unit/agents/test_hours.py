"""Business hours: intervals, past midnight, holidays, daylight saving, and the sentences for a bad schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.agents.hours import BusinessHours, Schedule, parse_schedule, wall_to_instant
from app.core.errors import InvalidInput

BERLIN = ZoneInfo("Europe/Berlin")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def hours(raw: dict[str, object], tz: str = "Europe/Berlin") -> BusinessHours:
    return BusinessHours(parse_schedule(raw), tz)  # type: ignore[arg-type]


def weekdays(start: str, end: str) -> dict[str, object]:
    return {"week": {d: [{"start": start, "end": end}] for d in ("mon", "tue", "wed", "thu", "fri")}}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_no_schedule_is_always_open() -> None:
    always = hours({})
    assert always.schedule == Schedule()
    assert always.is_open(utc(2026, 12, 25, 3, 0))
    assert always.next_opening(utc(2026, 12, 25, 3, 0)) is None
    assert always.next_closing(utc(2026, 12, 25, 3, 0)) is None


def test_weekday_hours_in_the_org_zone() -> None:
    shop = hours(weekdays("09:00", "18:00"))
    # Monday 7 Dec 2026, 08:30 UTC = 09:30 in Berlin (winter, +1)
    assert shop.is_open(utc(2026, 12, 7, 8, 30))
    assert not shop.is_open(utc(2026, 12, 7, 7, 59))  # 08:59 local
    assert shop.is_open(utc(2026, 12, 7, 8, 0))  # 09:00 local: start included
    assert not shop.is_open(utc(2026, 12, 7, 17, 0))  # 18:00 local: end excluded
    assert shop.next_closing(utc(2026, 12, 7, 8, 30)) == utc(2026, 12, 7, 17, 0)
    # Friday evening: next opening is Monday 09:00 local
    assert shop.next_opening(utc(2026, 12, 11, 18, 0)) == utc(2026, 12, 14, 8, 0)
    assert not shop.is_open(utc(2026, 12, 12, 10, 0))  # Saturday


def test_several_intervals_a_day_and_the_lunch_break() -> None:
    shop = hours({"week": {"mon": [{"start": "14:00", "end": "18:00"}, {"start": "09:00", "end": "12:00"}]}})
    assert shop.is_open(utc(2026, 12, 7, 10, 0))
    assert not shop.is_open(utc(2026, 12, 7, 11, 30))  # 12:30 local
    assert shop.next_opening(utc(2026, 12, 7, 11, 30)) == utc(2026, 12, 7, 13, 0)
    assert shop.schedule.to_json()["week"]["mon"][0] == {"start": "09:00", "end": "12:00"}  # sorted


def test_an_interval_past_midnight_belongs_to_the_day_it_starts() -> None:
    bar = hours({"week": {"fri": [{"start": "22:00", "end": "02:00"}]}})
    assert bar.is_open(utc(2026, 12, 11, 21, 0))  # Fri 22:00 local
    assert bar.is_open(utc(2026, 12, 12, 0, 30))  # Sat 01:30 local
    assert not bar.is_open(utc(2026, 12, 12, 1, 0))  # Sat 02:00 local
    assert bar.next_closing(utc(2026, 12, 11, 22, 0)) == utc(2026, 12, 12, 1, 0)
    # Thursday night: the next opening is Friday 22:00
    assert bar.next_opening(utc(2026, 12, 10, 23, 0)) == utc(2026, 12, 11, 21, 0)


def test_adjacent_days_join_into_one_stretch() -> None:
    always_on_weekend = hours(
        {"week": {"sat": [{"start": "00:00", "end": "24:00"}], "sun": [{"start": "00:00", "end": "24:00"}]}}
    )
    assert always_on_weekend.next_closing(utc(2026, 12, 12, 12, 0)) == utc(2026, 12, 13, 23, 0)  # Mon 00:00 local


def test_holidays_close_the_day_but_not_the_night_before() -> None:
    raw = weekdays("09:00", "18:00")
    raw["week"]["thu"] = [{"start": "20:00", "end": "02:00"}]  # type: ignore[index]
    raw["holidays"] = [{"date": "2026-12-25", "name": "Christmas"}]
    shop = hours(raw)
    assert not shop.is_open(utc(2026, 12, 25, 10, 0))  # Friday 25 Dec, 11:00 local
    assert shop.is_open(utc(2026, 12, 24, 23, 30))  # Thursday's night runs into the holiday
    assert shop.next_opening(utc(2026, 12, 25, 10, 0)) == utc(2026, 12, 28, 8, 0)  # Monday 09:00
    assert shop.schedule.holidays[0].name == "Christmas"


def test_spring_forward_a_skipped_opening_opens_when_the_clock_jumps() -> None:
    # Berlin, Sunday 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    assert wall_to_instant(datetime(2026, 3, 29).date(), 150, BERLIN) == utc(2026, 3, 29, 1, 0)
    night = hours({"week": {"sun": [{"start": "02:30", "end": "06:00"}]}})
    assert not night.is_open(utc(2026, 3, 29, 0, 59))
    assert night.is_open(utc(2026, 3, 29, 1, 0))  # 03:00 CEST
    assert night.next_opening(utc(2026, 3, 28, 12, 0)) == utc(2026, 3, 29, 1, 0)
    assert night.next_closing(utc(2026, 3, 29, 2, 0)) == utc(2026, 3, 29, 4, 0)  # 06:00 CEST
    gap_only = hours({"week": {"sun": [{"start": "02:10", "end": "02:50"}]}})
    assert gap_only.next_opening(utc(2026, 3, 28, 12, 0)) == utc(2026, 4, 5, 0, 10)  # next Sunday, 02:10 CEST


def test_fall_back_a_repeated_time_is_its_first_occurrence() -> None:
    # Berlin, Sunday 25 October 2026: 03:00 CEST falls back to 02:00 CET; 02:30 happens at 00:30 and 01:30 UTC.
    early = hours({"week": {"sun": [{"start": "01:00", "end": "02:30"}]}})
    assert early.is_open(utc(2026, 10, 24, 23, 30))  # 01:30 CEST
    assert not early.is_open(utc(2026, 10, 25, 0, 30))  # the first 02:30: closed
    assert not early.is_open(utc(2026, 10, 25, 1, 10))  # the second 02:10 too
    late = hours({"week": {"sun": [{"start": "02:30", "end": "04:00"}]}})
    assert late.next_opening(utc(2026, 10, 24, 12, 0)) == utc(2026, 10, 25, 0, 30)
    assert late.next_closing(utc(2026, 10, 25, 0, 30)) == utc(2026, 10, 25, 3, 0)  # 04:00 CET: 2.5 h open


def test_sao_paulo_hours_and_its_old_dst_midnight_gap() -> None:
    shop = hours(weekdays("09:00", "18:00"), "America/Sao_Paulo")
    assert shop.is_open(utc(2026, 12, 7, 12, 0))  # 09:00 local (-3, no DST since 2019)
    assert not shop.is_open(utc(2026, 12, 7, 11, 59))
    # 4 Nov 2018: Sao Paulo's clocks jumped from 00:00 to 01:00; midnight did not exist that day.
    assert wall_to_instant(datetime(2018, 11, 4).date(), 0, SAO_PAULO) == utc(2018, 11, 4, 3, 0)
    midnight = hours({"week": {"sun": [{"start": "00:00", "end": "02:00"}]}}, "America/Sao_Paulo")
    assert midnight.is_open(utc(2018, 11, 4, 3, 0))  # 01:00 -02
    assert midnight.next_closing(utc(2018, 11, 4, 3, 0)) == utc(2018, 11, 4, 4, 0)  # an hour open that night


def test_an_always_closed_week_never_opens() -> None:
    closed = hours({"week": {}})
    assert not closed.is_open(utc(2026, 12, 7, 10, 0))
    assert closed.next_opening(utc(2026, 12, 7, 10, 0)) is None


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        hours(weekdays("09:00", "18:00")).is_open(datetime(2026, 12, 7, 10, 0))


@pytest.mark.parametrize(
    ("raw", "sentence"),
    [
        ({"week": {"mon": [{"start": "9", "end": "18:00"}]}}, "Monday: “9” is not a time: write it like 09:00"),
        ({"week": {"tue": [{"start": "09:00", "end": "25:00"}]}}, "Tuesday: “25:00” is not a time"),
        ({"week": {"mon": [{"start": "09:00", "end": "09:00"}]}}, "opens and closes at the same time"),
        (
            {"week": {"mon": [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "18:00"}]}},
            "Monday: 09:00–13:00 and 12:00–18:00 overlap",
        ),
        (
            {"week": {"sun": [{"start": "22:00", "end": "03:00"}], "mon": [{"start": "02:00", "end": "05:00"}]}},
            "Sunday's 22:00–03:00 runs past midnight into Monday's 02:00–05:00",
        ),
        ({"week": {"funday": []}}, "Days are mon, tue"),
        ({"holidays": [{"date": "2026-02-30"}]}, "A holiday's date is not a date"),
        ({"holidays": [{"date": "2026-12-25"}, {"date": "2026-12-25", "name": "x"}]}, "listed as a holiday twice"),
    ],
)
def test_a_bad_schedule_is_refused_with_a_sentence(raw: dict[str, object], sentence: str) -> None:
    with pytest.raises(InvalidInput, match=sentence):
        parse_schedule(raw)


def test_the_stored_form_round_trips() -> None:
    raw = {
        "week": {"mon": [{"start": "09:00", "end": "18:00"}], "fri": [{"start": "22:00", "end": "02:00"}]},
        "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
    }
    assert parse_schedule(raw).to_json() == raw
    assert Schedule().to_json() == {}


def test_a_broken_stored_schedule_counts_as_none() -> None:
    assert BusinessHours.from_org({"week": {"mon": [{"start": "x", "end": "y"}]}}, "Nowhere/Zone").is_open(
        utc(2026, 12, 7, 3, 0)
    )
