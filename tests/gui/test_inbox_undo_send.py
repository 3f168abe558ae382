"""Issue 16.2: "Undo" after Send, for a few seconds, while the message is still queued — decided by the store.

The sender marks a message ``typing`` in one write before typing it (``Sender._mark_typing``, used here as is);
Undo runs the cancel operation, which refuses in its own write once that happened. So Undo after the sender started
says "Already being sent" and the message stays, whatever the bar showed when it was clicked.
"""

from __future__ import annotations

from typing import Any, cast

from pytestqt.qtbot import QtBot

from app.core.models import Chat, Message
from app.qt import Qt
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from app.ui.unsent_actions import CANCEL_TASK
from app.ui.widgets.composer import Draft
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.sender import Sender
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, seed_chat, select


def send(qtbot: QtBot, ctx: AppContext, page: InboxPage, chat: Chat, text: str) -> Message:
    select(page, chat.id)
    page.composer.edit.setFocus()
    qtbot.keyClicks(page.composer.edit, text)
    qtbot.keyClick(page.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.undo_bar.offered)
    [queued] = ctx.store.messages.send_queue()
    return queued


def sender_starts(ctx: AppContext, message: Message) -> None:
    """What the WhatsApp sender writes before it types a message (its own method; no page is needed for it)."""
    sender = Sender(cast(Any, None), ctx.store, Humanizer())
    marked = sender._mark_typing(message)
    assert isinstance(marked, Message)
    assert marked.status == "typing"


def test_undo_takes_a_queued_message_back_into_the_composer(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Ana Souza", ["Tem o vestido azul?"])
    page = make_page(qtbot, ctx)
    queued = send(qtbot, ctx, page, chat, "Temos sim, no M e no G.")
    assert page.undo_bar.label.text() == "Sending to <b>Ana Souza · +34 600 00 00 00</b>…"
    assert page.undo_bar.undo_button.isVisible()
    qtbot.waitUntil(lambda: page.composer.edit.toPlainText() == "")
    qtbot.mouseClick(page.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ctx.store.messages.find(queued.id) is None)
    qtbot.waitUntil(lambda: page.undo_bar.label.text().startswith("Not sent"))
    assert not page.undo_bar.undo_button.isVisible()
    assert page.composer.edit.toPlainText() == "Temos sim, no M e no G.", "the text is back to edit"
    assert ctx.store.messages.send_queue() == []
    qtbot.waitUntil(lambda: all(page.chat_model.item(i).id != queued.id for i in range(page.chat_model.rowCount())))


def test_undo_after_the_sender_started_says_it_is_already_being_sent(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Ana Souza", ["Tem o vestido azul?"])
    page = make_page(qtbot, ctx)
    queued = send(qtbot, ctx, page, chat, "Temos sim.")
    started: list[str] = []
    ctx.tasks.started.connect(started.append)
    sender_starts(ctx, queued)  # committed; the page has not heard of it yet, so the bar still offers Undo
    assert page.undo_bar.offered
    qtbot.mouseClick(page.undo_bar.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Already being sent" in page.undo_bar.label.text())
    assert CANCEL_TASK in started, "the store was asked, and refused"
    wait_idle(qtbot, ctx)
    assert ctx.store.messages.get(queued.id).status == "typing", "the store refused the cancel: WhatsApp may have it"
    assert not page.undo_bar.undo_button.isVisible()
    assert page.composer.draft() == Draft(), "nothing is put back"


def test_the_bar_stops_offering_undo_once_the_sender_took_the_message(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Ana Souza", ["Tem o vestido azul?"])
    page = make_page(qtbot, ctx)
    queued = send(qtbot, ctx, page, chat, "Temos sim.")
    sender_starts(ctx, queued)
    qtbot.waitUntil(lambda: not page.undo_bar.offered)
    assert page.undo_bar.label.text() == "Already being sent to <b>Ana Souza · +34 600 00 00 00</b> — too late to undo."
    page.undo_bar.timer.timeout.emit()  # the few seconds are over
    assert not page.undo_bar.isVisible()


def test_undo_names_the_chat_it_was_sent_to_after_switching(qtbot: QtBot, ctx: AppContext) -> None:
    ana = seed_chat(ctx.store, "Ana Souza", ["oi"], start=0)
    bruno = seed_chat(ctx.store, "Bruno Lima", ["olá"], start=10)
    page = make_page(qtbot, ctx)
    queued = send(qtbot, ctx, page, ana, "Para a Ana")
    qtbot.waitUntil(lambda: page.composer.edit.toPlainText() == "")
    select(page, bruno.id)
    assert "Ana Souza" in page.undo_bar.label.text(), "the bar says whom the message went to, not the open chat"
    page.undo_bar.undo()
    qtbot.waitUntil(lambda: ctx.store.messages.find(queued.id) is None)
    qtbot.waitUntil(lambda: page.draft_of(ana.id).text == "Para a Ana")
    assert page.composer.draft() == Draft(), "Bruno's composer is left alone"
