"""Empty states that help: the inbox offers "Connect WhatsApp" only when it is not connected (issue 16)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.qt import Qt, QtWidgets
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.contacts import ContactsPage
from app.ui.pages.inbox import InboxPage
from app.whatsapp.status import ConnectionState, WhatsAppStatus
from tests.gui.test_main_window import window_for
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, seed_chat


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


def test_filters_without_a_match_say_so_and_clear(qtbot: QtBot, ctx: AppContext) -> None:
    seed_chat(ctx.store, "Read already", ["hi", "hello back"])  # the last message is ours: nothing unread
    page = make_page(qtbot, ctx)
    assert page.model.rowCount() == 1
    page.unread.setChecked(True)
    qtbot.waitUntil(lambda: page.left_stack.currentWidget() is page.no_match)
    assert page.no_match.title.text() == "No chats match these filters"
    assert "Unread" in page.no_match.body.text()
    qtbot.mouseClick(page.no_match.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.left_stack.currentWidget() is page.list)
    assert not page.unread.isChecked()
    assert page.model.rowCount() == 1


def test_search_without_a_match_names_it_and_clears(qtbot: QtBot, ctx: AppContext) -> None:
    seed_chat(ctx.store, "A", ["hello"])
    page = make_page(qtbot, ctx)
    with qtbot.waitSignal(page.search_finished, timeout=10000):
        qtbot.keyClicks(page.search, "zzzqqq")
    assert page.left_stack.currentWidget() is page.no_results
    assert page.no_results.title.text() == "No chats match “zzzqqq”"
    qtbot.mouseClick(page.no_results.button, Qt.MouseButton.LeftButton)
    assert page.search.text() == ""
    qtbot.waitUntil(lambda: page.left_stack.currentWidget() is page.list)


def test_contacts_filter_without_a_match_says_so_and_clears(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.store.contacts.create(name="Ana", phone="+5511999990000")
    page = ContactsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    wait_idle(qtbot, ctx)
    assert page.stack.currentWidget() is page.table
    qtbot.keyClicks(page.filter, "zzzqqq")
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.no_match)
    assert page.no_match.title.text() == "No contacts match “zzzqqq”"
    qtbot.mouseClick(page.no_match.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.table and page.model.rowCount() == 1)
    assert page.filter.text() == ""
