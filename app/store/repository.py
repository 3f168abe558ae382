"""A repository per synced table, all from one generic class.

Every query is scoped to the workspace's org; ``delete`` writes a tombstone (so the delete syncs), ``purge``
removes the row for good (GDPR erase). Column names in filters are checked against the model, never
interpolated from user input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from app.core.errors import NotFound
from app.core.ids import new_id, utc_now
from app.core.models import Record
from app.store.codec import Codec
from app.store.database import Database

R = TypeVar("R", bound=Record)


class Repository(Generic[R]):
    def __init__(self, db: Database, table: str, model: type[R], org_id: str) -> None:
        self.db = db
        self.table = table
        self.model = model
        self.org_id = org_id
        self.codec = Codec(model)
        self._select = f"SELECT {', '.join(self.codec.columns)} FROM {table}"

    # ---- building --------------------------------------------------------------------------------------------
    def new(self, **fields: Any) -> R:
        """A valid record with a fresh id and timestamps, not yet stored."""
        now = utc_now()
        base: dict[str, Any] = {"id": new_id(), "org_id": self.org_id, "created_at": now, "updated_at": now}
        return self.model.model_validate(base | fields)

    # ---- writing ---------------------------------------------------------------------------------------------
    def add(self, record: R) -> R:
        self.add_many([record])
        return record

    def create(self, **fields: Any) -> R:
        return self.add(self.new(**fields))

    def add_many(self, records: Iterable[R]) -> int:
        placeholders = ", ".join("?" for _ in self.codec.columns)
        sql = f"INSERT INTO {self.table} ({', '.join(self.codec.columns)}) VALUES ({placeholders})"
        rows = []
        for record in records:
            if record.org_id != self.org_id:
                raise ValueError(f"record belongs to org {record.org_id}, not this workspace's")
            rows.append(self.codec.encode(record))
        with self.db.transaction() as conn:
            conn.executemany(sql, rows)
        return len(rows)

    def update(self, id: str, /, **changes: Any) -> R:
        """Apply ``changes`` (validated through the model) and bump ``updated_at``."""
        forbidden = {"id", "org_id", "created_at"} & changes.keys()
        if forbidden:
            raise ValueError(f"cannot change {sorted(forbidden)}")
        self._check_columns(changes)
        with self.db.transaction():
            current = self.get(id, include_deleted=True)
            updated = self.model.model_validate(current.model_dump() | changes | {"updated_at": utc_now()})
            columns = [*changes.keys(), "updated_at"]
            assignments = ", ".join(f"{c} = ?" for c in columns)
            values = [self.codec.encode_value(c, getattr(updated, c)) for c in columns]
            self._execute(
                f"UPDATE {self.table} SET {assignments} WHERE org_id = ? AND id = ?",
                [*values, self.org_id, id],
            )
        return updated

    def delete(self, id: str) -> None:
        """Tombstone the row; it disappears from reads and the delete travels through sync."""
        now = utc_now()
        with self.db.transaction():
            record = self.get(id, include_deleted=True)
            if record.deleted_at is None:
                self.update(id, deleted_at=now)

    def purge(self, id: str) -> None:
        """Remove the row for good (GDPR erase, tombstone clean-up)."""
        self._execute(f"DELETE FROM {self.table} WHERE org_id = ? AND id = ?", [self.org_id, id])

    # ---- reading ---------------------------------------------------------------------------------------------
    def find(self, id: str, *, include_deleted: bool = False) -> R | None:
        sql = f"{self._select} WHERE org_id = ? AND id = ?"
        if not include_deleted:
            sql += " AND deleted_at IS NULL"
        with self.db.read() as conn:
            row = conn.execute(sql, (self.org_id, id)).fetchone()
        return None if row is None else self.codec.decode(row)

    def get(self, id: str, *, include_deleted: bool = False) -> R:
        record = self.find(id, include_deleted=include_deleted)
        if record is None:
            raise NotFound(f"No {self.table[:-1] if self.table.endswith('s') else self.table} with id {id}.")
        return record

    def find_all(
        self,
        where: Mapping[str, Any] | None = None,
        *,
        order_by: str = "rid",
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        include_deleted: bool = False,
    ) -> list[R]:
        clause, params = self._where(where, include_deleted)
        if order_by != "rid":
            self._check_columns({order_by: None})
        sql = f"{self._select} WHERE {clause} ORDER BY {order_by} {'DESC' if descending else 'ASC'}, rid"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        with self.db.read() as conn:
            return [self.codec.decode(row) for row in conn.execute(sql, params)]

    def count(self, where: Mapping[str, Any] | None = None, *, include_deleted: bool = False) -> int:
        clause, params = self._where(where, include_deleted)
        with self.db.read() as conn:
            return int(conn.execute(f"SELECT count(*) FROM {self.table} WHERE {clause}", params).fetchone()[0])

    # ---- helpers ---------------------------------------------------------------------------------------------
    def _where(self, where: Mapping[str, Any] | None, include_deleted: bool) -> tuple[str, list[Any]]:
        parts = ["org_id = ?"]
        params: list[Any] = [self.org_id]
        if not include_deleted:
            parts.append("deleted_at IS NULL")
        for column, value in (where or {}).items():
            self._check_columns({column: value})
            if value is None:
                parts.append(f"{column} IS NULL")
            else:
                parts.append(f"{column} = ?")
                params.append(self.codec.encode_value(column, value))
        return " AND ".join(parts), params

    def _check_columns(self, names: Mapping[str, Any]) -> None:
        unknown = set(names) - set(self.codec.columns)
        if unknown:
            raise ValueError(f"{self.table} has no column(s) {sorted(unknown)}")

    def _execute(self, sql: str, params: list[Any]) -> None:
        with self.db.transaction() as conn:
            cursor = conn.execute(sql, params)
            if cursor.rowcount == 0:
                raise NotFound(f"No row {params[-1]} in {self.table}.")
