"""What the WhatsApp driver hands the store when the page reports something: a message, an ack, a chat.

The driver scrapes the page into the small wire models below and calls ``record_message`` / ``record_messages`` /
``record_ack`` / ``record_chat``. Each call is one transaction, so a message, the contact and chat it creates and
their events land together or not at all; events are published only once that transaction commits.

Rules:

- **De-duplication.** A message is keyed by WhatsApp's bare message id (``wa_id``, unique per workspace). The page
  reports the same message again after every reload, on scroll-back and during history backfill; a ``wa_id`` the
  store already has is returned as ``created=False`` and nothing is written.
- **Contacts.** A person is found by their ``@c.us`` id (``wa_id``) or their ``@lid`` (WhatsApp shows either for
  the same person, participants of groups often only the ``@lid``). Found by one and the other is new, the other
  is filled in, unless it already belongs to another contact: two rows for one person are for the merge tool,
  never silently joined here. A new contact gets its phone (E.164 ``+<digits>``) from a ``@c.us`` id.
- **Chats.** Found by ``wa_chat_id``; ``@g.us`` chats are groups (no contact of their own; each inbound message
  names its sender), everything else is a direct chat with the contact behind it.
- **Own messages and crash recovery.** A ``from_me`` message is outbound with a status from its ack. Before
  inserting it, the chat's send queue is checked: an outbound message still ``queued`` / ``typing`` with no
  ``wa_id`` and the same text is the one the driver was sending when it stopped (crash, page reload, lost
  confirmation) — WhatsApp has it, so it is *adopted* (gets the ``wa_id`` and status) instead of being inserted a
  second time, and leaves the send queue, so it is never sent twice. A media message is matched by its kind as
  WhatsApp shows it (``app.core.media.shown_as``) and its caption, which may be empty: a photo without a caption is
  never sent twice either. A clock (or no tick) counts as ``sent`` for text (WhatsApp's outbox has it), but a file
  with the clock is still uploading: it is adopted (takes the ``wa_id``) and stays ``typing`` until a tick moves it
  on (``record_ack``), so the store never says ``sent`` before the page does.
- **Order.** A chat's messages are ordered by ``position`` (``app.store.repos``), never by ``sent_at``: WhatsApp
  shows a captured message's time only to the minute. The driver passes the open chat's rows in page order
  (``page``, their ``wa_id`` top to bottom), and a new row is placed right after the nearest row above it that the
  store has (or right before the nearest one below): a customer's answer captured below our reply sorts after it
  whatever the clocks say. A row with nothing known around it on the page (a chat's first capture) is placed by its
  time. Our own queued reply is placed where the page shows it once WhatsApp has it (adopted); confirmed without
  the page around it (the sender's own record), it is the newest row of the chat on the page. A new row below every
  known one goes after the replies still waiting in the queue too: they go out after it.
- **Acks only move forward** (sent → delivered → read); an error (-1) fails a message only while it has not been
  delivered. An ack may arrive before its message: an unknown ``wa_id`` is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator

from app.core.events import ContactCreated, MessageReceived, MessageStatusChanged
from app.core.media import shown_as
from app.core.models import Chat, ChatKind, Contact, Message, MessageKind, MessageStatus
from app.store import messaging
from app.store.store import Store

GROUP_SUFFIX = "@g.us"
USER_SUFFIX = "@c.us"
LID_SUFFIX = "@lid"

# WhatsApp's own message type names, as the page's models report them, mapped onto ours.
_KIND_ALIASES: dict[str, MessageKind] = {
    "chat": "text",
    "ptt": "voice",
    "vcard": "contact",
    "multi_vcard": "contact",
    "image": "image",
    "video": "video",
    "audio": "audio",
    "document": "document",
    "sticker": "sticker",
    "location": "location",
}
_KINDS: frozenset[str] = frozenset(get_args(MessageKind))

# How far each outbound status has come; an ack never moves a message to a lower rank.
_RANK: dict[MessageStatus, int] = {"queued": 0, "typing": 1, "failed": 2, "sent": 3, "delivered": 4, "read": 5}


# ---- wire models --------------------------------------------------------------------------------------------


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CapturedMessage(_Wire):
    """One message as the page shows it.

    ``wa_id`` is the bare message id (the DOM ``data-id`` since 2026, or the last part of the serialized
    ``{fromMe}_{chatJid}_{msgId}``); ``sender_jid`` / ``sender_lid`` name the author inside a group (or, for an
    inbound direct message, the other ids the page knows for the person). ``chat_title`` is the group's title when
    the page shows it next to the message.
    """

    wa_id: str
    chat_jid: str
    from_me: bool
    sender_jid: str | None = None
    sender_lid: str | None = None
    push_name: str | None = None
    body: str = ""
    kind: MessageKind = "text"
    timestamp: AwareDatetime
    quoted_wa_id: str | None = None
    media: dict[str, Any] | None = None
    ack: int | None = None
    chat_title: str | None = None

    @field_validator("wa_id", "chat_jid")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("timestamp")
    @classmethod
    def _to_ms(cls, value: datetime) -> datetime:
        """Milliseconds, the precision the store keeps (so the returned message equals the stored one)."""
        return value.replace(microsecond=value.microsecond // 1000 * 1000)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: object) -> object:
        """WhatsApp's type names (``chat``, ``ptt``, ...) become ours; an unknown type is kept as text."""
        if isinstance(value, str):
            if value in _KINDS:
                return value
            return _KIND_ALIASES.get(value, "text")
        return value


