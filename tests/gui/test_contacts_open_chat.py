"""The Contacts page opens a contact's chat in the inbox (button and double-click), or says there is none yet."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.qt import Qt, QtCore, QtWidgets
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.contacts import ContactsPage
from app.ui.pages.inbox import InboxPage
from tests.gui.test_main_window import window_for
from tests.support.gui import wait_idle
from tests.support.inbox import seed_chat


def contacts_page(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> tuple[MainWindow, ContactsPage]:
    window = window_for(qtbot, ctx, qapp)
    page = window.show_section("contacts")
    assert isinstance(page, ContactsPage)
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.model.loading)
    return window, page


def select(page: ContactsPage, contact_id: str) -> QtCore.QModelIndex:
    index = page.model.index(page.model.row_of(contact_id), 0)
    page.table.selectionModel().select(
        index,
        QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect | QtCore.QItemSelectionModel.SelectionFlag.Rows,
    )
    return index


def test_open_chat_button_opens_the_contacts_chat_in_the_inbox(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    seed_chat(ctx.store, "Other", ["hi"], start=0)
    chat = seed_chat(ctx.store, "Marta", ["Do you have it in red?"], start=10)
    window, page = contacts_page(qtbot, ctx, qapp)
    select(page, chat.contact_id or "")
    assert page.chat_button.isEnabled()
    qtbot.mouseClick(page.chat_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current_section() == "inbox")
    inbox = window.page("inbox")
    assert isinstance(inbox, InboxPage)
    assert inbox.chat_id == chat.id
    assert inbox.header_name.text() == "Marta"


def test_double_click_opens_the_chat(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> None:
    chat = seed_chat(ctx.store, "Marta", ["hello"])
    window, page = contacts_page(qtbot, ctx, qapp)
    index = select(page, chat.contact_id or "")
    pos = page.table.visualRect(index).center()
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=pos)  # type: ignore[no-untyped-call]
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=pos)  # type: ignore[no-untyped-call]
    qtbot.waitUntil(lambda: window.current_section() == "inbox")
    inbox = window.page("inbox")
    assert isinstance(inbox, InboxPage)
    assert inbox.chat_id == chat.id


def test_a_contact_without_a_chat_says_there_is_none_yet(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    contact = ctx.store.contacts.create(name="Nobody Yet", phone="+4915112345678")
    window, page = contacts_page(qtbot, ctx, qapp)
    select(page, contact.id)
    qtbot.mouseClick(page.chat_button, Qt.MouseButton.LeftButton)
    assert "no chat with Nobody Yet yet" in page.status.text()
    assert window.current_section() == "contacts"


def test_phone_numbers_are_shown_as_their_country_writes_them_and_stored_as_e164(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    contact = ctx.store.contacts.create(name="Marta", phone="+5511987654321")
    chat = ctx.store.chats.create(contact_id=contact.id)
    window, page = contacts_page(qtbot, ctx, qapp)
    row = page.model.row_of(contact.id)
    assert page.model.index(row, 1).data() == "+55 11 98765-4321"
    page.open_chat(contact.id)
    qtbot.waitUntil(lambda: window.current_section() == "inbox")
    inbox = window.page("inbox")
    assert isinstance(inbox, InboxPage)
    assert inbox.chat_id == chat.id
    assert inbox.header_sub.text() == "+55 11 98765-4321"
    assert inbox.panel.phone.text() == "+55 11 98765-4321"
    assert ctx.store.contacts.get(contact.id).phone == "+5511987654321"
