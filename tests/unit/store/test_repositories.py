"""Every synced table through its repository: create, read, filter, update, tombstone, purge, org scoping."""

from __future__ import annotations

import pytest

from app.core.errors import NotFound
from app.core.ids import new_id
from app.core.synced import SYNCED_MODELS
from app.store.repository import Repository
from app.store.sqlcipher import IntegrityError
from app.store.store import Store
from app.store.workspaces import Workspaces
from tests.support.graph import AT, build_graph, new_row_fields


def test_every_synced_table_has_a_repository(store: Store) -> None:
    for table, model in SYNCED_MODELS.items():
        repo = store.repository(table)
        assert repo.table == table
        assert repo.model is model


# The org row is the workspace itself (org_id = id): test_org_row covers it.
@pytest.mark.parametrize("table", sorted(set(SYNCED_MODELS) - {"orgs"}))
def test_crud_round_trip(store: Store, table: str) -> None:
    graph = build_graph(store)
    repo: Repository = store.repository(table)  # type: ignore[type-arg]
    fields, change = new_row_fields(table, graph)
    created = repo.add(repo.new(**fields))
    fetched = repo.get(created.id)
    assert fetched == created
    assert fetched.org_id == store.org_id

    updated = repo.update(created.id, **change)
    for key, value in change.items():
        assert getattr(updated, key) == value
        assert getattr(repo.get(created.id), key) == value
    assert updated.updated_at >= created.updated_at
    assert repo.count() >= 1

    repo.delete(created.id)
    assert repo.find(created.id) is None
    assert repo.get(created.id, include_deleted=True).deleted_at is not None
    assert created.id not in [r.id for r in repo.find_all()]
    assert created.id in [r.id for r in repo.find_all(include_deleted=True)]

    repo.purge(created.id)
    assert repo.find(created.id, include_deleted=True) is None
    with pytest.raises(NotFound):
        repo.get(created.id)


def test_org_row(store: Store) -> None:
    org = store.orgs.get(store.org_id)
    assert org.name == "Acme Boutique"
    store.orgs.update(org.id, timezone="Europe/Madrid")
    assert store.orgs.get(org.id).timezone == "Europe/Madrid"


def test_rename_updates_org_and_header(store: Store, workspaces: Workspaces, workspace_id: str) -> None:
    header = workspaces.rename(store, workspace_id, "  Lumen Atelier ")
    assert header.name == "Lumen Atelier"
    assert workspaces.header(workspace_id).name == "Lumen Atelier"
    assert store.orgs.get(store.org_id).name == "Lumen Atelier"
    with pytest.raises(ValueError, match="empty"):
        workspaces.rename(store, workspace_id, "  ")


def test_workspace_starts_as_one_org_with_owner_and_pipeline(store: Store) -> None:
    [org] = store.orgs.find_all()
    [owner] = store.users.find_all()
    assert org.id == store.org_id == store.meta("org_id")
    assert (owner.role, owner.name, owner.email) == ("owner", "Ana Owner", "ana@example.com")
    assert store.local_user_id == owner.id
    [pipeline] = store.pipelines.find_all()
    stages = store.pipeline_stages.find_all({"pipeline_id": pipeline.id}, order_by="position")
    assert [s.stage_kind for s in stages][-2:] == ["won", "lost"]


def test_filters_order_and_paging(store: Store) -> None:
    for i, name in enumerate(["Carla", "Ana", "Bruno", "Dora"]):
        store.contacts.create(name=name, lead_score=i * 10, lifecycle="lead" if i % 2 else "new")
    leads = store.contacts.find_all({"lifecycle": "lead"}, order_by="name")
    assert [c.name for c in leads] == ["Ana", "Dora"]
    by_score = store.contacts.find_all(order_by="lead_score", descending=True, limit=2, offset=1)
    assert [c.name for c in by_score] == ["Bruno", "Ana"]
    assert store.contacts.count({"lifecycle": "new"}) == 2
    assert store.contacts.find_all({"email": None}, limit=1)


def test_unknown_columns_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="no column"):
        store.contacts.find_all({"name; DROP TABLE contacts": "x"})
    with pytest.raises(ValueError, match="no column"):
        store.contacts.find_all(order_by="name DESC; --")
    contact = store.contacts.create(name="X")
    with pytest.raises(ValueError, match="cannot change"):
        store.contacts.update(contact.id, id=new_id())


