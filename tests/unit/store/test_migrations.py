"""Migrations: numbered, one transaction each, refuse newer databases, and upgrade every saved schema."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.errors import DatabaseTooNew
from app.store import keys, migrations, sqlcipher
from app.store.database import Database
from app.store.migrations import LATEST_VERSION, MIGRATIONS, Migration
from app.store.store import Store
from tests.data.make_snapshot import ORG_ID, SNAPSHOT_KEY, snapshot_path
from tests.support.files import digest


def test_versions_are_contiguous_and_named() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))
    assert all(m.name for m in MIGRATIONS)


def test_fresh_database_is_at_latest(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "x.db", keys.random_key())
    with db.read() as conn:
        assert sqlcipher.user_version(conn) == LATEST_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.integrity_check() == ["ok"]
    db.close()


@pytest.mark.parametrize("version", range(1, LATEST_VERSION + 1))
def test_every_schema_version_has_a_saved_database(version: int) -> None:
    assert snapshot_path(version).exists(), f"run: python -m tests.data.make_snapshot {version}"


@pytest.mark.parametrize("version", range(1, LATEST_VERSION + 1))
def test_upgrade_from_saved_database(version: int, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(snapshot_path(version), path)
    conn = sqlcipher.connect(path, SNAPSHOT_KEY)
    assert sqlcipher.user_version(conn) == version
    conn.close()

    db = Database.open(path, SNAPSHOT_KEY)
    store = Store(db, ORG_ID)
    with db.read() as conn:
        assert sqlcipher.user_version(conn) == LATEST_VERSION
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.integrity_check() == ["ok"]
    # The data survived, and what later schemas derive from it was built.
    contact = store.contacts.find_all()[0]
    assert contact.name == "José Müller"
    assert contact.tags == ["vip"]
    assert [m.body for m in store.messages.find_all(order_by="sent_at")][-1] == "Perfecto 👍"
    assert store.settings.appearance.theme == "dark"
    [row] = store.inbox()
    assert (row.display_name, row.message_count, row.last_message_body) == ("José Müller", 3, "Perfecto 👍")
    assert [h.title for h in store.search_messages("chaqueta")] == ["José Müller"]
    assert [h.id for h in store.search_contacts("Müller")] == [contact.id]
    assert len(store.search_notes("delivery")) == 1
    # Schema 9: chats start open, and names in use became managed labels (the id from the name, so two computers
    # of a team upgrading apart make the same label).
    assert row.status == "open"
    if version < 9:
        [vip] = [t for t in store.tags.find_all() if t.name.casefold() == "vip"]
        assert vip.id == "t-" + b"vip".hex()
    # Schema 13: who owns the chat, which agent sent the reply, the agents' own rows.
    [chat] = store.chats.find_all()
    [reply] = store.messages.find_all({"wa_id": "3EB0SNAP1"})
    if version < 13:
        assert (chat.ai_mode, chat.ai_handed_back_at, reply.sent_by_agent) == (None, None, None)
    else:
        assert (chat.ai_mode, reply.sent_by_agent) == ("autopilot", "acquisition")
        [config] = store.agent_configs.find_all()
        assert (config.agent, config.version, config.mode) == ("acquisition", 2, "autopilot")
        [run] = store.agent_executions.find_all()
        assert (run.config_version, run.action, run.chat_id, run.tokens) == (2, "send", chat.id, 321)
        assert store.orgs.get(ORG_ID).business_hours["days"]["mon"] == [["09:00", "18:00"]]
        with db.read() as conn:
            assert conn.execute("SELECT last_seq FROM agent_cursors").fetchall() == [(1,)]
            assert conn.execute("SELECT name, status FROM health_checks").fetchall() == [("disk", "ok")]
    # And it keeps working: writes still reach the outbox.
    before = store.outbox.count()
    store.contacts.update(contact.id, lead_score=70)
    assert store.outbox.count() == before + 1
    db.close()


def test_failed_migration_rolls_back_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.db"
    key = keys.random_key()
    Database.open(path, key).close()
    broken = Migration(
        LATEST_VERSION + 1, "broken", "CREATE TABLE half_done (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n"
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, broken])
    conn = sqlcipher.connect(path, key)
    with pytest.raises(sqlcipher.OperationalError, match="nowhere"):
        migrations.migrate(conn, target=LATEST_VERSION + 1)
    assert sqlcipher.user_version(conn) == LATEST_VERSION
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
    conn.close()


def test_newer_database_refused_before_any_write(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    key = keys.random_key()
    db = Database.open(path, key)
    with db.exclusive() as conn:
        conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    db.close()
    before = digest(path)
    with pytest.raises(DatabaseTooNew, match=f"schema {LATEST_VERSION + 1}"):
        Database.open(path, key)
    assert digest(path) == before


def test_statement_splitter_keeps_trigger_bodies_whole() -> None:
    sql = "-- c\nCREATE TABLE a (x);\n\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;\n"
    assert [s.split()[1] for s in migrations._split(sql)] == ["TABLE", "TRIGGER"]
