"""Every write of the campaigns (issue 19), each one transaction: the UI and the runner change campaigns only here.

A person's moves: ``create_draft``, ``edit_draft``, ``prepare`` (freeze the audience), ``unprepare`` (back to
draft), ``start``, ``pause``, ``resume``, ``cancel``, ``send_test``; consent: ``opt_out``, ``opt_in``,
``set_opt_out_words``. Refused moves raise ``InvalidInput`` with a sentence (``app.campaigns.lifecycle``).

The runner's (``app.campaigns.runner``): ``send_next`` — the guarded campaign send — and ``follow_messages``.

``send_next`` is why nothing goes twice to a recipient, across crashes and restarts: inside ONE write transaction
it checks again that the campaign is running, that automated sending is not halted (``ops.automation``), that this
device sends for the number, that the recipient is still ``queued`` and has not opted out since the audience was
frozen (consent, the label, or a reply that is an opt-out word) — then writes the message to the send queue and
marks the recipient ``sending`` with the link to that message. Killed before the commit, nothing happened; after
it, the recipient is no longer ``queued`` and is never picked again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.campaigns import audience, content, lifecycle, optout
from app.campaigns.lifecycle import AGENT, STEP_KIND
from app.core.errors import InvalidInput
from app.core.events import MessageQueued
from app.core.ids import from_ms, new_id, to_ms, utc_now
from app.core.models import Campaign, CampaignStatus, Chat, Contact, Message
from app.store import labels, sending_device
from app.store.ops import Done, done, op_transaction
from app.store.ops.automation import halted
from app.store.sqlcipher import Connection
from app.store.store import Store

PACE_KEYS: dict[str, type] = {
    "gap_min_seconds": float,
    "gap_max_seconds": float,
    "per_hour": int,
    "per_day": int,
    "batch_size": int,
    "batch_pause_seconds": float,
}
EDITABLE = frozenset(
    {"name", "template", "variants", "audience", "pace", "require_consent", "recent_days", "reply_window_hours",
     "sale_window_hours", "test_contact_id"}
)  # fmt: skip
FIRST_STEP_DELAY = timedelta(seconds=0)

# ``send_next`` outcomes (besides ``queued``): why nothing went
NOT_RUNNING = "not_running"
HALTED = "halted"
NOT_SENDING_DEVICE = "not_sending_device"
NOT_QUEUED = "not_queued"  # taken already (a run before a crash, another step)
NO_RECIPIENT = "no_recipient"

# a sender failure that means the number has no WhatsApp account: the recipient is skipped, not failed
_NOT_ON_WHATSAPP = re.compile(
    r"not on whatsapp|isn.t on whatsapp|no whatsapp account|phone number shared via url is invalid", re.I
)


# ---- drafts --------------------------------------------------------------------------------------------------
def check_pace(pace: Mapping[str, Any]) -> dict[str, Any]:
    """A campaign's stricter pace, cleaned; InvalidInput naming a value that does not fit."""
    cleaned: dict[str, Any] = {}
    for key, value in pace.items():
        kind = PACE_KEYS.get(key)
        if kind is None:
            raise InvalidInput(f"“{key}” is not a pacing setting; use {', '.join(PACE_KEYS)}.")
        if value is None or value == "":
            continue
        try:
            number = kind(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"The pacing setting {key} needs a number.") from None
        if number <= 0:
            raise InvalidInput(f"The pacing setting {key} must be more than zero.")
        cleaned[key] = number
    low, high = cleaned.get("gap_min_seconds"), cleaned.get("gap_max_seconds")
    if low is not None and high is not None and low > high:
        raise InvalidInput("The shortest gap between messages is longer than the longest; swap them.")
    return cleaned


