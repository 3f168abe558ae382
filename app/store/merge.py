"""Merging two contacts that are the same person (an import and a WhatsApp capture, a typo, a second number).

Everything hanging off the merged contact (chats, notes, deals, sales, campaign recipients, tombstoned ones
included) moves to the kept one, its details fill the kept contact's gaps, and it is tombstoned with its personal
details cleared, so the merge syncs like any other change and the person's data lives in one place only. All of it
happens in one transaction: a failure half-way leaves both contacts exactly as they were. The audit entry records
ids and counts only, never names or numbers (the audit log outlives erasure requests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.errors import InvalidInput
from app.core.ids import utc_now
from app.core.models import Contact
from app.store.repository import Repository
from app.store.store import Store

# Fields copied from the merged contact when the kept one has none.
FILLED = ("name", "phone", "wa_id", "lid", "email", "company_id", "owner_user_id", "language")
MOVED = ("chats", "notes", "deals", "sales", "campaign_recipients")
# Personal details wiped from the merged contact's tombstone.
CLEARED: dict[str, Any] = {"name": "", "phone": None, "wa_id": None, "lid": None, "email": None, "custom_fields": {}}


@dataclass
class MergeReport:
    keep_id: str
    merged_id: str
    moved: dict[str, int] = field(default_factory=dict)  # table → rows re-pointed to the kept contact
    filled: list[str] = field(default_factory=list)  # fields of the kept contact taken from the merged one
    tags_added: int = 0
    warnings: list[str] = field(default_factory=list)


def merge_contacts(store: Store, keep_id: str, merge_id: str) -> MergeReport:
    """Fold ``merge_id`` into ``keep_id`` atomically and return what moved. Raises ValueError or NotFound."""
    if keep_id == merge_id:
        raise InvalidInput("A contact cannot be merged with itself: choose two different contacts.")
    report = MergeReport(keep_id, merge_id)
    with store.db.transaction():
        keep = store.contacts.get(keep_id)
        gone = store.contacts.get(merge_id)
        for table in MOVED:
            # Tombstoned rows move too: they are still the person's data, and an erase of the kept contact must
            # find them.
            repo: Repository[Any] = store.repository(table)
            rows = repo.find_all({"contact_id": merge_id}, include_deleted=True)
            for row in rows:
                repo.update(row.id, contact_id=keep_id)
            report.moved[table] = len(rows)
        store.contacts.update(keep_id, **_combined(keep, gone, report))
        # The tombstone keeps only the id (so the merge syncs): the personal details now live on the kept contact.
        store.contacts.update(merge_id, **CLEARED, deleted_at=utc_now())
        store.audit_log.create(
            action="contact.merged",
            actor_user_id=store.local_user_id,
            entity="contact",
            entity_id=keep_id,
            detail={
                "kept_id": keep_id,
                "merged_id": merge_id,
                "moved": dict(report.moved),
                "filled": list(report.filled),
                "tags_added": report.tags_added,
            },
        )
    return report


def _combined(keep: Contact, gone: Contact, report: MergeReport) -> dict[str, Any]:
    """The changes that make ``keep`` the union of both contacts (``keep`` wins wherever both have a value)."""
    changes: dict[str, Any] = {}
    for name in FILLED:
        if not getattr(keep, name) and getattr(gone, name):
            changes[name] = getattr(gone, name)
            report.filled.append(name)
    tags = list(keep.tags) + [t for t in gone.tags if t not in keep.tags]
    if len(tags) != len(keep.tags):
        changes["tags"] = tags
        report.tags_added = len(tags) - len(keep.tags)
    fields = gone.custom_fields | keep.custom_fields
    if fields != keep.custom_fields:
        changes["custom_fields"] = fields
    if gone.lead_score > keep.lead_score:
        changes["lead_score"] = gone.lead_score
    if keep.lifecycle == "new" and gone.lifecycle != "new":
        changes["lifecycle"] = gone.lifecycle
    if gone.lifetime_value_minor:
        if not keep.lifetime_value_minor:
            changes["lifetime_value_minor"] = gone.lifetime_value_minor
            changes["currency"] = gone.currency
        elif keep.currency == gone.currency:
            changes["lifetime_value_minor"] = keep.lifetime_value_minor + gone.lifetime_value_minor
        else:
            report.warnings.append(
                f"Lifetime values are in different currencies ({keep.currency}, {gone.currency}); "
                f"the kept contact's value was left as it was."
            )
    if gone.last_contacted_at and (keep.last_contacted_at is None or gone.last_contacted_at > keep.last_contacted_at):
        changes["last_contacted_at"] = gone.last_contacted_at
    return changes
