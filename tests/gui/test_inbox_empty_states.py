"""Empty states that help: the inbox offers "Connect WhatsApp" only when it is not connected (issue 16)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.qt import Qt, QtWidgets
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.inbox import InboxPage
from app.whatsapp.status import ConnectionState, WhatsAppStatus
from tests.gui.test_main_window import window_for


def publish(qtbot: QtBot, ctx: AppContext, state: ConnectionState) -> None:
    with qtbot.waitSignal(ctx.whatsapp.status_changed):
        ctx.whatsapp.publish(WhatsAppStatus(state=state))


def test_connected_inbox_never_says_once_a_number_is_connected(qtbot: QtBot, ctx: AppContext) -> None:
    publish(qtbot, ctx, ConnectionState.connected)
    page = InboxPage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    assert "once" not in page.placeholder.body.text()
    assert not page.placeholder.button.isVisibleTo(page)
    publish(qtbot, ctx, ConnectionState.logged_out)
    assert "once WhatsApp is connected" in page.placeholder.body.text()
    assert page.placeholder.button.isVisibleTo(page)
    publish(qtbot, ctx, ConnectionState.connected)
    assert "once" not in page.placeholder.body.text()
    assert not page.placeholder.button.isVisibleTo(page)


def test_not_connected_inbox_offers_connect_whatsapp_which_opens_the_page(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    window: MainWindow = window_for(qtbot, ctx, qapp)
    inbox = window.page("inbox")
    assert isinstance(inbox, InboxPage)
    button = inbox.placeholder.button
    assert button.isVisible()
    assert button.text() == "Connect WhatsApp"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current_section() == "whatsapp")