def _clean(changes: Mapping[str, Any], current: Campaign | None) -> dict[str, Any]:
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput(f"A campaign has no setting {', '.join(sorted(unknown))}.")
    out = dict(changes)
    if "name" in out:
        out["name"] = " ".join(str(out["name"]).split())
        if not out["name"]:
            raise InvalidInput("A campaign needs a name.")
    if "template" in out or "variants" in out:
        template = out.get("template", current.template if current else "")
        variants = out.get("variants", current.variants if current else [])
        if str(template).strip():
            out["template"], out["variants"] = content.check_bodies(str(template), list(variants))
    if "audience" in out:
        out["audience"] = audience.parse_filters(dict(out["audience"] or {})).model_dump(exclude_defaults=True)
    if "pace" in out:
        out["pace"] = check_pace(out["pace"] or {})
    for key in ("reply_window_hours", "sale_window_hours"):
        if key in out and int(out[key]) < 1:
            raise InvalidInput("A results window is at least one hour long.")
    if out.get("recent_days") is not None and int(out["recent_days"]) < 1:
        raise InvalidInput("“Wrote within N days” needs at least one day.")
    return out


def create_draft(store: Store, name: str, **settings: Any) -> Done[Campaign]:
    """A new campaign in draft (its settings as in ``edit_draft``)."""
    values = _clean({"name": name, **settings}, None)
    with op_transaction(store) as tx:
        campaign = store.campaigns.create(status="draft", **values)
    return done(tx, campaign)


def edit_draft(store: Store, campaign_id: str, **changes: Any) -> Done[Campaign]:
    """Change a draft's name, message, variants, audience filters, pace, rules or windows."""
    with op_transaction(store) as tx:
        campaign = store.campaigns.get(campaign_id)
        if campaign.status != "draft":
            lifecycle.check(campaign.name, campaign.status, "draft")
            raise InvalidInput(f"The campaign “{campaign.name}” is prepared; make it a draft again to edit it.")
        values = _clean(changes, campaign)
        campaign = store.campaigns.update(campaign_id, **values) if values else campaign
    return done(tx, campaign)


# ---- the state machine --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preparation:
    campaign: Campaign
    included: int
    excluded: dict[str, int]  # reason code → how many
    warnings: list[str] = field(default_factory=list)


def _move(store: Store, campaign_id: str, target: CampaignStatus) -> Campaign:
    campaign = store.campaigns.get(campaign_id)
    lifecycle.check(campaign.name, campaign.status, target)
    return campaign


def prepare(store: Store, campaign_id: str, *, now: datetime | None = None) -> Done[Preparation]:
    """Freeze the audience: a recipient per matching contact, excluded ones ``skipped`` with their reason."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        campaign = _move(store, campaign_id, "prepared")
        planned = audience.plan(store, campaign, at)
        if planned.included == 0:
            raise InvalidInput(
                f"Nobody in the audience of “{campaign.name}” can get it"
                + (f" ({_excluded_sentence(planned.excluded())})." if planned.recipients else "; change the filters.")
            )
        _insert_recipients(store, campaign.id, planned.recipients, at)
        campaign = store.campaigns.update(
            campaign.id, status="prepared", prepared_at=at, next_variant=planned.next_variant
        )
    return done(tx, Preparation(campaign, planned.included, planned.excluded(), planned.warnings))


def _insert_recipients(store: Store, campaign_id: str, planned: Sequence[audience.Planned], at: datetime) -> None:
    """The frozen audience in one statement (rows built here, not as 10k validated models: every value is ours)."""
    stamp = to_ms(at)
    rows = [
        (
            store.org_id,
            audience.recipient_id(campaign_id, p.contact_id),
            stamp,
            stamp,
            campaign_id,
            p.contact_id,
            p.variant,
            "skipped" if p.reason else "queued",
            p.reason,
            p.body,
            p.chat_id,
            n,
        )
        for n, p in enumerate(planned)
    ]
    # On the writer, inside the caller's (outermost) write transaction, *not* through a nested
    # ``db.transaction()``: its SAVEPOINT made this statement 10-25x slower on the demo workspace (every page the
    # 10k inserts and their outbox rows touch journalled for the savepoint; 3.6-12.4 s against 0.5 s, growing with
    # the file, bench/campaign_bench.py). ``prepare`` holds the write lock and no savepoint is open here.
    _on_writer(store).executemany(
        "INSERT INTO campaign_recipients (org_id, id, created_at, updated_at, campaign_id, contact_id, variant, "
        "status, reason, body, chat_id, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _on_writer(store: Store) -> Connection:
    """The writer, for a bulk statement inside the calling operation's write transaction (which holds the lock)."""
    conn = store.db.writer
    if not conn.in_transaction:
        raise RuntimeError("a campaign's bulk write runs inside its operation's write transaction")
    return conn


