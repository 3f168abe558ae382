"""The conflict rules of ``app/sync/protocol.py`` as pure functions over rows already read from ``sync_rows``.

Kept apart from the SQL so one push can read every row it touches in one query, decide every change in memory
(in arrival order, each change seeing the effect of the ones before it in the same batch), and write the outcome in
one statement: a 1000-change push then costs a handful of round trips, not thousands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.sync.protocol import APPEND_ONLY_FIXED, APPEND_ONLY_TABLES, Change, ConflictReason, RowData, Value

FieldVersions = dict[str, list[Any]]  # {"column": [version, "device id"]}
SERVER_DEVICE = "server"  # the writer recorded for server_write: no device to report an overwritten edit to


# Columns every edit writes: they are not what a person changed, so no conflict names them.
_BOOKKEEPING = frozenset({"created_at", "updated_at"})


@dataclass
class Row:
    """One ``sync_rows`` row as the batch sees it; ``exists`` is false for a row no one has pushed yet."""

    table: str
    id: str
    version: int = 0
    deleted: bool = False
    purged: bool = False
    data: dict[str, Value] = field(default_factory=dict)
    field_versions: FieldVersions = field(default_factory=dict)
    exists: bool = False


@dataclass(frozen=True)
class Loss:
    """A conflict to record: for the pusher (``device`` is None, returned in the answer) or for another device."""

    device: str | None
    table: str
    row_id: str
    fields: list[str]
    reason: ConflictReason
    theirs: RowData
    version: int


class Merger:
    """Applies one device's changes to the rows of the batch, handing out org versions as changes take effect."""

    def __init__(self, org_id: str, device_id: str, known_version: int, version: int, rows: dict[tuple[str, str], Row]):
        self.org_id = org_id
        self.device = device_id
        self.known_version = known_version
        self.version = version  # the org's version so far; a change that writes anything takes version + 1
        self.rows = rows
        self.losses: list[Loss] = []
        self.purged: list[tuple[str, str]] = []
        self._written: dict[tuple[str, str], Row] = {}

    def take_written(self) -> list[Row]:
        """The rows written since the last call, each once, in the order first written (to store them)."""
        rows = list(self._written.values())
        self._written.clear()
        return rows

    def row(self, table: str, row_id: str) -> Row:
        key = (table, row_id)
        found = self.rows.get(key)
        if found is None:
            found = self.rows[key] = Row(table, row_id)
        return found

    def apply(self, change: Change) -> None:
        row = self.row(change.table, change.id)
        data = dict(change.data)
        if change.table == "orgs" and change.id != self.org_id:
            # The org's own row is keyed by the org id; any other id would plant a second org record.
            self._lose(row, sorted(data) or ["id"], "forbidden", {})
            return
        if change.table == "users" and "role" in data:
            role = data.pop("role")
            if not row.exists or row.data.get("role") != role:
                # Roles are the server's member records' truth (written by server_write); a client cannot grant one.
                self._lose(row, ["role"], "forbidden", {"role": row.data.get("role")} if row.exists else {})
        if row.purged:
            if change.op != "purge":
                self._lose(row, sorted(data) or [change.op], "deleted", {"deleted_at": row.data.get("deleted_at")})
            return
        if change.op == "purge":
            self._purge(row)
        elif change.op == "insert":
            self._insert(row, data)
        elif change.op == "update":
            self._update(row, data)
        else:
            self._delete(row, data)

    # ---- the four operations ------------------------------------------------------------------------------------
    def _insert(self, row: Row, data: RowData) -> None:
        if row.exists and row.deleted:
            self._lose(row, sorted(data), "deleted", self._deleted_theirs(row))
            return
        if row.exists and row.table in APPEND_ONLY_TABLES:
            # An append-only row is never overwritten; tell the pusher about the values that differ from the kept ones.
            differing = sorted(k for k, v in data.items() if k in row.data and row.data[k] != v)
            if differing:
                self._lose(row, differing, "append_only", {k: row.data[k] for k in differing})
            return
        if not data:
            return
        self._write(row, data)

    def _update(self, row: Row, data: RowData) -> None:
        if row.exists and row.deleted:
            self._lose(row, sorted(data), "deleted", self._deleted_theirs(row))
            return
        data = self._drop_fixed(row, data)
        if data:
            # An update of a row the server never saw creates it from the given columns: its insert may have been
            # squashed away on the device (the outbox keeps only what it must), and dropping it would lose the edit.
            self._write(row, data)

    def _delete(self, row: Row, data: RowData) -> None:
        if row.exists and row.deleted:
            return  # already deleted: the first delete stands, nothing new to tell anyone
        data = self._drop_fixed(row, data)
        # A delete of a row never pushed still leaves a tombstone: a late insert or update of it from another device
        # is then dropped as ``deleted`` instead of bringing the row back.
        self._write(row, data, deleted=True)

    def _purge(self, row: Row) -> None:
        version = self._next()
        row.version, row.deleted, row.purged, row.data, row.field_versions = version, True, True, {}, {}
        self._written[(row.table, row.id)] = row
        row.exists = True
        self.purged.append((row.table, row.id))

    # ---- helpers -----------------------------------------------------------------------------------------------
    def _drop_fixed(self, row: Row, data: RowData) -> RowData:
        """Append-only text is fixed once written: edits of it are dropped back to the pusher; equal values pass."""
        fixed = APPEND_ONLY_FIXED.get(row.table)
        if not fixed or not row.exists:
            return data
        refused = sorted(k for k in data if k in fixed and k in row.data and row.data[k] != data[k])
        if refused:
            self._lose(row, refused, "append_only", {k: row.data[k] for k in refused})
        return {k: v for k, v in data.items() if k not in refused}

    def _write(self, row: Row, data: RowData, *, deleted: bool = False) -> None:
        version = self._next()
        overwritten: dict[str, list[str]] = {}
        if not row.exists:  # a new row (the bulk of a first upload): nothing to compare with
            # One stamp for every field the insert wrote ("*"), not one per field: half the JSON to encode and
            # store for a first upload; later writes stamp their own fields over it.
            row.data.update(data)
            row.field_versions["*"] = [version, self.device]
            data = {}
        for name, value in data.items():
            last = row.field_versions.get(name) or row.field_versions.get("*")
            if (
                name not in _BOOKKEEPING  # every edit stamps updated_at: only a person's fields can be overwritten
                and last is not None
                and last[1] not in (self.device, SERVER_DEVICE)
                and int(last[0]) > self.known_version
                and row.data.get(name) != value
            ):
                # That device wrote this field after the version this device had seen: its edit is the one that lost.
                overwritten.setdefault(str(last[1]), []).append(name)
            row.data[name] = value
            row.field_versions[name] = [version, self.device]
        for device, names in overwritten.items():
            self.losses.append(
                Loss(device, row.table, row.id, names, "overwritten", {n: row.data[n] for n in names}, version)
            )
        row.version = version
        row.deleted = row.deleted or deleted
        row.exists = True
        self._written[(row.table, row.id)] = row

    def _next(self) -> int:
        self.version += 1
        return self.version

    def _lose(self, row: Row, fields: list[str], reason: ConflictReason, theirs: RowData) -> None:
        named = [f for f in fields if f not in _BOOKKEEPING] or fields  # a person's fields, not the edit's timestamp
        self.losses.append(Loss(None, row.table, row.id, named, reason, theirs, row.version if row.exists else 0))

    @staticmethod
    def _deleted_theirs(row: Row) -> RowData:
        return {"deleted_at": row.data.get("deleted_at"), "updated_at": row.data.get("updated_at")}
