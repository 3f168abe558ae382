"""Which tables a write transaction touched, recorded by the database itself.

Views refresh from what changed. Asking every writer to say what it wrote (``announce("contacts")``) is forgotten
on one path or another (sync's page apply never said anything, so a teammate's edit never reached an open page);
here the writer connection records it instead. Every table a page shows gets three TEMP triggers (insert, update,
delete) that add the table's name to ``temp.parley_touched``: they run in SQLite's C code for every path that
writes — repositories, sync's page apply, intake, imports, raw SQL — and cost one primary-key probe per row.

The set belongs to the transaction: a savepoint or transaction that rolls back takes its names back with it, so
nothing is published for a write that did not happen. ``take`` reads and empties it just before COMMIT.

TEMP objects live on the writer connection only (readers never write) and are recreated whenever the writer is
opened, after migrations, so they always match the current schema. They are never saved in the file.
"""

from __future__ import annotations

from app.store.sqlcipher import Connection

# Local tables that pages show beside the synced ones (which are all tracked, as listed in ``sync_tables``):
# the inbox's derived rows, per-device settings, sync conflicts (Settings › Team sync) and knowledge passages.
LOCAL_TRACKED = ("chat_stats", "settings", "sync_conflicts", "knowledge_chunks")

_TABLE = "parley_touched"
_PREFIX = "touched__"


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected identifier {name!r}")
    return f'"{name}"'


def tracked_tables(conn: Connection) -> list[str]:
    """Every synced table plus the local ones pages read, as far as this schema has them."""
    synced = [row[0] for row in conn.execute("SELECT name FROM sync_tables")]
    present = {row[0] for row in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")}
    return sorted({t for t in synced if t in present} | {t for t in LOCAL_TRACKED if t in present})


def install(conn: Connection) -> frozenset[str]:
    """Create the set and its triggers on ``conn`` (the writer), outside any transaction; returns the tables."""
    tables = tracked_tables(conn)
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_TABLE} (tbl TEXT PRIMARY KEY) WITHOUT ROWID")
    for table in tables:
        for op in ("INSERT", "UPDATE", "DELETE"):
            conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS {_PREFIX}{table}__{op.lower()} AFTER {op} ON main.{_ident(table)} "
                f"BEGIN INSERT OR IGNORE INTO {_TABLE} (tbl) VALUES ('{table}'); END"
            )
    return frozenset(tables)


def take(conn: Connection) -> frozenset[str]:
    """The tables touched since the set was last emptied, emptying it (inside the transaction that wrote them)."""
    tables = frozenset(row[0] for row in conn.execute(f"SELECT tbl FROM temp.{_TABLE}"))
    if tables:
        conn.execute(f"DELETE FROM temp.{_TABLE}")
    return tables