def _excluded_sentence(excluded: dict[str, int]) -> str:
    return ", ".join(f"{n} {audience.REASONS.get(r, r)}" for r, n in sorted(excluded.items()))


def unprepare(store: Store, campaign_id: str) -> Done[Campaign]:
    """Back to draft to edit it: the frozen audience is dropped (nothing was sent yet)."""
    with op_transaction(store) as tx:
        campaign = _move(store, campaign_id, "draft")
        _on_writer(store).execute(  # one statement, not 10k savepoints (see _insert_recipients)
            "DELETE FROM campaign_recipients WHERE campaign_id = ? AND org_id = ?", (campaign.id, store.org_id)
        )
        campaign = store.campaigns.update(campaign.id, status="draft", prepared_at=None)
    return done(tx, campaign)


def _schedule_run(store: Store, campaign: Campaign, at: datetime) -> None:
    run = new_id()
    payload = {"campaign_id": campaign.id, "run": run, "step": 0}
    store.jobs.schedule(
        STEP_KIND, payload, at + FIRST_STEP_DELAY, lifecycle.step_key(campaign.id, run, 0), now=at, shared=True
    )


def _cancel_steps(store: Store, campaign_id: str, at: datetime) -> None:
    for job in store.jobs.find(("due",), limit=10_000):
        if job.kind == STEP_KIND and job.payload.get("campaign_id") == campaign_id:
            store.jobs.cancel(job.id, now=at)


def start(store: Store, campaign_id: str, *, now: datetime | None = None) -> Done[Campaign]:
    """Start a prepared campaign: its runner's first step is due at once (the pacing budget times each send)."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        campaign = _move(store, campaign_id, "running")
        if campaign.status != "prepared":
            raise InvalidInput(f"The campaign “{campaign.name}” has started already; resume it instead.")
        campaign = store.campaigns.update(campaign.id, status="running", started_at=at)
        _schedule_run(store, campaign, at)
    return done(tx, campaign)


def pause(store: Store, campaign_id: str, *, now: datetime | None = None) -> Done[Campaign]:
    """Stop queueing messages; a message already in the send queue still goes (it is the person's to remove)."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        campaign = _move(store, campaign_id, "paused")
        campaign = store.campaigns.update(campaign.id, status="paused")
        _cancel_steps(store, campaign.id, at)
    return done(tx, campaign)


def resume(store: Store, campaign_id: str, *, now: datetime | None = None) -> Done[Campaign]:
    at = now or utc_now()
    with op_transaction(store) as tx:
        campaign = _move(store, campaign_id, "running")
        if campaign.status != "paused":
            raise InvalidInput(f"The campaign “{campaign.name}” is not paused; start it instead.")
        campaign = store.campaigns.update(campaign.id, status="running")
        _schedule_run(store, campaign, at)
    return done(tx, campaign)


def cancel(store: Store, campaign_id: str, *, now: datetime | None = None) -> Done[Campaign]:
    """End the campaign for good: recipients not yet sent to are skipped (``cancelled``)."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        campaign = _move(store, campaign_id, "cancelled")
        _on_writer(store).execute(  # one statement, not a savepoint per recipient (see _insert_recipients)
            "UPDATE campaign_recipients SET status = 'skipped', reason = 'cancelled', updated_at = ? "
            "WHERE campaign_id = ? AND org_id = ? AND status = 'queued' AND deleted_at IS NULL",
            (to_ms(at), campaign.id, store.org_id),
        )
        campaign = store.campaigns.update(campaign.id, status="cancelled", finished_at=at)
        _cancel_steps(store, campaign.id, at)
    return done(tx, campaign)


def complete(store: Store, campaign_id: str, *, now: datetime | None = None) -> Done[bool]:
    """The runner's end: a running campaign with no recipient left (queued or sending) is completed."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        campaign = store.campaigns.get(campaign_id)
        finished = campaign.status == "running" and _left(store, campaign_id) == 0
        if finished:
            store.campaigns.update(campaign_id, status="completed", finished_at=at)
    return done(tx, finished)


def _left(store: Store, campaign_id: str) -> int:
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT count(*) FROM campaign_recipients WHERE campaign_id = ? AND org_id = ? AND deleted_at IS NULL "
            "AND status IN ('queued', 'sending')",
            (campaign_id, store.org_id),
        ).fetchone()
    return int(row[0])


