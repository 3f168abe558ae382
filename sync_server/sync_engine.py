"""Push, pull, server-side writes and the tombstone janitor over ``sync_rows`` (see docs/sync.md).

Every function takes a connection inside a transaction scoped to the org (``Db.org``), so row-level security backs
up each query's own ``org_id``. Writers of an org serialise on its ``orgs`` row: versions are handed out under that
lock, so they are gapless and commit in order, and a pull never sees version N+1 without N.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg import AsyncCursor

from app.sync.protocol import SYNC_COLUMNS, Conflict, PushResponse
from sync_server.access import Confirmation
from sync_server.db import Conn, Db
from sync_server.errors import ApiError
from sync_server.push_body import PushBody
from sync_server.sync_merge import SERVER_DEVICE, Loss, Merger, Row

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "parley_sync"  # as spelled in _STORE_SQL; the hub LISTENs on it
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. A write whose rows do not fit in this many is notified
# by its version alone, and its readers pull.
NOTICE_BYTES = 7900
NOTICE_ROWS = 20  # more rows than this are not even encoded for a notice: a bulk upload's readers pull it
JANITOR_INTERVAL_SECONDS = 3600.0
# Changes of a push merged and written per statement. Small enough that the first part's rows are on their way
# after a fifth of a full batch's merge, big enough that the statements' own cost stays small.
STORE_PART = 200


def _dumps(value: object) -> str:
    """Compact JSON text for a ``::jsonb`` parameter (dataclasses such as ``Row`` become objects of their fields)."""
    return orjson.dumps(value).decode()


async def _lock_org(conn: Conn, org_id: str) -> int:
    cur = await conn.execute("SELECT version FROM orgs WHERE id = %s FOR UPDATE", (org_id,))
    found = await cur.fetchone()
    if found is None:
        raise ApiError(404, "not_found", "The organisation does not exist.")
    return int(found[0])


async def _read_rows(conn: Conn, org_id: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Row]:
    return await _rows_of(await _send_read(conn, org_id, keys))


async def _send_read(conn: Conn, org_id: str, keys: list[tuple[str, str]]) -> AsyncCursor[tuple[Any, ...]]:
    """Queue the read of the rows at ``keys`` (read the answer with ``_rows_of``)."""
    # One JSON text for all rows: a single json.loads is several times cheaper than psycopg decoding two jsonb
    # values per row.
    return await conn.execute(
        # LATERAL: one primary-key probe per key. A plain join let the planner hash-join against a scan of the
        # org's whole table (the function's row count is unknown to it): 75 ms for a 1-change push at 100k rows.
        "SELECT coalesce(json_agg(json_build_array(r.tbl, r.id, r.version, r.deleted, r.purged, r.data, "
        "r.field_versions)), '[]')::text FROM jsonb_to_recordset(%s::jsonb) AS k(t text, i text) "
        "CROSS JOIN LATERAL (SELECT * FROM sync_rows x WHERE x.org_id = %s AND x.tbl = k.t AND x.id = k.i) r",
        (_dumps([{"t": t, "i": i} for t, i in keys]), org_id),
        # Planned afresh each time: a plan psycopg prepared while the org was small (a hash join over a scan of the
        # org's rows) stayed in use at 100k rows, 190 ms for a 1-change push. Planning costs ~0.3 ms.
        prepare=False,
    )


async def _rows_of(cur: AsyncCursor[tuple[Any, ...]]) -> dict[tuple[str, str], Row]:
    rows: dict[tuple[str, str], Row] = {}
    found = await cur.fetchone()
    for tbl, row_id, version, deleted, purged, data, field_versions in orjson.loads(str(found[0]) if found else "[]"):
        rows[(tbl, row_id)] = Row(tbl, row_id, int(version), deleted, purged, data, field_versions, exists=True)
    return rows


def notice_payload(org_id: str, since: int, version: int, rows: Sequence[Row], conflicted: Sequence[str] = ()) -> str:
    """The NOTIFY payload of a write that moved the org from ``since`` to ``version`` (``realtime.parse_payload``).

    It carries the rows as a pull page would (their values as stored) when they fit; a reader standing at
    ``since`` then needs no pull. ``conflicted`` devices have a new conflict record that only a pull delivers.
    """
    head: dict[str, object] = {"org": org_id, "version": version}
    if conflicted:
        head["conflicted"] = sorted(set(conflicted))
    if len(rows) <= NOTICE_ROWS:
        page = [
            {
                "table": r.table,
                "id": r.id,
                "version": r.version,
                "deleted": r.deleted,
                "purged": r.purged,
                "data": r.data,
            }
            for r in rows
        ]
        full = _dumps({**head, "since": since, "rows": page})
        if len(full.encode()) <= NOTICE_BYTES:
            return full
    return _dumps(head)


# Everything a batch writes, in one statement (one round trip while the org row is locked): the rows, the
# conflicts for other devices, the device's last_seq, the org's version and its notification (delivered by
# PostgreSQL at commit only, so no listener hears of a version it cannot pull yet). Rows and conflicts travel as one
# JSON parameter each, expanded by jsonb_to_recordset: psycopg dumps a string in microseconds, where seven arrays
# of 1000 elements cost it hundreds of milliseconds; orjson encodes the ``Row`` dataclasses straight from their fields.
# A big batch sends its rows in parts ahead of this statement (``_ROWS_SQL``, see ``push``).
_INSERT_ROWS = """
    INSERT INTO sync_rows (org_id, tbl, id, version, deleted, purged, data, field_versions, changed_at)
    SELECT %(org)s, t."table", t.id, t.version, t.deleted, t.purged, t.data, t.field_versions, now()
    FROM jsonb_to_recordset(%({})s::jsonb)
        AS t("table" text, id text, version bigint, deleted boolean, purged boolean, data jsonb, field_versions jsonb)
