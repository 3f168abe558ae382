"""Two members of one team against a real sync server: what the teammate writes and pushes reaches the open pages
on this computer once its real sync engine pulls it (on a thread of its own, as the sync loop runs) — nobody
announces anything. The workspace on screen is the invited member's (``store`` is overridden below, so ``ctx``
is built over it the usual way); the teammate is the owner, on the same server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from pytestqt.qtbot import QtBot

from app.core.ids import utc_now
from app.store.deals import create_deal, move_deal
from app.store.messaging import add_note
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.contacts import ContactsPage
from app.ui.pages.inbox import InboxPage
from app.ui.pages.pipeline import CardRole, PipelinePage
from app.ui.sections import SECTIONS
from app.ui.tray import Tray
from tests.gui.test_contacts_page import _names
from tests.gui.test_pipeline_page import _stages, _titles
from tests.support.gui import wait_idle
from tests.support.inbox import select
from tests.support.sync_server import ServerProcess
from tests.sync.clients import Client, join, owner_client


@pytest.fixture
def teammate(workspaces: Workspaces, server: ServerProcess) -> Iterator[Client]:
    """The owner, on another computer: writes and pushes."""
    owner = owner_client(workspaces, server.url)
    yield owner
    owner.store.close()


@pytest.fixture
def member(workspaces: Workspaces, server: ServerProcess, teammate: Client) -> Client:
    return join(workspaces, server.url, teammate.invite())


@pytest.fixture
def store(member: Client) -> Iterator[Store]:
    """The workspace on screen: the invited member's."""
    yield member.store
    member.store.close()


def pull(client: Client) -> None:
    """One real sync pass of ``client`` on a thread of its own, as its sync loop would run it."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            client.sync()
        except BaseException as exc:  # noqa: BLE001 — re-raised on the test's thread
            errors.append(exc)

    worker = threading.Thread(target=run, name="sync-loop")
    worker.start()
    worker.join(120)
    assert not worker.is_alive()
    assert not errors, errors


def test_a_teammates_changes_reach_the_open_pages(
    qtbot: QtBot, ctx: AppContext, teammate: Client, member: Client
) -> None:
    a = teammate.store
    window = MainWindow(ctx, SECTIONS)
    window.tray = Tray(ctx, window)  # type: ignore[attr-defined]  # the title's owner, as bootstrap wires it
    inbox, contacts, pipeline = InboxPage(ctx), ContactsPage(ctx), PipelinePage(ctx)
    for widget in (window, inbox, contacts, pipeline):
        qtbot.addWidget(widget)
        widget.resize(1200, 700)
        widget.show()
        qtbot.waitExposed(widget)
    wait_idle(qtbot, ctx)

    # A new customer writes to the teammate's WhatsApp; their deal is opened.
    ana = a.contacts.create(name="Ana Souza", phone="+5511900000001")
    chat = a.chats.create(contact_id=ana.id)
    a.messages.create(chat_id=chat.id, direction="in", body="is the blue scarf in stock?", sent_at=utc_now())
    deal = create_deal(a, _stages(a)["New lead"].id, "Blue scarves", contact_id=ana.id)
    teammate.sync()
    pull(member)
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 1 and inbox.model.row(0).display_name == "Ana Souza")
    qtbot.waitUntil(lambda: "Ana Souza" in _names(contacts))
    stages = _stages(ctx.store)
    qtbot.waitUntil(lambda: _titles(pipeline, stages["New lead"]) == ["Blue scarves"])
    select(inbox, chat.id)
    wait_idle(qtbot, ctx)

    # The teammate replies, adds an internal note, renames the customer, moves the deal and renames the business.
    a.messages.create(chat_id=chat.id, direction="out", body="Yes, two left!", sent_at=utc_now() + timedelta(minutes=1))
    add_note(a, chat.id, "Wants gift wrap")
    a.contacts.update(ana.id, name="Ana Lima")
    move_deal(a, deal.id, stages["Proposal"].id)
    a.orgs.update(a.org_id, name="Acme Atelier")
    teammate.sync()
    pull(member)

    def conversation() -> list[str]:
        return [inbox.chat_model.item(r).text for r in range(inbox.chat_model.rowCount())]

    qtbot.waitUntil(lambda: "Yes, two left!" in conversation())
    qtbot.waitUntil(lambda: "Wants gift wrap" in conversation())
    qtbot.waitUntil(
        lambda: any("Wants gift wrap" in inbox.panel.notes.item(r).text() for r in range(inbox.panel.notes.count()))
    )
    qtbot.waitUntil(lambda: "Ana Lima" in _names(contacts))
    qtbot.waitUntil(lambda: inbox.header_name.text() == "Ana Lima" and inbox.panel.heading.text() == "Ana Lima")
    qtbot.waitUntil(lambda: _titles(pipeline, stages["Proposal"]) == ["Blue scarves"])
    assert pipeline.column(stages["Proposal"].id).list.item(0).data(CardRole).contact == "Ana Lima"
    qtbot.waitUntil(lambda: "Acme Atelier — Parley" in window.windowTitle())
    wait_idle(qtbot, ctx)
