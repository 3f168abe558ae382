"""The demo-data generator: exact counts, the same data for the same seed, and a workspace the app can use."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import null

from app.core.ids import new_id, to_ms
from app.store import keys
from app.store.database import Database
from app.store.keyring_vault import KeyringVault
from app.store.seed import BASE, SeedReport, populate
from app.store.store import Store
from app.store.workspaces import Workspaces

ROOT = Path(__file__).resolve().parents[3]
CHATS, MESSAGES = 100, 3_000


def rows(store: Store, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with store.db.read() as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def bare_store(path: Path) -> Store:
    """A store with nothing but its org row, as the benchmark builds it."""
    store = Store(Database.open(path, keys.random_key()), new_id())
    store.orgs.create(id=store.org_id, name="Demo Boutique")
    return store


def fingerprint(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    people = rows(store, "SELECT name, phone, lifetime_value_minor FROM contacts ORDER BY rid")
    messages = rows(store, "SELECT body, direction, status, sent_at FROM messages ORDER BY rid")
    return people, messages


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = bare_store(tmp_path_factory.mktemp("seed") / "seed.db")
    stages: list[str] = []
    report = populate(
        store, chats=CHATS, messages=MESSAGES, seed=7, progress=lambda stage, done, total: stages.append(stage)
    )
    yield store, report, stages
    store.close()


def test_counts_are_exact_and_every_chat_has_messages(seeded: tuple[Store, SeedReport, list[str]]) -> None:
    store, report, stages = seeded
    assert (report.contacts, report.chats, report.messages) == (CHATS, CHATS, MESSAGES)
    assert store.contacts.count() == store.chats.count() == CHATS
    assert store.messages.count() == MESSAGES
    assert (store.notes.count(), store.deals.count(), store.sales.count()) == (report.notes, report.deals, report.sales)
    assert store.products.count() == report.products >= 10
    assert report.deals == CHATS * 15 // 100
    assert report.notes >= CHATS * 5 // 100
    assert report.sales >= 1
    assert 0 < report.message_seconds <= report.total_seconds
    sql = "SELECT count(m.rid) FROM chats c LEFT JOIN messages m ON m.chat_id = c.id GROUP BY c.id"
    per_chat = [n for (n,) in rows(store, sql)]
    assert len(per_chat) == CHATS
    assert min(per_chat) >= 1
    assert sum(per_chat) == MESSAGES
    assert max(per_chat) > 4 * MESSAGES / CHATS  # a few long chats, many short ones
    assert sorted(per_chat)[CHATS // 2] < MESSAGES / CHATS
    assert stages.count("messages") >= 1
    assert stages[-1] == "messages"
    assert store.users.count() >= 2
    assert store.pipeline_stages.count() >= 2
    assert store.quick_replies.count() > 0
    assert store.tags.count() > 0


def test_people_look_real(seeded: tuple[Store, SeedReport, list[str]]) -> None:
    store, _, _ = seeded
    contacts = store.contacts.find_all()
    for c in contacts:
        assert re.fullmatch(r"\+[1-9]\d{8,14}", c.phone or ""), c.phone
        assert c.wa_id == f"{(c.phone or '')[1:]}@c.us"
    assert len({c.phone for c in contacts}) == CHATS
    assert len({c.language for c in contacts}) >= 5
    assert any(c.company_id for c in contacts)
    assert any(not c.name.isascii() for c in contacts)
    chats = store.chats.find_all()
    assert any(c.pinned for c in chats)
    assert any(c.archived for c in chats)
    assert any(c.tags for c in chats)
    assert any(c.assigned_user_id for c in chats)
    assert any(c.assigned_user_id is None for c in chats)


def test_messages_look_real(seeded: tuple[Store, SeedReport, list[str]]) -> None:
    store, _, _ = seeded
    wa_ids = [w for (w,) in rows(store, "SELECT wa_id FROM messages")]
    assert None not in wa_ids
    assert len(set(wa_ids)) == MESSAGES
    assert sum(bool(re.fullmatch(r"3EB0[0-9A-F]{16}", w)) for w in wa_ids) > MESSAGES * 0.7
    statuses = dict(rows(store, "SELECT direction, group_concat(DISTINCT status) FROM messages GROUP BY direction"))
    assert statuses["in"] == "received"
    assert set(statuses["out"].split(",")) == {"read", "delivered", "sent"}
    bodies = [b for (b,) in rows(store, "SELECT body FROM messages")]
    assert any(re.search(r"[\u0600-\u06ff]", b) for b in bodies)  # Arabic
    assert any(re.search(r"[\u0400-\u04ff\u0900-\u097f]", b) for b in bodies)  # Cyrillic or Devanagari
    assert any("🙏" in b or "😊" in b for b in bodies)
    assert rows(store, "SELECT max(sent_at) FROM messages")[0][0] < to_ms(BASE)
    # Runs: a direction is kept for a few messages, then the other side answers.
    directions = "".join(d[0] for (d,) in rows(store, "SELECT direction FROM messages ORDER BY chat_id, sent_at, rid"))
    assert "ii" in directions
    assert "oo" in directions
    assert "io" in directions


def test_inbox_unread_and_search(seeded: tuple[Store, SeedReport, list[str]]) -> None:
    store, _, _ = seeded
    page = store.inbox(limit=CHATS)
    assert 0 < len(page) < CHATS  # archived chats are not listed
    assert [r.pinned for r in page] == sorted((r.pinned for r in page), reverse=True)
    assert any(r.unread_count > 0 for r in page)
    assert any(r.unread_count == 0 for r in page)
    assert all(r.last_message_body is not None for r in page)
    message_id, chat_id, body = rows(store, "SELECT id, chat_id, body FROM messages WHERE kind = 'text' LIMIT 1")[0]
    word = max(re.findall(r"\w+", body), key=len)
    assert message_id in {h.id for h in store.search_messages(word, chat_id=chat_id, limit=500)}
    assert store.search_messages("photos")  # a word of the English lines
    name, phone = rows(store, "SELECT name, phone FROM contacts WHERE name != '' ORDER BY rid LIMIT 1")[0]
    assert any(h.title == name for h in store.search_contacts(phone[-7:]))


def test_lifetime_values_match_sales(seeded: tuple[Store, SeedReport, list[str]]) -> None:
    store, _, _ = seeded
    mismatched = rows(
        store,
        "SELECT c.id FROM contacts c LEFT JOIN sales s ON s.contact_id = c.id "
        "GROUP BY c.id HAVING c.lifetime_value_minor != coalesce(sum(s.amount_minor), 0)",
    )
    assert mismatched == []
    assert rows(store, "SELECT count(DISTINCT contact_id) FROM sales")[0][0] >= CHATS * 8 // 100
    buyers = {lc for (lc,) in rows(store, "SELECT DISTINCT lifecycle FROM contacts WHERE lifetime_value_minor > 0")}
    assert buyers <= {"customer", "churned"}
    unbalanced = rows(
        store,
        "SELECT s.id FROM sales s JOIN sale_items i ON i.sale_id = s.id "
        "GROUP BY s.id HAVING s.amount_minor != sum(i.quantity * i.unit_price_minor)",
    )
    assert unbalanced == []
    wrong_status = rows(
        store, "SELECT d.id FROM deals d JOIN pipeline_stages st ON st.id = d.stage_id WHERE d.status != st.stage_kind"
    )
    assert wrong_status == []


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    prints = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        store = bare_store(tmp_path / f"{name}.db")
        try:
            populate(store, chats=30, messages=600, seed=seed)
            prints.append(fingerprint(store))
        finally:
            store.close()
    assert prints[0] == prints[1]
    assert prints[0][0] != prints[2][0]
    assert prints[0][1] != prints[2][1]


def test_populates_a_workspace_with_owner_and_pipeline(store: Store) -> None:
    users_before = store.users.count()
    stages_before = store.pipeline_stages.count()
    report = populate(store, chats=10, messages=40, seed=1)
    assert store.messages.count() == report.messages == 40
    assert store.pipelines.count() == 1
    assert store.pipeline_stages.count() == stages_before
    assert store.users.count() > users_before


def test_refuses_fewer_messages_than_chats(tmp_path: Path) -> None:
    store = bare_store(tmp_path / "x.db")
    try:
        with pytest.raises(ValueError, match="messages"):
            populate(store, chats=10, messages=9, seed=1)
    finally:
        store.close()


def _cli(home: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "app.store.seed", "--chats", "20", "--messages", "200", "--seed", "3"]
    return subprocess.run(
        [*argv, "--home", str(home), *extra],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_cli_creates_a_passphrase_workspace(tmp_path: Path) -> None:
    env = dict(
        os.environ, PARLEY_PASSPHRASE="correct horse battery", PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring"
    )
    done = _cli(tmp_path / "home", env)
    assert done.returncode == 0, done.stderr
    found = re.search(r"workspace: (\S+)", done.stdout)
    assert found, done.stdout
    workspaces = Workspaces(tmp_path / "home", KeyringVault(null.Keyring()))
    assert workspaces.needs_passphrase(found[1])
    store = workspaces.open(found[1], passphrase="correct horse battery")
    try:
        assert (store.chats.count(), store.messages.count()) == (20, 200)
        assert store.orgs.get(store.org_id).name == "Demo Boutique"
    finally:
        store.close()


def test_cli_without_keyring_or_passphrase_fails_clearly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PARLEY_PASSPHRASE"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    done = _cli(tmp_path / "home", env, "--passphrase-env", "NO_SUCH_VARIABLE")
    assert done.returncode == 2
    assert "NO_SUCH_VARIABLE" in done.stderr
    assert "passphrase" in done.stderr
    assert not (tmp_path / "home" / "workspaces").exists() or not any((tmp_path / "home" / "workspaces").iterdir())
