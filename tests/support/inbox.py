"""Helpers for the inbox page's tests: a chat with messages, the page shown at a working size, a chat selected."""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.core.models import Chat
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from tests.support.graph import AT


def seed_chat(store: Store, name: str, bodies: list[str], start: int = 0) -> Chat:
    contact = store.contacts.create(name=name, phone=f"+3460000{start:04d}")
    chat = store.chats.create(contact_id=contact.id)
    for i, body in enumerate(bodies):
        store.messages.create(
            chat_id=chat.id,
            direction="in" if i % 2 == 0 else "out",
            body=body,
            sent_at=AT + timedelta(minutes=start + i),
        )
    return chat


def make_page(qtbot: QtBot, ctx: AppContext) -> InboxPage:
    page = InboxPage(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    qtbot.waitExposed(page)
    return page


def select(page: InboxPage, chat_id: str) -> None:
    page.list.setCurrentIndex(page.model.index_of(chat_id))