"""
_ROW_WRITES = f"""
n AS (
    -- Rows not in the table yet. Every writer of an org takes the org's row lock before it reads, so no other
    -- transaction can have added them since: a plain INSERT, without the speculative insertion of ON CONFLICT
    -- (measured: 23.7 against 30.1 ms for 1000 rows).
    {_INSERT_ROWS.format("new")}
    RETURNING 1
), w AS (
    {_INSERT_ROWS.format("rows")}
    ON CONFLICT (org_id, tbl, id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted,
        purged = excluded.purged, data = excluded.data, field_versions = excluded.field_versions, changed_at = now()
    RETURNING 1
)"""
_ROWS_SQL = f"WITH {_ROW_WRITES} SELECT NULL"  # (a WITH's writes run whether or not the query reads them)
_STORE_SQL = f"""
WITH {_ROW_WRITES}, c AS (
    INSERT INTO sync_conflicts (org_id, device_id, tbl, row_id, fields, reason, theirs, version)
    SELECT %(org)s, x.dev, x.t, x.i, x.f, x.r, x.th, x.v
    FROM jsonb_to_recordset(%(conflicts)s::jsonb) AS x(dev text, t text, i text, f jsonb, r text, th jsonb, v bigint)
    RETURNING 1
), d AS (
    UPDATE devices SET last_seq = %(seq)s, last_seen_at = now()
    WHERE org_id = %(org)s AND id = %(device)s AND %(seq)s::bigint IS NOT NULL
    RETURNING 1
), o AS (
    UPDATE orgs SET version = %(version)s WHERE id = %(org)s AND version <> %(version)s RETURNING 1
)
SELECT pg_notify('parley_sync', %(notice)s) WHERE EXISTS (SELECT 1 FROM o)
"""


def _row_params(rows: Sequence[Row], present: Collection[tuple[str, str]]) -> dict[str, str]:
    """``rows`` as the ``new`` and ``rows`` parameters of ``_ROW_WRITES``: split by whether the table has them
    (``Row``'s fields, of which the two the statement does not name are ignored)."""
    return {
        "new": _dumps([r for r in rows if (r.table, r.id) not in present]),
        "rows": _dumps([r for r in rows if (r.table, r.id) in present]),
    }


async def _store(
    conn: Conn,
    org_id: str,
    since: int,
    version: int,
    rows: list[Row],
    *,
    present: Collection[tuple[str, str]],
    losses: Sequence[Loss] = (),
    purged: Sequence[tuple[str, str]] = (),
    device: str | None = None,
    last_seq: int | None = None,
    notified: Sequence[Row] | None = None,
) -> None:
    """Write ``rows`` (``present`` are the keys the table already has) and the rest of a write's outcome, and
    notify its version with ``notified`` (all the rows of the write; ``rows`` when not given)."""
    erased = set(purged)
    devices = [o.device for o in losses if o.device is not None]
    params = {
        "org": org_id,
        "version": version,
        **_row_params(rows, present),
        "conflicts": _dumps(
            [
                {
                    "dev": o.device,
                    "t": o.table,
                    "i": o.row_id,
                    "f": o.fields,
                    "r": o.reason,
                    # A purge is a GDPR erase: no copy of the row's values survives in a conflict record either.
                    "th": {} if (o.table, o.row_id) in erased else o.theirs,
                    "v": o.version,
                }
                for o in losses
                if o.device is not None
            ]
        ),
        "purged": _dumps([{"t": t, "i": i} for t, i in purged]),
        "device": device,
        "seq": last_seq,
        "notice": notice_payload(org_id, since, version, rows if notified is None else notified, devices),
    }
    await conn.execute(_STORE_SQL, params)
    if purged:
        # A purge is a GDPR erase: copies of the row's values kept in older conflict records go too.
        await conn.execute(
            "UPDATE sync_conflicts k SET theirs = '{}' FROM jsonb_to_recordset(%s::jsonb) AS g(t text, i text) "
            "WHERE k.org_id = %s AND k.tbl = g.t AND k.row_id = g.i",
            (params["purged"], org_id),
        )


@dataclass(frozen=True)
class PushStart:
    """A push's first round trip, sent but not yet read (``start_push``), and the body it was sent for."""

    caller: Confirmation
    body: PushBody
    locked: AsyncCursor[tuple[Any, ...]]
    read: AsyncCursor[tuple[Any, ...]] | None


async def start_push(conn: Conn, caller: Confirmation, body: PushBody) -> PushStart:
    """Send the push's locks and the read of every row ``body`` names, without waiting for the answers.

    The route sends this as soon as it has parsed the body, so PostgreSQL takes the locks and reads the batch's
    rows while the changes are checked here (``push``).
    """
    # The device row (idempotence by seq) and the org row (gapless versions) are locked together, in that order.
    locked = await conn.execute(
        "SELECT d.last_seq, d.revoked_at, o.version FROM devices d JOIN orgs o ON o.id = d.org_id "
        "WHERE d.org_id = %s AND d.id = %s FOR UPDATE",
        (caller.claims.org, caller.claims.dev),
    )
    # Queued behind the lock, so it reads what the last writer committed. All the batch's rows: the few an
    # already-acknowledged change would spare are not worth a round trip of their own.
    keys = list(dict.fromkeys(body.keys))
    read = await _send_read(conn, caller.claims.org, keys) if keys else None
    return PushStart(caller, body, locked, read)


async def push(conn: Conn, start: PushStart) -> PushResponse:
    """Apply a device's outbox batch (``start.body``) in one transaction (the caller's), by the rules in
    ``protocol.py``.

    Changes at or below the device's ``last_seq`` were applied by an earlier push whose answer was lost: they are
    acknowledged again and write nothing. A change that is dropped whole (deleted row, forbidden, append-only) takes
    no version; everything the batch writes is notified once, at commit, with the org's final version.
    The caller's check, the locks and the read of the rows travel in one round trip (``start_push``). The batch is
    then checked, merged and written a part at a time (``STORE_PART`` changes): each part's rows go out as soon as
    they are decided, so PostgreSQL writes one part while the next is checked and merged here, and the last
    statement carries the last part with the rest of the outcome. A part that fails its check raises ``ApiError``:
    the caller's transaction is rolled back and nothing is written.
    """
    body = start.body
    principal = await start.caller.principal()
    found = await start.locked.fetchone()
    if found is None or found[1] is not None:
        raise ApiError(403, "device_revoked", "This device was signed out of the organisation.")
    last_seq, start_version = int(found[0]), int(found[2])
    rows = await _rows_of(start.read) if start.read is not None else {}
    present = set(rows)  # keys the table has: read, or written by an earlier part
    merger = Merger(principal.org_id, principal.device_id, body.known_version, start_version, rows)
    acknowledged, applied = last_seq, False
    written: dict[tuple[str, str], Row] = {}
    part: list[Row] = []
    for first, changes in zip(range(0, len(body), STORE_PART), body.parts(STORE_PART), strict=True):
        for change in changes:
            acknowledged = max(acknowledged, change.seq)
            if change.seq > last_seq:
                merger.apply(change)
                applied = True
        part = merger.take_written()
        written.update(((r.table, r.id), r) for r in part)
        if first + STORE_PART < len(body) and part:
            await conn.execute(_ROWS_SQL, {"org": principal.org_id, **_row_params(part, present)})
            present.update((r.table, r.id) for r in part)  # a later part that changes them again updates them
            part = []
    if not applied:
        return PushResponse(acknowledged_seq=acknowledged, version=start_version)
    await _store(
        conn,
        principal.org_id,
        start_version,
        merger.version,
        part,
        present=present,
        losses=merger.losses,
        purged=merger.purged,
        device=principal.device_id,
        last_seq=acknowledged,
        notified=list(written.values()),
    )
    now_ms = int(time.time() * 1000)
    conflicts = [
        Conflict(
            table=loss.table,
            id=loss.row_id,
            fields=loss.fields,
            reason=loss.reason,
            theirs=loss.theirs,
            version=loss.version,
            at=now_ms,
        )
        for loss in merger.losses
        if loss.device is None
    ]
    return PushResponse(acknowledged_seq=acknowledged, version=merger.version, conflicts=conflicts)


# The whole page is built by PostgreSQL as one JSON text: rows go out as stored, never decoded and re-encoded here.
# has_more is one index probe past the page's last version.
_PULL_SQL = """
WITH o AS (
    SELECT version, (%(cursor)s > 0 AND (%(cursor)s < refetch_below OR %(cursor)s > version)) AS refetch
    FROM orgs WHERE id = %(org)s
), page AS (
    -- In version order straight off the (org_id, version) index: no sort, however many rows follow the cursor.
    SELECT r.tbl AS "table", r.id, r.version, r.deleted, r.purged, r.data FROM sync_rows r
    WHERE r.org_id = %(org)s AND r.version > %(cursor)s::bigint AND NOT (SELECT refetch FROM o)
    ORDER BY r.org_id, r.version LIMIT %(limit)s
), last AS (
    SELECT max(version) AS version FROM page
), c AS (
    UPDATE sync_conflicts SET delivered_at = now()
    WHERE org_id = %(org)s AND device_id = %(device)s AND delivered_at IS NULL
    RETURNING id, tbl, row_id, fields, reason, theirs, version, created_at
), more AS (
    SELECT EXISTS (
        SELECT 1 FROM sync_rows r WHERE r.org_id = %(org)s AND r.version > (SELECT version FROM last)
    ) AS more
)
SELECT json_build_object(
    -- json_agg of the rows themselves (their columns are RowState's fields): about twice as fast as an object per
    -- row from json_build_object. Order inside a page does not matter: each row is there once, at its latest
    -- version, and the page is applied in one transaction.
    'rows', coalesce((SELECT json_agg(page) FROM page), '[]'::json),
    'cursor', CASE
        WHEN o.refetch THEN 0
        WHEN (SELECT more FROM more) THEN (SELECT version FROM last)
        ELSE greatest(%(cursor)s, coalesce((SELECT version FROM last), 0), o.version)
    END,
    'version', o.version,
    'has_more', o.refetch OR (SELECT more FROM more),
    'must_refetch', o.refetch,
    'conflicts', coalesce((
        SELECT json_agg(json_build_object('table', tbl, 'id', row_id, 'fields', fields, 'reason', reason,
                                          'theirs', theirs, 'version', version,
                                          'at', (extract(epoch FROM created_at) * 1000)::bigint) ORDER BY id)
        FROM c), '[]'::json)
)::text
FROM o
"""


async def pull(conn: Conn, caller: Confirmation, cursor: int, limit: int) -> bytes:
    """The encoded ``PullResponse`` for rows after ``cursor`` (at most ``limit``).

    ``cursor`` in the answer is the last row's version while more follow; on the last page it is the org's version
    (read in the same snapshot), so a client is never left below a version whose row a janitor has since removed.
    ``must_refetch`` (with cursor 0 and has_more) when the cursor predates purged tombstones, or is above the
    org's version (the database was restored from a backup older than what the client saw). The device's undelivered
    conflicts ride along on whichever page is read first and are marked delivered in the same transaction.
    """
    # A page is always a short, ordered range of the (org_id, version) index. Right after a bulk upload the
    # planner's row estimates are stale and it picks a bitmap scan of every row after the cursor plus a sort that
    # spills to disk (measured: 3x slower per 10k page); this transaction-local switch keeps the ordered scan.
    await conn.execute("SET LOCAL enable_bitmapscan = off")
    cur = await conn.execute(
        _PULL_SQL, {"org": caller.claims.org, "device": caller.claims.dev, "cursor": cursor, "limit": limit}
    )
    await caller.principal()  # the check, the setting and the page in one round trip; nothing goes out unconfirmed
    found = await cur.fetchone()
    if found is None:
        raise ApiError(404, "not_found", "The organisation does not exist.")
    return str(found[0]).encode()


async def server_write(
    conn: Conn, org_id: str, table: str, row_id: str, data: dict[str, int | float | str | None]
) -> int:
    """Upsert a synced row on the server's own authority (members joining or changing role, the AI gateway).

    The columns are merged onto the row (recorded as written by ``"server"``, so no device is told its edit was
    overwritten by it), stamped with the org's next version and notified at commit. ``deleted_at`` sets whether the
    row is a tombstone, either way. A purged row stays scrubbed: the write is ignored and the row's version
    returned. Returns the version.
    Works inside any transaction of the caller (also a system-scoped one): it scopes the transaction to ``org_id``.
    """
    columns = SYNC_COLUMNS.get(table)
    if columns is None:
        raise ValueError(f"unknown synced table {table!r}")
    unknown = sorted(set(data) - columns)
    if unknown:
        raise ValueError(f"unknown columns for {table}: {', '.join(unknown)}")
    async with conn.transaction():
        await conn.execute("SELECT set_config('parley.org_id', %s, true)", (org_id,))
        version = await _lock_org(conn, org_id) + 1
        rows = await _read_rows(conn, org_id, [(table, row_id)])
        present = set(rows)
        row = rows.get((table, row_id)) or Row(table, row_id)
        if row.purged:
            return row.version
        for name, value in data.items():
            row.data[name] = value
            row.field_versions[name] = [version, SERVER_DEVICE]
        row.version = version
        # The server's own word decides both ways (a removed member invited back is live again); deletes-win is
        # the rule between devices, not over the server's member records.
        if "deleted_at" in data:
            row.deleted = data["deleted_at"] is not None
        await _store(conn, org_id, version - 1, version, [row], present=present)
    return version


async def purge_tombstones(conn: Conn, org_id: str, older_than_days: int) -> int:
    """Delete the org's tombstones older than ``older_than_days`` and raise ``refetch_below`` past them.

    A client whose cursor is below a removed tombstone never hears of that delete, so such cursors must refetch.
    ``refetch_below`` becomes the highest removed version itself, not one more: a cursor equal to it is the version
    of that very tombstone, which the client did receive.
    Delivered conflict records of that age go too. Returns the number of tombstones removed.
    """
    await _lock_org(conn, org_id)
    cur = await conn.execute(
        "WITH gone AS (DELETE FROM sync_rows WHERE org_id = %s AND deleted "
        "AND changed_at < now() - make_interval(days => %s) RETURNING version) "
        "SELECT count(*), max(version) FROM gone",
        (org_id, older_than_days),
    )
    found = await cur.fetchone()
    count, top = (int(found[0]), found[1]) if found else (0, None)
    if top is not None:
        await conn.execute(
            "UPDATE orgs SET refetch_below = greatest(refetch_below, %s) WHERE id = %s", (int(top), org_id)
        )
    await conn.execute(
        "DELETE FROM sync_conflicts WHERE org_id = %s AND delivered_at < now() - make_interval(days => %s)",
        (org_id, older_than_days),
    )
    return count


async def purge_all_tombstones(db: Db, older_than_days: int) -> int:
    """The janitor's round over every org, one short transaction per org so pushes wait on no more than one."""
    async with db.system() as conn:
        cur = await conn.execute("SELECT id FROM orgs ORDER BY id")
        org_ids: list[Any] = [r[0] for r in await cur.fetchall()]
    total = 0
    for org_id in org_ids:
        async with db.org(str(org_id)) as conn:
            total += await purge_tombstones(conn, str(org_id), older_than_days)
    if total:
        log.info("janitor removed %d tombstones older than %d days", total, older_than_days)
    return total


async def janitor(db: Db, older_than_days: int, interval: float = JANITOR_INTERVAL_SECONDS) -> None:
    """The app's hourly background task. Every process runs one: a round is idempotent and takes each org's lock
    only briefly, so several processes cost a few extra queries, not wrong results. A failed round (database
    restarting) is logged and retried at the next interval instead of ending the task."""
    await asyncio.sleep(random.uniform(0, min(60.0, interval)))  # processes started together do not all run at once
    while True:
        try:
            await purge_all_tombstones(db, older_than_days)
        except Exception:
            log.exception("tombstone janitor round failed")
        await asyncio.sleep(interval)
