"""A contact's data: export it all as JSON (right of access) or erase it (right to erasure).

Erase removes the contact, their chats, messages, notes, deals and campaign entries for good (``purge``: the
outbox carries the erase to the server). Sales stay for the books but lose every link to the person. The audit
log records that an erase happened and how much went, never who it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from app.core.events import ContactErased
from app.core.ids import utc_now
from app.core.models import Record
from app.store.store import Store

EXPORT_FORMAT = 1


def _dump(records: list[Any]) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in records]


def export_contact(store: Store, contact_id: str) -> dict[str, Any]:
    """Everything the workspace holds about one contact, tombstoned rows included, as JSON-ready data."""
    contact = store.contacts.get(contact_id, include_deleted=True)
    chats = store.chats.find_all({"contact_id": contact_id}, include_deleted=True)
    messages = [msg for chat in chats for msg in store.messages.find_all({"chat_id": chat.id}, include_deleted=True)]
    deals = store.deals.find_all({"contact_id": contact_id}, include_deleted=True)
    notes = _notes_of(store, contact_id, [c.id for c in chats], [d.id for d in deals])
    sales = store.sales.find_all({"contact_id": contact_id}, include_deleted=True)
    items = [i for sale in sales for i in store.sale_items.find_all({"sale_id": sale.id}, include_deleted=True)]
    recipients = store.campaign_recipients.find_all({"contact_id": contact_id}, include_deleted=True)
    company = store.companies.find(contact.company_id, include_deleted=True) if contact.company_id else None
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utc_now().isoformat(),
        "contact": contact.model_dump(mode="json"),
        "company": company.model_dump(mode="json") if company else None,
        "chats": _dump(chats),
        "messages": _dump(messages),
        "notes": _dump(notes),
        "deals": _dump(deals),
        "sales": _dump(sales),
        "sale_items": _dump(items),
        "campaign_recipients": _dump(recipients),
    }


class ErasureReport(BaseModel):
    contact_id: str
    chats: int = 0
    messages: int = 0
    notes: int = 0
    deals: int = 0
    campaign_recipients: int = 0
    sales_unlinked: int = 0
    ai_interactions_unlinked: int = 0


def erase_contact(store: Store, contact_id: str, *, actor_user_id: str | None = None) -> ErasureReport:
    report = ErasureReport(contact_id=contact_id)
    with store.db.transaction():
        store.contacts.get(contact_id, include_deleted=True)
        chats = store.chats.find_all({"contact_id": contact_id}, include_deleted=True)
        chat_ids = [c.id for c in chats]
        deals = store.deals.find_all({"contact_id": contact_id}, include_deleted=True)
        notes = _notes_of(store, contact_id, chat_ids, [d.id for d in deals])
        _purge(store.notes.purge, notes)
        report.notes = len(notes)
        unlinked: set[str] = set()
        for sale in store.sales.find_all({"contact_id": contact_id}, include_deleted=True):
            store.sales.update(sale.id, contact_id=None, chat_id=None, deal_id=None, note="")
            unlinked.add(sale.id)
        # Sales of other people (or of nobody) can still point at this contact's chats and deals: unlink them too,
        # or the purge below would leave them pointing at nothing.
        for column, ids in (("chat_id", chat_ids), ("deal_id", [d.id for d in deals])):
            for linked_id in ids:
                for sale in store.sales.find_all({column: linked_id}, include_deleted=True):
                    store.sales.update(sale.id, **{column: None})
                    unlinked.add(sale.id)
        report.sales_unlinked = len(unlinked)
        for chat_id in chat_ids:
            for ai in store.ai_interactions.find_all({"chat_id": chat_id}, include_deleted=True):
                store.ai_interactions.update(ai.id, chat_id=None)
                report.ai_interactions_unlinked += 1
                # An opted-in transcript holds the customer's words: it goes, the usage figures stay.
                with store.db.transaction() as conn:
                    conn.execute("DELETE FROM ai_transcripts WHERE interaction_id = ?", (ai.id,))
        recipients = store.campaign_recipients.find_all({"contact_id": contact_id}, include_deleted=True)
        _purge(store.campaign_recipients.purge, recipients)
        report.campaign_recipients = len(recipients)
        # Chats before their messages: the inbox figures of a chat being removed need no recomputing.
        for chat in chats:
            messages = store.messages.find_all({"chat_id": chat.id}, include_deleted=True)
            store.chats.purge(chat.id)
            _purge(store.messages.purge, messages)
            report.messages += len(messages)
        report.chats = len(chats)
        _purge(store.deals.purge, deals)
        report.deals = len(deals)
        store.contacts.purge(contact_id)
        store.audit_log.create(
            action="contact.erased",
            actor_user_id=actor_user_id,
            entity="contact",
            entity_id=contact_id,
            detail=report.model_dump(exclude={"contact_id"}),
        )
        store.emit(ContactErased(org_id=store.org_id, contact_id=contact_id))
    # Erased rows may still sit in the write-ahead log: fold it into the (securely deleted) main file.
    store.db.checkpoint()
    return report


def _notes_of(store: Store, contact_id: str, chat_ids: list[str], deal_ids: list[str] | None = None) -> list[Any]:
    seen: dict[str, Any] = {}
    queries = [{"contact_id": contact_id}] + [{"chat_id": c} for c in chat_ids]
    queries += [{"deal_id": d} for d in deal_ids or []]
    for where in queries:
        for note in store.notes.find_all(where, include_deleted=True):
            seen[note.id] = note
    return list(seen.values())


def _purge(purge: Callable[[str], None], records: Sequence[Record]) -> None:
    for record in records:
        purge(record.id)
