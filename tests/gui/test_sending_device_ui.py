"""In a team, messages queued on a computer that does not hold the WhatsApp number say which one will send them: the
WhatsApp page (its line and the queue's Reason column), the conversation's bubble, the status-bar indicator, and no
warning banner (it is how a team works, not a fault).

The status is the one the real supervisor publishes (no browser: this computer never linked a phone) from a real
SQLCipher store that holds a teammate's claim, pulled through sync's own page apply.
"""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.store.messaging import queue_outbound
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from app.ui.pages.whatsapp import WhatsAppPage
from app.ui.widgets.bubble_delegate import meta_text
from app.ui.widgets.whatsapp_indicator import HealthBanner, indicator_text
from app.whatsapp.config import ServiceConfig
from app.whatsapp.profile import load_profile
from app.whatsapp.supervisor import Supervisor
from tests.unit.store.test_sending_device import T0, pull_claim

TEAMMATE = "Bea's laptop"
WAITING = f"Waiting for {TEAMMATE} to send"


def test_queued_messages_say_which_team_device_sends_them(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> None:
    store = ctx.store
    contact = store.contacts.create(name="Ines Duarte", phone="+351912345678")
    chat = store.chats.create(contact_id=contact.id)
    queued = queue_outbound(store, chat.id, "It ships in two days")
    pull_claim(store, linked_at=T0, name=TEAMMATE)

    whatsapp = WhatsAppPage(ctx)
    inbox = InboxPage(ctx)
    banner = HealthBanner()
    for widget in (whatsapp, inbox, banner):
        qtbot.addWidget(widget)
    ctx.whatsapp.status_changed.connect(banner.show_status)
    whatsapp.resize(1100, 900)
    whatsapp.show()
    inbox.resize(1200, 700)
    inbox.show()
    qtbot.waitExposed(inbox)
    inbox.open_chat(chat.id)

    supervisor = Supervisor(store, load_profile(None), tmp_path / "wa", ServiceConfig(), on_status=ctx.whatsapp.publish)
    with qtbot.waitSignal(ctx.whatsapp.status_changed, timeout=5000):
        supervisor.publish()
    status = ctx.whatsapp.status
    assert status.queue.held_by == TEAMMATE
    assert status.queue.paused == WAITING

    assert whatsapp.next_send.text() == f"{WAITING}: the phone is linked to WhatsApp on that computer."
    qtbot.waitUntil(lambda: whatsapp.model.rowCount() == 1, timeout=10000)
    assert whatsapp.model.index(0, 4).data() == WAITING

    row = inbox.chat_model.row_of(queued.id)
    assert row >= 0
    item = inbox.chat_model.item(row)
    assert inbox.chat_model.waiting_on == TEAMMATE
    meta = inbox.conversation.itemDelegate()._meta(item, inbox.chat_model.index(row))  # type: ignore[attr-defined]
    assert meta == meta_text(item, waiting_on=TEAMMATE)
    assert meta.endswith(f"· waiting for {TEAMMATE} to send")

    assert "sent by Bea's laptop" in indicator_text(status)
    assert banner.isHidden()
