"""Issue 16.2: the chat list does not move under a click, and the composer always names whom it writes to.

A new message re-sorts the list. Before, the refresh landed while the button was down: the row under the pointer
became another chat, and the slightest movement of the hand (Qt's drag-select) opened that chat instead, so the reply
went to the wrong customer.
"""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.qt import Qt, QtCore
from app.ui.context import AppContext
from app.ui.models.inbox_model import RowRole
from tests.support.graph import AT
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, seed_chat, select


def test_a_new_message_does_not_move_the_row_under_a_press(qtbot: QtBot, ctx: AppContext) -> None:
    store = ctx.store
    chats = [seed_chat(store, f"Customer {i}", ["hello"], start=i * 10) for i in range(6)]  # newest last
    page = make_page(qtbot, ctx)
    assert [page.model.row(i).display_name for i in range(3)] == ["Customer 5", "Customer 4", "Customer 3"]
    target, jumper = chats[3], chats[0]  # the pressed row, and the bottom chat that a new message puts on top
    viewport = page.list.viewport()
    pos = page.list.visualRect(page.model.index_of(target.id)).center()

    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=pos)
    assert page.chat_id == target.id
    with qtbot.waitSignal(ctx.changes.changed):
        store.messages.create(chat_id=jumper.id, direction="in", body="Where is my order?", sent_at=AT + timedelta(1))
    qtbot.waitUntil(lambda: not page._refresh_timer.isActive())  # the refresh came due while the button was down
    wait_idle(qtbot, ctx)
    moved = pos + QtCore.QPoint(0, 3)  # a hand is never quite still
    qtbot.mouseMove(viewport, moved)
    assert page.list.indexAt(moved).data(RowRole).chat_id == target.id, "the row under the press stayed put"
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=moved)
    assert page.chat_id == target.id

    # Let go, the list catches up; the selection follows the chat, not the row.
    qtbot.waitUntil(lambda: page.model.row(0).chat_id == jumper.id)
    assert page.chat_id == target.id
    assert page.list.currentIndex().data(RowRole).chat_id == target.id
    assert page.header_name.text() == "Customer 3"
    assert page.composer.recipient() == "Customer 3 · +34 600 00 00 30"
    assert page.composer.to_label.text() == "To: <b>Customer 3</b> · +34 600 00 00 30"


def test_the_list_refreshes_again_once_the_press_is_over(qtbot: QtBot, ctx: AppContext) -> None:
    chats = [seed_chat(ctx.store, f"Customer {i}", ["hello"], start=i * 10) for i in range(3)]
    page = make_page(qtbot, ctx)
    viewport = page.list.viewport()
    pos = page.list.visualRect(page.model.index_of(chats[1].id)).center()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    assert page.chat_id == chats[1].id
    ctx.store.messages.create(chat_id=chats[0].id, direction="in", body="hi again", sent_at=AT + timedelta(1))
    qtbot.waitUntil(lambda: page.model.row(0).chat_id == chats[0].id)  # after the short settle, without another event
    assert page.list.currentIndex().data(RowRole).chat_id == chats[1].id


def test_a_release_that_goes_elsewhere_does_not_freeze_the_list(qtbot: QtBot, ctx: AppContext) -> None:
    chats = [seed_chat(ctx.store, f"Customer {i}", ["hello"], start=i * 10) for i in range(3)]
    page = make_page(qtbot, ctx)
    pos = page.list.visualRect(page.model.index_of(chats[1].id)).center()
    qtbot.mousePress(page.list.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseRelease(page.search, Qt.MouseButton.LeftButton)  # e.g. a dialog the press opened took the release
    ctx.store.messages.create(chat_id=chats[0].id, direction="in", body="hi again", sent_at=AT + timedelta(1))
    qtbot.waitUntil(lambda: page.model.row(0).chat_id == chats[0].id)
    assert page.chat_id == chats[1].id


def test_the_composer_names_the_recipient_of_the_open_chat(qtbot: QtBot, ctx: AppContext) -> None:
    ana = seed_chat(ctx.store, "Ana Souza", ["oi"], start=0)
    bruno = seed_chat(ctx.store, "Bruno <b>Lima</b>", ["olá"], start=10)
    page = make_page(qtbot, ctx)
    select(page, ana.id)
    assert page.composer.recipient() == "Ana Souza · +34 600 00 00 00"
    assert page.composer.to_label.text() == "To: <b>Ana Souza</b> · +34 600 00 00 00"
    assert page.composer.to_label.isVisible()
    select(page, bruno.id)
    assert page.composer.recipient() == "Bruno <b>Lima</b> · +34 600 00 00 10"
    never_markup = "To: <b>Bruno &lt;b&gt;Lima&lt;/b&gt;</b> · +34 600 00 00 10"
    assert page.composer.to_label.text() == never_markup
    page.composer.note_toggle.setChecked(True)
    assert page.composer.to_label.text().startswith("Internal note in the chat with <b>Bruno")
    # A rename reaches the composer like the header.
    contact_id = ctx.store.chats.get(bruno.id).contact_id
    assert contact_id is not None
    ctx.store.contacts.update(contact_id, name="Bruno Lima")
    qtbot.waitUntil(lambda: page.composer.recipient() == "Bruno Lima · +34 600 00 00 10")
