"""Managed labels: unique names whatever the case, and rename / merge / delete reaching every contact and chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import InvalidInput
from app.store import labels
from app.store.contacts_csv import preview_csv
from app.store.ops import contacts as contact_ops
from app.store.ops import labels as ops
from app.store.store import Store


def names(store: Store) -> list[str]:
    return [t.name for t in labels.all_labels(store)]


def test_a_name_is_one_label_whatever_its_case_and_blank_or_comma_names_are_refused(store: Store) -> None:
    vip = ops.create_label(store, "  VIP  ").value
    assert vip.name == "VIP"
    assert vip.color.startswith("#")
    for bad in ("vip", "", "   ", "a,b", "x" * 41):
        with pytest.raises(InvalidInput):
            ops.create_label(store, bad)
    with pytest.raises(InvalidInput):
        ops.create_label(store, "Lead", "red")
    assert ops.create_label(store, "Lead", "#AABBCC").value.color == "#aabbcc"


def test_names_typed_on_a_contact_become_labels_spelled_as_the_label_is(store: Store) -> None:
    ops.create_label(store, "VIP")
    saved = contact_ops.save_contact(
        store, contact_ops.contact_fields(name="Ana", phone="", tags="vip, new lead, VIP")
    ).value
    assert saved.contact is not None
    assert saved.contact.tags == ["VIP", "new lead"]
    assert names(store) == ["new lead", "VIP"]
    updated = contact_ops.update_contact(store, saved.contact.id, {"tags": ["NEW LEAD"]}).value
    assert updated.tags == ["new lead"]


def test_rename_reaches_every_contact_and_chat_and_refuses_another_labels_name(store: Store) -> None:
    vip = ops.create_label(store, "vip").value
    ops.create_label(store, "Lead")
    ana = store.contacts.create(name="Ana", tags=["vip", "other"])
    chat = store.chats.create(title="Ana", contact_id=ana.id, tags=["VIP"])
    ops.rename_label(store, vip.id, "Gold")
    assert store.contacts.get(ana.id).tags == ["Gold", "other"]
    assert store.chats.get(chat.id).tags == ["Gold"]
    with pytest.raises(labels.LabelExists, match="merge"):
        ops.rename_label(store, vip.id, "lead")


def test_merge_relabels_without_repeats_and_deletes_the_source(store: Store) -> None:
    a = ops.create_label(store, "Wholesale").value
    b = ops.create_label(store, "B2B").value
    both = store.contacts.create(name="Both", tags=["Wholesale", "B2B"])
    one = store.contacts.create(name="One", tags=["b2b"])
    ops.merge_labels(store, b.id, a.id)
    assert store.contacts.get(both.id).tags == ["Wholesale"]
    assert store.contacts.get(one.id).tags == ["Wholesale"]
    assert names(store) == ["Wholesale"]
    with pytest.raises(InvalidInput):
        ops.merge_labels(store, a.id, a.id)


def test_delete_takes_the_label_off_everything_and_says_how_many(store: Store) -> None:
    lead = ops.create_label(store, "Lead").value
    c = store.contacts.create(name="C", tags=["Lead", "x"])
    chat = store.chats.create(title="C", tags=["lead"])
    assert labels.usage(store, "Lead") == 2
    assert ops.delete_label(store, lead.id).value == 2
    assert (store.contacts.get(c.id).tags, store.chats.get(chat.id).tags) == (["x"], [])
    assert "Lead" not in names(store)


def test_labels_in_use_are_those_on_chats_or_their_contacts(store: Store) -> None:
    ops.create_label(store, "Unused")
    ana = store.contacts.create(name="Ana", tags=["VIP"])
    store.contacts.create(name="No chat", tags=["Lonely"])
    store.chats.create(title="Ana", contact_id=ana.id, tags=["Open deal"])
    assert labels.in_use(store) == ["Open deal", "VIP"]


def test_a_csv_import_takes_the_labels_spelling_and_adds_new_ones(store: Store, tmp_path: Path) -> None:
    ops.create_label(store, "VIP")
    csv = tmp_path / "c.csv"
    csv.write_text("name,phone,tags\nAna,+6590000001,vip;Trade show\nBen,+6590000002,TRADE SHOW\n")
    report = contact_ops.import_contacts(store, preview_csv(csv)).value
    assert report.imported == 2
    tags = {c.name: c.tags for c in store.contacts.find_all()}
    assert tags == {"Ana": ["VIP", "Trade show"], "Ben": ["Trade show"]}
    assert names(store) == ["Trade show", "VIP"]
