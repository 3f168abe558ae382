"""Merging contacts: everything moves, details combine, the merged one is tombstoned, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.errors import NotFound
from app.core.models import Contact
from app.store.merge import merge_contacts
from app.store.store import Store
from tests.support.graph import AT, Graph, build_graph


def _duplicate(store: Store, g: Graph) -> Contact:
    """A second record of Lena (as an import would create), with her own chat, note, deal, sale and recipient."""
    company = store.companies.create(name="Weber GmbH")
    dup = store.contacts.create(
        name="L. Weber",
        phone="+4915100000000",
        lid="999@lid",
        email="lena@example.com",
        company_id=company.id,
        lifecycle="customer",
        tags=["vip", "wholesale"],
        custom_fields={"size": "M", "city": "Berlin"},
        lead_score=70,
        lifetime_value_minor=5000,
        last_contacted_at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    store.contacts.update(g.contact.id, tags=["wholesale", "b2b"], custom_fields={"size": "L"}, lead_score=20)
    store.contacts.update(g.contact.id, lifetime_value_minor=1000)
    chat = store.chats.create(contact_id=dup.id, title="Lena (2)")
    store.notes.create(body="Prefers mornings", contact_id=dup.id)
    store.deals.create(pipeline_id=g.pipeline.id, stage_id=g.stage.id, title="Repeat order", contact_id=dup.id)
    store.sales.create(contact_id=dup.id, amount_minor=5000, sold_at=AT)
    store.campaign_recipients.create(campaign_id=g.campaign.id, contact_id=dup.id)
    assert chat.contact_id == dup.id
    return dup


def _state(store: Store) -> dict[str, Any]:
    tables = ("contacts", "chats", "notes", "deals", "sales", "campaign_recipients", "audit_log", "companies")
    return {t: store.repository(t).find_all(include_deleted=True) for t in tables} | {"outbox": store.outbox.count()}


def test_everything_moves_to_the_kept_contact(store: Store) -> None:
    g = build_graph(store)
    dup = _duplicate(store, g)
    keep = g.contact.id

    report = merge_contacts(store, keep, dup.id)

    assert report.moved == {"chats": 1, "notes": 1, "deals": 1, "sales": 1, "campaign_recipients": 1}
    for table in ("chats", "notes", "deals", "sales", "campaign_recipients"):
        assert store.repository(table).count({"contact_id": dup.id}) == 0
    assert store.chats.count({"contact_id": keep}) == 2
    assert store.deals.count({"contact_id": keep}) == 2
    assert store.sales.count({"contact_id": keep}) == 2

    kept = store.contacts.get(keep)
    assert kept.name == "Lena Weber"  # keep wins where both have a value
    assert kept.phone == "+4917612345678"
    assert kept.wa_id == "4917612345678@c.us"
    assert kept.lid == "999@lid"  # empty fields are filled from the merged contact
    assert kept.email == "lena@example.com"
    assert kept.company_id == dup.company_id
    assert kept.tags == ["wholesale", "b2b", "vip"]
    assert kept.custom_fields == {"size": "L", "city": "Berlin"}
    assert kept.lead_score == 70
    assert kept.lifetime_value_minor == 6000
    assert kept.lifecycle == "customer"
    assert kept.last_contacted_at == datetime(2026, 6, 1, tzinfo=UTC)
    assert sorted(report.filled) == ["company_id", "email", "lid"]
    assert report.tags_added == 1


def test_merged_contact_is_tombstoned(store: Store) -> None:
    g = build_graph(store)
    dup = _duplicate(store, g)
    merge_contacts(store, g.contact.id, dup.id)
    assert store.contacts.find(dup.id) is None
    assert store.contacts.get(dup.id, include_deleted=True).deleted_at is not None
    with pytest.raises(NotFound):
        merge_contacts(store, g.contact.id, dup.id)  # already gone


def test_audit_entry_has_ids_and_counts_but_no_names(store: Store) -> None:
    g = build_graph(store)
    dup = _duplicate(store, g)
    merge_contacts(store, g.contact.id, dup.id)
    [entry] = store.audit_log.find_all({"action": "contact.merged"})
    assert entry.entity == "contact"
    assert entry.entity_id == g.contact.id
    assert entry.actor_user_id == store.local_user_id
    assert entry.detail["merged_id"] == dup.id
    assert entry.detail["moved"]["chats"] == 1
    text = repr(entry.model_dump())
    for personal in ("Lena", "Weber", "+49", "lena@example.com", "Berlin"):
        assert personal not in text


def test_merge_writes_outbox_rows_so_it_syncs(store: Store) -> None:
    g = build_graph(store)
    dup = _duplicate(store, g)
    last = max((e.seq for e in store.outbox.pending(limit=10_000)), default=0)
    merge_contacts(store, g.contact.id, dup.id)
    entries = store.outbox.pending(after_seq=last, limit=1000)
    ops = {(e.table_name, e.row_id, e.op) for e in entries}
    assert ("contacts", dup.id, "delete") in ops
    assert ("contacts", g.contact.id, "update") in ops
    assert {e.table_name for e in entries if e.op == "update"} >= {
        "chats",
        "notes",
        "deals",
        "sales",
        "campaign_recipients",
    }
    assert any(e.table_name == "audit_log" and e.op == "insert" for e in entries)


def test_merging_a_contact_with_itself_is_refused(store: Store) -> None:
    g = build_graph(store)
    before = _state(store)
    with pytest.raises(ValueError, match="cannot be merged with itself"):
        merge_contacts(store, g.contact.id, g.contact.id)
    assert _state(store) == before


def test_lifetime_values_in_different_currencies_are_not_added(store: Store) -> None:
    a = store.contacts.create(name="A", lifetime_value_minor=1000, currency="EUR")
    b = store.contacts.create(name="B", lifetime_value_minor=500, currency="USD")
    report = merge_contacts(store, a.id, b.id)
    assert store.contacts.get(a.id).lifetime_value_minor == 1000
    assert report.warnings


def test_a_failure_half_way_changes_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    g = build_graph(store)
    dup = _duplicate(store, g)
    before = _state(store)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    # Chats and notes have moved by the time deals fail.
    monkeypatch.setattr(store.deals, "update", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        merge_contacts(store, g.contact.id, dup.id)
    assert _state(store) == before
    assert store.chats.count({"contact_id": dup.id}) == 1

    monkeypatch.undo()
    monkeypatch.setattr(store.audit_log, "create", broken)  # the very last write
    with pytest.raises(RuntimeError):
        merge_contacts(store, g.contact.id, dup.id)
    assert _state(store) == before


def test_tombstoned_rows_move_too_and_erasing_the_kept_contact_finds_them(store: Store) -> None:
    from app.store.gdpr import erase_contact

    g = build_graph(store)
    dup = _duplicate(store, g)
    old_chat = store.chats.create(contact_id=dup.id, title="Old chat")
    store.messages.create(chat_id=old_chat.id, direction="in", body="old words", sent_at=AT)
    old_note = store.notes.create(body="old note", contact_id=dup.id)
    old_deal = store.deals.create(pipeline_id=g.pipeline.id, stage_id=g.stage.id, title="Old", contact_id=dup.id)
    old_sale = store.sales.create(contact_id=dup.id, amount_minor=10, sold_at=AT)
    old_recipient = store.campaign_recipients.create(campaign_id=g.campaign.id, contact_id=dup.id)
    for table, row_id in (
        ("chats", old_chat.id),
        ("notes", old_note.id),
        ("deals", old_deal.id),
        ("sales", old_sale.id),
        ("campaign_recipients", old_recipient.id),
    ):
        store.repository(table).delete(row_id)

    report = merge_contacts(store, g.contact.id, dup.id)

    assert report.moved == {"chats": 2, "notes": 2, "deals": 2, "sales": 2, "campaign_recipients": 2}
    for table in ("chats", "notes", "deals", "sales", "campaign_recipients"):
        assert store.repository(table).count({"contact_id": dup.id}, include_deleted=True) == 0
    assert store.chats.get(old_chat.id, include_deleted=True).contact_id == g.contact.id

    erase_contact(store, g.contact.id)
    assert store.chats.find(old_chat.id, include_deleted=True) is None
    assert store.messages.count(include_deleted=True) == 0
    assert store.notes.find(old_note.id, include_deleted=True) is None
    assert store.deals.find(old_deal.id, include_deleted=True) is None
    assert store.sales.get(old_sale.id, include_deleted=True).contact_id is None
    assert store.campaign_recipients.find(old_recipient.id, include_deleted=True) is None


def test_merged_contacts_tombstone_keeps_no_personal_details(store: Store) -> None:
    g = build_graph(store)
    dup = _duplicate(store, g)
    merge_contacts(store, g.contact.id, dup.id)
    gone = store.contacts.get(dup.id, include_deleted=True)
    assert gone.deleted_at is not None
    assert (gone.name, gone.phone, gone.wa_id, gone.lid, gone.email) == ("", None, None, None, None)
    assert gone.custom_fields == {}
    kept = store.contacts.get(g.contact.id)
    assert kept.email == "lena@example.com"  # what was filled in came across before the wipe
    assert kept.custom_fields == {"size": "L", "city": "Berlin"}
