"""What changed is derived: every committed write transaction publishes the tables it touched, once, whatever path
wrote them (repositories, raw SQL, sync's page apply, intake, imports, a restore); a rollback publishes nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.events import TablesChanged
from app.core.ids import new_id, to_ms, utc_now
from app.core.settings import Appearance
from app.store import sqlcipher, touched
from app.store.contacts_csv import import_csv, preview_csv
from app.store.deals import create_deal, default_pipeline_id, move_deal
from app.store.intake import CapturedMessage, record_message
from app.store.messaging import add_note, mark_read, queue_outbound
from app.store.outbox_triggers import synced_tables
from app.store.sales import SaleLine, record_sale
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync.apply import apply_page
from app.sync.protocol import PullResponse, RowState


@pytest.fixture
def published(store: Store) -> Iterator[list[TablesChanged]]:
    got: list[TablesChanged] = []
    stop = store.bus.subscribe(TablesChanged, got.append)
    yield got
    stop()


def _stage_ids(store: Store) -> list[str]:
    pipeline_id = default_pipeline_id(store)
    assert pipeline_id is not None
    return [s.id for s in store.pipeline_stages.find_all({"pipeline_id": pipeline_id}, order_by="position")]


def _chat(store: Store) -> str:
    contact = store.contacts.create(name="Ana", phone="+6590000001")
    return store.chats.create(wa_chat_id="6590000001@c.us", contact_id=contact.id).id


def _raw_sql(store: Store) -> None:
    with store.db.transaction() as conn:
        conn.execute(
            "UPDATE orgs SET name = 'Renamed by SQL', updated_at = updated_at + 1 WHERE org_id = ? AND id = ?",
            (store.org_id, store.org_id),
        )


def _pulled_page(store: Store) -> None:
    """A teammate's new customer, chat and message, child first (a page is in version order, not parent order)."""
    now = to_ms(utc_now())
    stamps = {"created_at": now, "updated_at": now}
    contact_id, chat_id = new_id(), new_id()
    pulled = [
        ("messages", new_id(), {"chat_id": chat_id, "direction": "in", "body": "hi", "sent_at": now}),
        ("chats", chat_id, {"contact_id": contact_id}),
        ("contacts", contact_id, {"name": "Bo"}),
    ]
    rows = [RowState(table=t, id=i, version=v, data=d | stamps) for v, (t, i, d) in enumerate(pulled, start=1)]
    apply_page(store.db, store.org_id, PullResponse(rows=rows, cursor=3, version=3, has_more=False), 0)


def _intake(store: Store) -> None:
    record_message(
        store,
        CapturedMessage.model_validate(
            {
                "chat_jid": "6590000002@c.us",
                "wa_id": "3A01",
                "from_me": False,
                "body": "hello",
                "timestamp": datetime(2026, 3, 22, 13, 52, tzinfo=UTC),
            }
        ),
    )


def _csv_import(store: Store) -> None:
    import_csv(store, preview_csv(b"Name,Phone,Company\nCara,+6590000003,Cara Ltd\n", store=store))


def _sale(store: Store) -> None:
    product = store.products.create(name="Scarf", price_minor=2500, currency="EUR", stock=3)
    record_sale(store, [SaleLine(product_id=product.id, quantity=1)])


def _deal_move(store: Store) -> None:
    first, second, *_ = _stage_ids(store)
    deal = create_deal(store, first, "Big order")
    move_deal(store, deal.id, second)


# (what wrote, the call, tables that must be reported, origin)
WRITERS: list[tuple[str, Callable[[Store], object], set[str], str]] = [
    ("repository create", lambda s: s.contacts.create(name="Ana"), {"contacts"}, "local"),
    ("repository update", lambda s: s.orgs.update(s.org_id, name="New name"), {"orgs"}, "local"),
    ("raw SQL", _raw_sql, {"orgs"}, "local"),
    ("local settings", lambda s: s.settings.set(Appearance.theme, "dark"), {"settings"}, "local"),
    ("queue a message", lambda s: queue_outbound(s, _chat(s), "hello"), {"messages", "chat_stats"}, "local"),
    ("add a note", lambda s: add_note(s, _chat(s), "called her"), {"notes"}, "local"),
    ("mark read", lambda s: mark_read(s, _chat(s)), {"chats"}, "local"),
    ("intake", _intake, {"contacts", "chats", "messages", "chat_stats"}, "local"),
    ("CSV import", _csv_import, {"contacts", "companies"}, "local"),
    ("sale", _sale, {"sales", "sale_items", "products"}, "local"),
    ("deal move", _deal_move, {"deals"}, "local"),
    ("sync page apply", _pulled_page, {"messages", "chats", "contacts", "chat_stats"}, "remote"),
]


@pytest.mark.parametrize(("name", "write", "expected", "origin"), WRITERS, ids=[w[0] for w in WRITERS])
def test_every_write_path_publishes_the_tables_it_touched(
    store: Store,
    published: list[TablesChanged],
    name: str,
    write: Callable[[Store], object],
    expected: set[str],
    origin: str,
) -> None:
    write(store)
    assert published, f"{name} published nothing"
    seen = frozenset().union(*(e.tables for e in published))
    assert expected <= seen, f"{name}: {sorted(expected - seen)} missing from {sorted(seen)}"
    assert published[-1].origin == origin
    assert all(e.org_id == store.org_id for e in published)
    assert seen <= store.db.tracked_tables
    assert not {"outbox", "events", "sync_control"} & seen  # bookkeeping is not news


