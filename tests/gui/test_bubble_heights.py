"""Bubble heights are measured once: reloading the open chat as a message arrives measures only the new bubble.

The open chat is reloaded whenever its messages change (50 incoming messages a second across 20 chats reload it a
few times a second), and the view asks every row's size again; measuring every bubble's text each time was most of
a reload (``bench/inbox_stall_bench.py``). A bubble whose text, status or width changed is measured again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.ui.context import AppContext
from app.ui.models.chat_model import ChatItem, ChatModel
from app.ui.widgets.bubble_delegate import BubbleDelegate
from app.ui.widgets.chat_view import ChatView
from tests.support.graph import AT
from tests.support.inbox import seed_chat


def _conversation(qtbot: QtBot, ctx: AppContext, chat_id: str) -> tuple[ChatView, ChatModel, list[ChatItem]]:
    """The chat in a view as the inbox shows it, with a record of the bubbles the delegate measures."""
    model = ChatModel(ctx.store, page=60)
    view = ChatView()
    qtbot.addWidget(view)
    view.setModel(model)
    delegate = BubbleDelegate(view)
    view.setItemDelegate(delegate)
    view.resize(600, 500)
    view.show()
    qtbot.waitExposed(view)
    model.open(chat_id)
    view.doItemsLayout()
    view.doItemsLayout()  # again at the width left beside the scroll bar, if the first layout showed it
    measured: list[ChatItem] = []
    layout: Callable[..., object] = delegate._layout

    def counting(item: ChatItem, *args: object) -> object:
        measured.append(item)
        return layout(item, *args)

    delegate._layout = counting  # type: ignore[method-assign]
    return view, model, measured


def test_a_reload_measures_only_the_new_bubble(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Ana Lima", [f"Message {i}: " + "is it in stock? " * (i % 4 + 1) for i in range(40)])
    view, model, measured = _conversation(qtbot, ctx, chat.id)
    ctx.store.messages.create(chat_id=chat.id, direction="in", body="And in blue?", sent_at=AT + timedelta(hours=1))
    with view.keeping_position():
        model.reload()
    assert model.item(model.rowCount() - 1).text == "And in blue?"
    assert {item.text for item in measured} == {"And in blue?"}, f"{len(measured)} bubbles measured again"


def test_a_bubble_that_changed_is_measured_again(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx.store, "Ana Lima", ["Hello", "Yes, size M is in stock."])
    view, model, measured = _conversation(qtbot, ctx, chat.id)
    row = next(i for i in range(model.rowCount()) if model.item(i).direction == "out")
    before = view.visualRect(model.index(row)).height()
    ctx.store.messages.update(model.item(row).id, status="failed", status_reason="The number is not on WhatsApp")
    with view.keeping_position():
        model.reload()
    assert [item.status for item in measured] == ["failed"]
    assert view.visualRect(model.index(row)).height() > before  # the reason's line under the text

    measured.clear()
    view.resize(420, 500)  # narrower: every bubble wraps again
    qtbot.waitUntil(lambda: len(measured) >= 2)
