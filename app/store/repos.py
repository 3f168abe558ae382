"""Repositories with queries beyond the generic ones."""

from __future__ import annotations

from datetime import datetime

from app.core.ids import to_ms
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


class MessageRepository(Repository[Message]):
    def find_by_wa_id(self, wa_id: str) -> Message | None:
        found = self.find_all({"wa_id": wa_id}, limit=1, include_deleted=True)
        return found[0] if found else None

    def for_chat(self, chat_id: str, *, limit: int = 50, before: Message | datetime | None = None) -> list[Message]:
        """The latest ``limit`` messages of a chat before ``before``, oldest first (as a chat view shows them).

        Messages are ordered by (``sent_at``, ``rid``). To page back, pass the earliest message already shown as
        ``before``: the page ends right before it, so messages sharing its timestamp (WhatsApp times are whole
        seconds) are neither skipped nor repeated. A plain time gives the messages strictly before it.
        """
        sql = f"{self._select} WHERE org_id = ? AND chat_id = ? AND deleted_at IS NULL"
        params: list[object] = [self.org_id, chat_id]
        if isinstance(before, Message):
            # The boundary's rid, looked up even if it was deleted meanwhile; if it was purged, nothing at its time
            # is known to come before it, so the page starts strictly before that time.
            at = to_ms(before.sent_at)
            sql += (
                " AND sent_at <= ? AND (sent_at < ? OR rid < coalesce("
                f"(SELECT rid FROM {self.table} WHERE org_id = ? AND id = ?), -1))"
            )
            params += [at, at, self.org_id, before.id]
        elif before is not None:
            sql += " AND sent_at < ?"
            params.append(to_ms(before))
        sql += " ORDER BY sent_at DESC, rid DESC LIMIT ?"
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
