"""The pacing budget of automated sending: each rule, a campaign's stricter pace, warm-up by age, the sending window
across midnight and on the days the clocks change (in real zones)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.whatsapp.limits import Send
from app.whatsapp.pacing import (
    Pace,
    budget,
    daily_cap,
    gap_seconds,
    next_slot,
    pace_from_json,
    stricter,
    window_opens,
)

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
FREE = Pace(gap_min_seconds=0, gap_max_seconds=0, per_hour=1000, per_day=1000, warmup=(), windows=(), batch_size=1000)


def pace(**changes: object) -> Pace:
    from dataclasses import replace

    return replace(FREE, **changes)  # type: ignore[arg-type]


def sends(times: list[datetime], contact: str = "c") -> list[Send]:
    return [Send(f"{contact}{i}", at, automated=True) for i, at in enumerate(times)]


def test_nothing_holds_a_free_budget() -> None:
    assert next_slot(NOON, FREE, [], None) is None


def test_a_random_gap_between_contacts_drawn_from_the_humanizers_rng() -> None:
    p = pace(gap_min_seconds=30, gap_max_seconds=60)
    fraction = random.Random(7).random()
    gap = gap_seconds(p, fraction)
    assert 30 <= gap <= 60
    history = [Send("a", NOON - timedelta(seconds=10), automated=True)]
    wait = next_slot(NOON, p, history, None, contact="b", gap_fraction=fraction)
    assert wait is not None
    assert wait.reason == "pause between automated messages"
    assert wait.until == NOON - timedelta(seconds=10) + timedelta(seconds=gap)
    assert next_slot(NOON, p, history, None, contact="a") is None, "the same contact again: no gap"
    finished = NOON - timedelta(seconds=2)  # the send began at -10 s and ended at -2 s
    later = next_slot(NOON, p, history, None, contact="b", gap_fraction=0.0, last_done=finished)
    assert later is not None
    assert later.until == finished + timedelta(seconds=30)


def test_the_hourly_and_daily_caps_count_automated_sends_only_in_their_rolling_windows() -> None:
    hour = sends([NOON - timedelta(minutes=m) for m in (50, 40, 30)])
    wait = next_slot(NOON, pace(per_hour=3), hour, None)
    assert wait is not None
    assert wait.until == NOON + timedelta(minutes=10)
    assert wait.reason == "at most 3 automated messages an hour"
    day = sends([NOON - timedelta(hours=h) for h in (20, 10, 2)])
    wait = next_slot(NOON, pace(per_day=3), day, None)
    assert wait is not None
    assert wait.until == NOON + timedelta(hours=4)
    assert wait.reason == "at most 3 automated messages a day"


def test_warm_up_by_the_numbers_age() -> None:
    p = pace(per_day=500, warmup=((0, 20), (4, 50), (8, 100), (15, 200)))
    first = NOON
    assert daily_cap(p, None, NOON) == 20, "a number that never sent is new"
    assert [daily_cap(p, first, NOON + timedelta(days=d)) for d in (0, 3, 4, 7, 8, 14, 15, 90)] == [
        20,
        20,
        50,
        50,
        100,
        100,
        200,
        200,
    ]
    assert daily_cap(pace(per_day=80, warmup=p.warmup), first, NOON + timedelta(days=90)) == 80
    history = sends([NOON - timedelta(hours=1)] * 20)
    wait = next_slot(NOON + timedelta(days=2), p, history, first)
    assert wait is None, "yesterday's sends are out of the rolling day"
    wait = next_slot(NOON, p, history, first)
    assert wait is not None
    assert wait.reason == "at most 20 automated messages a day while the number warms up (day 1)"


def test_a_pause_after_each_batch_counted_from_the_send_times() -> None:
    """Whaticket compared a millisecond delay with a message index, so its long pause never fired: here the batch
    is the run of automated sends with no pause of at least ``batch_pause_seconds`` between two."""
    p = pace(batch_size=3, batch_pause_seconds=60)
    run = [NOON - timedelta(seconds=s) for s in (30, 20, 10)]
    wait = next_slot(NOON, p, sends(run), None)
    assert wait is not None
    assert wait.reason == "pause after 3 automated messages"
    assert wait.until == NOON - timedelta(seconds=10) + timedelta(seconds=60)
    assert next_slot(NOON, p, sends(run[1:]), None) is None, "two in a row: the batch is not over"
    paused = [NOON - timedelta(seconds=200), NOON - timedelta(seconds=100), *run[1:]]  # 100 s pause before the run
    assert next_slot(NOON, p, sends(paused), None) is None
    after = next_slot(NOON + timedelta(seconds=50), p, sends(run), None)
    assert after is None, "once the pause is over a new batch starts"


def test_the_sending_window_in_the_business_zone() -> None:
    berlin = pace(windows=((time(9), time(20)),), timezone="Europe/Berlin")
    evening = datetime(2026, 6, 10, 19, 30, tzinfo=UTC)  # 21:30 in Berlin (summer time)
    wait = next_slot(evening, berlin, [], None)
    assert wait is not None
    assert wait.reason == "automated sending window opens at 09:00"
    assert wait.until == datetime(2026, 6, 11, 7, 0, tzinfo=UTC)
    assert next_slot(datetime(2026, 6, 10, 8, 0, tzinfo=UTC), berlin, [], None) is None  # 10:00 in Berlin


def test_a_window_across_midnight() -> None:
    night = pace(windows=((time(22), time(2)),), timezone="Asia/Singapore")
    zone = ZoneInfo("Asia/Singapore")
    assert window_opens(night, datetime(2026, 6, 10, 23, 30, tzinfo=zone)) is None
    assert window_opens(night, datetime(2026, 6, 11, 1, 59, tzinfo=zone)) is None
    opens = window_opens(night, datetime(2026, 6, 11, 2, 0, tzinfo=zone))
    assert opens == datetime(2026, 6, 11, 22, 0, tzinfo=zone)


def test_the_window_opens_at_local_nine_on_the_days_the_clocks_change() -> None:
    ny = pace(windows=((time(9), time(20)),), timezone="America/New_York")
    # Saturday 7 March 2026, 21:00 EST; the clocks spring forward at 02:00 on Sunday 8 March.
    spring = next_slot(datetime(2026, 3, 8, 2, 0, tzinfo=UTC), ny, [], None)
    assert spring is not None
    assert spring.until == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    # Saturday 31 October 2026, 21:00 EDT; the clocks fall back at 02:00 on Sunday 1 November.
    autumn = next_slot(datetime(2026, 11, 1, 1, 0, tzinfo=UTC), ny, [], None)
    assert autumn is not None
    assert autumn.until == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)
    skipped = pace(windows=((time(2, 30), time(6)),), timezone="America/New_York")  # 02:30 never happens on 8 March
    opens = window_opens(skipped, datetime(2026, 3, 8, 6, 0, tzinfo=UTC))  # 01:00 EST
    assert opens == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT, the first moment after the jump


def test_a_wait_that_ends_outside_the_window_moves_to_its_opening() -> None:
    p = pace(per_hour=1, windows=((time(9), time(12, 30)),), timezone="UTC")
    wait = next_slot(NOON, p, sends([NOON - timedelta(minutes=10)]), None)  # the hour frees at 12:50: closed
    assert wait is not None
    assert wait.until == datetime(2026, 6, 11, 9, 0, tzinfo=UTC)
    assert wait.reason == "automated sending window opens at 09:00"


def test_a_campaign_may_make_the_pace_stricter_never_looser() -> None:
    base = Pace(timezone="Europe/Lisbon")
    loose = Pace(
        gap_min_seconds=1,
        gap_max_seconds=2,
        per_hour=10_000,
        per_day=10_000,
        warmup=(),
        windows=(),
        batch_size=10_000,
        batch_pause_seconds=0,
        timezone="UTC",
    )
    assert stricter(base, loose) == base
    strict = Pace(
        gap_min_seconds=90,
        gap_max_seconds=120,
        per_hour=10,
        per_day=50,
        warmup=((0, 5), (2, 40)),
        windows=((time(10), time(18)),),
        batch_size=5,
        batch_pause_seconds=600,
    )
    both = stricter(base, strict)
    assert (both.gap_min_seconds, both.gap_max_seconds, both.per_hour, both.per_day) == (90, 120, 10, 50)
    assert (both.batch_size, both.batch_pause_seconds, both.timezone) == (5, 600, "Europe/Lisbon")
    assert both.warmup == ((0, 5), (2, 20), (4, 40), (8, 40), (15, 40))
    evening = datetime(2026, 6, 10, 18, 30, tzinfo=ZoneInfo("Europe/Lisbon"))  # inside 09–20, outside 10–18
    assert window_opens(base, evening) is None
    assert window_opens(both, evening) == datetime(2026, 6, 11, 10, 0, tzinfo=ZoneInfo("Europe/Lisbon"))


def test_a_campaigns_pace_from_its_json_column() -> None:
    base = Pace()
    assert pace_from_json(None, base) is None
    assert pace_from_json({}, base) is None
    own = pace_from_json({"gap_min_seconds": 90, "per_day": 40, "window": ["10:00", "17:30"]}, base)
    assert own is not None
    assert (own.gap_min_seconds, own.per_day, own.windows) == (90.0, 40, ((time(10), time(17, 30)),))
    assert stricter(base, own).per_hour == base.per_hour


def test_the_budget_for_the_page() -> None:
    p = pace(per_day=10, gap_min_seconds=30, gap_max_seconds=60, timezone="UTC")
    history = sends([NOON - timedelta(hours=30), NOON - timedelta(hours=2), NOON - timedelta(seconds=10)])
    b = budget(NOON, p, history, NOON - timedelta(days=40), None)
    assert (b.used_today, b.cap_today) == (2, 10)
    assert b.next_slot == NOON + timedelta(seconds=20)
    assert b.why_waiting == "Next automated message at 12:00:20: pause between automated messages."
    stopped = budget(NOON, p, history, None, "WhatsApp said the number is sending too many messages.")
    assert stopped.why_waiting.startswith("Automated sending is stopped")
    free = budget(NOON + timedelta(minutes=5), p, history, NOON - timedelta(days=40), None)
    assert free.next_slot is None
    assert free.why_waiting == ""