def test_validation_errors_write_nothing(store: Store) -> None:
    contact = store.contacts.create(name="X")
    outbox = store.outbox.count()
    with pytest.raises(ValueError, match="lifecycle"):
        store.contacts.update(contact.id, lifecycle="vip")
    assert store.contacts.get(contact.id).lifecycle == "new"
    assert store.outbox.count() == outbox


def test_other_orgs_rows_are_invisible(store: Store) -> None:
    contact = store.contacts.create(name="Mine")
    foreign_org = new_id()
    foreign = Repository(store.db, "contacts", type(contact), foreign_org)
    with pytest.raises(NotFound):
        foreign.get(contact.id)
    with pytest.raises(NotFound):
        foreign.update(contact.id, name="Stolen")
    with pytest.raises(ValueError, match="belongs to org"):
        store.contacts.add(foreign.new(name="Planted"))
    assert store.contacts.get(contact.id).name == "Mine"


def test_whatsapp_lookups(store: Store) -> None:
    contact = store.contacts.create(name="Lid", phone="+5511987654321", wa_id="5511987654321@c.us", lid="99887766@lid")
    assert store.contacts.find_by_whatsapp(lid="99887766@lid") == contact
    assert store.contacts.find_by_whatsapp(wa_id="5511987654321@c.us") == contact
    assert store.contacts.find_by_whatsapp(wa_id="1@c.us", lid="2@lid") is None
    assert store.contacts.find_by_phone("+5511987654321") == contact
    chat = store.chats.create(contact_id=contact.id, wa_chat_id="5511987654321@c.us")
    assert store.chats.find_by_wa_chat_id("5511987654321@c.us") == chat


def test_messages_by_chat_queue_and_wa_id(store: Store) -> None:
    graph = build_graph(store)
    chat = graph.chat
    made = [
        store.messages.create(
            chat_id=chat.id, direction="in", body=f"m{i}", sent_at=AT.replace(minute=i), wa_id=f"W{i}"
        )
        for i in range(5)
    ]
    assert [m.body for m in store.messages.for_chat(chat.id, limit=3)] == ["m2", "m3", "m4"]
    assert [m.body for m in store.messages.for_chat(chat.id, limit=3, before=made[2].sent_at)] == ["m0", "m1"]
    assert store.messages.find_by_wa_id("W3") == made[3]
    with pytest.raises(IntegrityError):
        store.messages.create(chat_id=chat.id, direction="in", body="dup", sent_at=AT, wa_id="W3")
    queued = store.messages.create(chat_id=chat.id, direction="out", body="hi", status="queued", sent_at=AT)
    assert store.messages.send_queue() == [queued]
    store.messages.update(queued.id, status="sent")
    assert store.messages.send_queue() == []


def test_foreign_keys_are_enforced_at_commit(store: Store) -> None:
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        store.messages.create(chat_id=new_id(), direction="in", body="orphan", sent_at=AT)
    assert store.messages.count() == 0


def test_nested_transactions_roll_back_together(store: Store) -> None:
    with pytest.raises(RuntimeError), store.db.transaction():
        store.contacts.create(name="A")
        with store.db.transaction():
            store.contacts.create(name="B")
        raise RuntimeError("boom")
    assert store.contacts.count() == 0
    with store.db.transaction():
        store.contacts.create(name="C")
        with pytest.raises(RuntimeError), store.db.transaction():
            store.contacts.create(name="D")
            raise RuntimeError("inner only")
    assert [c.name for c in store.contacts.find_all()] == ["C"]


def test_paging_back_through_messages_sent_in_the_same_second(store: Store) -> None:
    chat = build_graph(store).chat
    early = store.messages.create(chat_id=chat.id, direction="in", body="earlier", sent_at=AT.replace(second=0))
    same = [
        store.messages.create(chat_id=chat.id, direction="in", body=f"s{i}", sent_at=AT.replace(second=5))
        for i in range(5)
    ]
    page = store.messages.for_chat(chat.id, limit=2)
    assert [m.body for m in page] == ["s3", "s4"]
    seen = list(page)
    while page:
        page = store.messages.for_chat(chat.id, limit=2, before=seen[0])
        seen = page + seen
    assert [m.id for m in seen] == [early.id, *(m.id for m in same)]
    # A boundary deleted meanwhile still pages from where it was; a plain time still means "strictly before".
    store.messages.delete(same[2].id)
    assert [m.body for m in store.messages.for_chat(chat.id, limit=5, before=same[2])] == ["earlier", "s0", "s1"]
    assert [m.body for m in store.messages.for_chat(chat.id, before=same[0].sent_at)] == ["earlier"]
