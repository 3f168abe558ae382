"""Catching up on connect: read the history of chats that changed while Parley was not watching.

The driver runs ``Backfill(host).run()`` once each time it becomes linked (``connected`` or ``phone_offline``),
before its unread sweep, holding ``ui_lock``:

1. **Which chats.** The rendered chat-list rows, newest (topmost) first, at most ``BACKFILL_CHATS``. A chat is
   opened when its row's last-message preview differs from the store's latest message of that chat (whitespace and
   direction marks aside; WhatsApp times have minute precision, so any message sharing the latest time counts), when
   the store does not know the chat, or when the page shows no preview. The store's chat is the one the resolver
   knows for the title (``contact_info.ChatResolver``: a phone-number title, or exactly one chat / contact so named).
   Only rendered rows are considered: chats further down the virtualized list are not scrolled to.
2. **Reading a chat.** Open it, record its rendered rows, then scroll the conversation pane (the scrollable ancestor
   of the message rows) to the top so WhatsApp loads earlier rows, and record those, while new rows keep arriving
   (``MORE_ROWS_TIMEOUT_MS`` per step), until ``BACKFILL_MESSAGES`` rows of that chat were seen, or the oldest
   row shown was already in the store before (the rest is older and was read before), or the pane cannot scroll
   (everything fits). Recording goes through the driver's capture, so the store's ``wa_id`` de-duplication and the
   driver's own memory keep anything from being written twice.
3. **Afterwards** the chat that was open before is opened again, or, if none was, the open chat is closed (Escape,
   as a person would); when that does not work the last chat read stays open.

Opening a chat marks it read on the phone, as the unread sweep does. The sweep uses ``read_history`` too, so an unread
backlog longer than what WhatsApp renders on opening a chat is scrolled back for (in the common case the oldest row
shown is already stored and nothing is scrolled).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from playwright.async_api import Error as PlaywrightError

from app.whatsapp.rows import parse_data_id

if TYPE_CHECKING:
    from playwright.async_api import Page

    from app.store.store import Store
    from app.whatsapp.contact_info import ChatResolver
    from app.whatsapp.profile import Profile

log = logging.getLogger(__name__)

BACKFILL_CHATS = 20  # chats considered per connect
BACKFILL_MESSAGES = 200  # rows read per chat before scrolling stops
MORE_ROWS_TIMEOUT_MS = 2500  # how long one scroll to the top may take to show earlier rows
CLOSE_TIMEOUT_MS = 3000

# message-row selectors → {first, count} after scrolling their pane to the top; null when no pane can scroll.
_SCROLL_TO_TOP = r"""
(sels) => {
  let rows = [];
  for (const sel of sels) {
    try { rows = Array.from(document.querySelectorAll(sel)); } catch (err) { continue; }
    if (rows.length) break;
  }
  if (!rows.length) return null;
  const scrolls = (el) => el.scrollHeight > el.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(el).overflowY);
  let pane = rows[0].parentElement;
  while (pane && !scrolls(pane)) pane = pane.parentElement;
  if (!pane) return null;
  const before = { first: rows[0].getAttribute('data-id'), count: rows.length };
  pane.scrollTop = 0;
  pane.dispatchEvent(new Event('scroll'));
  return before;
}
"""
# [selectors, before] → true once the first row or the number of rows changed.
_OLDER_SHOWN = r"""
([sels, before]) => {
  for (const sel of sels) {
    let rows;
    try { rows = document.querySelectorAll(sel); } catch (err) { continue; }
    if (!rows.length) continue;
    return rows[0].getAttribute('data-id') !== before.first || rows.length !== before.count;
  }
  return false;
}
"""
_HEADER_NONE = "() => { const s = window.__parleyScan && window.__parleyScan(); return !!s && s.header === null; }"
_DIRECTION_MARKS = re.compile(r"[\u200e\u200f\u202a-\u202e]")


class Host(Protocol):
    """What the backfill needs from the driver."""

    store: Store
    profile: Profile
    chats: ChatResolver

    @property
    def page(self) -> Page: ...

    async def scan(self) -> dict[str, Any] | None: ...

    async def capture(self, snap: dict[str, Any], *, locked: bool = False) -> None: ...

    async def open_chat(self, title: str) -> bool: ...


@dataclass(frozen=True)
class BackfillResult:
    considered: int  # chat-list rows looked at
    opened: tuple[str, ...]  # titles of the chats read
    rows_seen: int  # message rows rendered while reading them


def normalize(text: str) -> str:
    return " ".join(_DIRECTION_MARKS.sub("", text).split())


def latest_bodies(store: Store, chat_jid: str) -> set[str] | None:
    """Normalized bodies of the chat's messages at its latest time; None when the store does not know the chat."""
    chat = store.chats.find_by_wa_chat_id(chat_jid)
    if chat is None:
        return None
    recent = store.messages.for_chat(chat.id, limit=20)
    if not recent:
        return set()
    latest = recent[-1].sent_at
    return {normalize(m.body) for m in recent if m.sent_at == latest}