# ---- the guarded send ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sent:
    """What ``send_next`` / ``send_test`` did: the message queued, or why none (and whom it skipped)."""

    message: Message | None = None
    reason: str | None = None
    recipient_id: str | None = None


def waiting_in_queue(store: Store) -> bool:
    """Whether a campaign message still waits in the send queue (the runner queues the next only after it)."""
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT 1 FROM messages WHERE status IN ('queued', 'typing') AND sent_by_agent = ? AND org_id = ? "
            "AND deleted_at IS NULL LIMIT 1",
            (AGENT, store.org_id),
        ).fetchone()
    return row is not None


def _opted_out_now(store: Store, contact: Contact) -> bool:
    return optout.is_opted_out(contact) or optout.said_opt_out(store, contact.id, optout.words(store))


def _chat_for(store: Store, contact: Contact, chat_id: str | None) -> Chat | None:
    if chat_id:
        chat = store.chats.find(chat_id)
        if chat is not None:
            return chat
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT id FROM chats WHERE contact_id = ? AND org_id = ? AND kind = 'direct' AND deleted_at IS NULL "
            "ORDER BY updated_at DESC LIMIT 1",
            (contact.id, store.org_id),
        ).fetchone()
    if row is not None:
        return store.chats.get(str(row[0]))
    digits = re.sub(r"\D", "", contact.phone or "")
    wa_chat_id = contact.wa_id or (f"{digits}@c.us" if digits else None)
    if wa_chat_id is None:
        return None
    return store.chats.create(contact_id=contact.id, wa_chat_id=wa_chat_id, kind="direct", title=contact.name)


def _queue(store: Store, chat: Chat, body: str, cause: str, at: datetime) -> Message:
    message = store.messages.create(
        chat_id=chat.id,
        direction="out",
        body=body,
        status="queued",
        sent_at=at,
        position=store.messages.between(chat.id, store.messages.last_position(chat.id), None),
        sent_by_agent=AGENT,
    )
    store.emit(MessageQueued(org_id=store.org_id, chat_id=chat.id, message_id=message.id, causation_id=cause, depth=1))
    if chat.contact_id:
        store.contacts.update(chat.contact_id, last_contacted_at=at)
    return message


def send_next(
    store: Store,
    campaign_id: str,
    *,
    now: datetime | None = None,
    holds: Callable[[Store], bool] = sending_device.holds,
) -> Done[Sent]:
    """Queue the message of the campaign's next recipient, or nothing with the reason (see the module's text).

    A recipient who opted out since the audience was frozen is skipped (``opted_out``) and the next one is tried."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        result = _send_next(store, campaign_id, at, holds)
    return done(tx, result)


def _send_next(store: Store, campaign_id: str, at: datetime, holds: Callable[[Store], bool]) -> Sent:
    campaign = store.campaigns.find(campaign_id)
    if campaign is None or campaign.status != "running":
        return Sent(reason=NOT_RUNNING)
    if halted(store) is not None:
        return Sent(reason=HALTED)
    if not holds(store):
        return Sent(reason=NOT_SENDING_DEVICE)
    while True:
        with store.db.read() as conn:
            row = conn.execute(
                "SELECT id FROM campaign_recipients WHERE campaign_id = ? AND org_id = ? AND status = 'queued' "
                "AND deleted_at IS NULL ORDER BY position LIMIT 1",
                (campaign_id, store.org_id),
            ).fetchone()
        if row is None:
            return Sent(reason=NO_RECIPIENT)
        recipient = store.campaign_recipients.get(str(row[0]))
        contact = store.contacts.find(recipient.contact_id)
        if contact is None or _opted_out_now(store, contact):
            store.campaign_recipients.update(recipient.id, status="skipped", reason=audience.OPTED_OUT)
            continue
        chat = _chat_for(store, contact, recipient.chat_id)
        if chat is None:
            store.campaign_recipients.update(recipient.id, status="skipped", reason=audience.NO_NUMBER)
            continue
        message = _queue(store, chat, recipient.body, campaign.id, at)
        store.campaign_recipients.update(
            recipient.id, status="sending", chat_id=chat.id, message_id=message.id, sent_at=at
        )
        return Sent(message, None, recipient.id)


def send_test(
    store: Store,
    campaign_id: str,
    contact_id: str,
    *,
    variant: int = 0,
    now: datetime | None = None,
    holds: Callable[[Store], bool] = sending_device.holds,
) -> Done[Sent]:
    """Send the campaign's message (``variant``) to one contact first, to see it as a customer will."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        campaign = store.campaigns.get(campaign_id)
        if campaign.status not in ("draft", "prepared"):
            raise InvalidInput(f"The campaign “{campaign.name}” has started; a test is sent before it starts.")
        bodies = content.bodies_of(campaign)
        if not bodies:
            raise InvalidInput("The campaign's message is empty; write the message first.")
        contact = store.contacts.get(contact_id)
        org = store.orgs.find(store.org_id)
        body = content.render(
            bodies[variant % len(bodies)], content.Person(contact.name), org.name if org is not None else ""
        )
        reason = (
            HALTED
            if halted(store) is not None
            else NOT_SENDING_DEVICE
            if not holds(store)
            else audience.OPTED_OUT
            if _opted_out_now(store, contact)
            else None
        )
        result = Sent(reason=reason)
        if reason is None:
            chat = _chat_for(store, contact, None)
            if chat is None:
                raise InvalidInput(f"{contact.name or 'This contact'} has no WhatsApp number to send the test to.")
            message = _queue(store, chat, body, campaign.id, at)
            store.campaigns.update(campaign.id, test_contact_id=contact.id, test_message_id=message.id)
            result = Sent(message)
    return done(tx, result)


