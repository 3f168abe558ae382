"""Repositories with queries beyond the generic ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from app.core.ids import to_ms, utc_now
from app.core.models import Chat, Contact, Message
from app.store.repository import Repository


class ContactRepository(Repository[Contact]):
    def find_by_whatsapp(self, *, wa_id: str | None = None, lid: str | None = None) -> Contact | None:
        """The contact behind a WhatsApp id or @lid (WhatsApp may show either for the same person)."""
        for column, value in (("wa_id", wa_id), ("lid", lid)):
            if value:
                found = self.find_all({column: value}, limit=1)
                if found:
                    return found[0]
        return None

    def find_by_phone(self, phone: str) -> Contact | None:
        found = self.find_all({"phone": phone}, limit=1)
        return found[0] if found else None


class ChatRepository(Repository[Chat]):
    def find_by_wa_chat_id(self, wa_chat_id: str) -> Chat | None:
        found = self.find_all({"wa_chat_id": wa_chat_id}, limit=1)
        return found[0] if found else None


# Positions are spaced this far apart when appended, so later messages fit between two neighbours many times over.
STEP = 1024.0
# Shown on the WhatsApp page: inbound, or our own once WhatsApp holds it. Queued / typing / failed outbound messages
# are not (yet), so they are never the neighbours a captured row is placed against.
_ON_PAGE = "(direction = 'in' OR wa_id IS NOT NULL)"


class MessageRepository(Repository[Message]):
    """Messages, ordered within a chat by ``position`` (then ``id``): the order WhatsApp shows them in.

    ``sent_at`` is for display only: WhatsApp shows a captured message's time to the minute, so two messages of one
    minute cannot be ordered by it. Intake places captured messages from the page's order (``app.store.intake``);
    any other new message without a position goes after the chat's messages of its time or earlier (for a reply
    just queued, the end of the chat).
    """

    def add(self, record: Message) -> Message:
        with self.db.transaction():
            [placed] = self._placed([record])
        return placed

    def add_many(self, records: Iterable[Message]) -> int:
        with self.db.transaction():
            return len(self._placed(records))

    def _placed(self, records: Iterable[Message]) -> list[Message]:
        """Insert ``records``, giving those without a position one; in a batch, appends cost one look-up per chat."""
        done: list[Message] = []
        waiting: list[Message] = []
        tails: dict[str, tuple[float | None, int | None]] = {}  # chat -> (last position, latest sent_at ms)
        for record in records:
            tail = tails.get(record.chat_id)
            if tail is None:
                tail = tails[record.chat_id] = (self.last_position(record.chat_id), self._latest_ms(record.chat_id))
            last, latest = tail
            if record.position is None:
                at = to_ms(record.sent_at)
                if latest is None or at >= latest:
                    position = STEP if last is None else last + STEP
                else:  # earlier than the chat's latest: look where its time belongs (flush the batch first)
                    super().add_many(waiting)
                    done += waiting
                    waiting = []
                    position = self._by_time(record.chat_id, at)
                    last = self.last_position(record.chat_id)  # (making room may have moved the later ones)
                record = record.model_copy(update={"position": position})
            assert record.position is not None
            at = to_ms(record.sent_at)
            tails[record.chat_id] = (
                record.position if last is None else max(last, record.position),
                at if latest is None else max(latest, at),
            )
            waiting.append(record)
        super().add_many(waiting)
        return done + waiting

    def _latest_ms(self, chat_id: str) -> int | None:
        sql = "SELECT sent_at FROM messages WHERE chat_id = ? AND org_id = ? ORDER BY sent_at DESC LIMIT 1"
        with self.db.read() as conn:
            row = conn.execute(sql, (chat_id, self.org_id)).fetchone()
        return None if row is None else int(row[0])

    def _by_time(self, chat_id: str, at_ms: int) -> float:
        """A place after the chat's messages sent at ``at_ms`` or earlier and before the next one."""
        sql = (
            "SELECT max(position) FROM messages WHERE chat_id = ? AND org_id = ? AND sent_at <= ?"
            " AND position IS NOT NULL"
        )
        with self.db.read() as conn:
            row = conn.execute(sql, (chat_id, self.org_id, at_ms)).fetchone()
        lo = None if row is None or row[0] is None else float(row[0])
        hi = self.next_position(chat_id, lo) if lo is not None else self.first_position(chat_id)
        return self.between(chat_id, lo, hi)

    # ---- positions (the write transaction's caller holds it) ------------------------------------------------
    def _one(self, sql: str, params: list[object]) -> float | None:
        with self.db.read() as conn:
            row = conn.execute(sql, params).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def _scope(self, on_page: bool, exclude: str | None) -> tuple[str, list[object]]:
        sql = " AND position IS NOT NULL"
        params: list[object] = []
        if on_page:
            sql += f" AND {_ON_PAGE}"
        if exclude is not None:
            sql += " AND id <> ?"
            params.append(exclude)
        return sql, params

    def last_position(self, chat_id: str, *, on_page: bool = False, exclude: str | None = None) -> float | None:
        extra, params = self._scope(on_page, exclude)
        sql = f"SELECT position FROM messages WHERE chat_id = ? AND org_id = ?{extra} ORDER BY position DESC LIMIT 1"
        return self._one(sql, [chat_id, self.org_id, *params])

    def first_position(self, chat_id: str, *, on_page: bool = False, exclude: str | None = None) -> float | None:
        extra, params = self._scope(on_page, exclude)
        sql = f"SELECT position FROM messages WHERE chat_id = ? AND org_id = ?{extra} ORDER BY position LIMIT 1"
        return self._one(sql, [chat_id, self.org_id, *params])

    def next_position(
        self, chat_id: str, after: float, *, on_page: bool = False, exclude: str | None = None
    ) -> float | None:
        extra, params = self._scope(on_page, exclude)
        sql = (
            f"SELECT position FROM messages WHERE chat_id = ? AND org_id = ? AND position > ?{extra}"
            " ORDER BY position LIMIT 1"
        )
        return self._one(sql, [chat_id, self.org_id, after, *params])

    def previous_position(
        self, chat_id: str, before: float, *, on_page: bool = False, exclude: str | None = None
    ) -> float | None:
        extra, params = self._scope(on_page, exclude)
        sql = (
            f"SELECT position FROM messages WHERE chat_id = ? AND org_id = ? AND position < ?{extra}"
            " ORDER BY position DESC LIMIT 1"
        )
        return self._one(sql, [chat_id, self.org_id, before, *params])

    def between(self, chat_id: str, lo: float | None, hi: float | None) -> float:
        """A position after ``lo`` and before ``hi`` (either may be open). When two neighbours are too close to
        split, the chat's messages after ``lo`` move up by ``STEP`` to make room (they sync like any change)."""
        if lo is None:
            return STEP if hi is None else hi - STEP
        if hi is None or hi <= lo:
            return lo + STEP
        middle = (lo + hi) / 2
        if lo < middle < hi:
            return middle
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE messages SET position = position + ?, updated_at = ? WHERE chat_id = ? AND org_id = ?"
                " AND position > ?",
                (STEP, to_ms(utc_now()), chat_id, self.org_id, lo),
            )
        return lo + STEP / 2

    # ---- reading ------------------------------------------------------------------------------------------
    def find_by_wa_id(self, wa_id: str) -> Message | None:
        found = self.find_all({"wa_id": wa_id}, limit=1, include_deleted=True)
        return found[0] if found else None

    def for_chat(self, chat_id: str, *, limit: int = 50, before: Message | datetime | None = None) -> list[Message]:
        """The latest ``limit`` messages of a chat before ``before``, oldest first (as a chat view shows them).

        Messages are in the chat's order (``position``, then ``id``), the order WhatsApp shows them in. To page
        back, pass the earliest message already shown as ``before``: the page ends right before its place, so
        nothing is skipped or repeated. A plain time gives the messages sent strictly before it.
        """
        sql = f"{self._select} WHERE org_id = ? AND chat_id = ? AND deleted_at IS NULL"
        params: list[object] = [self.org_id, chat_id]
        if isinstance(before, Message):
            # The boundary's place as stored now (it may have moved), or as the caller saw it if it was purged.
            sql += (
                f" AND (position, id) < (coalesce((SELECT position FROM {self.table} WHERE org_id = ? AND id = ?),"
                " ?), ?)"
            )
            params += [self.org_id, before.id, before.position, before.id]
        elif before is not None:
            sql += " AND sent_at < ?"
            params.append(to_ms(before))
        sql += " ORDER BY position DESC, id DESC LIMIT ?"
        params.append(limit)
        with self.db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [self.codec.decode(row) for row in reversed(rows)]

    def send_queue(self) -> list[Message]:
        """Outbound messages waiting to go out (or caught mid-send), oldest first."""
        sql = f"{self._select} WHERE org_id = ? AND status IN ('queued', 'typing') AND deleted_at IS NULL"
        with self.db.read() as conn:
            rows = conn.execute(sql + " ORDER BY created_at, rid", (self.org_id,)).fetchall()
        return [self.codec.decode(row) for row in rows]
