"""The Health page and the health alerts in the main window, on a real workspace: the page shows each check's status
after "Check now", a failing check puts a banner above the pages and a desktop notification (once), the banner goes
on recovery; a WhatsApp failure starts a run at once; a request during a run makes one more run after it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.agents.health import GB, MB, CheckResult, HealthMonitor, Status
from app.qt import Qt
from app.ui.context import AppContext
from app.ui.health_watch import HealthWatch
from app.ui.main_window import MainWindow
from app.ui.pages.health import HealthPage
from app.ui.pages.health import runs as spans_of
from app.ui.sections import SECTIONS
from app.ui.tray import Tray
from app.whatsapp.status import ConnectionState, WhatsAppStatus
from tests.support.gui import wait_idle

CONNECTED = WhatsAppStatus(state=ConnectionState.connected, linked=True)


class Disk:
    def __init__(self) -> None:
        self.free = 40 * GB

    def __call__(self, _folder: Path) -> int:
        return self.free


@pytest.fixture
def disk() -> Disk:
    return Disk()


@pytest.fixture
def watch(ctx: AppContext, tmp_path: Path, disk: Disk) -> Iterator[HealthWatch]:
    monitor = HealthMonitor(ctx.store, tmp_path, whatsapp=lambda: CONNECTED, free_bytes=disk)
    ctx.health = HealthWatch(ctx, monitor)
    yield ctx.health
    ctx.health.close()


def runs(ctx: AppContext) -> int:
    monitor = ctx.health.monitor if ctx.health is not None else None
    assert monitor is not None
    return len(monitor.history()["disk"])


def test_check_now_shows_each_status(qtbot: QtBot, ctx: AppContext, watch: HealthWatch, disk: Disk) -> None:
    page = HealthPage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.loaded is not None)
    assert page.summary.text() == "Not checked yet"
    assert page.rows["disk"].sentence.text() == "Not checked yet."

    qtbot.mouseClick(page.check_now, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.rows["disk"].status == "ok")
    assert {name: row.status for name, row in page.rows.items()} == dict.fromkeys(page.rows, "ok")
    assert page.summary.text().startswith("All good · checked ")
    assert page.rows["disk"].figure.text() == "40.0 GB free"
    assert page.rows["database"].sentence.text().startswith("The database (")
    assert page.rows["disk"].checked.text().startswith("Checked ")
    assert page.changes.item(0).text() == "No changes in the last 24 hours."

    disk.free = 300 * MB
    qtbot.mouseClick(page.check_now, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.rows["disk"].status == "fail")
    row = page.rows["disk"]
    assert row.word.text() == "Problem"
    assert row.figure.text() == "300 MB free"
    assert "Only 300 MB free" in row.sentence.text()
    assert page.summary.text() == "1 check needs a look"
    assert "Disk space: OK → Problem" in page.changes.item(0).text()
    assert len(row.strip.results) == 2
    wait_idle(qtbot, ctx)


def test_banner_and_notification_on_a_fail_gone_on_recovery(
    qtbot: QtBot, ctx: AppContext, watch: HealthWatch, disk: Disk
) -> None:
    window = MainWindow(ctx, SECTIONS)
    tray = Tray(ctx, window)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    banner = window.health_banner

    watch.check_now()
    qtbot.waitUntil(lambda: watch.report is not None)
    assert banner.isHidden()
    assert tray.notified == []

    disk.free = 100 * MB
    watch.check_now()
    qtbot.waitUntil(lambda: banner.isVisible())
    assert banner.message.text().startswith("Disk space: Only 100 MB free")
    assert watch.report is not None
    assert tray.notified == [("Disk space: problem", watch.report.alerts[0].sentence)]

    watch.check_now()  # the problem lasts: the banner stays, no second notification
    qtbot.waitUntil(lambda: runs(ctx) == 3)
    wait_idle(qtbot, ctx)
    assert banner.isVisible()
    assert len(tray.notified) == 1

    banner._link("dismiss")
    assert banner.isHidden()
    banner._link("details")
    assert window.current_section() == "health"

    disk.free = 40 * GB
    watch.check_now()
    qtbot.waitUntil(lambda: len(tray.notified) == 2)
    assert tray.notified[1][0] == "Disk space is working again"
    assert banner.isHidden()
    wait_idle(qtbot, ctx)


def test_a_dismissed_banner_shows_again_on_a_new_problem(
    qtbot: QtBot, ctx: AppContext, watch: HealthWatch, disk: Disk
) -> None:
    window = MainWindow(ctx, SECTIONS)
    qtbot.addWidget(window)
    window.show()
    banner = window.health_banner
    disk.free = 1 * GB  # warn
    watch.check_now()
    qtbot.waitUntil(lambda: banner.isVisible())
    banner._link("dismiss")
    disk.free = 100 * MB  # warn → fail: a new alert
    watch.check_now()
    qtbot.waitUntil(lambda: banner.isVisible())
    assert "Only 100 MB free" in banner.message.text()
    wait_idle(qtbot, ctx)


def test_whatsapp_failing_starts_a_run_at_once(qtbot: QtBot, ctx: AppContext, watch: HealthWatch) -> None:
    watch.start(first_run_ms=10 * 60 * 1000)  # the timed runs are far off: only the failure can start one
    ctx.whatsapp.publish(WhatsAppStatus(state=ConnectionState.failed, linked=True))
    qtbot.waitUntil(lambda: watch.report is not None)
    assert runs(ctx) == 1
    wait_idle(qtbot, ctx)


def test_a_request_during_a_run_makes_one_more_run(qtbot: QtBot, ctx: AppContext, watch: HealthWatch) -> None:
    watch.check_now()
    assert watch.busy
    watch.check_now()
    watch.check_now()
    qtbot.waitUntil(lambda: runs(ctx) == 2 and not watch.busy)
    wait_idle(qtbot, ctx)
    assert runs(ctx) == 2


def test_the_health_section_is_in_the_sidebar(qtbot: QtBot, ctx: AppContext, watch: HealthWatch) -> None:
    window = MainWindow(ctx, SECTIONS)
    qtbot.addWidget(window)
    page = window.show_section("health")
    assert isinstance(page, HealthPage)
    assert page.watch is watch
    qtbot.waitUntil(lambda: page.loaded is not None)


def test_the_strip_merges_runs_and_leaves_gaps_grey() -> None:
    t0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)

    def at(minutes: int, status: Status) -> CheckResult:
        return CheckResult("disk", status, "", None, t0 + timedelta(minutes=minutes))

    results = [at(0, "ok"), at(5, "ok"), at(10, "warn"), at(15, "warn"), at(120, "warn")]  # closed for 95 min
    spans = spans_of(results, t0 + timedelta(minutes=122))
    assert [(s, (a - t0).seconds // 60, (b - t0).seconds // 60) for s, a, b in spans] == [
        ("ok", 0, 10),
        ("warn", 10, 25),
        ("warn", 120, 122),
    ]


def test_each_strip_says_what_it_spans(qtbot: QtBot, ctx: AppContext, watch: HealthWatch) -> None:
    """Seen in the app minutes after opening a workspace: a grey bar with one dot at its right end, read as
    nothing. Its ends are labelled, left of it 24 hours ago, right of it now."""
    from app.qt import QtWidgets

    page = HealthPage(ctx)
    qtbot.addWidget(page)
    page.resize(1000, 800)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: page.loaded is not None)
    row = page.rows["disk"]
    texts = {label.text(): label for label in row.findChildren(QtWidgets.QLabel) if label.isVisible()}
    assert "24 h ago" in texts
    assert "now" in texts
    assert texts["24 h ago"].geometry().right() <= row.strip.geometry().left()
    assert texts["now"].geometry().left() >= row.strip.geometry().right()
