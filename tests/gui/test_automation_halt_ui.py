"""Automated sending stopped, as the user sees it: the WhatsApp page's banner with WhatsApp's sentence and "Resume
automated sending", the "Stop all automated sending" switch, and the tray's alert. Real SQLCipher store; the halt is
written by the same operation the driver uses (``app.store.ops.automation.halt``), from a worker thread."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from app.core.events import AutomationHalted
from app.qt import Qt, QtWidgets
from app.store.ops.automation import MANUAL, RATE_LIMITED, halt, halted
from app.ui.context import AppContext
from app.ui.pages.whatsapp import WhatsAppPage
from app.ui.tray import Tray
from app.ui.widgets.automation_banner import RESUME, STOP
from tests.support.gui import wait_idle

SENTENCE = (
    "WhatsApp showed “You’re sending too many messages. Try again later.” Campaigns, follow-ups, autopilot and "
    "away messages have stopped; your own replies still go."
)


def make_page(qtbot: QtBot, ctx: AppContext) -> WhatsAppPage:
    page = WhatsAppPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 900)
    page.show()
    qtbot.waitExposed(page)
    return page


def halted_events(ctx: AppContext) -> int:
    with ctx.store.db.read() as conn:
        return int(conn.execute("SELECT count(*) FROM events WHERE name = ?", (AutomationHalted.name,)).fetchone()[0])


def test_a_notice_shows_the_banner_and_resume_lets_automation_go_again(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    banner = page.automation
    qtbot.waitUntil(lambda: banner.on_line.isVisible(), timeout=5000)
    assert not banner.banner.isVisible()

    # The driver halts from its own thread when WhatsApp shows the notice.
    worker = threading.Thread(target=halt, args=(ctx.store, RATE_LIMITED, SENTENCE))
    with qtbot.waitSignal(banner.loaded, timeout=5000, check_params_cb=lambda h: h is not None):
        worker.start()
    worker.join()
    assert banner.banner.isVisible()
    assert not banner.on_line.isVisible()
    assert banner.message.text() == f"Automated sending stopped: {SENTENCE}"
    assert banner.resume_button.text() == RESUME

    with qtbot.waitSignal(banner.loaded, timeout=5000, check_params_cb=lambda h: h is None):
        qtbot.mouseClick(banner.resume_button, Qt.MouseButton.LeftButton)
    assert halted(ctx.store) is None
    assert not banner.banner.isVisible()
    assert banner.on_line.isVisible()
    wait_idle(qtbot, ctx)


def test_stop_all_automated_sending_halts_by_hand(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    banner = page.automation
    qtbot.waitUntil(lambda: banner.stop_button.isVisible(), timeout=5000)
    assert banner.stop_button.text() == STOP
    with qtbot.waitSignal(banner.loaded, timeout=5000, check_params_cb=lambda h: h is not None):
        qtbot.mouseClick(banner.stop_button, Qt.MouseButton.LeftButton)
    stopped = halted(ctx.store)
    assert stopped is not None
    assert stopped.code == MANUAL
    assert banner.banner.isVisible()
    assert banner.message.text().startswith("Automated sending stopped: You stopped it on the WhatsApp page.")
    assert halted_events(ctx) == 1
    wait_idle(qtbot, ctx)


def test_the_tray_alerts_once_when_automated_sending_stops(qtbot: QtBot, ctx: AppContext) -> None:
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    tray = Tray(ctx, window)
    halt(ctx.store, RATE_LIMITED, SENTENCE)
    halt(ctx.store, RATE_LIMITED, SENTENCE)  # already halted: no second alert
    qtbot.waitUntil(lambda: ("Automated sending stopped", SENTENCE) in tray.notified, timeout=10_000)
    wait_idle(qtbot, ctx)
    assert [n for n in tray.notified if n[0] == "Automated sending stopped"] == [
        ("Automated sending stopped", SENTENCE)
    ]
