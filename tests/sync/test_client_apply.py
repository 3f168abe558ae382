"""Applying pulled pages to a real workspace, without a server: order-free pages, no echo, rebase, purges."""

from __future__ import annotations

import pytest

from app.core.ids import new_id, to_ms, utc_now
from app.store.store import Store
from app.sync.apply import apply_page
from app.sync.changes import build_batch
from app.sync.protocol import PullResponse, RowState


def _page(*rows: RowState, cursor: int = 10) -> PullResponse:
    return PullResponse(rows=list(rows), cursor=cursor, version=cursor, has_more=False)


def test_a_page_may_hold_a_child_before_its_parent_and_is_not_echoed(store: Store) -> None:
    now = to_ms(utc_now())
    chat_id, contact_id = new_id(), new_id()
    before = store.outbox.count()
    message = RowState(
        table="messages",
        id=new_id(),
        version=1,
        data={
            "chat_id": chat_id,
            "direction": "in",
            "body": "hola",
            "sent_at": now,
            "created_at": now,
            "updated_at": now,
        },
    )
    chat = RowState(
        table="chats", id=chat_id, version=2, data={"contact_id": contact_id, "created_at": now, "updated_at": now}
    )
    contact = RowState(
        table="contacts", id=contact_id, version=3, data={"name": "Ana", "created_at": now, "updated_at": now}
    )
    assert apply_page(store.db, store.org_id, _page(message, chat, contact), 0) == 3
    assert store.outbox.count() == before
    assert store.meta("sync.cursor") == "10"
    assert [m.body for m in store.messages.find_all({"chat_id": chat_id})] == ["hola"]
    with store.db.read() as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    with store.db.transaction() as conn:  # enforcement is back on for ordinary writes
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    with (
        store.db.transaction(),
        pytest.raises(RuntimeError, match="outside any transaction"),
        store.db.applying_remote(check_foreign_keys=False),
    ):
        pass


def test_pulled_values_leave_unpushed_local_columns_alone(store: Store) -> None:
    contact = store.contacts.create(name="Local", email="old@example.com")
    store.outbox.acknowledge(10**9)
    store.contacts.update(contact.id, name="Edited here")
    pulled = RowState(
        table="contacts", id=contact.id, version=5, data={"name": "From server", "email": "new@example.com"}
    )
    apply_page(store.db, store.org_id, _page(pulled), 0)
    got = store.contacts.get(contact.id)
    assert (got.name, got.email) == ("Edited here", "new@example.com")
    [change] = build_batch(store.db, store.org_id, store.outbox.pending()).changes
    assert (change.op, set(change.data)) == ("update", {"name", "updated_at"})
    assert change.data["name"] == "Edited here"


def test_purges_remove_rows_and_a_local_purge_keeps_a_row_gone(store: Store) -> None:
    erased_there, erased_here = store.contacts.create(name="A"), store.contacts.create(name="B")
    store.outbox.acknowledge(10**9)
    store.contacts.purge(erased_here.id)
    page = _page(
        RowState(table="contacts", id=erased_there.id, version=7, deleted=True, purged=True),
        RowState(table="contacts", id=erased_here.id, version=8, data={"name": "B again"}),
    )
    apply_page(store.db, store.org_id, page, 0)
    assert store.contacts.find(erased_there.id, include_deleted=True) is None
    assert store.contacts.find(erased_here.id, include_deleted=True) is None
    [change] = build_batch(store.db, store.org_id, store.outbox.pending()).changes
    assert (change.op, change.id, change.data) == ("purge", erased_here.id, {})
