"""The outbox: exactly one row per synced write, none for local tables, none while applying remote rows."""

from __future__ import annotations

import pytest

from app.core.ids import new_id, utc_now
from app.core.models import Contact, KnowledgeChunk
from app.core.settings import BY_KEY
from app.core.synced import SYNCED_MODELS
from app.store.sqlcipher import IntegrityError
from app.store.store import Store
from tests.support.graph import build_graph, new_row_fields


def entries_after(store: Store, seq: int) -> list[tuple[str, str, str, list[str]]]:
    return [(e.table_name, e.row_id, e.op, e.changed) for e in store.outbox.pending(after_seq=seq, limit=10_000)]


def last_seq(store: Store) -> int:
    pending = store.outbox.pending(limit=100_000)
    return pending[-1].seq if pending else 0


@pytest.mark.parametrize("table", sorted(set(SYNCED_MODELS) - {"orgs"}))
def test_one_row_per_insert_update_delete_purge(store: Store, table: str) -> None:
    graph = build_graph(store)
    repo = store.repository(table)
    fields, change = new_row_fields(table, graph)
    start = last_seq(store)

    row = repo.create(**fields)
    assert entries_after(store, start) == [(table, row.id, "insert", [])]  # an insert sends the whole row

    seq = last_seq(store)
    repo.update(row.id, **change)
    [(t, rid, op, changed)] = entries_after(store, seq)
    assert (t, rid, op, sorted(changed)) == (table, row.id, "update", sorted(change))

    seq = last_seq(store)
    repo.delete(row.id)
    assert entries_after(store, seq) == [(table, row.id, "delete", ["deleted_at"])]

    seq = last_seq(store)
    repo.purge(row.id)
    assert entries_after(store, seq) == [(table, row.id, "purge", [])]


def test_bulk_insert_writes_one_row_each(store: Store) -> None:
    start = last_seq(store)
    contacts = [store.contacts.new(name=f"C{i}") for i in range(250)]
    store.contacts.add_many(contacts)
    assert [r[1] for r in entries_after(store, start)] == [c.id for c in contacts]


def test_update_that_changes_nothing_writes_nothing(store: Store) -> None:
    contact = store.contacts.create(name="Same")
    seq = last_seq(store)
    store.contacts.update(contact.id, name="Same")
    assert entries_after(store, seq) == []


def test_local_tables_write_nothing(store: Store) -> None:
    seq = last_seq(store)
    store.settings.appearance.theme = "dark"
    store.settings.reset(BY_KEY["appearance.theme"])
    store.set_meta("device_name", "laptop")
    from app.core.events import ScheduleTick

    store.events.append(ScheduleTick(org_id=store.org_id))
    with store.db.transaction() as conn:
        chunk = KnowledgeChunk(id=new_id(), article_id=new_id(), position=0, body="x")
        conn.execute(
            "INSERT INTO knowledge_chunks (id, article_id, position, body) VALUES (?, ?, ?, ?)",
            (chunk.id, chunk.article_id, chunk.position, chunk.body),
        )
    assert entries_after(store, seq) == []


def test_applying_remote_rows_is_not_echoed(store: Store) -> None:
    seq = last_seq(store)
    remote = store.contacts.new(name="From the server")
    with store.db.applying_remote():
        store.contacts.add(remote)
        store.contacts.update(remote.id, name="Edited on the server")
        store.contacts.delete(remote.id)
    assert entries_after(store, seq) == []
    # The switch is off again for the user's own writes.
    mine = store.contacts.create(name="Mine")
    assert [r[1] for r in entries_after(store, seq)] == [mine.id]


def test_applying_switch_resets_when_apply_fails(store: Store) -> None:
    seq = last_seq(store)
    with pytest.raises(RuntimeError), store.db.applying_remote():
        store.contacts.add(store.contacts.new(name="half-applied"))
        raise RuntimeError("network dropped")
    assert store.contacts.count() == 0
    with store.db.read() as conn:
        assert conn.execute("SELECT applying_remote FROM sync_control").fetchone()[0] == 0
    store.contacts.create(name="After")
    assert len(entries_after(store, seq)) == 1


def test_rolled_back_write_leaves_no_outbox_row(store: Store) -> None:
    seq = last_seq(store)
    with pytest.raises(RuntimeError), store.db.transaction():
        store.contacts.create(name="Ghost")
        raise RuntimeError("abort")
    assert entries_after(store, seq) == []


def test_client_sequence_is_monotonic_and_never_reused(store: Store) -> None:
    store.contacts.create(name="A")
    first = store.outbox.pending(limit=10_000)
    top = first[-1].seq
    assert [e.seq for e in first] == sorted({e.seq for e in first})
    assert store.outbox.acknowledge(top) == len(first)
    assert store.outbox.count() == 0
    store.contacts.create(name="B")
    [entry] = store.outbox.pending()
    assert entry.seq == top + 1
    assert len({e.op_id for e in first} | {entry.op_id}) == len(first) + 1


def test_op_ids_are_time_ordered_uuid7(store: Store) -> None:
    import uuid

    for i in range(20):
        store.contacts.create(name=f"C{i}")
    entries = store.outbox.pending(limit=1000)
    ids = [uuid.UUID(e.op_id) for e in entries]
    assert {u.version for u in ids} == {7}
    assert {u.variant for u in ids} == {uuid.RFC_4122}
    stamps = [u.int >> 80 for u in ids]  # the 48-bit millisecond prefix
    assert stamps == sorted(stamps)


def test_sync_identity_is_immutable(store: Store) -> None:
    contact = store.contacts.create(name="Fixed")
    with store.db.transaction() as conn, pytest.raises(IntegrityError, match="cannot change"):
        conn.execute("UPDATE contacts SET id = ? WHERE id = ?", (new_id(), contact.id))
    assert store.contacts.get(contact.id).name == "Fixed"


def test_outbox_row_carries_org_and_time(store: Store) -> None:
    seq = last_seq(store)
    before = utc_now()
    contact: Contact = store.contacts.create(name="T")
    [entry] = store.outbox.pending(after_seq=seq)
    assert entry.org_id == store.org_id
    assert entry.row_id == contact.id
    assert abs((entry.created_at - before).total_seconds()) < 5


def test_rebuild_drops_only_its_own_triggers(store: Store) -> None:
    from app.store import outbox_triggers

    with store.db.transaction() as conn:
        # "outboxes_" matches LIKE 'outbox__%' ('_' is a wildcard there) but is not one of the outbox triggers.
        conn.execute("CREATE TRIGGER outboxes_audit AFTER INSERT ON tags BEGIN SELECT 1; END")
        outbox_triggers.rebuild(conn)
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "outboxes_audit" in names
    assert "outbox__contacts__update" in names


def test_a_synced_table_with_only_bookkeeping_columns_gets_triggers(store: Store) -> None:
    from app.store import outbox_triggers

    with store.db.transaction() as conn:
        conn.execute(
            "CREATE TABLE bare (rid INTEGER PRIMARY KEY, org_id TEXT NOT NULL, id TEXT NOT NULL, "
            "created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)"
        )
        conn.execute("INSERT INTO sync_tables (name) VALUES ('bare')")
        outbox_triggers.rebuild(conn)
        before = store.outbox.count()
        conn.execute("INSERT INTO bare (org_id, id, created_at, updated_at) VALUES (?, 'b1', 0, 0)", (store.org_id,))
        conn.execute("UPDATE bare SET updated_at = 1")
        conn.execute("DELETE FROM bare")
        assert store.outbox.count() == before + 2  # insert and purge; an update of bookkeeping alone is no change
