"""Send limits: rolling caps per contact, hour and day; warm-up of a new number; quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from app.whatsapp.limits import Send, SendLimits, check, daily_cap

NOON = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
OPEN = SendLimits(quiet_start=None, quiet_end=None, warmup_per_day=())


def sends(n: int, contact: str = "c1", start: datetime = NOON - timedelta(minutes=30), step: float = 1) -> list[Send]:
    return [Send(contact, start + timedelta(minutes=i * step)) for i in range(n)]


def test_nothing_sent_yet_is_allowed() -> None:
    assert check(NOON, "c1", [], None, OPEN).allowed


def test_per_contact_hourly_cap_and_when_it_frees() -> None:
    history = sends(12, "c1")  # 11:30 … 11:41
    decision = check(NOON, "c1", history, None, OPEN)
    assert not decision.allowed
    assert decision.not_before == NOON - timedelta(minutes=30) + timedelta(hours=1)
    assert "one contact" in decision.reason
    assert check(NOON, "c2", history, None, OPEN).allowed, "another contact is not affected"


def test_hourly_cap_over_all_contacts() -> None:
    history = [Send(f"c{i}", NOON - timedelta(minutes=59) + timedelta(seconds=i)) for i in range(60)]
    decision = check(NOON, "new", history, None, OPEN)
    assert not decision.allowed
    assert "an hour" in decision.reason
    assert decision.not_before == history[0].at + timedelta(hours=1)


def test_rolling_day_window_cannot_be_doubled_at_midnight() -> None:
    settings = OPEN.model_copy(update={"per_day": 10, "per_hour": 100})
    late = datetime(2026, 6, 10, 23, 50, tzinfo=UTC)
    history = [Send(f"c{i}", late - timedelta(minutes=i)) for i in range(10)]
    after_midnight = datetime(2026, 6, 11, 0, 5, tzinfo=UTC)
    decision = check(after_midnight, "x", history, None, settings)
    assert not decision.allowed
    assert decision.not_before == history[-1].at + timedelta(days=1)


def test_warm_up_grows_with_the_age_of_the_number() -> None:
    settings = SendLimits()
    first = NOON - timedelta(hours=3)
    assert daily_cap(settings, None, NOON) == 20
    assert daily_cap(settings, first, NOON) == 20
    assert daily_cap(settings, first, NOON + timedelta(days=1)) == 50
    assert daily_cap(settings, first, NOON + timedelta(days=2)) == 120
    assert daily_cap(settings, first, NOON + timedelta(days=30)) == 300
    capped = settings.model_copy(update={"per_day": 100})
    assert daily_cap(capped, first, NOON + timedelta(days=30)) == 100
    history = [Send(f"c{i}", NOON - timedelta(minutes=90 + i)) for i in range(20)]
    decision = check(NOON, "x", history, first, settings.model_copy(update={"quiet_start": None}))
    assert not decision.allowed
    assert "warms up" in decision.reason


def test_quiet_hours_wrap_midnight_in_the_local_zone() -> None:
    settings = SendLimits(quiet_start=time(22, 0), quiet_end=time(8, 0), timezone="America/Sao_Paulo")
    night = datetime(2026, 6, 11, 2, 30, tzinfo=UTC)  # 23:30 in São Paulo (UTC-3)
    decision = check(night, "c1", [], None, settings)
    assert not decision.allowed
    assert decision.reason == "quiet hours"
    assert decision.not_before == datetime(2026, 6, 11, 11, 0, tzinfo=UTC)  # 08:00 local
    assert check(datetime(2026, 6, 11, 12, 0, tzinfo=UTC), "c1", [], None, settings).allowed  # 09:00 local


def test_a_cap_that_frees_during_quiet_hours_waits_for_morning() -> None:
    settings = SendLimits(quiet_start=time(22, 0), quiet_end=time(8, 0), per_contact_per_hour=1, warmup_per_day=())
    evening = datetime(2026, 6, 10, 21, 50, tzinfo=UTC)
    decision = check(evening, "c1", [Send("c1", evening - timedelta(minutes=5))], None, settings)
    assert not decision.allowed
    assert decision.not_before == datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
