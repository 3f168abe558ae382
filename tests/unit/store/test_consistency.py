"""A random walk of writes; afterwards every derived structure must equal a from-scratch recomputation.

The inbox figures (chat_stats) and the three FTS indexes are maintained incrementally by triggers; this compares
them with the full computation after hundreds of mixed inserts, edits, tombstones, undeletes and purges.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from app.store.store import Store
from tests.support.graph import AT

WORDS = ["shirt", "dress", "price", "delivery", "tomorrow", "café", "size", "blue", "красный", "配送", "obrigado"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_derived_state_matches_recomputation(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    contacts = [store.contacts.create(name=f"Person {i}", phone=f"+1555000{i:04d}") for i in range(6)]
    chats = [store.chats.create(contact_id=c.id) for c in contacts]
    messages: list[str] = []
    notes: list[str] = []
    for _ in range(400):
        roll = rng.random()
        chat = rng.choice(chats)
        body = " ".join(rng.choices(WORDS, k=4))
        when = AT + timedelta(minutes=rng.randint(0, 500))
        if roll < 0.45 or not messages:
            direction = rng.choice(["in", "out"])
            messages.append(store.messages.create(chat_id=chat.id, direction=direction, body=body, sent_at=when).id)
        elif roll < 0.55:
            store.messages.update(rng.choice(messages), body=body)
        elif roll < 0.62:
            store.messages.update(rng.choice(messages), sent_at=when)
        elif roll < 0.68:
            store.messages.update(rng.choice(messages), chat_id=rng.choice(chats).id)
        elif roll < 0.74:
            mid = rng.choice(messages)
            store.messages.update(mid, deleted_at=None if rng.random() < 0.3 else when)
        elif roll < 0.78:
            mid = messages.pop(rng.randrange(len(messages)))
            store.messages.purge(mid)
        elif roll < 0.84:
            store.chats.update(chat.id, last_read_at=when)
        elif roll < 0.88:
            store.chats.update(chat.id, pinned=rng.random() < 0.5, archived=rng.random() < 0.3)
        elif roll < 0.94:
            notes.append(store.notes.create(body=body, contact_id=chat.contact_id).id)
        elif notes:
            store.notes.update(rng.choice(notes), body=body)
        if rng.random() < 0.05:
            c = rng.choice(contacts)
            store.contacts.update(c.id, name=" ".join(rng.choices(WORDS, k=2)))

    with store.db.transaction() as conn:
        columns = (
            "chat_rid, visible, pinned, last_activity_at, last_message_rid, last_outbound_at, unread_count, "
            "message_count"
        )
        kept = conn.execute(f"SELECT {columns} FROM chat_stats ORDER BY chat_rid").fetchall()
        computed = conn.execute(f"SELECT {columns} FROM chat_stats_computed ORDER BY chat_rid").fetchall()
        assert kept == computed
        for table in ("messages_fts", "notes_fts", "contacts_fts"):
            conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        live = conn.execute("SELECT count(*) FROM messages WHERE deleted_at IS NULL").fetchone()[0]
        indexed = conn.execute(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'shirt OR dress OR price "
            "OR delivery OR tomorrow OR cafe OR size OR blue OR красный OR 配送 OR obrigado'"
        ).fetchone()[0]
        assert indexed == live