# ---- following the messages ---------------------------------------------------------------------------------
_FOLLOW = {"queued": "sending", "typing": "sending", "sent": "sent", "delivered": "delivered", "read": "read"}
_RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "read": 4, "replied": 5}


def follow_messages(store: Store, campaign_id: str, *, now: datetime | None = None) -> Done[int]:
    """Bring the recipients' statuses up to their messages': sent / delivered / read from the ticks, failed with
    the sender's reason (not on WhatsApp → skipped ``not_on_whatsapp``), replied when the contact wrote within the
    campaign's reply window, and an opt-out word in that reply recorded. Returns how many recipients changed."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        changed = _follow(store, campaign_id, at)
    return done(tx, changed)


def _follow(store: Store, campaign_id: str, at: datetime) -> int:
    campaign = store.campaigns.get(campaign_id)
    window = int(timedelta(hours=campaign.reply_window_hours).total_seconds() * 1000)
    words = list(optout.words(store))
    with store.db.read() as conn:
        rows = conn.execute(
            "SELECT r.id, r.status, r.contact_id, r.chat_id, m.status, m.status_reason, m.sent_at, m.deleted_at "
            "FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id "
            "WHERE r.campaign_id = ? AND r.org_id = ? AND r.deleted_at IS NULL "
            "AND r.status IN ('sending', 'sent', 'delivered', 'read')",
            (campaign_id, store.org_id),
        ).fetchall()
    changed = 0
    for rid, status, contact_id, chat_id, m_status, m_reason, m_sent, m_deleted in rows:
        updates: dict[str, Any] = {}
        if m_status is None or m_deleted is not None:
            updates = {"status": "failed", "reason": "The message was removed from the send queue."}
        elif m_status == "failed":
            reason = str(m_reason or "WhatsApp did not send it.")
            updates = (
                {"status": "skipped", "reason": audience.NOT_ON_WHATSAPP}
                if _NOT_ON_WHATSAPP.search(reason)
                else {"status": "failed", "reason": reason[:300]}
            )
        else:
            target = _FOLLOW.get(str(m_status), status)
            if _RANK[target] > _RANK[str(status)]:
                updates["status"] = target
            if _RANK[target] >= _RANK["sent"] and chat_id:
                reply = _first_reply(store, str(chat_id), int(m_sent), int(m_sent) + window)
                if reply is not None:
                    updates.update(status="replied", replied_at=_dt(reply[0]))
                    if optout.is_opt_out_word(reply[1], words):
                        _record_opt_out(store, str(contact_id), "keyword", _dt(reply[0]))
        if updates:
            store.campaign_recipients.update(str(rid), **updates)
            changed += 1
    return changed


def _dt(ms: int) -> datetime:
    return from_ms(ms)


def _first_reply(store: Store, chat_id: str, after_ms: int, until_ms: int) -> tuple[int, str] | None:
    with store.db.read() as conn:
        row = conn.execute(
            "SELECT sent_at, body FROM messages WHERE chat_id = ? AND direction = 'in' AND deleted_at IS NULL "
            "AND sent_at >= ? AND sent_at <= ? ORDER BY sent_at LIMIT 1",
            (chat_id, after_ms, until_ms),
        ).fetchone()
    return None if row is None else (int(row[0]), str(row[1] or ""))


# ---- consent ------------------------------------------------------------------------------------------------
def _record_opt_out(store: Store, contact_id: str, source: str, at: datetime) -> bool:
    contact = store.contacts.find(contact_id)
    if contact is None:
        return False
    changes: dict[str, Any] = {}
    if contact.consent != "opted_out":
        changes.update(consent="opted_out", consent_source=source, consent_at=at)
    if not optout.has_label(contact):
        changes["tags"] = labels.register(store, [*contact.tags, optout.OPT_OUT_LABEL])
    if changes:
        store.contacts.update(contact.id, **changes)
    return bool(changes)


def opt_out(store: Store, contact_id: str, source: str = "person", *, now: datetime | None = None) -> Done[bool]:
    """Opt the contact out of every campaign and automated follow-up (consent, its source and time, and the
    "opted out" label). False when they were opted out already."""
    with op_transaction(store) as tx:
        changed = _record_opt_out(store, contact_id, source, now or utc_now())
    return done(tx, changed)


def opt_in(store: Store, contact_id: str, source: str = "person", *, now: datetime | None = None) -> Done[Contact]:
    """The contact agreed to campaigns (``source``: person, form, import…): the opt-out label goes if it was on."""
    at = now or utc_now()
    with op_transaction(store) as tx:
        contact = store.contacts.get(contact_id)
        tags = [t for t in contact.tags if t.casefold() != optout.OPT_OUT_LABEL]
        contact = store.contacts.update(contact.id, consent="opted_in", consent_source=source, consent_at=at, tags=tags)
    return done(tx, contact)


def set_opt_out_words(store: Store, by_language: Mapping[str, Iterable[str]]) -> Done[dict[str, list[str]]]:
    """The workspace's own opt-out words per language (added to the defaults)."""
    cleaned = optout.check_words(by_language)
    with op_transaction(store) as tx:
        store.set_meta(optout.WORDS_KEY, json.dumps(cleaned, ensure_ascii=False))
    return done(tx, cleaned)


