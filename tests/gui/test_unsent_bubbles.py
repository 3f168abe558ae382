"""Own messages that have not gone out, in the conversation: what their bubble says and the right-click actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pytestqt.qtbot import QtBot

from app.core.models import Chat, Message
from app.qt import QtGui, QtWidgets
from app.store.messaging import queue_outbound
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.models.chat_model import ChatItem
from app.ui.pages.inbox import InboxPage
from app.ui.widgets.bubble_delegate import failure_text, meta_text
from app.ui.widgets.whatsapp_indicator import clock
from tests.support.whatsapp_ui import RecordingControl, connected_quiet_hours, failed_broken

REASON = "The number is not on WhatsApp."


def seed(store: Store) -> tuple[Chat, Message, Message, Message]:
    contact = store.contacts.create(name="Ines Duarte", phone="+351912345678")
    chat = store.chats.create(contact_id=contact.id)
    store.messages.create(
        chat_id=chat.id, direction="in", body="Is the blue scarf in stock?", sent_at=datetime.now(UTC)
    )
    sent = queue_outbound(store, chat.id, "Yes, two left")
    store.messages.update(sent.id, status="sent")
    failed = queue_outbound(store, chat.id, "Shall I reserve one for you?")
    store.messages.update(failed.id, status="failed", status_reason=REASON)
    queued = queue_outbound(store, chat.id, "It ships in two days")
    return chat, store.messages.get(sent.id), store.messages.get(failed.id), queued


def open_page(qtbot: QtBot, ctx: AppContext, chat: Chat) -> InboxPage:
    page = InboxPage(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    qtbot.waitExposed(page)
    page.open_chat(chat.id)
    return page


def menu_for(page: InboxPage, message_id: str) -> QtWidgets.QMenu:
    """What a right click on the message's bubble pops up."""
    menu = page.message_menu(message_id)
    assert menu is not None
    return menu


def action(menu: QtWidgets.QMenu, text: str) -> QtGui.QAction:
    found = [a for a in menu.actions() if a.text() == text]
    assert found, f"{text!r} not in {[a.text() for a in menu.actions()]}"
    return found[0]


def texts(menu: QtWidgets.QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_bubbles_say_queued_and_why_a_message_failed() -> None:
    at = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    failed = ChatItem("message", at, "Shall I reserve one?", "m1", "out", "failed", REASON)
    assert failure_text(failed) == "Not sent: The number is not on WhatsApp. Right-click to try again or cancel."
    assert failure_text(ChatItem("message", at, "hi", "m2", "out", "failed")).startswith(
        "Not sent: WhatsApp did not take the message."
    )
    assert failure_text(ChatItem("message", at, "hi", "m3", "out", "sent")) == ""
    queued = ChatItem("message", at, "It ships soon", "m4", "out", "queued")
    time = f"{at.astimezone():%H:%M}"
    assert meta_text(queued) == f"{time} · queued"
    later = at + timedelta(hours=9)
    assert meta_text(queued, later, now=at) == f"{time} · queued, next send {clock(later)}"
    assert meta_text(queued, at - timedelta(minutes=1), now=at) == f"{time} · queued", "a past time says nothing"
    assert meta_text(ChatItem("message", at, "x", "m5", "out", "typing")) == f"{time} · sending…"
    assert meta_text(ChatItem("message", at, "x", "m6", "in", "received")) == time


def test_a_failed_bubble_is_taller_by_its_reason(qtbot: QtBot, ctx: AppContext) -> None:
    chat, sent, failed, queued = seed(ctx.store)
    page = open_page(qtbot, ctx, chat)
    heights = {
        m.id: page.conversation.visualRect(page.chat_model.index(page.chat_model.row_of(m.id))).height()
        for m in (sent, failed, queued)
    }
    assert heights[failed.id] > heights[sent.id]
    item = page.chat_model.item(page.chat_model.row_of(failed.id))
    assert item.status_reason == REASON
    assert not page.conversation.viewport().grab().isNull()  # paints without error


def test_right_click_on_a_failed_message_tries_it_again(qtbot: QtBot, ctx: AppContext) -> None:
    chat, _sent, failed, _queued = seed(ctx.store)
    control = RecordingControl()
    ctx.whatsapp.attach(control)
    page = open_page(qtbot, ctx, chat)
    menu = menu_for(page, failed.id)
    assert texts(menu) == ["Reply", "Copy text", "Try again", "Cancel sending"]
    action(menu, "Try again").trigger()
    menu.close()
    row = page.chat_model.row_of(failed.id)
    qtbot.waitUntil(lambda: page.chat_model.item(page.chat_model.row_of(failed.id)).status == "queued", timeout=10000)
    assert row >= 0
    assert ctx.store.messages.get(failed.id).status == "queued"
    qtbot.waitUntil(lambda: control.count("queue_changed") == 1, timeout=5000)


def test_right_click_cancels_a_queued_message(qtbot: QtBot, ctx: AppContext) -> None:
    chat, _sent, _failed, queued = seed(ctx.store)
    control = RecordingControl()
    ctx.whatsapp.attach(control)
    page = open_page(qtbot, ctx, chat)
    menu = menu_for(page, queued.id)
    assert texts(menu) == ["Reply", "Copy text", "Cancel sending"]
    action(menu, "Cancel sending").trigger()
    menu.close()
    qtbot.waitUntil(lambda: page.chat_model.row_of(queued.id) == -1, timeout=10000)
    assert ctx.store.messages.find(queued.id) is None
    qtbot.waitUntil(lambda: control.count("queue_changed") == 1, timeout=5000)


def test_sent_and_received_messages_offer_no_sending_actions(qtbot: QtBot, ctx: AppContext) -> None:
    chat, sent, _failed, _queued = seed(ctx.store)
    page = open_page(qtbot, ctx, chat)
    menu = menu_for(page, sent.id)
    assert texts(menu) == ["Reply", "Copy text"]
    menu.close()
    received = next(m for m in ctx.store.messages.for_chat(chat.id) if m.direction == "in")
    menu = menu_for(page, received.id)
    assert texts(menu) == ["Reply", "Copy text"]
    menu.close()


def test_queued_bubbles_show_the_next_send_time_while_it_waits(qtbot: QtBot, ctx: AppContext) -> None:
    chat, _sent, _failed, queued = seed(ctx.store)
    page = open_page(qtbot, ctx, chat)
    status = connected_quiet_hours()
    with qtbot.waitSignal(ctx.whatsapp.status_changed, timeout=5000):
        ctx.whatsapp.publish(status)
    assert page.chat_model.next_send_at == status.queue.next_send_at
    index = page.chat_model.index(page.chat_model.row_of(queued.id))
    assert status.queue.next_send_at is not None
    delegate = page.conversation.itemDelegate()
    option = QtWidgets.QStyleOptionViewItem()
    option.initFrom(page.conversation)
    option.widget = page.conversation  # wrap at the view's own width, as the view does (initFrom leaves it unset)
    assert delegate.sizeHint(option, index).height() == page.conversation.visualRect(index).height()
    with qtbot.waitSignal(ctx.whatsapp.status_changed, timeout=5000):
        ctx.whatsapp.publish(failed_broken())  # paused: no promise of a time
    assert page.chat_model.next_send_at is None
