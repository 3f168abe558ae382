"""Applying pulled rows to the local store: one page, one transaction, with local changes re-applied on top.

A page is a slice of the org's history in version order, so it may hold a message before its chat: it is written
with foreign-key checks off and without outbox echo (``applying_remote``), and the cursor advances in the same
transaction, so a crash leaves either the whole page and its cursor or neither.

Rebase: a pulled value never overwrites a column that has an unpushed local change (that change is pushed next and
wins by arrival, so writing the pulled value would only flicker), an unpushed local insert keeps its whole row, and
a row erased here stays erased. Deletes win: a row the server holds as deleted takes the server's values even over
unpushed local edits, because the server will drop those edits (and report them as ``deleted`` conflicts).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable

from app.core.ids import to_ms, utc_now
from app.store.database import Database
from app.store.outbox_triggers import shared_rows
from app.store.sqlcipher import Connection, IntegrityError
from app.sync.changes import Pending, pending_for, rows_with_pending_changes
from app.sync.credentials import CURSOR, REFETCH
from app.sync.protocol import SYNC_COLUMNS, Conflict, PullResponse, RowState, Value

log = logging.getLogger(__name__)

Seen = dict[str, set[str]]


def local_columns(conn: Connection, table: str) -> frozenset[str]:
    """Columns a pulled row may write: the wire's columns that this database's table really has."""
    present = {row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')}
    return frozenset(SYNC_COLUMNS.get(table, frozenset()) & present)


def apply_page(
    db: Database, org_id: str, page: PullResponse, requested_cursor: int, *, seen: Seen | None = None
) -> int:
    """Write ``page`` and advance the cursor in one transaction; returns the number of rows written.

    ``seen`` (during a full refetch) collects every (table, id) the server mentioned.
    """
    cursor = max(requested_cursor, page.cursor)  # on the last page the server's cursor is the org's version
    by_table: dict[str, list[RowState]] = defaultdict(list)
    for row in page.rows:
        by_table[row.table].append(row)
        if seen is not None:
            seen.setdefault(row.table, set()).add(row.id)
    written = 0
    with db.applying_remote(check_foreign_keys=False) as conn:
        for table, rows in by_table.items():
            columns = local_columns(conn, table)
            if not columns:
                log.warning("pulled %d rows of %r, which this version does not know; skipped", len(rows), table)
                continue
            ids = [r.id for r in rows]
            pending = pending_for(conn, table, ids)
            existing = _existing(conn, table, org_id, ids)
            for row in rows:
                written += _apply_row(conn, org_id, columns, row, pending.get(row.id), row.id in existing)
                if row.purged:
                    existing.discard(row.id)
        store_conflicts(conn, page.conflicts)
        _set_meta(conn, CURSOR, str(cursor))
    return written


def _apply_row(
    conn: Connection, org_id: str, columns: frozenset[str], row: RowState, pending: Pending | None, exists: bool
) -> int:
    table = row.table
    if row.purged:
        conn.execute(f'DELETE FROM "{table}" WHERE org_id = ? AND id = ?', (org_id, row.id))
        return 1
    if pending is not None and pending.purged:
        return 0  # erased here; the purge is on its way to the server
    data: dict[str, Value] = {c: v for c, v in row.data.items() if c in columns}
    if row.deleted and data.get("deleted_at") is None and "deleted_at" in columns:
        data["deleted_at"] = data.get("updated_at") or to_ms(utc_now())
    if pending is not None and (pending.whole_row or not row.deleted):
        data = {c: v for c, v in data.items() if not pending.keeps(c)}
    if exists:
        if not data:
            return 0
        assignments = ", ".join(f'"{c}" = ?' for c in data)
        conn.execute(
            f'UPDATE "{table}" SET {assignments} WHERE org_id = ? AND id = ?', [*data.values(), org_id, row.id]
        )
        return 1
    names = ["org_id", "id", *data]
    try:
        conn.execute(
            f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" for _ in names)})',
            [org_id, row.id, *data.values()],
        )
    except IntegrityError as exc:
        # A row the server holds only in part (it never saw the insert), or a duplicate of a local row by another
        # key (the same WhatsApp message captured on two devices). Kept out rather than failing the whole page.
        log.warning("pulled %s row %s could not be stored locally: %s", table, row.id, exc)
        return 0
    return 1


def _existing(conn: Connection, table: str, org_id: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        found.update(
            r[0]
            for r in conn.execute(f'SELECT id FROM "{table}" WHERE org_id = ? AND id IN ({marks})', [org_id, *chunk])
        )
    return found


def store_conflicts(conn: Connection, conflicts: Iterable[Conflict]) -> int:
    """Keep the server's conflict reports for the UI (inside the caller's transaction)."""
    rows = [
        (
            c.table,
            c.id,
            json.dumps(c.fields),
            c.reason,
            json.dumps(c.theirs, ensure_ascii=False),
            c.version,
            c.at,
        )
        for c in conflicts
    ]
    conn.executemany(
        "INSERT INTO sync_conflicts (table_name, row_id, fields, reason, theirs, version, detected_at, seen) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
        rows,
    )
    return len(rows)


def is_normalisation(conflict: Conflict) -> bool:
    """A refusal that only restates the server's own records: a role no member record backs (the seeded users of a
    workspace that becomes a team are not members) or an org row under another key. In a workspace's first upload
    it replaced nobody's edit, so it is not worth a "replaced" note; the server's values are still put back."""
    return conflict.reason == "forbidden"


def apply_theirs(conn: Connection, org_id: str, conflicts: Iterable[Conflict]) -> None:
    """Put the server's values back where it refused this device's push (append-only text, a role only the owner
    may set, an edit of a deleted row): the refused change bumped no version, so no pull would ever bring them.
    Columns with a still-unpushed local change keep it (it will be refused, or win, on its own push)."""
    for conflict in conflicts:
        if conflict.reason not in ("append_only", "forbidden", "deleted") or not conflict.theirs:
            continue
        if conflict.reason == "deleted" and conflict.theirs.get("deleted_at") is None:
            continue  # purged on the server: the purge arrives with the next pull
        columns = local_columns(conn, conflict.table)
        pending = pending_for(conn, conflict.table, [conflict.id]).get(conflict.id)
        values = {c: v for c, v in conflict.theirs.items() if c in columns and not (pending and pending.keeps(c))}
        if values:
            assignments = ", ".join(f'"{c}" = ?' for c in values)
            conn.execute(
                f'UPDATE "{conflict.table}" SET {assignments} WHERE org_id = ? AND id = ?',
                [*values.values(), org_id, conflict.id],
            )


def remove_unseen(db: Database, org_id: str, seen: Seen) -> int:
    """End of a full refetch: drop local synced rows the server no longer mentions (their tombstones were purged
    on the server), except rows with unpushed local changes. Returns how many were removed."""
    removed = 0
    with db.applying_remote(check_foreign_keys=False) as conn:
        keep = rows_with_pending_changes(conn)
        for table in SYNC_COLUMNS:
            if not local_columns(conn, table):
                continue
            shared = shared_rows(table, table)  # rows of this computer alone are not the server's to remove
            local = [r[0] for r in conn.execute(f'SELECT id FROM "{table}" WHERE org_id = ? AND {shared}', (org_id,))]
            gone = [i for i in local if i not in seen.get(table, set()) and i not in keep.get(table, set())]
            conn.executemany(f'DELETE FROM "{table}" WHERE org_id = ? AND id = ?', [(org_id, i) for i in gone])
            removed += len(gone)
        conn.execute("DELETE FROM workspace_meta WHERE key = ?", (REFETCH,))
    return removed


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO workspace_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def start_refetch(db: Database) -> None:
    """The server's tombstones are older than our cursor: pull everything again from 0 (flag kept until done)."""
    with db.transaction() as conn:
        _set_meta(conn, REFETCH, "1")
        _set_meta(conn, CURSOR, "0")
