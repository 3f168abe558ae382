"""A teammate's changes reach every open page: pulled pages are applied through sync's real apply code, on another
thread as the sync loop does, and nobody announces anything — the pages follow what the store reports changed.

Open at once: the inbox (chat list, the open chat's conversation, its contact panel and Notes box), the contacts
table, the pipeline board and the main window's title. A page that is hidden meanwhile refreshes when shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from pytestqt.qtbot import QtBot

from app.core.ids import new_id, to_ms, utc_now
from app.core.models import Chat, Contact, Deal
from app.qt import QtWidgets
from app.store.deals import create_deal
from app.sync.apply import apply_page
from app.sync.protocol import PullResponse, RowData, RowState
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.main_window import MainWindow
from app.ui.pages.contacts import ContactsPage
from app.ui.pages.inbox import InboxPage
from app.ui.pages.knowledge import KnowledgePage
from app.ui.pages.pipeline import CardRole, PipelinePage
from app.ui.pages.products import ProductsPage
from app.ui.pages.settings import SettingsPage
from app.ui.sections import SECTIONS
from app.ui.tray import Tray
from tests.gui.test_contacts_page import _names
from tests.gui.test_pipeline_page import _stages, _titles
from tests.support.gui import wait_idle
from tests.support.inbox import seed_chat, select


@dataclass
class Team:
    """What the teammate's rows refer to, and a way to pull a page of them."""

    ctx: AppContext
    ana: Contact
    chat: Chat
    deal: Deal
    version: int = 100

    def pull(self, *rows: tuple[str, str, RowData]) -> None:
        """Apply one pulled page of ``(table, id, data)`` rows on a thread of its own, as the sync loop does."""
        states = []
        for table, row_id, data in rows:
            self.version += 1
            states.append(RowState(table=table, id=row_id, version=self.version, data=data))
        page = PullResponse(rows=states, cursor=self.version, version=self.version, has_more=False)
        store, errors = self.ctx.store, list[BaseException]()

        def run() -> None:
            try:
                apply_page(store.db, store.org_id, page, self.version - len(states))
            except BaseException as exc:  # noqa: BLE001 — re-raised on the test's thread
                errors.append(exc)

        worker = threading.Thread(target=run, name="sync-loop")
        worker.start()
        worker.join(60)
        assert not worker.is_alive()
        assert not errors, errors


@pytest.fixture
def team(ctx: AppContext) -> Team:
    store = ctx.store
    chat = seed_chat(store, "Ana Souza", ["hello, is the blue scarf in stock?"])
    ana = store.contacts.get(chat.contact_id or "")
    deal = create_deal(store, _stages(store)["New lead"].id, "Blue scarves", contact_id=ana.id, value_minor=4_000)
    store.outbox.acknowledge(10**9)  # all pushed: pulled values are not held back by unpushed local edits
    return Team(ctx, ana, chat, deal)


def _show(qtbot: QtBot, widget: QtWidgets.QWidget) -> None:
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    qtbot.waitExposed(widget)


@pytest.fixture
def pages(qtbot: QtBot, ctx: AppContext, team: Team) -> Iterator[tuple[InboxPage, ContactsPage, PipelinePage]]:
    inbox, contacts, pipeline = InboxPage(ctx), ContactsPage(ctx), PipelinePage(ctx)
    for page in (inbox, contacts, pipeline):
        _show(qtbot, page)
    wait_idle(qtbot, ctx)
    select(inbox, team.chat.id)
    wait_idle(qtbot, ctx)
    assert inbox.chat_id == team.chat.id
    yield inbox, contacts, pipeline
    wait_idle(qtbot, ctx)


def _drain(qtbot: QtBot, ctx: AppContext) -> None:
    """Wait until every change written so far has been delivered (they are gathered into the marker's delivery)."""
    with qtbot.waitSignal(ctx.changes.changed):
        ctx.store.settings.appearance.theme = "system"  # a local-only write; any commit would do


def _now() -> int:
    return to_ms(utc_now())


def _conversation(inbox: InboxPage) -> list[tuple[str, str]]:
    return [(item.kind, item.text) for item in (inbox.chat_model.item(r) for r in range(inbox.chat_model.rowCount()))]


def _panel_notes(inbox: InboxPage) -> list[str]:
    return [inbox.panel.notes.item(r).text() for r in range(inbox.panel.notes.count())]


