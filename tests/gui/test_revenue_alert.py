"""A revenue drop found by the finance agent's daily check reaches the person: the alert job (the durable jobs
runner, as bootstrap starts it) emits ``RevenueDropped`` and the tray shows it as a notification, once."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from pytestqt.qtbot import QtBot

from app.agents.finance import ALERT_KIND, AlertPayload
from app.bootstrap import start_agents
from app.core.ids import utc_now
from app.core.loops import LoopThread
from app.qt import QtWidgets
from app.ui.context import AppContext
from app.ui.shutdown import Shutdown
from app.ui.tasks import TaskRunner
from app.ui.tray import Tray


def test_a_revenue_drop_alert_is_shown_as_a_notification_once(qtbot: QtBot, ctx: AppContext) -> None:
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    tray = Tray(ctx, window)
    tasks = TaskRunner(loop=LoopThread("parley-service"))
    shutdown = Shutdown(tasks)
    start_agents(SimpleNamespace(store=ctx.store, tasks=tasks), shutdown)  # type: ignore[arg-type]
    try:
        day = date(2026, 12, 1)
        payload = AlertPayload(
            day=day, currency="EUR", revenue_minor=42000, average_minor=80825, drop_percent=48, weeks=4, threshold=30
        )
        sentence = payload.alert().sentence
        for _ in range(2):  # the daily check asked twice (a restart): one job, one notification
            ctx.store.jobs.schedule(
                ALERT_KIND, payload.model_dump(mode="json"), utc_now() - timedelta(seconds=1), f"finance:drop:{day}:EUR"
            )
        qtbot.waitUntil(lambda: ("Revenue drop", sentence) in tray.notified, timeout=15_000)
        assert sentence.startswith("Tuesday's revenue (1 December 2026) was €420.00, 48 % below")
    finally:
        shutdown.run()
    assert tray.notified.count(("Revenue drop", sentence)) == 1
