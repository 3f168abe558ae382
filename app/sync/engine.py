"""One sync pass: push the outbox, then pull until the server has nothing more.

Push before pull, so the rebase in ``apply`` has as few local changes to protect as possible and the pulled pages
already contain this device's own accepted changes. Every database step runs in a worker thread
(``asyncio.to_thread``): building a batch or applying a page of thousands of rows must never block the loop that
also runs the UI. The network calls are plain awaits on that loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from app.store.store import Store
from app.sync import apply
from app.sync.changes import build_batch
from app.sync.credentials import CURSOR, REFETCH
from app.sync.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_PUSH_CHANGES,
    PROTOCOL_VERSION,
    Change,
    Conflict,
    PullResponse,
    PushRequest,
    VersionNotice,
)
from app.sync.transport import RequestRefused, SyncApi

log = logging.getLogger(__name__)

# progress(done, total, text): during the first upload or download, for the progress bar.
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class PassResult:
    pushed: int = 0  # changes the server acknowledged
    pulled: int = 0  # rows written locally
    conflicts: int = 0  # conflicts reported (push and pull)
    server_version: int = 0
    cursor: int = 0


class SyncEngine:
    """Pushes and pulls one workspace against one server. Stateless between passes: the cursor is in the store."""

    def __init__(
        self, store: Store, api: SyncApi, *, batch_size: int = MAX_PUSH_CHANGES, first_upload: bool = False
    ) -> None:
        self.store = store
        self.api = api
        # The first upload after a sign-up: the server's refusals of values only its own records decide (a seeded
        # user's role) bring its values back but are not kept as conflicts, since nobody's edit was replaced.
        self.first_upload = first_upload
        self.batch_size = min(batch_size, MAX_PUSH_CHANGES)
        self.pull_limit = DEFAULT_PULL_LIMIT

    async def run(self, *, push: bool = True, pull: bool = True, progress: Progress | None = None) -> PassResult:
        pushed, push_conflicts, version = await self.push(progress) if push else (0, 0, 0)
        pulled, pull_conflicts, version2 = await self.pull(progress) if pull else (0, 0, 0)
        cursor = await asyncio.to_thread(self.cursor)
        return PassResult(pushed, pulled, push_conflicts + pull_conflicts, max(version, version2), cursor)

    def cursor(self) -> int:
        return int(self.store.meta(CURSOR) or 0)

    async def push(self, progress: Progress | None = None) -> tuple[int, int, int]:
        """Push the whole outbox in seq order, batch by batch; returns (acknowledged, conflicts, server version)."""
        pushed = conflicts = version = 0
        total = await asyncio.to_thread(self.store.outbox.count) if progress else 0
        after = 0
        while True:
            batch = await asyncio.to_thread(self._next_batch, after)
            if batch is None:
                break
            changes, last_seq = batch
            after = last_seq
            if not changes:  # every entry's row was purged later: nothing to send, acknowledge them
                await asyncio.to_thread(self.store.outbox.acknowledge, last_seq)
                continue
            known = await asyncio.to_thread(self.cursor)
            request = PushRequest(protocol=PROTOCOL_VERSION, known_version=known, changes=changes)
            response = await self.api.push(request)
            acknowledged = response.acknowledged_seq
            if acknowledged < changes[0].seq:
                raise RequestRefused("The sync server did not accept any of the changes sent; Parley will try again.")
            # Entries after the last change of the batch (skipped ones) are covered once the server has that change.
            up_to = last_seq if acknowledged >= changes[-1].seq else acknowledged
            await asyncio.to_thread(self._acknowledge, up_to, response.conflicts)
            pushed += sum(1 for c in changes if c.seq <= acknowledged)
            conflicts += len(self._kept(response.conflicts))
            version = max(version, response.version)
            if up_to < last_seq:
                # The server kept part of the batch back: start again after what it has, never skip entries.
                after = up_to
            if progress:
                progress(min(pushed, total), total, f"Uploading {min(pushed, total):,} of {total:,} changes")
        return pushed, conflicts, version

    def _next_batch(self, after: int) -> tuple[list[Change], int] | None:
        entries = self.store.outbox.pending(limit=self.batch_size, after_seq=after)
        if not entries:
            return None
        batch = build_batch(self.store.db, self.store.org_id, entries)
        return batch.changes, batch.last_seq

    def _acknowledge(self, up_to: int, conflicts: list[Conflict]) -> None:
        """Drop what the server has, keep its conflict reports, and restore the values it refused to change."""
        kept = self._kept(conflicts)
        if len(kept) < len(conflicts):
            log.info("first upload: %d values set by the server's own records, not kept as conflicts",
                     len(conflicts) - len(kept))  # fmt: skip
        with self.store.db.applying_remote() as conn:
            conn.execute("DELETE FROM outbox WHERE seq <= ?", (up_to,))
            apply.store_conflicts(conn, kept)
            apply.apply_theirs(conn, self.store.org_id, conflicts)

    def _kept(self, conflicts: list[Conflict]) -> list[Conflict]:
        """The conflicts to show: all of them, but on the first upload not the server's own normalisation."""
        if not self.first_upload:
            return conflicts
        return [c for c in conflicts if not apply.is_normalisation(c)]

    async def apply_notices(self, notices: Iterable[VersionNotice]) -> int:
        """Apply the rows of the notices that chain on from the cursor, each as a last pull page; returns the cursor.

        A notice leading from another version than the cursor is skipped (a later pull covers it); so is one without
        rows. Nothing goes over the network.
        """
        return await asyncio.to_thread(self._apply_notices, sorted(notices, key=lambda n: n.version))

    def _apply_notices(self, notices: list[VersionNotice]) -> int:
        cursor = self.cursor()
        if self.store.meta(REFETCH) == "1":
            return cursor  # a full refetch is under way: only pulls finish it
        for notice in notices:
            if notice.rows is None or notice.since != cursor:
                continue
            page = PullResponse(rows=notice.rows, cursor=notice.version, version=notice.version, has_more=False)
            apply.apply_page(self.store.db, self.store.org_id, page, cursor)
            cursor = notice.version
        return cursor

    async def pull(self, progress: Progress | None = None) -> tuple[int, int, int]:
        """Pull pages until ``has_more`` is false; returns (rows written, conflicts, server version)."""
        written = conflicts = version = 0
        refetching = await asyncio.to_thread(self.store.meta, REFETCH) == "1"
        seen: apply.Seen | None = {} if refetching else None
        cursor = await asyncio.to_thread(self.cursor)
        while True:
            page = await self.api.pull(cursor, self.pull_limit)
            if page.must_refetch:
                if cursor == 0:
                    raise RuntimeError("the server asks for a full refetch of a pull from 0")
                log.info("sync cursor %d predates the server's tombstones: pulling everything again", cursor)
                await asyncio.to_thread(apply.start_refetch, self.store.db)
                seen, cursor = {}, 0
                continue
            written += await asyncio.to_thread(
                apply.apply_page, self.store.db, self.store.org_id, page, cursor, seen=seen
            )
            conflicts += len(page.conflicts)
            version = max(version, page.version)
            cursor = max(cursor, page.cursor)
            if progress:
                shown = min(cursor, page.version)
                progress(shown, page.version, f"Downloading {shown:,} of {page.version:,} changes")
            if not page.has_more:
                break
        if seen is not None:
            removed = await asyncio.to_thread(apply.remove_unseen, self.store.db, self.store.org_id, seen)
            log.info("full refetch done; %d local rows the server no longer holds were removed", removed)
        return written, conflicts, version