def stored_ids(store: Store, wa_ids: list[str]) -> set[str]:
    return {wa_id for wa_id in wa_ids if store.messages.find_by_wa_id(wa_id) is not None}


class Backfill:
    def __init__(self, host: Host) -> None:
        self.host = host

    async def run(self) -> BackfillResult:
        """Read what changed (see the module notes). The caller holds the driver's ``ui_lock``."""
        host = self.host
        snap = await host.scan()
        if snap is None or snap.get("state") != "logged_in":
            return BackfillResult(0, (), 0)
        before = snap.get("header")
        rows = [c for c in snap.get("chats") or [] if isinstance(c, dict) and c.get("title")][:BACKFILL_CHATS]
        stale = await self._stale(rows)
        opened: list[str] = []
        seen = 0
        for title in stale:
            if not await host.open_chat(title):
                continue
            opened.append(title)
            seen += await self.read_history(title)
        if opened:
            await self._restore(before if isinstance(before, str) else None)
        log.info("WhatsApp: caught up on %d of %d chats (%d rows seen)", len(opened), len(rows), seen)
        return BackfillResult(len(rows), tuple(opened), seen)

    async def _stale(self, rows: list[dict[str, Any]]) -> list[str]:
        """Titles of the rows whose preview is not the store's latest message of that chat, in list order."""
        titles = [str(r["title"]) for r in rows]
        checks: list[tuple[str, str | None, str | None]] = []
        for row, title in zip(rows, titles, strict=True):
            ambiguous = titles.count(title) > 1
            resolver = self.host.chats
            jid = resolver.known(title, ambiguous=ambiguous) or await resolver.from_store(title, ambiguous=ambiguous)
            preview = row.get("preview")
            checks.append((title, jid, preview if isinstance(preview, str) else None))

        def differs() -> list[str]:
            out: list[str] = []
            for title, jid, preview in checks:
                bodies = latest_bodies(self.host.store, jid) if jid else None
                shown = normalize(preview) if preview is not None else None
                same = bodies is not None and shown is not None and (shown in bodies or not (bodies or shown))
                if not same:  # (an empty chat on both sides is the same too)
                    out.append(title)
            return out

        stale = await asyncio.to_thread(differs)
        return list(dict.fromkeys(stale))

    async def read_history(self, title: str) -> int:
        """Record the open chat's rows, scrolling up for earlier ones until the oldest shown was already stored (or
        ``BACKFILL_MESSAGES``, or the beginning); the number of rows seen. The caller holds ``ui_lock``."""
        host = self.host
        row_sels = list(host.profile.entry("message_row").selectors)
        seen: set[str] = set()
        while True:
            snap = await host.scan()
            if snap is None or snap.get("header") != title:
                log.info("WhatsApp: chat %r closed while reading its history", title)
                return len(seen)
            ids = [str(m["id"]) for m in snap.get("messages") or [] if isinstance(m, dict) and m.get("id")]
            known = await asyncio.to_thread(stored_ids, host.store, [parse_data_id(i).wa_id for i in ids[:1]])
            await host.capture(snap, locked=True)
            before = len(seen)
            seen.update(ids)
            if not ids or known or len(seen) >= BACKFILL_MESSAGES or len(seen) == before:
                return len(seen)  # (nothing new since the last scroll: the page changed without loading more)
            if not await self._scroll_for_older(row_sels):
                return len(seen)

    async def _scroll_for_older(self, row_sels: list[str]) -> bool:
        page = self.host.page
        before = await page.evaluate(_SCROLL_TO_TOP, row_sels)
        if not isinstance(before, dict):
            return False  # nothing to scroll: the whole history fits in the pane
        try:
            await page.wait_for_function(_OLDER_SHOWN, arg=[row_sels, before], timeout=MORE_ROWS_TIMEOUT_MS)
        except PlaywrightError:
            return False  # nothing earlier arrived: the beginning of the chat (or a slow page)
        return True

    async def _restore(self, before: str | None) -> None:
        host = self.host
        try:
            if before is not None:
                await host.open_chat(before)
                return
            await host.page.keyboard.press("Escape")
            await host.page.wait_for_function(_HEADER_NONE, timeout=CLOSE_TIMEOUT_MS)
        except PlaywrightError as exc:
            log.info("WhatsApp: could not go back to the chat open before catching up: %s", exc.message)