class CapturedAck(_Wire):
    """A status tick the page showed for a message: -1 error, 0 clock, 1 sent, 2 delivered, 3 read, 4 played."""

    wa_id: str
    ack: int


class CapturedChat(_Wire):
    """A row of the chat list. ``unread_count`` is informative: the store counts unread from its own messages."""

    chat_jid: str
    title: str = ""
    unread_count: int = 0
    is_group: bool = False


@dataclass(frozen=True)
class IntakeResult:
    """The stored message; ``created`` when this call inserted it, ``adopted`` when it claimed a queued one."""

    message: Message
    created: bool
    adopted: bool = False


# ---- ids ----------------------------------------------------------------------------------------------------


def normalize_jid(jid: str) -> str:
    """``15551234567:12@s.whatsapp.net`` → ``15551234567@c.us`` (the device part and the server alias go)."""
    jid = jid.strip()
    user, sep, server = jid.partition("@")
    if not sep:
        return jid
    user = user.split(":", 1)[0]
    if server == "s.whatsapp.net":
        server = "c.us"
    return f"{user}@{server}"


def is_group(jid: str) -> bool:
    return jid.endswith(GROUP_SUFFIX)


def phone_of(jid: str) -> str | None:
    """The E.164 phone of a ``@c.us`` id, or None for anything else."""
    jid = normalize_jid(jid)
    if not jid.endswith(USER_SUFFIX):
        return None
    digits = re.sub(r"\D", "", jid.removesuffix(USER_SUFFIX))
    return f"+{digits}" if digits else None


def status_for_ack(ack: int | None) -> MessageStatus | None:
    """The outbound status an ack level stands for; None for the clock (0) or no ack."""
    if ack is None or ack == 0:
        return None
    if ack < 0:
        return "failed"
    if ack == 1:
        return "sent"
    if ack == 2:
        return "delivered"
    return "read"


# ---- recording ----------------------------------------------------------------------------------------------


class PageOrder:
    """The open chat's rendered rows, top to bottom, by ``wa_id``: where a captured row sits among stored ones."""

    def __init__(self, wa_ids: Sequence[str]) -> None:
        self.wa_ids = list(wa_ids)
        self._index: dict[str, int] = {}
        for i, wa_id in enumerate(self.wa_ids):
            self._index.setdefault(wa_id, i)
        self._known: dict[str, tuple[str, float] | None] = {}  # wa_id -> (chat id, position) once looked up

    def learn(self, message: Message) -> None:
        if message.wa_id is not None and message.position is not None:
            self._known[message.wa_id] = (message.chat_id, message.position)

    def _position(self, store: Store, chat_id: str, wa_id: str) -> float | None:
        if wa_id not in self._known:
            found = store.messages.find_by_wa_id(wa_id)
            self._known[wa_id] = (found.chat_id, found.position) if found and found.position is not None else None
        known = self._known[wa_id]
        return known[1] if known is not None and known[0] == chat_id else None

    def anchors(self, store: Store, chat_id: str, wa_id: str) -> tuple[float | None, float | None]:
        """The positions of the nearest stored rows above and below ``wa_id`` on the page (None when none is)."""
        at = self._index.get(wa_id)
        if at is None:
            return None, None
        above = next(
            (p for w in reversed(self.wa_ids[:at]) if (p := self._position(store, chat_id, w)) is not None), None
        )
        below = next((p for w in self.wa_ids[at + 1 :] if (p := self._position(store, chat_id, w)) is not None), None)
        return above, below


