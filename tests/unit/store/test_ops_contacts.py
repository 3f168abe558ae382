"""Contact operations on a real workspace: every way a contact is created publishes ContactCreated (the editor's
operation, the CSV import, WhatsApp intake), the duplicate-phone check lives in the operation, refusals are
sentences and write nothing, and each result names the tables its transaction wrote."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.core.errors import InvalidInput
from app.core.events import ContactCreated, Event, TablesChanged
from app.store.contacts_csv import preview_csv
from app.store.intake import CapturedMessage, record_message
from app.store.ops import contacts as ops
from app.store.queries import ContactQuery, contacts_by_id, query_contacts
from app.store.store import Store


def _created(store: Store) -> list[ContactCreated]:
    got: list[ContactCreated] = []
    store.bus.subscribe(ContactCreated, got.append)
    return got


def test_saving_a_new_contact_publishes_contact_created_after_commit(store: Store) -> None:
    got = _created(store)
    fields = ops.contact_fields(name=" Dora Reis ", phone="+351 961 234 567", email="dora@example.com", tags="vip, #x")

    with store.db.transaction():
        result = ops.save_contact(store, fields, company="Reis & Filhos")
        assert got == [], "published only once the transaction commits"

    contact = result.value.contact
    assert contact is not None
    assert result.value.duplicate is None
    assert (contact.name, contact.phone, contact.tags) == ("Dora Reis", "+351961234567", ["vip", "x"])
    assert [e.contact_id for e in got] == [contact.id]
    assert result.touched("contacts")
    assert "companies" in result.tables
    assert contact.company_id is not None
    assert store.companies.get(contact.company_id).name == "Reis & Filhos"


def test_an_edit_publishes_nothing_and_an_unchanged_phone_is_not_a_duplicate(store: Store) -> None:
    first = ops.save_contact(store, ops.contact_fields(name="Ana", phone="+351911111111")).value.contact
    assert first is not None
    got = _created(store)
    fields = ops.contact_fields(name="Ana Lima", phone="+351911111111", lifecycle="qualified", lead_score=40)
    saved = ops.save_contact(store, fields, contact_id=first.id).value.contact
    assert saved is not None
    assert (saved.name, saved.lifecycle, saved.lead_score) == ("Ana Lima", "qualified", 40)
    assert got == []


def test_a_phone_another_contact_has_stops_the_save_unless_allowed(store: Store) -> None:
    ana = ops.save_contact(store, ops.contact_fields(name="Ana", phone="+351 911 111 111")).value.contact
    assert ana is not None
    got = _created(store)
    before = store.contacts.count()

    stopped = ops.save_contact(store, ops.contact_fields(name="Ana L.", phone="+351911111111"))
    assert stopped.value.contact is None
    assert stopped.value.duplicate is not None
    assert stopped.value.duplicate.id == ana.id
    assert store.contacts.count() == before
    assert got == []
    assert stopped.tables == frozenset()

    allowed = ops.save_contact(store, ops.contact_fields(name="Ana L.", phone="+351911111111"), allow_duplicate=True)
    assert allowed.value.contact is not None
    assert len(got) == 1


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ({"name": "", "phone": ""}, "Enter a name or a phone number."),
        ({"name": "Bo", "phone": "12 34"}, "fewer than 7 digits"),
        ({"name": "Bo", "phone": "", "email": "bo@example"}, "does not look like an e-mail"),
        ({"name": "Bo", "phone": "", "lifecycle": "vip"}, "is not a contact stage"),
        ({"name": "Bo", "phone": "", "lead_score": 101}, "from 0 to 100"),
    ],
)
def test_refusals_are_sentences_and_write_nothing(store: Store, typed: dict[str, object], sentence: str) -> None:
    with pytest.raises(InvalidInput, match=sentence):
        ops.contact_fields(**typed)  # type: ignore[arg-type]
    assert store.contacts.count() == 0


def test_the_operation_checks_again_what_it_is_given(store: Store) -> None:
    """A caller that skips ``contact_fields`` still cannot store a contact with neither name nor phone."""
    with pytest.raises(InvalidInput, match=r"Enter a name or a phone number\."):
        ops.save_contact(store, {"name": "", "phone": None})
    with pytest.raises(InvalidInput, match="cannot be edited here: org_id"):
        ops.save_contact(store, {"name": "x", "org_id": "other"})
    assert store.contacts.count() == 0


def test_update_contact_changes_some_fields_and_validates_the_whole(store: Store) -> None:
    saved = ops.save_contact(store, ops.contact_fields(name="Cleo", phone="")).value.contact
    assert saved is not None
    result = ops.update_contact(store, saved.id, {"email": "cleo@example.com", "tags": ["vip"]})
    assert (result.value.email, result.value.tags, result.value.name) == ("cleo@example.com", ["vip"], "Cleo")
    assert result.tables == frozenset({"contacts", "tags"})  # "vip" became a label
    with pytest.raises(InvalidInput, match=r"Enter a name or a phone number\."):
        ops.update_contact(store, saved.id, {"name": ""})
    assert store.contacts.get(saved.id).name == "Cleo"


def test_every_path_that_creates_a_contact_publishes_contact_created(store: Store) -> None:
    """The editor's operation, the CSV import (which published nothing before the operations) and WhatsApp
    intake all announce each contact they create, once, after their commit."""
    got = _created(store)
    by_editor = ops.save_contact(store, ops.contact_fields(name="Editor", phone="+4917600000001")).value.contact
    assert by_editor is not None

    csv = "name,phone,company\nAna,+4917600000002,Lumen\nBen,+4917600000003,Lumen\nBad,12,\nEditor,+4917600000001,\n"
    imported = ops.import_contacts(store, preview_csv(csv, store=store))
    assert imported.value.imported == 2
    assert imported.value.skipped_duplicates == 1
    assert imported.tables == frozenset({"contacts", "companies"})

    record_message(
        store,
        CapturedMessage(wa_id="m1", chat_jid="4917600000004@c.us", from_me=False, body="Hi", push_name="Cy",
                        timestamp=datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
    )  # fmt: skip

    names = {c.id: c.name for c in store.contacts.find_all()}
    assert sorted(names[e.contact_id] for e in got) == ["Ana", "Ben", "Cy", "Editor"]
    assert len({e.contact_id for e in got}) == len(got) == store.contacts.count() == 4


def test_an_import_batch_publishes_after_its_commit(store: Store) -> None:
    seen: list[Event] = []
    store.bus.subscribe(Event, seen.append)
    ops.import_contacts(store, preview_csv("name\nA\nB\n"))
    kinds = [type(e) for e in seen]
    assert kinds.count(ContactCreated) == 2
    assert TablesChanged in kinds
    assert [s.name for s in store.events.pending()] == ["contact.created", "contact.created"]


def test_merge_is_an_operation_that_creates_nothing(store: Store) -> None:
    a = ops.save_contact(store, ops.contact_fields(name="Ana", phone="+351911111111")).value.contact
    b = ops.save_contact(store, ops.contact_fields(name="", phone="+351922222222")).value.contact
    assert a is not None
    assert b is not None
    got = _created(store)
    result = ops.merge(store, a.id, b.id)
    assert result.value.keep_id == a.id
    assert "contacts" in result.tables
    assert got == []
    assert store.contacts.find(b.id) is None


def test_a_text_filter_reads_its_matches_in_one_query_and_keeps_their_order(store: Store) -> None:
    for name in ("Ana Lima", "Ana Souza", "Bruno"):
        ops.save_contact(store, ops.contact_fields(name=name, phone=""))
    rows = query_contacts(store, ContactQuery(text="ana"), 0, 50)
    assert [c.name for c in rows] == ["Ana Lima", "Ana Souza"]
    ids = [c.id for c in rows]
    assert set(contacts_by_id(store, [*reversed(ids), "missing"])) == set(ids)
