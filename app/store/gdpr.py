"""A contact's data: export it all as JSON with their media files (right of access) or erase it (right to erasure).

Erase removes the contact, their chats, messages, notes, deals and campaign entries for good (``purge``: the
outbox carries the erase to the server). Sales stay for the books but lose every link to the person. The audit
log records that an erase happened and how much went, never who it was. The media bytes of their messages go too
(unless another message or a product still uses the same bytes, e.g. a catalogue photo sent to several people).

An export written to a folder (``write_export``) is a plaintext copy by the person's own choice, like "Save as…":
``contact.json`` and a ``media`` folder with each file under its name.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import BaseModel, ValidationError

from app.core.events import ContactErased
from app.core.ids import utc_now
from app.core.media import MediaInfo
from app.core.models import Message, Record
from app.store.media import MediaMissing
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
        # consent to campaigns, its source and when (schema 15): also inside "contact", named here for the reader
        "consent": {
            "state": contact.consent,
            "source": contact.consent_source,
            "at": contact.consent_at.isoformat() if contact.consent_at else None,
        },
        "company": company.model_dump(mode="json") if company else None,
        "chats": _dump(chats),
        "messages": _dump(messages),
        "notes": _dump(notes),
        "deals": _dump(deals),
        "sales": _dump(sales),
        "sale_items": _dump(items),
        "campaign_recipients": _dump(recipients),
        "media": [
            {"message_id": f.message_id, "file": f"media/{f.name}", "mime": f.mime, "size": len(f.data)}
            for f in _media_files(store, messages)
        ],
    }


@dataclass(frozen=True)
class ExportedFile:
    message_id: str
    name: str  # unique within the export
    mime: str
    data: bytes


def export_media(store: Store, contact_id: str) -> list[ExportedFile]:
    """The media files of a contact's messages that are on this computer, each under a unique, safe file name."""
    chats = store.chats.find_all({"contact_id": contact_id}, include_deleted=True)
    messages = [msg for chat in chats for msg in store.messages.find_all({"chat_id": chat.id}, include_deleted=True)]
    return _media_files(store, messages)


def write_export(store: Store, contact_id: str, folder: Path) -> Path:
    """Write the export into ``folder`` (made if need be): ``contact.json`` and ``media/<file name>``."""
    data = export_contact(store, contact_id)
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    for f in export_media(store, contact_id):
        (media / f.name).write_bytes(f.data)
    target = folder / "contact.json"
    target.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return target


def _media_files(store: Store, messages: list[Message]) -> list[ExportedFile]:
    files: list[ExportedFile] = []
    used: set[str] = set()
    for message in sorted(messages, key=lambda m: (m.sent_at, m.id)):
        info = _media_of(message)
        if info is None or info.blob_id is None:
            continue
        try:
            data = store.media.get(info.blob_id)
        except MediaMissing:
            continue
        files.append(ExportedFile(message.id, _unique(_file_name(message, info), used), info.mime, data))
    return files


def _media_of(message: Message) -> MediaInfo | None:
    if not message.media:
        return None
    try:
        return MediaInfo.model_validate(message.media)
    except ValidationError:
        return None


def _file_name(message: Message, info: MediaInfo) -> str:
    # Only the last part of a name a sender chose: never a path out of the export folder.
    name = PureWindowsPath(PurePosixPath(info.file_name or "").name).name.strip().lstrip(".")
    if name:
        return name
    ext = mimetypes.guess_extension(info.mime or "") or ""
    return f"{message.sent_at:%Y-%m-%d %H-%M-%S} {info.kind}{ext}"


def _unique(name: str, used: set[str]) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate, n = name, 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
    used.add(candidate.casefold())
    return candidate


class ErasureReport(BaseModel):
    contact_id: str
    chats: int = 0
    messages: int = 0
    notes: int = 0
    deals: int = 0
    campaign_recipients: int = 0
    sales_unlinked: int = 0
    ai_interactions_unlinked: int = 0
    media_files: int = 0


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
        blob_ids: list[str] = []
        for chat in chats:
            messages = store.messages.find_all({"chat_id": chat.id}, include_deleted=True)
            for message in messages:
                info = _media_of(message)
                if info is not None:
                    blob_ids += [b for b in (info.blob_id, info.thumb_blob_id) if b]
            store.chats.purge(chat.id)
            _purge(store.messages.purge, messages)
            report.messages += len(messages)
        report.chats = len(chats)
        report.media_files = store.media.delete_unreferenced(blob_ids)
        if store.meta("sync.server_url"):  # in a team: the server's copies go too (sent by the sync service)
            store.media.queue_remote_deletes(blob_ids)
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
