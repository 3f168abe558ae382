"""Outbox triggers, generated from the live schema of every table listed in ``sync_tables``.

Writing them by hand for two dozen tables would be the one place a column could be forgotten; generating them
from ``PRAGMA table_info`` inside each migration's transaction keeps them exact as columns come and go. Each
insert, update or delete of a synced row writes exactly one outbox row, unless the transaction is applying rows
pulled from the server (``sync_control.applying_remote``), and an update that changes nothing writes none.
``changed`` names the columns an update touched; an insert (the whole row) and a purge (no row) leave it empty.

A synced table may keep some rows or columns on this computer (``SHARED_ROWS``, ``LOCAL_COLUMNS``): the jobs table
syncs only the jobs that send on the WhatsApp number, and never the lease of the computer running one (schema 14).
"""

from __future__ import annotations

from app.store.sqlcipher import Connection

# Bookkeeping columns that never count as a user's change.
_NOT_CHANGES = frozenset({"rid", "org_id", "id", "created_at", "updated_at"})
_PREFIX = "outbox__"

# A UUIDv7 in SQL (SQLite has no uuid function): the millisecond time first, so the outbox's unique op_id index
# grows at its end like the table itself instead of taking each insert at a random place.
_MS = "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
_UUID7 = (
    "lower(printf('%08x-%04x-7%03x-%04x-%012x', "
    f"{_MS} >> 16, {_MS} & 65535, random() & 4095, (random() & 16383) | 32768, random() & 281474976710655))"
)
_NOW_MS = _MS
_NOT_APPLYING = "(SELECT applying_remote FROM sync_control WHERE id = 1) = 0"

# Which rows of a synced table travel, when not all do: a condition on the row (``{row}`` is ``new`` or ``old`` in a
# trigger, the table's name in a query). The jobs of this computer alone (the daily revenue check) stay here.
SHARED_ROWS: dict[str, str] = {"jobs": "{row}.shared = 1"}
# Columns of a synced table that never travel: a change of them alone writes no outbox row.
LOCAL_COLUMNS: dict[str, frozenset[str]] = {"jobs": frozenset({"lease_owner", "lease_until"})}


def shared_rows(table: str, row: str) -> str:
    """The SQL condition a row of ``table`` meets when it travels ("1" for every row of most tables)."""
    condition = SHARED_ROWS.get(table)
    return "1" if condition is None else "(" + condition.format(row=row) + ")"


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected identifier {name!r}")
    return f'"{name}"'


def synced_tables(conn: Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT name FROM sync_tables ORDER BY name")]


def data_columns(conn: Connection, table: str) -> list[str]:
    cols = [row[1] for row in conn.execute(f"PRAGMA table_info({_ident(table)})")]
    local = LOCAL_COLUMNS.get(table, frozenset())
    return [c for c in cols if c not in _NOT_CHANGES and c not in local]


def _statements(table: str, columns: list[str]) -> list[str]:
    t = _ident(table)
    differs = " OR ".join(f"old.{_ident(c)} IS NOT new.{_ident(c)}" for c in columns)
    changed_each = ", ".join(f"CASE WHEN old.{_ident(c)} IS NOT new.{_ident(c)} THEN '{c}' END" for c in columns)
    changed = f"(SELECT json_group_array(value) FROM json_each(json_array({changed_each})) WHERE value IS NOT NULL)"
    insert = (
        "INSERT INTO outbox (op_id, table_name, row_id, org_id, op, changed, created_at) VALUES "
        f"({_UUID7}, '{table}', {{row}}.id, {{row}}.org_id, {{op}}, {{changed}}, {_NOW_MS});"
    )
    op_update = "CASE WHEN old.deleted_at IS NULL AND new.deleted_at IS NOT NULL THEN 'delete' ELSE 'update' END"
    # A table with only bookkeeping columns has no update a peer needs to hear about: no update trigger.
    on_update = (
        [
            f"CREATE TRIGGER {_PREFIX}{table}__update AFTER UPDATE ON {t} "
            f"WHEN {_NOT_APPLYING} AND {shared_rows(table, 'new')} AND ({differs}) BEGIN "
            + insert.format(row="new", op=op_update, changed=changed)
            + " END"
        ]
        if columns
        else []
    )
    return [
        f"CREATE TRIGGER {_PREFIX}{table}__insert AFTER INSERT ON {t} "
        f"WHEN {_NOT_APPLYING} AND {shared_rows(table, 'new')} BEGIN "
        + insert.format(row="new", op="'insert'", changed="'[]'")
        + " END",
        *on_update,
        f"CREATE TRIGGER {_PREFIX}{table}__delete AFTER DELETE ON {t} "
        f"WHEN {_NOT_APPLYING} AND {shared_rows(table, 'old')} BEGIN "
        + insert.format(row="old", op="'purge'", changed="'[]'")
        + " END",
        # The sync identity never changes once written: a changed id would be a different row to every peer.
        f"CREATE TRIGGER {_PREFIX}{table}__immutable_key BEFORE UPDATE OF org_id, id ON {t} "
        "WHEN old.org_id IS NOT new.org_id OR old.id IS NOT new.id "
        "BEGIN SELECT RAISE(ABORT, 'org_id and id of a synced row cannot change'); END",
    ]


def rebuild(conn: Connection) -> None:
    """Drop and recreate every outbox trigger. Call inside the migration's transaction."""
    # A prefix test, not LIKE: '_' in the prefix would match any character and catch unrelated triggers.
    existing = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, length(?1)) = ?1", (_PREFIX,)
        )
    ]
    for name in existing:
        conn.execute(f"DROP TRIGGER {_ident(name)}")
    for table in synced_tables(conn):
        for statement in _statements(table, data_columns(conn, table)):
            conn.execute(statement)