def test_a_pulled_page_reaches_every_open_page(
    qtbot: QtBot, ctx: AppContext, team: Team, pages: tuple[InboxPage, ContactsPage, PipelinePage]
) -> None:
    inbox, contacts, pipeline = pages
    window = MainWindow(ctx, SECTIONS)
    window.tray = Tray(ctx, window)  # type: ignore[attr-defined]  # the title's owner, as bootstrap wires it
    _show(qtbot, window)
    assert "Acme Boutique — Parley" in window.windowTitle()
    stages = _stages(ctx.store)
    now = _now()

    # A customer's new message, read on the teammate's computer, in the open chat.
    message = {"chat_id": team.chat.id, "direction": "in", "body": "I'll take two", "sent_at": now + 1000}
    team.pull(("messages", new_id(), message | {"created_at": now, "updated_at": now}))
    qtbot.waitUntil(lambda: ("message", "I'll take two") in _conversation(inbox))
    qtbot.waitUntil(
        lambda: inbox.model.row(0).chat_id == team.chat.id and "two" in (inbox.model.row(0).last_message_body or "")
    )

    # The teammate's internal note: in the conversation and in the contact panel's Notes box.
    note = {"body": "Wants gift wrap", "chat_id": team.chat.id, "contact_id": team.ana.id}
    team.pull(("notes", new_id(), note | {"created_at": now, "updated_at": now}))
    qtbot.waitUntil(lambda: ("note", "Wants gift wrap") in _conversation(inbox))
    qtbot.waitUntil(lambda: any("Wants gift wrap" in text for text in _panel_notes(inbox)))

    # A contact renamed: the contacts table, the chat list, the chat's header and the contact panel.
    team.pull(("contacts", team.ana.id, {"name": "Ana Lima", "updated_at": now + 1}))
    qtbot.waitUntil(lambda: "Ana Lima" in _names(contacts))
    qtbot.waitUntil(lambda: inbox.model.row(0).display_name == "Ana Lima")
    qtbot.waitUntil(lambda: inbox.header_name.text() == "Ana Lima")
    qtbot.waitUntil(lambda: inbox.panel.heading.text() == "Ana Lima" and inbox.panel.name.text() == "Ana Lima")
    qtbot.waitUntil(lambda: pipeline.column(stages["New lead"].id).list.item(0).data(CardRole).contact == "Ana Lima")

    # A new contact.
    bruno = {"name": "Bruno Costa", "phone": "+5511900000002", "created_at": now, "updated_at": now}
    team.pull(("contacts", new_id(), bruno))
    qtbot.waitUntil(lambda: "Bruno Costa" in _names(contacts))

    # A deal moved to another stage: the board and the deals in the contact panel.
    team.pull(("deals", team.deal.id, {"stage_id": stages["Proposal"].id, "updated_at": now + 2}))
    qtbot.waitUntil(lambda: _titles(pipeline, stages["Proposal"]) == ["Blue scarves"])
    assert _titles(pipeline, stages["New lead"]) == []
    qtbot.waitUntil(lambda: "Proposal" in inbox.panel.deals.item(0).text())

    # The business renamed: the window title.
    team.pull(("orgs", ctx.store.org_id, {"name": "Acme Atelier", "updated_at": now + 3}))
    qtbot.waitUntil(lambda: "Acme Atelier — Parley" in window.windowTitle())
    assert ctx.business_name == "Acme Atelier"
    wait_idle(qtbot, ctx)


def test_fields_being_edited_in_the_contact_panel_are_kept(
    qtbot: QtBot, team: Team, pages: tuple[InboxPage, ContactsPage, PipelinePage]
) -> None:
    inbox = pages[0]
    inbox.panel.email.setText("ana@")  # typed, not saved (and not valid yet)
    team.pull(("contacts", team.ana.id, {"name": "Ana Lima", "updated_at": _now()}))
    qtbot.waitUntil(lambda: inbox.panel.heading.text() == "Ana Lima")
    assert inbox.panel.email.text() == "ana@"
    assert inbox.panel.name.text() == "Ana Lima", "an untouched field follows the store (issue 16.3)"


def _contacts(page: QtWidgets.QWidget) -> list[str]:
    assert isinstance(page, ContactsPage)
    return _names(page)


def _board(page: QtWidgets.QWidget) -> list[str]:
    assert isinstance(page, PipelinePage)
    return [title for column in page.columns for title in _titles(page, column.stage)]


def _products(page: QtWidgets.QWidget) -> list[str]:
    assert isinstance(page, ProductsPage)
    return [p.name for p in page.products]


def _articles(page: QtWidgets.QWidget) -> list[str]:
    assert isinstance(page, KnowledgePage)
    return [a.title for a in page.articles]


def _business(page: QtWidgets.QWidget) -> list[str]:
    assert isinstance(page, SettingsPage)
    return [page.business.text()]


# (section, what it lists, the value a teammate's page brings)
HIDDEN: list[tuple[str, Callable[[QtWidgets.QWidget], list[str]], str]] = [
    ("contacts", _contacts, "Ana Lima"),
    ("pipeline", _board, "Blue scarves, 40 units"),
    ("products", _products, "Silk scarf"),
    ("knowledge", _articles, "Returns policy"),
    ("settings", _business, "Acme Atelier"),
]


