"""Numbered SQL migrations, each applied in one transaction and tracked by ``PRAGMA user_version``.

A database whose version is above the newest migration this build knows was written by a newer Parley: it is
refused before anything is written, so an older build can never damage it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

from app.core.errors import DatabaseTooNew
from app.store import outbox_triggers
from app.store.sqlcipher import Connection, user_version

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    folder = resources.files("app.store").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {[m.version for m in found]}")
    return found


MIGRATIONS = load_migrations()
LATEST_VERSION = MIGRATIONS[-1].version


def check_not_newer(conn: Connection) -> int:
    version = user_version(conn)
    if version > LATEST_VERSION:
        raise DatabaseTooNew(
            f"This workspace was saved by a newer version of Parley (schema {version}; "
            f"this version understands up to {LATEST_VERSION})."
        )
    return version


def migrate(conn: Connection, *, target: int = LATEST_VERSION) -> int:
    """Bring the database to ``target``; returns the version it was at. Each step commits or rolls back whole."""
    current = check_not_newer(conn)
    pending = [m for m in MIGRATIONS if current < m.version <= target]
    if not pending:
        return current
    # A migration that rebuilds a table (create new, copy, drop old, rename) must not cascade or fail on the way:
    # foreign keys are off while it runs (the pragma cannot change inside a transaction, so around it), and
    # ``PRAGMA foreign_key_check`` inside each migration's transaction refuses a result that breaks them.
    enforced = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for migration in pending:
            _apply(conn, migration)
    finally:
        if enforced:
            conn.execute("PRAGMA foreign_keys = ON")
    return current


def _apply(conn: Connection, migration: Migration) -> None:
    log.info("applying migration %04d_%s", migration.version, migration.name)
    conn.execute("BEGIN IMMEDIATE")
    try:
        # executescript would COMMIT first; run statement by statement inside our transaction instead.
        for statement in _split(migration.sql):
            conn.execute(statement)
        outbox_triggers.rebuild(conn)
        conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        if violations:
            raise RuntimeError(f"migration {migration.version} leaves foreign key violations: {violations[:5]}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _split(sql: str) -> list[str]:
    """Split a script into complete statements (trigger bodies contain ';', so ask SQLite where each ends)."""
    import sqlcipher3.dbapi2 as sqlcipher

    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlcipher.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise RuntimeError(f"incomplete statement at the end of a migration: {buffer[:80]!r}")
    return statements
