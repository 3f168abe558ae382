"""The guarded automated send: an agent's reply is queued only if, at the moment of writing, it is still its turn.

Chatwoot's Captain posted stale replies after a human took over (PR #13673, #13882): the decision was made, the
model answered, and the send went out though the conversation had changed meanwhile. Here the last checks run
*inside* the write transaction that queues the reply (the one writer, house rule 4, so nothing can commit between the
checks and the insert):

1. ``recheck()`` — the caller's ownership check (``app.agents.ownership``; the store does not import the agents, so
   the agents pass it in). A reason (``owned_by_person``) drops the send.
2. **The chat's latest message is still the one the agent answered** (``answering``); anything newer — a person's
   reply, or another customer message that will get its own turn — drops the send as ``stale``.
3. **Only the device that holds the number's WhatsApp session sends** (``app.store.sending_device``): elsewhere
   nothing is queued and the reason is ``not_sending_device`` (the agent keeps its words as a draft).

Otherwise each body is queued like a person's reply (``app.store.messaging``) but marked ``sent_by_agent`` and
``agent_execution_id``, and its ``MessageQueued`` carries the execution as ``causation_id`` and the chain's depth + 1:
events caused by an automated send never start automations. A dropped send writes nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.core.errors import InvalidInput
from app.core.events import MessageQueued
from app.core.ids import utc_now
from app.core.models import Message
from app.store import sending_device
from app.store.ops import Done, done, op_transaction
from app.store.store import Store

STALE = "stale"
NOT_SENDING_DEVICE = "not_sending_device"


@dataclass(frozen=True)
class AutomatedSend:
    chat_id: str
    bodies: Sequence[str]
    agent: str
    execution_id: str
    answering: str | None  # the message the agent answered (None: it starts the conversation, e.g. a follow-up)
    depth: int = 0  # the depth of the event the agent ran on


@dataclass(frozen=True)
class SendResult:
    queued: tuple[Message, ...] = ()
    reason: str | None = None  # why nothing was queued


def latest_message_id(store: Store, chat_id: str) -> str | None:
    """The chat's last message in its order (``position``, then id), as the chat view shows it."""
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT id FROM messages WHERE chat_id = ? AND org_id = ? AND deleted_at IS NULL "
            "ORDER BY position DESC, id DESC LIMIT 1",
            (chat_id, store.org_id),
        ).fetchone()
    return None if row is None else str(row[0])


def send_automated(
    store: Store,
    send: AutomatedSend,
    *,
    recheck: Callable[[], str | None],
    holds: Callable[[Store], bool] = sending_device.holds,
) -> Done[SendResult]:
    """Queue ``send.bodies`` in order, or nothing, with the reason (see the module's docstring)."""
    texts = [body.strip() for body in send.bodies]
    if not texts or not all(texts):
        raise InvalidInput("An automated reply needs text.")
    with op_transaction(store) as tx:
        result = _guarded(store, send, texts, recheck, holds)
    return done(tx, result)


def _guarded(
    store: Store,
    send: AutomatedSend,
    texts: list[str],
    recheck: Callable[[], str | None],
    holds: Callable[[Store], bool],
) -> SendResult:
    reason = recheck()
    if reason is not None:
        return SendResult(reason=reason)
    if send.answering is not None and latest_message_id(store, send.chat_id) != send.answering:
        return SendResult(reason=STALE)
    if not holds(store):
        return SendResult(reason=NOT_SENDING_DEVICE)
    chat = store.chats.get(send.chat_id)
    queued: list[Message] = []
    for text in texts:
        message = store.messages.create(
            chat_id=chat.id,
            direction="out",
            body=text,
            status="queued",
            sent_at=utc_now(),
            position=store.messages.between(chat.id, store.messages.last_position(chat.id), None),
            sent_by_agent=send.agent,
            agent_execution_id=send.execution_id,
        )
        queued.append(message)
        store.emit(
            MessageQueued(
                org_id=store.org_id,
                chat_id=chat.id,
                message_id=message.id,
                causation_id=send.execution_id,
                depth=send.depth + 1,
            )
        )
    if chat.contact_id:
        store.contacts.update(chat.contact_id, last_contacted_at=queued[-1].sent_at)
    return SendResult(queued=tuple(queued))