def test_hidden_pages_refresh_when_shown(qtbot: QtBot, ctx: AppContext, team: Team) -> None:
    window = MainWindow(ctx, SECTIONS)
    _show(qtbot, window)
    pages = {}
    for section, _, _ in HIDDEN:
        pages[section] = window.show_section(section)
        wait_idle(qtbot, ctx)
    inbox = window.show_section("inbox")
    assert isinstance(inbox, InboxPage)
    wait_idle(qtbot, ctx)
    for section, listed, value in HIDDEN:
        assert value not in listed(pages[section]), section

    now = _now()
    team.pull(
        ("contacts", team.ana.id, {"name": "Ana Lima", "updated_at": now}),
        ("deals", team.deal.id, {"title": "Blue scarves, 40 units", "updated_at": now}),
        (
            "products",
            new_id(),
            {"name": "Silk scarf", "price_minor": 2500, "currency": "EUR", "created_at": now, "updated_at": now},
        ),
        (
            "knowledge_articles",
            new_id(),
            {"title": "Returns policy", "body": "Returns within 30 days.", "created_at": now, "updated_at": now},
        ),
        ("orgs", ctx.store.org_id, {"name": "Acme Atelier", "updated_at": now}),
    )
    qtbot.waitUntil(lambda: inbox.model.rowCount() > 0 and inbox.model.row(0).display_name == "Ana Lima")
    wait_idle(qtbot, ctx)
    for section, listed, value in HIDDEN:
        page = pages[section]
        watch = getattr(page, "watch", None)
        assert isinstance(watch, StaleWhenHidden), section
        assert watch.stale, f"{section}: the change is remembered"
        assert value not in listed(page), f"{section}: hidden, so not re-read on every change"

    for section, listed, value in HIDDEN:
        page = window.show_section(section)
        qtbot.waitUntil(lambda page=page, listed=listed, value=value: value in listed(page))
        assert not page.watch.stale  # type: ignore[attr-defined]
        wait_idle(qtbot, ctx)


def test_a_rolled_back_write_publishes_nothing(qtbot: QtBot, ctx: AppContext, team: Team) -> None:
    _drain(qtbot, ctx)
    delivered: list[frozenset[str]] = []
    ctx.changes.changed.connect(delivered.append)
    with pytest.raises(RuntimeError), ctx.store.db.transaction():
        ctx.store.contacts.update(team.ana.id, name="Never")
        ctx.store.deals.update(team.deal.id, title="Never")
        raise RuntimeError("the write failed half way")
    with qtbot.waitSignal(ctx.changes.changed):
        ctx.store.settings.appearance.theme = "system"  # a later commit: delivered after anything queued before
    assert delivered == [frozenset({"settings"})]


def test_local_writes_refresh_without_announcing(
    qtbot: QtBot, ctx: AppContext, team: Team, pages: tuple[InboxPage, ContactsPage, PipelinePage]
) -> None:
    """The inbox's own note reaches its Notes box (it used to stay empty until the chat was opened again)."""
    inbox = pages[0]
    inbox.composer.note_toggle.setChecked(True)
    qtbot.keyClicks(inbox.composer.edit, "Called her back")
    inbox.composer.send_button.click()
    qtbot.waitUntil(lambda: any("Called her back" in text for text in _panel_notes(inbox)))
    ctx.store.messages.create(
        chat_id=team.chat.id, direction="in", body="thanks!", sent_at=utc_now() + timedelta(minutes=1)
    )
    qtbot.waitUntil(lambda: ("message", "thanks!") in _conversation(inbox))


def test_the_open_conversation_reloads_only_for_its_own_chat(
    qtbot: QtBot, ctx: AppContext, team: Team, pages: tuple[InboxPage, ContactsPage, PipelinePage]
) -> None:
    inbox = pages[0]
    other = seed_chat(ctx.store, "Carla Dias", ["hi"], start=100)
    wait_idle(qtbot, ctx)
    _drain(qtbot, ctx)
    resets: list[int] = []
    inbox.chat_model.modelReset.connect(lambda: resets.append(1))
    now = _now()
    elsewhere = {"chat_id": other.id, "direction": "in", "body": "other chat", "sent_at": now + 5000}
    team.pull(("messages", new_id(), elsewhere | {"created_at": now, "updated_at": now}))
    qtbot.waitUntil(lambda: inbox.model.row(0).chat_id == other.id)  # the list moved: the change was delivered
    wait_idle(qtbot, ctx)
    assert resets == [], "another chat's message does not re-read the open conversation"
    mine = {"chat_id": team.chat.id, "direction": "in", "body": "this chat", "sent_at": now + 6000}
    team.pull(("messages", new_id(), mine | {"created_at": now, "updated_at": now}))
    qtbot.waitUntil(lambda: ("message", "this chat") in _conversation(inbox))
    assert resets == [1]
