"""What is on disk: ciphertext only; and a contact's data can be exported and erased (GDPR)."""

from __future__ import annotations

import json

import pytest

from app.core.events import ContactErased
from app.store.gdpr import erase_contact, export_contact
from app.store.sales import SaleLine, record_sale
from app.store.store import Store
from app.store.workspaces import Workspaces
from tests.support.files import all_bytes
from tests.support.graph import AT, build_graph

CANARY = "plaintext-canary-Quokka-7731"


def test_database_bytes_hold_no_plaintext(store: Store, workspaces: Workspaces, workspace_id: str) -> None:
    g = build_graph(store)
    store.messages.create(chat_id=g.chat.id, direction="in", body=f"My card ends {CANARY}", sent_at=AT)
    store.notes.create(body=CANARY, contact_id=g.contact.id)
    path = workspaces.paths(workspace_id).database
    # Both before and after the write-ahead log is folded into the main file.
    for _ in range(2):
        data = all_bytes(path)
        assert CANARY.encode() not in data
        assert CANARY.encode("utf-16-le") not in data
        assert b"Lena Weber" not in data
        assert b"SQLite format 3" not in data
        store.db.checkpoint()
    assert store.search_messages("Quokka")


def make_customer(store: Store) -> tuple[str, str]:
    g = build_graph(store)
    for i in range(3):
        store.messages.create(chat_id=g.chat.id, direction="in", body=f"{CANARY} message {i}", sent_at=AT)
    store.notes.create(body=f"note about {CANARY}", contact_id=g.contact.id)
    store.notes.create(body="deal note", deal_id=g.deal.id)
    store.campaign_recipients.create(campaign_id=g.campaign.id, contact_id=g.contact.id)
    store.ai_interactions.create(purpose="suggest", mode="byok", provider="openai", model="m", chat_id=g.chat.id)
    record_sale(store, [SaleLine(product_id=g.product.id, quantity=2)], contact_id=g.contact.id, chat_id=g.chat.id)
    return g.contact.id, g.chat.id


def test_export_contains_everything_about_the_contact(store: Store) -> None:
    contact_id, chat_id = make_customer(store)
    data = export_contact(store, contact_id)
    json.dumps(data)  # JSON-ready
    assert data["contact"]["id"] == contact_id
    assert [c["id"] for c in data["chats"]] == [chat_id]
    assert len(data["messages"]) == 3
    assert len(data["notes"]) == 2
    assert len(data["deals"]) == 1
    assert len(data["sales"]) == 2  # the graph's sale and the recorded one
    assert len(data["sale_items"]) == 1
    assert len(data["campaign_recipients"]) == 1


def test_erase_removes_the_person_and_keeps_the_books(store: Store, workspaces: Workspaces, workspace_id: str) -> None:
    contact_id, _chat_id = make_customer(store)
    revenue = sum(s.amount_minor for s in store.sales.find_all())
    erased: list[ContactErased] = []
    store.bus.subscribe(ContactErased, erased.append)
    before = store.outbox.pending(limit=100_000)[-1].seq

    report = erase_contact(store, contact_id, actor_user_id=store.local_user_id)

    assert (report.chats, report.messages, report.notes, report.deals, report.campaign_recipients) == (1, 3, 2, 1, 1)
    assert store.contacts.find(contact_id, include_deleted=True) is None
    assert store.messages.count(include_deleted=True) == 0
    assert store.search_messages(CANARY.split("-")[2]) == []
    assert store.search_contacts("Lena") == []
    assert store.inbox() == []
    assert sum(s.amount_minor for s in store.sales.find_all()) == revenue
    assert all(s.contact_id is None and s.chat_id is None for s in store.sales.find_all())
    assert all(a.chat_id is None for a in store.ai_interactions.find_all())
    [audit] = store.audit_log.find_all({"action": "contact.erased"})
    assert "Lena" not in audit.model_dump_json()
    assert [e.contact_id for e in erased] == [contact_id]
    purges = {(e.table_name, e.op) for e in store.outbox.pending(after_seq=before, limit=10_000) if e.op == "purge"}
    assert {("contacts", "purge"), ("messages", "purge"), ("chats", "purge"), ("notes", "purge")} <= purges
    with store.db.read() as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    store.close()
    # Nothing recoverable on disk either: freed pages are zeroed, the log folded in; the key can't reveal it.
    key_store = workspaces.open(workspace_id)
    with key_store.db.read() as conn:
        pages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert pages == 0
    key_store.close()


def test_erase_unknown_contact(store: Store) -> None:
    from app.core.errors import NotFound

    with pytest.raises(NotFound):
        erase_contact(store, "01900000-0000-7000-8000-000000000000")


def test_erase_unlinks_other_peoples_sales_of_the_contacts_deal(store: Store) -> None:
    g = build_graph(store)
    other = store.contacts.create(name="Otto Other")
    theirs = store.sales.create(contact_id=other.id, deal_id=g.deal.id, amount_minor=100, sold_at=AT)
    nobodys = store.sales.create(deal_id=g.deal.id, amount_minor=200, sold_at=AT)

    report = erase_contact(store, g.contact.id)

    assert store.sales.get(theirs.id).deal_id is None
    assert store.sales.get(theirs.id).contact_id == other.id  # someone else's sale keeps its person
    assert store.sales.get(nobodys.id).deal_id is None
    assert report.sales_unlinked == 3  # the graph's own sale and the two pointing at the deal
    with store.db.read() as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    store.contacts.create(name="Next write works")


def test_erase_leaves_no_words_in_the_search_index(store: Store) -> None:
    g = build_graph(store)
    # Bulk of unrelated rows first, so the erased words sit in an index segment that other entries keep alive.
    for i in range(40):
        store.messages.create(chat_id=g.chat.id, direction="in", body=f"ordinary chatter {i}", sent_at=AT)
    other = store.contacts.create(name="Otto Other")
    other_chat = store.chats.create(contact_id=other.id, title="Otto")
    for i in range(40):
        store.messages.create(chat_id=other_chat.id, direction="in", body=f"other chatter {i}", sent_at=AT)
        store.notes.create(body=f"other note {i}", contact_id=other.id)
    store.messages.create(chat_id=g.chat.id, direction="in", body="my xylophonequokka password", sent_at=AT)
    store.notes.create(body="likes zanzibarquokka", contact_id=g.contact.id)

    def raw_hits(table: str, word: str) -> int:
        with store.db.read() as conn:
            sql = f"SELECT count(*) FROM {table}_data WHERE instr(block, CAST(? AS BLOB)) > 0"
            return int(conn.execute(sql, (word,)).fetchone()[0])

    assert raw_hits("messages_fts", "xylophonequokka") > 0
    assert raw_hits("notes_fts", "zanzibarquokka") > 0
    erase_contact(store, g.contact.id)
    store.db.checkpoint()
    assert raw_hits("messages_fts", "xylophonequokka") == 0
    assert raw_hits("notes_fts", "zanzibarquokka") == 0
    assert len(store.search_messages("chatter")) == 40  # the rest of the index is intact
    with store.db.transaction() as conn:
        conn.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