def record_message(store: Store, msg: CapturedMessage, *, page: PageOrder | None = None) -> IntakeResult:
    """Store one captured message (idempotent by ``wa_id``), with its contact and chat; see the module notes.
    ``page``: the open chat's rows in page order, which places a new row among the stored ones."""
    with store.db.transaction():
        result = _record(store, msg, page)
        if page is not None:
            page.learn(result.message)
        return result


def _record(store: Store, msg: CapturedMessage, page: PageOrder | None) -> IntakeResult:
    existing = store.messages.find_by_wa_id(msg.wa_id)
    if existing is not None:
        # A row seen again (reload, catch-up, or a page report that lost the race with the sender's own record)
        # shows its ticks as they are now: those may be the only sign of a delivery or read that happened
        # meanwhile, and the page does not report an unchanged tick again.
        return IntakeResult(_advance(store, existing, msg.ack) if msg.from_me else existing, created=False)

    chat_jid = normalize_jid(msg.chat_jid)
    group = is_group(chat_jid)
    # The person behind the message: the group participant for inbound group messages, the other side of a
    # direct chat otherwise (for our own messages in a direct chat, the sender ids are ours, not theirs).
    if group:
        person_ids = [] if msg.from_me else [msg.sender_jid, msg.sender_lid]
    elif msg.from_me:
        person_ids = [chat_jid]
    else:
        person_ids = [chat_jid, msg.sender_jid, msg.sender_lid]
    name = None if msg.from_me else msg.push_name
    contact = _find_or_create_contact(store, person_ids, name)

    title = msg.chat_title if group else (name or (contact.name if contact else None))
    chat = _find_or_create_chat(
        store,
        chat_jid,
        kind="group" if group else "direct",
        title=title,
        contact_id=None if group else (contact.id if contact else None),
    )

    if msg.from_me:
        return _record_own(store, chat, msg, page)

    sender = _first_id(person_ids) if group else chat_jid
    message = store.messages.create(
        chat_id=chat.id,
        direction="in",
        status="received",
        body=msg.body,
        kind=msg.kind,
        wa_id=msg.wa_id,
        sender_wa_id=sender,
        quoted_wa_id=msg.quoted_wa_id,
        quoted_message_id=_quoted_id(store, msg.quoted_wa_id),
        media=msg.media,
        sent_at=msg.timestamp,
        position=_place(store, chat.id, msg.wa_id, page),
    )
    if contact is not None and (contact.last_contacted_at is None or contact.last_contacted_at < msg.timestamp):
        store.contacts.update(contact.id, last_contacted_at=msg.timestamp)
    # A new message (shown below every other on the page), not older history read in: the conversation is back.
    above = store.messages.last_position(chat.id, on_page=True, exclude=message.id)
    if message.position is not None and (above is None or message.position > above):
        messaging.customer_wrote(store, chat)
    store.emit(
        MessageReceived(
            org_id=store.org_id,
            chat_id=chat.id,
            message_id=message.id,
            contact_id=contact.id if contact else None,
        )
    )
    return IntakeResult(message, created=True)


def record_messages(
    store: Store, msgs: Iterable[CapturedMessage], *, page: Sequence[str] | None = None
) -> list[IntakeResult]:
    """A burst or a history backfill in one transaction; duplicates inside the batch are recorded once.

    ``page``: the ``wa_id`` of every row the open chat shows (stored or new), top to bottom; ``msgs`` in that order.
    """
    order = PageOrder(page) if page is not None else None
    with store.db.transaction():
        return [record_message(store, msg, page=order) for msg in msgs]


