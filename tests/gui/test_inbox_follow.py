"""Issue 16.7: the conversation follows the newest message, unless the reader scrolled up ("New messages ↓").

Bubbles wrap to the viewport's width, and the vertical scroll bar appearing after a chat opens narrows it: bubbles
re-wrap and the content grows after the view had scrolled to the end. Before, a just-queued message was then cut
off at the bottom. These tests measure geometry: the last bubble's rectangle ends inside the viewport.
"""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.core.models import Chat
from app.qt import Qt, QtCore, QtWidgets
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from tests.support.graph import AT
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, select
from tests.support.whatsapp_ui import connected_quiet_hours

SHORT_WORDS = "ab " * 40


def long_chat(store: Store, count: int = 58) -> Chat:
    """Messages of every length, one character apart, from half a line to three lines: whatever the font, some of
    them wrap differently once the scroll bar takes its width."""
    contact = store.contacts.create(name="Ana Souza", phone="+5521999990000")
    chat = store.chats.create(contact_id=contact.id)
    with store.db.transaction():
        for i in range(count):
            body = SHORT_WORDS[: 25 + i % 60].strip()
            store.messages.create(
                chat_id=chat.id, direction="in" if i % 2 else "out", body=body, sent_at=AT + timedelta(minutes=i)
            )
    return chat


def settle(qtbot: QtBot, page: InboxPage) -> None:
    """Run the layouts Qt has scheduled (after the scroll bar showed, after a resize) and what they set off."""
    for _ in range(3):
        page.conversation.executeDelayedItemsLayout()
        QtWidgets.QApplication.processEvents()
    qtbot.waitUntil(lambda: page.conversation.verticalScrollBar().isVisible())


def last_bubble_visible(page: InboxPage) -> bool:
    """The last row lies wholly inside the viewport (``QRect.bottom()`` is its last pixel row)."""
    view, model = page.conversation, page.chat_model
    rect = view.visualRect(model.index(model.rowCount() - 1))
    return rect.top() >= 0 and rect.bottom() < view.viewport().height()


def top_message(page: InboxPage) -> tuple[str, int]:
    """The message at the top of the conversation's viewport, and how far above the viewport's edge it starts."""
    view = page.conversation
    index = view.indexAt(QtCore.QPoint(view.viewport().width() // 2, 0))
    return page.chat_model.item(index.row()).id, view.visualRect(index).top()


def open_long_chat(qtbot: QtBot, ctx: AppContext, count: int = 58) -> tuple[InboxPage, Chat]:
    chat = long_chat(ctx.store, count)
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    settle(qtbot, page)
    return page, chat


def test_an_opened_chat_shows_its_last_message_whole(qtbot: QtBot, ctx: AppContext) -> None:
    page, _ = open_long_chat(qtbot, ctx)
    assert last_bubble_visible(page)


def test_a_queued_message_is_shown_whole_at_the_bottom(qtbot: QtBot, ctx: AppContext) -> None:
    page, _ = open_long_chat(qtbot, ctx)
    page.composer.edit.setFocus()
    qtbot.keyClicks(page.composer.edit, "Temos sim, no M e no G.")
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, ctx)
    model = page.chat_model
    qtbot.waitUntil(lambda: model.item(model.rowCount() - 1).status == "queued")
    qtbot.waitUntil(page.undo_bar.isVisible)  # it takes room from the conversation
    settle(qtbot, page)
    assert last_bubble_visible(page)
    # The send queue waits for quiet hours: the bubble says until when, on a line of its own (it grows).
    ctx.whatsapp.publish(connected_quiet_hours(waiting=1))
    qtbot.waitUntil(lambda: model.next_send_at is not None)
    settle(qtbot, page)
    assert last_bubble_visible(page)


def test_a_narrower_conversation_wraps_again_and_keeps_the_last_message_whole(qtbot: QtBot, ctx: AppContext) -> None:
    page, _ = open_long_chat(qtbot, ctx)
    page.resize(1000, 700)  # as when the AI panel opens beside the conversation: bubbles wrap to more lines
    settle(qtbot, page)
    assert last_bubble_visible(page)


def test_a_received_message_is_shown_while_at_the_bottom(qtbot: QtBot, ctx: AppContext) -> None:
    page, chat = open_long_chat(qtbot, ctx)
    ctx.store.messages.create(chat_id=chat.id, direction="in", body="Obrigada! " * 12, sent_at=AT + timedelta(days=1))
    model = page.chat_model
    qtbot.waitUntil(lambda: model.item(model.rowCount() - 1).text.startswith("Obrigada!"))
    settle(qtbot, page)
    assert last_bubble_visible(page)
    assert not page.conversation.new_messages.isVisible()


def test_a_reader_who_scrolled_up_stays_put_and_is_offered_new_messages(qtbot: QtBot, ctx: AppContext) -> None:
    page, chat = open_long_chat(qtbot, ctx, count=80)  # more than a page: the reload drops the oldest loaded one
    bar = page.conversation.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)  # reading earlier messages
    reading = top_message(page)
    ctx.store.messages.create(chat_id=chat.id, direction="in", body="Ainda tem?", sent_at=AT + timedelta(days=1))
    model = page.chat_model
    qtbot.waitUntil(lambda: model.item(model.rowCount() - 1).text == "Ainda tem?")
    settle(qtbot, page)
    assert top_message(page) == reading, "what the reader was reading did not move"
    assert not last_bubble_visible(page)
    button = page.conversation.new_messages
    assert button.isVisible()
    assert button.text() == "New messages ↓"
    assert page.conversation.viewport().geometry().contains(button.geometry()), "over the conversation"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    settle(qtbot, page)
    assert last_bubble_visible(page)
    assert not button.isVisible()


def test_scrolling_back_down_hides_the_button(qtbot: QtBot, ctx: AppContext) -> None:
    page, chat = open_long_chat(qtbot, ctx)
    bar = page.conversation.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    ctx.store.messages.create(chat_id=chat.id, direction="in", body="Ainda tem?", sent_at=AT + timedelta(days=1))
    qtbot.waitUntil(page.conversation.new_messages.isVisible)
    bar.setValue(bar.maximum())
    assert not page.conversation.new_messages.isVisible()
    ctx.store.messages.create(chat_id=chat.id, direction="in", body="Alô?", sent_at=AT + timedelta(days=2))
    model = page.chat_model
    qtbot.waitUntil(lambda: model.item(model.rowCount() - 1).text == "Alô?")
    settle(qtbot, page)
    assert last_bubble_visible(page), "at the bottom again, the view follows again"