def set_opt_out_confirmation(store: Store, text: str) -> Done[str]:
    """The reply sent to a contact who opted out by keyword ("" for none)."""
    cleaned = text.strip()
    if len(cleaned) > 500:
        raise InvalidInput("The opt-out confirmation is too long; keep it under 500 characters.")
    with op_transaction(store) as tx:
        store.set_meta(optout.CONFIRMATION_KEY, cleaned)
    return done(tx, cleaned)


def confirm_opt_out(
    store: Store, contact_id: str, chat_id: str, *, holds: Callable[[Store], bool] = sending_device.holds
) -> Done[Message | None]:
    """Queue the configured confirmation to a contact who just opted out (none when unset, halted, or another
    device sends for the number)."""
    text = (store.meta(optout.CONFIRMATION_KEY) or "").strip()
    with op_transaction(store) as tx:
        message: Message | None = None
        chat = store.chats.find(chat_id)
        if text and chat is not None and halted(store) is None and holds(store):
            message = _queue(store, chat, text, contact_id, utc_now())
    return done(tx, message)


def recipients_of(store: Store, campaign_id: str, statuses: Sequence[str]) -> list[str]:
    """Ids of the campaign's recipients in ``statuses`` (for the runner and tests)."""
    with store.db.read() as conn:
        rows = conn.execute(
            f"SELECT id FROM campaign_recipients WHERE campaign_id = ? AND org_id = ? AND deleted_at IS NULL "
            f"AND status IN ({', '.join('?' * len(statuses))}) ORDER BY position",
            (campaign_id, store.org_id, *statuses),
        ).fetchall()
    return [str(r[0]) for r in rows]
