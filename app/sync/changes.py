"""Outbox entries as wire ``Change``s, and the local changes a pulled row must not overwrite.

The outbox records *that* a row changed (and which columns), not the values: they are read at push time, so a row
edited ten times since the last push sends its current values ten times cheaply instead of ten stale snapshots,
and nothing in the outbox can drift from the row. An entry whose row is gone was purged later; that purge has its
own entry further on, so the earlier entry sends nothing but is still acknowledged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from app.core.models import OutboxEntry
from app.store.database import Database
from app.store.sqlcipher import Connection
from app.sync.protocol import SYNC_COLUMNS, Change, RowData

# Sent with every update and delete beside the columns that changed (a delete's ``deleted_at`` is one of them), so
# peers keep the row's time right. ``deleted_at`` is not sent with a plain update: a stale NULL must never undelete.
_ALWAYS = ("updated_at",)


@dataclass(frozen=True)
class Batch:
    """What one push sends: the changes, and the highest seq read (entries without a change are acknowledged too)."""

    changes: list[Change]
    last_seq: int


def build_batch(db: Database, org_id: str, entries: Sequence[OutboxEntry]) -> Batch:
    """The ``Change`` of each entry (in seq order), reading the rows' current values in one read transaction."""
    if not entries:
        return Batch([], 0)
    changes: list[Change] = []
    with db.read() as conn:
        if not conn.in_transaction:
            conn.execute("BEGIN")  # one snapshot for the whole batch
        rows = _current_rows(conn, org_id, entries)
        for entry in entries:
            change = _change(entry, rows.get((entry.table_name, entry.row_id)))
            if change is not None:
                changes.append(change)
    return Batch(changes, entries[-1].seq)


def _change(entry: OutboxEntry, row: RowData | None) -> Change | None:
    table, op = entry.table_name, entry.op
    columns = SYNC_COLUMNS.get(table)
    if columns is None:
        return None  # a local table that is not (or no longer) synced
    if op == "purge":
        return Change(seq=entry.seq, table=table, id=entry.row_id, op="purge")
    if row is None:
        return None  # purged since: its purge entry follows
    if op == "insert":
        data = dict(row)
    else:
        wanted = {c for c in entry.changed if c in columns} | {c for c in _ALWAYS if c in columns}
        data = {c: row[c] for c in sorted(wanted)}
    return Change(seq=entry.seq, table=table, id=entry.row_id, op=op, data=data)


def _current_rows(conn: Connection, org_id: str, entries: Iterable[OutboxEntry]) -> dict[tuple[str, str], RowData]:
    by_table: dict[str, set[str]] = {}
    for entry in entries:
        if entry.op != "purge" and entry.table_name in SYNC_COLUMNS:
            by_table.setdefault(entry.table_name, set()).add(entry.row_id)
    found: dict[tuple[str, str], RowData] = {}
    for table, ids in by_table.items():
        columns = sorted(SYNC_COLUMNS[table])
        id_list = sorted(ids)
        for start in range(0, len(id_list), 500):  # stay under SQLite's bound-parameter limit
            chunk = id_list[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            sql = f'SELECT id, {", ".join(columns)} FROM "{table}" WHERE org_id = ? AND id IN ({marks})'
            for row in conn.execute(sql, [org_id, *chunk]):
                found[(table, row[0])] = dict(zip(columns, row[1:], strict=True))
    return found


# ---- what a pulled row must leave alone ---------------------------------------------------------------------------
@dataclass
class Pending:
    """The unpushed local changes of one row."""

    fields: set[str] = field(default_factory=set)
    whole_row: bool = False  # an unpushed insert: every column is ours until it is pushed
    purged: bool = False  # erased here: it must not come back

    def keeps(self, column: str) -> bool:
        return self.whole_row or column in self.fields


def pending_for(conn: Connection, table: str, ids: Iterable[str]) -> dict[str, Pending]:
    """The pending (unacknowledged) local changes of ``ids`` in ``table``, read on ``conn`` (inside the apply
    transaction, so no local write can slip in between the look-up and the write)."""
    result: dict[str, Pending] = {}
    id_list = sorted(set(ids))
    for start in range(0, len(id_list), 500):
        chunk = id_list[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(
            f"SELECT row_id, op, changed FROM outbox WHERE table_name = ? AND row_id IN ({marks}) ORDER BY seq",
            [table, *chunk],
        )
        for row_id, op, changed in rows:
            pending = result.setdefault(row_id, Pending())
            if op == "insert":
                pending.whole_row = True
                pending.purged = False
            elif op == "purge":
                pending.purged = True
            else:
                pending.fields.update(json.loads(changed))
                pending.fields.update(_ALWAYS)
    return result


def rows_with_pending_changes(conn: Connection) -> dict[str, set[str]]:
    """Every row id with an unpushed change, by table (a full refetch must not remove those)."""
    result: dict[str, set[str]] = {}
    for table, row_id in conn.execute("SELECT table_name, row_id FROM outbox"):
        result.setdefault(table, set()).add(row_id)
    return result
