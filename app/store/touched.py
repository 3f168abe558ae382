"""Which tables a write transaction touched, recorded by the database itself.

Views refresh from what changed. Asking every writer to say what it wrote (``announce("contacts")``) is forgotten
on one path or another (sync's page apply never said anything, so a teammate's edit never reached an open page);
here the writer connection records it instead. Every table a page shows gets three TEMP triggers (insert, update,
delete) that add the table's name to ``temp.parley_touched``: they run in SQLite's C code for every path that
writes — repositories, sync's page apply, intake, imports, raw SQL — and cost one primary-key probe per row.

Where it is cheap the rows are named too: a write to ``chats`` (its id), ``messages`` or ``notes`` (their chat id)
adds that chat id to ``temp.parley_touched_chats``, so the inbox reloads the open conversation only when it is the
one that changed (a busy hour of other chats' messages costs it nothing).

The sets belong to the transaction: a savepoint or transaction that rolls back takes its names back with it, so
nothing is published for a write that did not happen. ``take`` reads and empties it just before COMMIT.

TEMP objects live on the writer connection only (readers never write) and are recreated whenever the writer is
opened, after migrations, so they always match the current schema. They are never saved in the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.store.sqlcipher import Connection

# Local tables that pages show beside the synced ones (which are all tracked, as listed in ``sync_tables``):
# the inbox's derived rows, per-device settings, sync conflicts (Settings › Team sync), knowledge passages and the
# durable jobs (the Agents page's jobs list; a tick that finds nothing due writes nothing, so it costs nothing).
LOCAL_TRACKED = ("chat_stats", "settings", "sync_conflicts", "knowledge_chunks", "jobs")

_TABLE = "parley_touched"
_CHATS = "parley_touched_chats"
_PREFIX = "touched__"
# Tables whose rows name a chat, and the column that does.
CHAT_KEYS = {"chats": "id", "messages": "chat_id", "notes": "chat_id"}
# Past this many chats in one transaction (an import, a first download) the ids are not listed: "any chat".
MAX_CHAT_IDS = 1000


@dataclass(frozen=True)
class Touched:
    """What one committed transaction wrote: tracked tables, and the chats whose rows changed (``None``: too many
    to list, or unknown, so any chat may have changed)."""

    tables: frozenset[str]
    chat_ids: frozenset[str] | None = frozenset()


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
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_CHATS} (chat_id TEXT PRIMARY KEY) WITHOUT ROWID")
    for table in tables:
        key = CHAT_KEYS.get(table)
        for op, rows in (("INSERT", ("new",)), ("UPDATE", ("new", "old")), ("DELETE", ("old",))):
            body = f"INSERT OR IGNORE INTO {_TABLE} (tbl) VALUES ('{table}');"
            if key is not None:
                for row in rows:
                    column = f"{row}.{_ident(key)}"
                    body += f" INSERT OR IGNORE INTO {_CHATS} (chat_id) SELECT {column} WHERE {column} IS NOT NULL;"
            conn.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS {_PREFIX}{table}__{op.lower()} AFTER {op} ON main.{_ident(table)} "
                f"BEGIN {body} END"
            )
    return frozenset(tables)


def take(conn: Connection) -> Touched:
    """What was touched since the sets were last emptied, emptying them (inside the transaction that wrote it)."""
    tables = frozenset(row[0] for row in conn.execute(f"SELECT tbl FROM temp.{_TABLE}"))
    if not tables:
        return Touched(tables)
    conn.execute(f"DELETE FROM temp.{_TABLE}")
    chat_ids: frozenset[str] | None = frozenset()
    if tables & CHAT_KEYS.keys():
        ids = [row[0] for row in conn.execute(f"SELECT chat_id FROM temp.{_CHATS} LIMIT ?", (MAX_CHAT_IDS + 1,))]
        chat_ids = frozenset(ids) if len(ids) <= MAX_CHAT_IDS else None
        conn.execute(f"DELETE FROM temp.{_CHATS}")
    return Touched(tables, chat_ids)


def mark(conn: Connection, table: str, chat_ids: frozenset[str] | set[str] = frozenset()) -> None:
    """Report ``table`` (and these chats) as touched by the current write transaction, for a write its triggers do
    not see: media bytes fetched from the team server change how a message looks without changing its row."""
    conn.execute(f"INSERT OR IGNORE INTO temp.{_TABLE} (tbl) VALUES (?)", (table,))
    conn.executemany(f"INSERT OR IGNORE INTO temp.{_CHATS} (chat_id) VALUES (?)", [(c,) for c in chat_ids])
