"""WhatsApp at a glance in the main window: the status-bar indicator and the "sending is paused" banner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytestqt.qtbot import QtBot

from app.bootstrap import open_main_window
from app.qt import Qt, QtWidgets
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.whatsapp import WhatsAppPage
from app.ui.widgets.whatsapp_indicator import clock, indicator_text, paused_message
from app.whatsapp.status import ConnectionState, QueueStatus, WhatsAppStatus
from tests.support.whatsapp_ui import BROKEN, connected_quiet_hours, failed_broken, health, scan_qr

S = ConnectionState
NOW = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)


def window_for(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> MainWindow:
    window = open_main_window(ctx, qapp)
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    return window


def publish(qtbot: QtBot, ctx: AppContext, status: WhatsAppStatus) -> None:
    with qtbot.waitSignal(ctx.whatsapp.status_changed, timeout=5000):
        ctx.whatsapp.publish(status)


def test_indicator_text_says_state_queue_and_next_send() -> None:
    assert indicator_text(WhatsAppStatus()) == "WhatsApp: Not connected"
    assert indicator_text(scan_qr()) == "WhatsApp: Scan the QR code"
    at = datetime.now(UTC) + timedelta(minutes=5)
    waiting = WhatsAppStatus(state=S.connected, queue=QueueStatus(waiting=3, next_send_at=at))
    assert indicator_text(waiting) == f"WhatsApp: Connected · 3 waiting · next {clock(at)}"
    paused = WhatsAppStatus(state=S.connected, queue=QueueStatus(waiting=2, failed=1, next_send_at=at, paused="x"))
    assert indicator_text(paused) == "WhatsApp: Connected · 2 waiting · 1 failed · sending paused"
    assert indicator_text(WhatsAppStatus(state=S.connected)) == "WhatsApp: Connected"


def test_clock_names_the_day_when_it_is_not_today() -> None:
    now = NOW.astimezone()
    assert clock(now + timedelta(minutes=5), now=now) == f"{(now + timedelta(minutes=5)):%H:%M}"
    tomorrow = now + timedelta(days=1)
    assert clock(tomorrow, now=now) == f"{tomorrow:%a} {tomorrow:%H:%M}"
    assert clock(now, seconds=True, now=now) == f"{now:%H:%M:%S}"
    assert clock(now - timedelta(days=30), now=now) == f"{now - timedelta(days=30):%d %b %H:%M}"


def test_paused_message_comes_from_the_queue_or_a_broken_self_test() -> None:
    assert paused_message(connected_quiet_hours()) is None
    assert paused_message(failed_broken()) == BROKEN, "the probe's sentence already says sending is paused"
    only_health = WhatsAppStatus(state=S.connected, health=health(broken=True))
    assert paused_message(only_health) == BROKEN
    not_connected = WhatsAppStatus(queue=QueueStatus(waiting=1, paused="WhatsApp is not connected"))
    assert paused_message(not_connected) == "Sending is paused: WhatsApp is not connected"
    said = WhatsAppStatus(queue=QueueStatus(paused="Sending is paused while the phone is offline."))
    assert paused_message(said) == "Sending is paused while the phone is offline."


def test_the_status_bar_indicator_follows_the_status_and_opens_the_page(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    window = window_for(qtbot, ctx, qapp)
    indicator = window.whatsapp_indicator
    assert indicator.isVisible()
    assert indicator.text() == "WhatsApp: Not connected"
    status = connected_quiet_hours(waiting=3)
    publish(qtbot, ctx, status)
    assert status.queue.next_send_at is not None
    assert indicator.text() == f"WhatsApp: Connected · 3 waiting · next {clock(status.queue.next_send_at)}"
    assert "Quiet hours until 08:00" in indicator.toolTip()
    qtbot.mouseClick(indicator, Qt.MouseButton.LeftButton)
    assert window.current_section() == "whatsapp"
    page = window.pages["whatsapp"]
    assert isinstance(page, WhatsAppPage)
    assert page.state.text() == "Connected", "a page built after the status arrived shows it at once"


def test_the_banner_shows_while_sending_is_paused_and_leads_to_details(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    window = window_for(qtbot, ctx, qapp)
    banner = window.banner
    assert not banner.isVisible()
    publish(qtbot, ctx, connected_quiet_hours())
    assert not banner.isVisible(), "waiting for quiet hours is not a problem"
    publish(qtbot, ctx, failed_broken())
    assert banner.isVisible()
    assert banner.message.text() == BROKEN
    assert window.current_section() == "inbox"
    banner.details.linkActivated.emit("details")
    assert window.current_section() == "whatsapp"
    window.show_section("inbox")
    assert banner.isVisible(), "the banner stays on every page until sending resumes"
    publish(qtbot, ctx, connected_quiet_hours())
    assert not banner.isVisible()
    publish(qtbot, ctx, WhatsAppStatus(state=S.connected, health=health(broken=True)))
    assert banner.isVisible(), "a broken self-test alone shows it too"
    publish(qtbot, ctx, WhatsAppStatus(state=S.connected, health=health()))
    assert not banner.isVisible()
