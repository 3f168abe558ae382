"""A teammate's computer shows a chat in the same order as the computer that captured it (issue 16.1).

The order is the synced ``position`` of each message, placed where WhatsApp showed it, not the minute-rounded times:
a reply queued on the staff laptop, sent by the front desk PC (which holds the WhatsApp session) and answered by the
customer within the same minute reads reply-then-answer on both computers, after a restart too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from app.store.intake import CapturedMessage, record_messages
from app.store.messaging import queue_outbound
from app.store.store import Store
from app.store.workspaces import Workspaces
from tests.support.sync_server import ServerProcess
from tests.sync.clients import Client, join, owner_client

pytestmark = pytest.mark.slow

ALICE = "6590000001@c.us"
QUESTION = "Do you have the jacket in blue?"
REPLY = "Yes! Size M is 59 €"
ANSWER = "Great, I'll take it"


@pytest.fixture
def team(workspaces: Workspaces, server: ServerProcess) -> Iterator[tuple[Client, Client]]:
    owner = owner_client(workspaces, server.url)
    staff = join(workspaces, server.url, owner.invite())
    yield owner, staff
    owner.store.close()
    staff.store.close()


def row(wa_id: str, body: str, at: datetime, **fields: Any) -> CapturedMessage:
    base: dict[str, Any] = {"wa_id": wa_id, "chat_jid": ALICE, "from_me": False, "body": body, "timestamp": at}
    return CapturedMessage.model_validate(base | fields)


def order(store: Store, chat_id: str) -> list[tuple[str, float | None]]:
    return [(m.body, m.position) for m in store.messages.for_chat(chat_id)]


def test_teammate_sees_the_captured_order(team: tuple[Client, Client], workspaces: Workspaces) -> None:
    front_desk, staff = team
    now = datetime.now(UTC)
    minute = now.replace(second=0, microsecond=0)  # what WhatsApp shows for every message of this chat: HH:MM
    [asked] = record_messages(front_desk.store, [row("3A01", QUESTION, minute)], page=["3A01"])
    chat_id = asked.message.chat_id
    front_desk.sync()
    staff.sync()

    # The staff member replies on their laptop; the reply syncs to the front desk, which sends it.
    reply = queue_outbound(staff.store, chat_id, REPLY)
    staff.sync()
    front_desk.sync()
    [sent] = record_messages(front_desk.store, [row("3EB0AA", REPLY, minute, from_me=True, ack=1)])
    assert sent.adopted
    assert sent.message.id == reply.id
    # The customer answers within the minute; the front desk captures the open chat's rows in page order.
    record_messages(front_desk.store, [row("3A02", ANSWER, minute)], page=["3A01", "3EB0AA", "3A02"])
    front_desk.sync()
    staff.sync()

    expected = [QUESTION, REPLY, ANSWER]
    here = order(front_desk.store, chat_id)
    assert [body for body, _ in here] == expected
    assert order(staff.store, chat_id) == here  # same order, from the same synced positions
    [row_there] = staff.store.inbox()
    assert row_there.last_message_body == ANSWER

    staff.store.close()
    reopened = workspaces.open(staff.workspace_id)
    try:
        assert order(reopened, chat_id) == here
    finally:
        reopened.close()
        staff.store = workspaces.open(staff.workspace_id)  # (the fixture closes it)