def record_ack(store: Store, ack: CapturedAck) -> Message | None:
    """Move a message's status forward by an ack; the message (changed or not), or None if it is not known yet."""
    with store.db.transaction():
        message = store.messages.find_by_wa_id(ack.wa_id)
        if message is None:
            return None
        return _advance(store, message, ack.ack)


def _advance(store: Store, message: Message, ack: int | None) -> Message:
    """``message`` moved forward to the status ``ack`` stands for (never back; inbound ones never), with its event.
    The caller holds the write transaction."""
    target = status_for_ack(ack)
    if target is None or not _advances(message.status, target):
        return message
    previous = message.status
    updated = store.messages.update(message.id, status=target)
    store.emit(MessageStatusChanged(org_id=store.org_id, message_id=message.id, status=target, previous=previous))
    return updated


def record_chat(store: Store, captured: CapturedChat) -> Chat:
    """A chat-list row: find or create the chat (and for a direct chat its contact); a changed title is taken."""
    with store.db.transaction():
        jid = normalize_jid(captured.chat_jid)
        group = captured.is_group or is_group(jid)
        contact = None if group else _find_or_create_contact(store, [jid], None)
        chat = _find_or_create_chat(
            store,
            jid,
            kind="group" if group else "direct",
            title=captured.title or None,
            contact_id=contact.id if contact else None,
        )
        if captured.title and chat.title != captured.title:
            chat = store.chats.update(chat.id, title=captured.title)
        return chat


# ---- helpers ------------------------------------------------------------------------------------------------


def _advances(current: MessageStatus, target: MessageStatus) -> bool:
    if current not in _RANK:  # an inbound message: acks are about our own messages
        return False
    if target == "failed":
        return current in ("queued", "typing", "sent")
    return _RANK[target] > _RANK[current]


def _first_id(ids: Iterable[str | None]) -> str | None:
    for jid in ids:
        if jid:
            return normalize_jid(jid)
    return None


def _split_ids(ids: Iterable[str | None]) -> tuple[str | None, str | None]:
    """The ``@c.us`` id and the ``@lid`` among ``ids`` (the first of each)."""
    wa_id: str | None = None
    lid: str | None = None
    for raw in ids:
        if not raw:
            continue
        jid = normalize_jid(raw)
        if jid.endswith(USER_SUFFIX):
            wa_id = wa_id or jid
        elif jid.endswith(LID_SUFFIX):
            lid = lid or jid
    return wa_id, lid


def _find_or_create_contact(store: Store, ids: Iterable[str | None], name: str | None) -> Contact | None:
    wa_id, lid = _split_ids(ids)
    if wa_id is None and lid is None:
        return None
    name = (name or "").strip()
    contact = store.contacts.find_by_whatsapp(wa_id=wa_id, lid=lid)
    if contact is None:
        contact = store.contacts.create(name=name, phone=phone_of(wa_id) if wa_id else None, wa_id=wa_id, lid=lid)
        store.emit(ContactCreated(org_id=store.org_id, contact_id=contact.id))
        return contact
    changes: dict[str, Any] = {}
    if wa_id and not contact.wa_id and store.contacts.find_by_whatsapp(wa_id=wa_id) is None:
        changes["wa_id"] = wa_id
        if not contact.phone:
            changes["phone"] = phone_of(wa_id)
    if lid and not contact.lid and store.contacts.find_by_whatsapp(lid=lid) is None:
        changes["lid"] = lid
    if name and not contact.name:
        changes["name"] = name
    return store.contacts.update(contact.id, **changes) if changes else contact


def _find_or_create_chat(store: Store, jid: str, *, kind: ChatKind, title: str | None, contact_id: str | None) -> Chat:
    chat = store.chats.find_by_wa_chat_id(jid)
    if chat is None:
        fallback = phone_of(jid) or jid.partition("@")[0]
        return store.chats.create(
            wa_chat_id=jid, kind=kind, title=(title or "").strip() or fallback, contact_id=contact_id
        )
    if contact_id and not chat.contact_id and chat.kind == "direct":
        chat = store.chats.update(chat.id, contact_id=contact_id)
    return chat


