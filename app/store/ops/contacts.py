"""Contact operations: save one (with the duplicate-phone check), edit a few fields, merge two, import a file.

Creating a contact publishes ``ContactCreated`` whichever way it happens: here, in the CSV import
(``app.store.contacts_csv``) and in WhatsApp intake (``app.store.intake``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.core.errors import InvalidInput
from app.core.events import ContactCreated
from app.core.models import Contact
from app.store import labels
from app.store.contacts_csv import (
    LIFECYCLES,
    MAX_LEAD_SCORE,
    CsvPreview,
    ImportReport,
    find_or_create_company,
    import_csv,
    normalise_phone,
    split_tags,
    valid_email,
)
from app.store.merge import MergeReport, merge_contacts
from app.store.ops import Done, done, op_transaction
from app.store.store import Store

# The fields a person edits (the editor and the inbox's contact panel).
EDITABLE = frozenset({"name", "phone", "email", "lifecycle", "lead_score", "tags", "custom_fields", "company_id"})


def check_contact(name: str, phone: str | None, email: str | None) -> None:
    """Refuse, with a sentence for the person typing, a contact's details that cannot be saved."""
    if not name and not phone:
        raise InvalidInput("Enter a name or a phone number.")
    if email and not valid_email(email):
        raise InvalidInput(f"{email!r} does not look like an e-mail address (name@example.com).")


def contact_fields(
    *,
    name: str,
    phone: str,
    email: str = "",
    lifecycle: str = "new",
    lead_score: int = 0,
    tags: str | list[str] = "",
    custom_fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a person typed into a contact form, checked and normalised into Contact fields (raises InvalidInput).

    Pure: the editor calls it before starting the write so a mistake is explained at once, and ``save_contact``
    checks the same fields again.
    """
    clean_name = name.strip()
    clean_phone = normalise_phone(phone)
    clean_email = email.strip() or None
    check_contact(clean_name, clean_phone, clean_email)
    return {
        "name": clean_name,
        "phone": clean_phone,
        "email": clean_email,
        "lifecycle": _lifecycle(lifecycle),
        "lead_score": _score(lead_score),
        "tags": split_tags(tags) if isinstance(tags, str) else split_tags(",".join(tags)),
        "custom_fields": dict(custom_fields or {}),
    }


def _lifecycle(value: str) -> str:
    if value not in LIFECYCLES:
        raise InvalidInput(f"{value!r} is not a contact stage (use one of {', '.join(LIFECYCLES)}).")
    return value


def _score(value: int) -> int:
    if not 0 <= value <= MAX_LEAD_SCORE:
        raise InvalidInput(f"The lead score is a whole number from 0 to {MAX_LEAD_SCORE}.")
    return value


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise InvalidInput(f"These contact fields cannot be edited here: {', '.join(sorted(unknown))}.")
    if "lifecycle" in fields:
        _lifecycle(fields["lifecycle"])
    if "lead_score" in fields:
        _score(fields["lead_score"])


def find_duplicate(store: Store, phone: str | None, *, excluding: str | None = None) -> Contact | None:
    """Another live contact with this phone number, the usual sign that the person is already known."""
    if not phone:
        return None
    return next((c for c in store.contacts.find_all({"phone": phone}, limit=2) if c.id != excluding), None)


@dataclass(frozen=True)
class ContactSaved:
    """``contact`` when saved; else ``duplicate``: the contact that already has the phone (nothing was written)."""

    contact: Contact | None = None
    duplicate: Contact | None = None


def save_contact(
    store: Store,
    fields: dict[str, Any],
    *,
    contact_id: str | None = None,
    company: str | None = None,
    allow_duplicate: bool = False,
) -> Done[ContactSaved]:
    """Create a contact (``contact_id`` None, publishing ``ContactCreated``) or update one.

    ``fields`` as ``contact_fields`` makes them. ``company`` names the company (created when new; "" clears it,
    None leaves it). Unless ``allow_duplicate``, a phone number that is new for this contact and that another
    contact already has stops the save and returns that contact as ``duplicate``: an old duplicate does not nag on
    every save.
    """
    _check_fields(fields)
    with op_transaction(store) as tx:
        current = store.contacts.get(contact_id) if contact_id else None
        merged = (current.model_dump() if current else {}) | fields
        check_contact(str(merged.get("name") or ""), merged.get("phone"), merged.get("email"))
        phone = fields.get("phone")
        if phone and not allow_duplicate and (current is None or phone != current.phone):
            other = find_duplicate(store, phone, excluding=contact_id)
            if other is not None:
                return Done(ContactSaved(duplicate=other))
        values = dict(fields)
        if "tags" in values:  # typed names become (or take the spelling of) managed labels
            values["tags"] = labels.register(store, values["tags"])
        if company is not None:
            values["company_id"] = find_or_create_company(store, company) if company.strip() else None
        if current is not None:
            saved = store.contacts.update(current.id, **values)
        else:
            saved = store.contacts.create(**values)
            store.emit(ContactCreated(org_id=store.org_id, contact_id=saved.id))
    return done(tx, ContactSaved(contact=saved))


def update_contact(store: Store, contact_id: str, changes: dict[str, Any]) -> Done[Contact]:
    """Change some of a contact's editable fields (the inbox's panel sends only what differs)."""
    _check_fields(changes)
    with op_transaction(store) as tx:
        current = store.contacts.get(contact_id)
        merged = current.model_dump() | changes
        check_contact(str(merged.get("name") or ""), merged.get("phone"), merged.get("email"))
        if "tags" in changes:
            changes = changes | {"tags": labels.register(store, changes["tags"])}
        updated = store.contacts.update(contact_id, **changes) if changes else current
    return done(tx, updated)


def merge(store: Store, keep_id: str, gone_id: str) -> Done[MergeReport]:
    """Fold ``gone_id`` into ``keep_id`` (see ``app.store.merge``): no contact is created, so no event."""
    with op_transaction(store) as tx:
        report = merge_contacts(store, keep_id, gone_id)
    return done(tx, report)


def import_contacts(
    store: Store,
    preview: CsvPreview,
    *,
    skip_duplicates: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Done[ImportReport]:
    """Import a previewed CSV file in batches (each its own transaction, so ``tables`` is what the import writes:
    contacts, and companies when it names new ones); each contact created publishes ``ContactCreated``."""
    report = import_csv(store, preview, skip_duplicates=skip_duplicates, progress=progress)
    return Done(report, report.tables)