def test_one_event_per_outermost_commit_and_nothing_on_rollback(store: Store, published: list[TablesChanged]) -> None:
    with store.db.transaction():
        store.contacts.create(name="A")
        store.tags.create(name="vip")
        assert published == []  # not before the commit
    assert [e.tables for e in published] == [frozenset({"contacts", "tags"})]

    published.clear()
    with pytest.raises(RuntimeError), store.db.transaction():
        store.contacts.create(name="B")
        raise RuntimeError("changed my mind")
    assert published == []
    store.settings.appearance.theme = "dark"  # the rolled-back names do not leak into the next commit
    assert [e.tables for e in published] == [frozenset({"settings"})]


def test_a_rolled_back_savepoint_takes_its_tables_back(store: Store, published: list[TablesChanged]) -> None:
    with store.db.transaction():
        store.contacts.create(name="Kept")
        with pytest.raises(RuntimeError), store.db.transaction():
            store.products.create(name="Dropped", price_minor=1, currency="EUR")
            raise RuntimeError("inner fails")
    assert [e.tables for e in published] == [frozenset({"contacts"})]


def test_a_failed_commit_publishes_nothing(store: Store, published: list[TablesChanged]) -> None:
    # Deferred foreign keys are checked at COMMIT: a chat of a contact that does not exist fails there.
    with pytest.raises(sqlcipher.IntegrityError), store.db.transaction():
        store.chats.create(wa_chat_id="x@c.us", contact_id=new_id())
    assert published == []
    store.contacts.create(name="After")
    assert [e.tables for e in published] == [frozenset({"contacts"})]


def test_published_after_the_lock_on_the_committing_thread(store: Store) -> None:
    """A watcher may write (its own commit is reported too) and readers on other threads already see the rows."""
    seen: list[tuple[frozenset[str], str]] = []
    threads: list[str] = []

    def watcher(event: TablesChanged) -> None:
        threads.append(threading.current_thread().name)
        seen.append((event.tables, event.origin))
        if "contacts" in event.tables:
            names = {c.name for c in store.contacts.find_all()}
            assert "Worker" in names
            store.settings.internal.whatsapp_linked = True

    store.bus.subscribe(TablesChanged, watcher)
    worker = threading.Thread(target=lambda: store.contacts.create(name="Worker"), name="writer-thread")
    worker.start()
    worker.join(30)
    assert seen == [(frozenset({"contacts"}), "local"), (frozenset({"settings"}), "local")]
    assert threads == ["writer-thread", "writer-thread"]


def test_every_synced_table_and_the_local_ones_pages_read_are_tracked(store: Store) -> None:
    with store.db.read() as conn:
        synced = set(synced_tables(conn))
    assert synced | set(touched.LOCAL_TRACKED) == set(store.db.tracked_tables)
    assert "contacts" in synced


def test_a_restore_reports_every_table_and_tracking_survives_it(
    store: Store, workspaces: Workspaces, workspace_id: str, tmp_path: Path, published: list[TablesChanged]
) -> None:
    backup = tmp_path / "b.parleybackup"
    workspaces.backup(store, workspace_id, backup, "backup passphrase")
    published.clear()
    workspaces.restore_into(store, workspace_id, backup, "backup passphrase")
    restored = [(e.tables, e.chat_ids) for e in published if e.origin == "restore"]
    assert restored == [(store.db.tracked_tables, None)]  # every table, any chat
    published.clear()
    store.contacts.create(name="After restore")  # the new writer has its triggers
    assert [e.tables for e in published] == [frozenset({"contacts"})]


def _other_chat(store: Store) -> str:
    return store.chats.create(contact_id=store.contacts.create(name="Bo").id).id


# (what wrote, the call given two chats, the chats it must name)
CHAT_WRITERS: list[tuple[str, Callable[[Store, str, str], object], set[int]]] = [
    ("message", lambda s, a, b: queue_outbound(s, a, "hi"), {0}),
    ("note", lambda s, a, b: add_note(s, b, "called"), {1}),
    ("chat row", lambda s, a, b: mark_read(s, b), {1}),
    ("both in one transaction", lambda s, a, b: (add_note(s, a, "x"), queue_outbound(s, b, "y")), {0, 1}),
    ("neither", lambda s, a, b: s.contacts.create(name="Cy"), set()),
]


@pytest.mark.parametrize(("name", "write", "named"), CHAT_WRITERS, ids=[w[0] for w in CHAT_WRITERS])
def test_writes_name_the_chats_they_touched(
    store: Store, published: list[TablesChanged], name: str, write: Callable[[Store, str, str], object], named: set[int]
) -> None:
    chats = [_chat(store), _other_chat(store)]
    published.clear()

    def run() -> None:
        with store.db.transaction():
            write(store, *chats)

    run()
    [event] = published
    assert event.chat_ids == {chats[i] for i in named}, name


def test_too_many_chats_or_a_restore_name_any_chat(store: Store, published: list[TablesChanged]) -> None:
    contact = store.contacts.create(name="Many")
    published.clear()
    with store.db.transaction():
        for _ in range(touched.MAX_CHAT_IDS + 1):
            store.chats.create(contact_id=contact.id)
    assert [e.chat_ids for e in published] == [None]
    published.clear()
    with pytest.raises(RuntimeError), store.db.transaction():
        queue_outbound(store, _chat(store), "rolled back")
        raise RuntimeError("no")
    store.settings.appearance.theme = "dark"
    assert [(e.tables, e.chat_ids) for e in published] == [(frozenset({"settings"}), frozenset())]