def _quoted_id(store: Store, quoted_wa_id: str | None) -> str | None:
    if not quoted_wa_id:
        return None
    quoted = store.messages.find_by_wa_id(quoted_wa_id)
    return quoted.id if quoted else None


def _place(
    store: Store, chat_id: str, wa_id: str, page: PageOrder | None, *, current: Message | None = None
) -> float | None:
    """The position of a captured row (``current``: the queued reply it confirms); None: place it by its time."""
    messages = store.messages
    exclude = current.id if current is not None else None
    kept = current.position if current is not None else None
    above, below = page.anchors(store, chat_id, wa_id) if page is not None else (None, None)
    if above is not None:
        after = messages.next_position(chat_id, above, on_page=True, exclude=exclude)
        if after is not None:
            return messages.between(chat_id, above, after)
        # The newest row on the page: after everything, the replies still queued included (they go out after it).
        if kept is not None and kept > above:
            return kept
        last = messages.last_position(chat_id, exclude=exclude)
        return messages.between(chat_id, above if last is None else max(above, last), None)
    if below is not None:
        return messages.between(chat_id, messages.previous_position(chat_id, below, on_page=True), below)
    if current is not None:
        # Our reply confirmed without the page around it (the sender saw it appear): the newest row on the page.
        newest = messages.last_position(chat_id, on_page=True, exclude=exclude)
        if newest is None or (kept is not None and kept > newest):
            return kept
        return messages.between(chat_id, newest, messages.next_position(chat_id, newest, exclude=exclude))
    return None


def _record_own(store: Store, chat: Chat, msg: CapturedMessage, page: PageOrder | None) -> IntakeResult:
    # A clock (0) or no ack on a text still means WhatsApp holds the message in its outbox and will deliver it
    # itself: our part is done, and it must leave the send queue or the driver would send it again. A file with the
    # clock is still uploading: the queued message takes its wa_id (so it is never sent again) but stays ``typing``
    # until a tick (``record_ack``, or the sender seeing it) says WhatsApp has it; the sender settles it.
    media_kind = msg.kind if msg.media is not None else None
    status: MessageStatus = status_for_ack(msg.ack) or "sent"
    pending = _pending_outbound(store, chat.id, msg.body, media_kind=media_kind)
    if pending is not None:
        if status_for_ack(msg.ack) is None and media_kind is not None:
            status = "typing"
        changes: dict[str, Any] = {"wa_id": msg.wa_id, "status": status}
        position = _place(store, chat.id, msg.wa_id, page, current=pending)
        if position is not None and position != pending.position:
            changes["position"] = position
        if msg.quoted_wa_id and not pending.quoted_wa_id:
            changes["quoted_wa_id"] = msg.quoted_wa_id
        adopted = store.messages.update(pending.id, **changes)
        if status != pending.status:
            store.emit(
                MessageStatusChanged(org_id=store.org_id, message_id=pending.id, status=status, previous=pending.status)
            )
        return IntakeResult(adopted, created=False, adopted=True)
    message = store.messages.create(
        chat_id=chat.id,
        direction="out",
        status=status,
        body=msg.body,
        kind=msg.kind,
        wa_id=msg.wa_id,
        quoted_wa_id=msg.quoted_wa_id,
        quoted_message_id=_quoted_id(store, msg.quoted_wa_id),
        media=msg.media,
        sent_at=msg.timestamp,
        position=_place(store, chat.id, msg.wa_id, page),
    )
    return IntakeResult(message, created=True)


def _pending_outbound(store: Store, chat_id: str, body: str, *, media_kind: str | None) -> Message | None:
    """The oldest queued / typing outbound message of the chat with this text and no ``wa_id`` yet; for media
    (``media_kind``), one with media shown as the same kind and the same caption, which may be empty."""
    text = body.strip()
    if not text and media_kind is None:
        return None
    for message in store.messages.send_queue():  # oldest first, served by the send-queue index
        mine = message.chat_id == chat_id and message.direction == "out" and message.wa_id is None
        if not mine or message.body.strip() != text:
            continue
        if media_kind is None and message.media is None:
            return message
        if media_kind is not None and message.media is not None and shown_as(message.kind) == shown_as(media_kind):
            return message
    return None
