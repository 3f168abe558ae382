"""The finance agent (app/agents/finance.py, finance_figures.py) against a real SQLCipher store: every figure is
checked against a value computed by hand and written here, in the business's time zone, to the cent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from app.agents import configs
from app.agents import finance_figures as figures
from app.agents.finance import ALERT_KIND, CHECK_KIND, DropAlert, FinanceAgent, alert_key, build, check_key
from app.agents.job_kinds import JobKinds
from app.agents.jobs_runner import JobRunner
from app.agents.orchestrator import Orchestrator
from app.core.events import SaleCompleted
from app.core.loops import LoopThread
from app.core.models import Contact, Sale
from app.store.jobs import Job
from app.store.sales import SaleLine, record_sale
from app.store.store import Store

TUESDAY = date(2026, 12, 1)  # the day judged in the drop tests


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def job_at(store: Store, key: str) -> Job:
    found = store.jobs.by_key(key)
    assert found is not None, key
    return found


def zone(store: Store, name: str) -> None:
    store.orgs.update(store.org_id, timezone=name)


def sell(store: Store, amount_minor: int, currency: str, sold_at: datetime, contact: str | None = None) -> Sale:
    return store.sales.create(amount_minor=amount_minor, currency=currency, sold_at=sold_at, contact_id=contact)


def sell_local_noon(store: Store, day: date, amount_minor: int, currency: str = "EUR") -> Sale:
    """Noon in Europe/Berlin (winter, UTC+1) on ``day``."""
    return sell(store, amount_minor, currency, utc(day.year, day.month, day.day, 11))


@pytest.fixture
def agent(store: Store) -> Iterator[FinanceAgent]:
    agent = build(store, JobKinds())

    def on_sale(event: SaleCompleted) -> None:
        agent.handle(event)

    stop = store.bus.subscribe(SaleCompleted, on_sale)
    yield agent
    stop()


# ---- revenue by local day and month -----------------------------------------------------------------------------
def test_days_are_the_business_days_across_both_clock_changes_and_midnight_utc(store: Store) -> None:
    zone(store, "Europe/Berlin")
    # autumn: 25 Oct 2026 is 25 hours long, from 24 Oct 22:00 UTC (00:00 CEST) to 25 Oct 23:00 UTC (00:00 CET)
    sell(store, 100, "EUR", utc(2026, 10, 24, 21, 30))  # 24 Oct 23:30 CEST
    sell(store, 200, "EUR", utc(2026, 10, 24, 22, 30))  # 25 Oct 00:30 CEST
    sell(store, 400, "EUR", utc(2026, 10, 25, 22, 30))  # 25 Oct 23:30 CET
    sell(store, 800, "EUR", utc(2026, 10, 25, 23, 30))  # 26 Oct 00:30 CET
    # spring: 29 Mar 2026 is 23 hours long, from 28 Mar 23:00 UTC (00:00 CET) to 29 Mar 22:00 UTC (00:00 CEST)
    sell(store, 1, "EUR", utc(2026, 3, 28, 22, 30))  # 28 Mar 23:30 CET
    sell(store, 10, "EUR", utc(2026, 3, 28, 23, 30))  # 29 Mar 00:30 CET
    sell(store, 20, "EUR", utc(2026, 3, 29, 21, 30))  # 29 Mar 23:30 CEST
    sell(store, 40, "EUR", utc(2026, 3, 29, 22, 30))  # 30 Mar 00:30 CEST

    assert figures.day_revenue(store, date(2026, 10, 24)) == {"EUR": 100}
    assert figures.day_revenue(store, date(2026, 10, 25)) == {"EUR": 600}
    assert figures.day_revenue(store, date(2026, 10, 26)) == {"EUR": 800}
    assert figures.revenue_by_day(store, date(2026, 10, 24), date(2026, 10, 27)) == {
        date(2026, 10, 24): {"EUR": 100},
        date(2026, 10, 25): {"EUR": 600},
        date(2026, 10, 26): {"EUR": 800},
    }
    assert figures.revenue_by_day(store, date(2026, 3, 28), date(2026, 3, 31)) == {
        date(2026, 3, 28): {"EUR": 1},
        date(2026, 3, 29): {"EUR": 30},
        date(2026, 3, 30): {"EUR": 40},
    }
    assert figures.day_revenue(store, date(2026, 3, 29)) == {"EUR": 30}


def test_a_late_evening_west_of_utc_is_that_evening_not_the_next_utc_day(store: Store) -> None:
    zone(store, "America/New_York")
    sell(store, 12_345, "USD", utc(2026, 12, 1, 3))  # 30 Nov 22:00 EST
    sell(store, 5, "USD", utc(2026, 12, 1, 5))  # 1 Dec 00:00 EST: the next day's first instant
    assert figures.day_revenue(store, date(2026, 11, 30)) == {"USD": 12_345}
    assert figures.day_revenue(store, date(2026, 12, 1)) == {"USD": 5}
    assert figures.month_revenue(store, 2026, 11) == {"USD": 12_345}
    assert figures.month_revenue(store, 2026, 12) == {"USD": 5}


def test_months_end_at_local_midnight_including_the_year_end(store: Store) -> None:
    zone(store, "America/Sao_Paulo")  # UTC-3 all year
    sell(store, 3, "BRL", utc(2026, 1, 1, 2, 59))  # 31 Dec 2025 23:59 local
    sell(store, 5_000, "BRL", utc(2026, 2, 1, 2, 30))  # 31 Jan 23:30 local
    sell(store, 700, "BRL", utc(2026, 2, 1, 3, 10))  # 1 Feb 00:10 local
    sell(store, 9, "BRL", utc(2026, 3, 1, 2, 59, 59))  # 28 Feb 23:59:59 local
    assert figures.month_revenue(store, 2025, 12) == {"BRL": 3}
    assert figures.month_revenue(store, 2026, 1) == {"BRL": 5_000}
    assert figures.month_revenue(store, 2026, 2) == {"BRL": 709}
    assert figures.month_revenue(store, 2026, 3) == {}

    zone(store, "Asia/Tokyo")  # the same instants, nine hours ahead of UTC
    assert figures.month_revenue(store, 2026, 1) == {"BRL": 3}  # 1 Jan 11:59 JST
    assert figures.month_revenue(store, 2026, 2) == {"BRL": 5_700}
    assert figures.month_revenue(store, 2026, 3) == {"BRL": 9}


def test_currencies_are_kept_apart_and_the_average_ticket_is_exact(store: Store) -> None:
    zone(store, "Europe/Berlin")
    day = date(2026, 6, 10)
    for amount, currency in ((1_000, "EUR"), (250, "USD"), (500, "EUR"), (100, "GBP"), (101, "GBP")):
        sell(store, amount, currency, utc(2026, 6, 10, 9))
    sell(store, 99_999, "EUR", utc(2026, 6, 10, 23, 30))  # 11 Jun 01:30 CEST: another day
    deleted = sell(store, 7_777, "EUR", utc(2026, 6, 10, 9))
    store.sales.delete(deleted.id)

    assert figures.day_revenue(store, day) == {"EUR": 1_500, "USD": 250, "GBP": 201}
    assert figures.month_revenue(store, 2026, 6) == {"EUR": 101_499, "USD": 250, "GBP": 201}
    # 1500 / 2 = 750; 250 / 1; (100 + 101) / 2 = 100.5 → 101 (halves up, not to even)
    assert figures.average_ticket(store, day, day + timedelta(days=1)) == {"EUR": 750, "USD": 250, "GBP": 101}
    # the month: (1000 + 500 + 99999) / 3 = 33833
    assert figures.average_ticket(store, date(2026, 6, 1), date(2026, 7, 1))["EUR"] == 33_833


# ---- lifetime value ---------------------------------------------------------------------------------------------
def ltv(store: Store, contact: Contact) -> tuple[int, str]:
    now = store.contacts.get(contact.id)
    return now.lifetime_value_minor, now.currency


def test_lifetime_value_after_a_sale_is_added_edited_moved_and_deleted(store: Store, agent: FinanceAgent) -> None:
    ana = store.contacts.create(name="Ana", currency="EUR")
    bea = store.contacts.create(name="Bea", currency="USD")
    first = record_sale(
        store, [SaleLine(description="Scarf", unit_price_minor=1_250, quantity=2)], contact_id=ana.id, currency="EUR"
    )
    assert ltv(store, ana) == (2_500, "EUR")
    # a sale in another currency is not added into the EUR value (the old increment made it 3500 "EUR")
    dollars = record_sale(
        store, [SaleLine(description="Hat", unit_price_minor=1_000)], contact_id=ana.id, currency="USD"
    )
    assert ltv(store, ana) == (2_500, "EUR")
    assert figures.lifetime_values(store, ana.id) == {"EUR": 2_500, "USD": 1_000}

    store.sales.update(first.id, amount_minor=2_000)  # edited
    agent.sale_changed(first.id)
    assert ltv(store, ana) == (2_000, "EUR")

    store.sales.update(dollars.id, contact_id=bea.id)  # moved to another customer
    agent.sale_changed(dollars.id, previous_contact_id=ana.id)
    assert figures.lifetime_values(store, ana.id) == {"EUR": 2_000}
    assert ltv(store, bea) == (1_000, "USD")

    store.sales.delete(first.id)  # deleted
    agent.sale_changed(first.id)
    assert ltv(store, ana) == (0, "EUR")


def test_a_first_sale_in_another_currency_sets_the_values_currency(store: Store, agent: FinanceAgent) -> None:
    carla = store.contacts.create(name="Carla")  # currency USD by default, like the workspace
    record_sale(store, [SaleLine(description="Ring", unit_price_minor=4_990)], contact_id=carla.id, currency="EUR")
    assert ltv(store, carla) == (4_990, "EUR")  # the old code said 4990 USD


def test_the_daily_reconcile_corrects_a_value_nobody_recomputed(store: Store, agent: FinanceAgent) -> None:
    dan = store.contacts.create(name="Dan", currency="EUR")
    sale = record_sale(store, [SaleLine(description="Bag", unit_price_minor=8_000)], contact_id=dan.id, currency="EUR")
    store.sales.update(sale.id, amount_minor=7_500)  # an edit no one reported
    assert ltv(store, dan) == (8_000, "EUR")
    assert agent.reconcile() == 1
    assert ltv(store, dan) == (7_500, "EUR")
    assert agent.reconcile() == 0  # nothing left to correct, nothing written


# ---- the revenue-drop alert -------------------------------------------------------------------------------------
def test_the_drop_alert_gives_the_figures_behind_it(store: Store, agent: FinanceAgent) -> None:
    zone(store, "Europe/Berlin")
    for weeks, amount in ((1, 80_000), (2, 81_000), (3, 82_300), (4, 80_000)):  # 3233.00 / 4 = 808.25
        sell_local_noon(store, TUESDAY - timedelta(weeks=weeks), amount)
    sell_local_noon(store, TUESDAY - timedelta(days=1), 500_000)  # a Monday: not compared
    sell_local_noon(store, TUESDAY, 42_000)

    [alert] = agent.check(TUESDAY)
    # 1 − 420 / 808.25 = 0.4804 → 48 % (rounded down)
    assert alert == DropAlert(TUESDAY, "EUR", 42_000, 80_825, 48, 4, 30)
    assert alert.sentence == (
        "Tuesday's revenue (1 December 2026) was €420.00, 48 % below the average of the last 4 Tuesdays (€808.25)."
    )
    job = job_at(store, "finance:drop:2026-12-01:EUR")
    assert (job.kind, job.payload["drop_percent"]) == (ALERT_KIND, 48)


@pytest.mark.parametrize(("today", "alerts"), [(70_000, 1), (70_001, 0)])
def test_the_alert_fires_at_the_threshold_and_not_just_above_it(store: Store, today: int, alerts: int) -> None:
    zone(store, "Europe/Berlin")
    for weeks in range(1, 5):
        sell_local_noon(store, TUESDAY - timedelta(weeks=weeks), 100_000, "USD")
    sell_local_noon(store, TUESDAY, today, "USD")
    found = agent_for(store).check(TUESDAY)
    assert len(found) == alerts  # 700.00 is exactly 30 % below 1000.00; 700.01 is 29.999 % below
    if found:
        assert found[0].sentence.endswith("30 % below the average of the last 4 Tuesdays ($1,000.00).")


def agent_for(store: Store) -> FinanceAgent:
    return build(store, JobKinds())


def test_no_alert_with_too_little_history(store: Store) -> None:
    zone(store, "Europe/Berlin")
    for weeks in (1, 2, 3):  # three Tuesdays of sales; the fourth one back is before the first sale
        sell_local_noon(store, TUESDAY - timedelta(weeks=weeks), 100_000)
    assert agent_for(store).check(TUESDAY) == []  # 0 today, but only 3 weeks of history

    store.settings.finance.drop_weeks = 3
    [alert] = agent_for(store).check(TUESDAY)
    assert alert.sentence.endswith("100 % below the average of the last 3 Tuesdays (€1,000.00).")


def test_a_sale_before_the_earliest_weekday_is_enough_history_and_a_quiet_tuesday_counts_as_zero(
    store: Store,
) -> None:
    zone(store, "Europe/Berlin")
    sell_local_noon(store, TUESDAY - timedelta(weeks=4, days=1), 1)  # the Monday before the 4th Tuesday back
    for weeks in (1, 2, 3):
        sell_local_noon(store, TUESDAY - timedelta(weeks=weeks), 100_000)
    sell_local_noon(store, TUESDAY, 52_500)
    [alert] = agent_for(store).check(TUESDAY)
    assert (alert.average_minor, alert.drop_percent) == (75_000, 30)  # 3000.00 / 4; 1 − 525 / 750 = 0.30


def test_alerts_are_once_per_day_and_currency(store: Store, agent: FinanceAgent) -> None:
    zone(store, "Europe/Berlin")
    for weeks in range(1, 5):
        sell_local_noon(store, TUESDAY - timedelta(weeks=weeks), 10_000, "EUR")
        sell_local_noon(store, TUESDAY - timedelta(weeks=weeks), 20_000, "USD")
    sell_local_noon(store, TUESDAY, 1_000, "USD")  # and nothing in EUR

    assert [(a.currency, a.drop_percent) for a in agent.check(TUESDAY)] == [("EUR", 100), ("USD", 95)]
    assert agent.check(TUESDAY) == []  # the check again (a restart, a second run): no second alert
    assert agent_for(store).check(TUESDAY) == []  # nor from another agent over the same store
    job_at(store, alert_key(TUESDAY, "EUR"))
    job_at(store, alert_key(TUESDAY, "USD"))
    assert len(store.jobs.find(("due",))) == 2


def test_the_daily_check_runs_through_the_job_runner_once(store: Store) -> None:
    zone(store, "Europe/Berlin")
    for weeks, amount in ((1, 80_000), (2, 81_000), (3, 82_300), (4, 80_000)):
        sell_local_noon(store, TUESDAY - timedelta(weeks=weeks), amount)
    sell_local_noon(store, TUESDAY, 42_000)
    now = utc(2026, 12, 2, 7, 0, 30)  # Wednesday 08:00:30 in Berlin: Tuesday's check is due
    shown: list[str] = []
    kinds = JobKinds()
    agent = build(store, kinds, notify=lambda alert: shown.append(alert.sentence), clock=lambda: now)
    assert {CHECK_KIND, ALERT_KIND} <= set(kinds.names())
    agent.ensure_scheduled()
    assert job_at(store, check_key(TUESDAY)).run_at == utc(2026, 12, 2, 7)

    loop = LoopThread("parley-service")
    runner = JobRunner(store.jobs, kinds, loop=loop, clock=lambda: now)
    try:
        assert len(loop.run(runner.run_due(), 30)) == 1  # the check: schedules the alert, due now
        assert len(loop.run(runner.run_due(), 30)) == 1  # the alert
        assert loop.run(runner.run_due(), 30) == []
    finally:
        runner.close()
        loop.close()
    assert shown == [
        "Tuesday's revenue (1 December 2026) was €420.00, 48 % below the average of the last 4 Tuesdays (€808.25)."
    ]
    alert = job_at(store, alert_key(TUESDAY, "EUR"))
    assert (alert.status, alert.result) == ("done", shown[0])
    assert job_at(store, check_key(TUESDAY)).status == "done"
    following = job_at(store, check_key(TUESDAY + timedelta(days=1)))
    assert (following.status, following.run_at) == ("due", utc(2026, 12, 3, 7))


def test_the_orchestrator_runs_the_agent_on_a_recorded_sale(store: Store) -> None:
    eva = store.contacts.create(name="Eva", currency="EUR")
    record_sale(store, [SaleLine(description="Gloves", unit_price_minor=1_000)], contact_id=eva.id, currency="EUR")
    store.contacts.update(eva.id, lifetime_value_minor=1)  # gone stale (an edit nobody reported)
    agent = agent_for(store)
    loop = LoopThread("parley-service")
    orchestrator = Orchestrator(store, [agent], loop=loop)
    try:
        loop.run(orchestrator.run_pending(), 30)  # its cursor starts at the end of the log
        record_sale(store, [SaleLine(description="Coat", unit_price_minor=15_000)], contact_id=eva.id, currency="USD")
        record_sale(store, [SaleLine(description="Belt", unit_price_minor=2_500)], contact_id=eva.id, currency="EUR")
        loop.run(orchestrator.run_pending(), 30)
    finally:
        orchestrator.close()
        loop.close()
    runs = store.agent_executions.find_all({"agent": "finance"}, order_by="started_at")
    assert [(r.event_name, r.action, r.status) for r in runs] == [("sale.completed", "lifetime_value", "succeeded")] * 2
    # recomputed from the sales (an increment would say 1 + 2500): the two EUR sales, the USD one kept apart
    assert runs[-1].detail == {"contact_id": eva.id, "lifetime_value_minor": 3_500, "currency": "EUR"}
    assert ltv(store, eva) == (3_500, "EUR")


def test_an_imported_value_without_sales_is_left_alone(store: Store) -> None:
    fay = store.contacts.create(name="Fay", currency="EUR", lifetime_value_minor=123_456)  # from a CSV import
    assert agent_for(store).reconcile() == 0
    assert ltv(store, fay) == (123_456, "EUR")


def test_the_daily_check_is_skipped_while_the_agent_is_off(store: Store) -> None:
    zone(store, "Europe/Berlin")
    for weeks in range(1, 5):
        sell_local_noon(store, TUESDAY - timedelta(weeks=weeks), 100_000)
    configs.save(store, "finance", enabled=False)
    now = utc(2026, 12, 2, 7, 0, 30)
    kinds = JobKinds()
    build(store, kinds, clock=lambda: now).ensure_scheduled()
    loop = LoopThread("parley-service")
    runner = JobRunner(store.jobs, kinds, loop=loop, clock=lambda: now)
    try:
        assert len(loop.run(runner.run_due(), 30)) == 1
        assert loop.run(runner.run_due(), 30) == []  # no alert job
    finally:
        runner.close()
        loop.close()
    check = job_at(store, check_key(TUESDAY))
    assert (check.status, check.result) == ("skipped", "agent_off")
    assert job_at(store, check_key(TUESDAY + timedelta(days=1))).status == "due"  # the chain goes on
    assert store.jobs.by_key(alert_key(TUESDAY, "EUR")) is None


def test_recording_a_sale_never_adds_another_currency_into_the_value(store: Store) -> None:
    """Before any agent runs (or with finance switched off): the sale's own transaction keeps currencies apart."""
    gil = store.contacts.create(name="Gil")  # USD, nothing bought yet
    record_sale(store, [SaleLine(description="Vase", unit_price_minor=3_000)], contact_id=gil.id, currency="EUR")
    assert ltv(store, gil) == (3_000, "EUR")  # the old code: 3000 "USD"
    record_sale(store, [SaleLine(description="Lamp", unit_price_minor=9_900)], contact_id=gil.id, currency="USD")
    assert ltv(store, gil) == (3_000, "EUR")  # the old code: 12900
    record_sale(store, [SaleLine(description="Cup", unit_price_minor=450)], contact_id=gil.id, currency="EUR")
    assert ltv(store, gil) == (3_450, "EUR")


def test_the_daily_checks_result_reads_as_a_sentence() -> None:
    from app.agents.finance import daily_result

    assert daily_result(0, 0) == "No drop in revenue"
    assert daily_result(1, 0) == "1 revenue drop alerted"
    assert daily_result(2, 3) == "2 revenue drops alerted; 3 lifetime values corrected"
    assert daily_result(0, 1) == "No drop in revenue; 1 lifetime value corrected"
