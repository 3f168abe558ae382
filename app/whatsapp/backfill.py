"""Catching up on connect: read the history of chats that changed while Parley was not watching.

The driver runs ``Backfill(host).run()`` once each time it becomes linked (``connected`` or ``phone_offline``),
before its unread sweep. It takes the driver's ``ui_lock`` for one step at a time (a page of the chat list, or one
chat read) and lets go in between, so the sender can send between two chats of a long catch-up:

1. **Which chats.** Every chat in the list, newest (topmost) first: WhatsApp's list is virtualized (only the rows
   in view are in the DOM), so the list's pane (the scrollable ancestor of the chat rows) is scrolled from the top a
   part of a screen at a time (``LIST_STEP``) down to its end, at most ``BACKFILL_CHATS`` rows. A chat is opened
   when its row's last-message preview differs from the store's latest message of that chat (whitespace and
   direction marks aside; WhatsApp times have minute precision, so any message sharing the latest time counts), when
   the store does not know the chat, or when the page shows no preview. The store's chat is the one the resolver
   knows for the title (``contact_info.ChatResolver``: a phone-number title, or exactly one chat / contact so named).
   Before each step the pane is put back where the walk was (the sender may have opened a chat, or reloaded the
   page, in between); rows that moved meanwhile (a new message brings a chat to the top) are recognised by title,
   so nothing is read twice and nothing below is skipped. At the end a second pass from the top reads every chat
   not looked at yet (it moved above the walk meanwhile, and its preview may be a message the store has, such as
   the sender's, while rows before it were never read), until a part of the list has none. A chat found open at
   the start of a step that the walk did not leave open (the sender opened it in between) is read in any case.
2. **Reading a chat.** Open it, record its rendered rows, then scroll the conversation pane (the scrollable ancestor
   of the message rows) to the top so WhatsApp loads earlier rows, and record those, while new rows keep arriving
   (``MORE_ROWS_TIMEOUT_MS`` per step), until ``BACKFILL_MESSAGES`` rows of that chat were seen, or the oldest
   row shown was already in the store before (the rest is older and was read before), or the pane cannot scroll
   (everything fits). Recording goes through the driver's capture, so the store's ``wa_id`` de-duplication and the
   driver's own memory keep anything from being written twice.
3. **Afterwards** the list is scrolled back to the top (where new messages show up for the unread sweep), the chat
   that was open before is opened again, or, if none was, the open chat is closed (Escape, as a person would); when
   that does not work the last chat read stays open.

Opening a chat marks it read on the phone, as the unread sweep does. The sweep uses ``read_history`` too, so an unread
backlog longer than what WhatsApp renders on opening a chat is scrolled back for (in the common case the oldest row
shown is already stored and nothing is scrolled).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from app.whatsapp.rows import parse_data_id

if TYPE_CHECKING:
    from playwright.async_api import Page

    from app.store.store import Store
    from app.whatsapp.contact_info import ChatResolver
    from app.whatsapp.profile import Profile

log = logging.getLogger(__name__)

BACKFILL_CHATS = 5000  # chat-list rows looked at per connect, newest first
LIST_STEP = 0.75  # how far one step scrolls the chat list, in heights of its pane (the rows shown overlap a little)
LIST_RENDER_TIMEOUT_MS = 2500  # how long the list may take to render the rows of a new scroll position
STEP_RETRIES = 3  # failed steps in a row (a slow page, a reload) before the catch-up gives up; tries per chat
BACKFILL_MESSAGES = 200  # rows read per chat before scrolling stops
MORE_ROWS_TIMEOUT_MS = 2500  # how long one scroll to the top may take to show earlier rows
CLOSE_TIMEOUT_MS = 3000
LOGGED_IN_TIMEOUT_MS = 15000  # how long a reload under the walk may take to show the chat list again

# JS shared by the scripts below: the elements of the first selector that finds any (selectors the browser rejects
# are skipped) and the scrollable ancestor of an element (null when none scrolls).
_ROWS_AND_PANE = r"""
  const found = (sels) => {
    for (const sel of sels) {
      let rows;
      try { rows = Array.from(document.querySelectorAll(sel)); } catch (err) { continue; }
      if (rows.length) return rows;
    }
    return [];
  };
  const scrolls = (el) => el.scrollHeight > el.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(el).overflowY);
  const paneOf = (el) => {
    let pane = el.parentElement;
    while (pane && !scrolls(pane)) pane = pane.parentElement;
    return pane;
  };
"""
# message-row selectors → {first, count} after scrolling their pane to the top; null when no pane can scroll.
_SCROLL_TO_TOP = (
    r"""
(sels) => {
"""
    + _ROWS_AND_PANE
    + r"""  const rows = found(sels);
  if (!rows.length) return null;
  const pane = paneOf(rows[0]);
  if (!pane) return null;
  const before = { first: rows[0].getAttribute('data-id'), count: rows.length };
  pane.scrollTop = 0;
  pane.dispatchEvent(new Event('scroll'));
  return before;
}
"""
)
# [selectors, before] → true once the first row or the number of rows changed.
_OLDER_SHOWN = (
    r"""
([sels, before]) => {
"""
    + _ROWS_AND_PANE
    + r"""  const rows = found(sels);
  return rows.length > 0 && (rows[0].getAttribute('data-id') !== before.first || rows.length !== before.count);
}
"""
)
# [row selectors, scrollTop] → {top, end} after putting the chat list's pane (the scrollable ancestor of the chat
# rows) at scrollTop (clamped) and the page height it should step by; null when no chat row is rendered.
_LIST_AT = (
    r"""
([sels, to, step]) => {
"""
    + _ROWS_AND_PANE
    + r"""  const rows = found(sels);
  if (!rows.length) return null;
  const pane = paneOf(rows[0]);
  if (!pane) return { top: 0, end: true, step: 0 };
  const target = Math.max(0, Math.min(to, pane.scrollHeight - pane.clientHeight));
  if (Math.abs(pane.scrollTop - target) >= 1) {
    pane.scrollTop = target;
    pane.dispatchEvent(new Event('scroll'));
  }
  return {
    top: pane.scrollTop,
    end: pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 1,
    step: Math.max(1, Math.floor(pane.clientHeight * step)),
  };
}
"""
)
# row selectors → true once chat rows cover the top and the bottom of the list's visible area (the rows of the new
# scroll position are rendered, not only those of the old one that overlap it); at the end of the list, the top.
_LIST_SHOWN = (
    r"""
(sels) => {
"""
    + _ROWS_AND_PANE
    + r"""  const rows = found(sels);
  if (!rows.length) return false;
  const pane = paneOf(rows[0]);
  if (!pane) return true;
  const view = pane.getBoundingClientRect();
  const rects = rows.map((row) => row.getBoundingClientRect());
  const covered = (y) => rects.some((r) => r.top <= y && r.bottom > y);
  const end = pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 1;
  return covered(view.top + 1) && (end || covered(view.top + pane.clientHeight - 2));
}
"""
)
# The page's state once it is no longer loading: 'logged_in' (the chat list is back) or 'landing' (a QR code: logged
# out), so a logout under the walk ends it at once instead of after the whole LOGGED_IN_TIMEOUT_MS.
_SETTLED = (
    "() => { const s = window.__parleyScan && window.__parleyScan(); return s && s.state !== 'loading' && s.state; }"
)
_HEADER_NONE = "() => { const s = window.__parleyScan && window.__parleyScan(); return !!s && s.header === null; }"
_DIRECTION_MARKS = re.compile(r"[\u200e\u200f\u202a-\u202e]")


class Host(Protocol):
    """What the backfill needs from the driver."""

    store: Store
    profile: Profile
    chats: ChatResolver

    @property
    def page(self) -> Page: ...

    @property
    def ui_lock(self) -> asyncio.Lock: ...

    async def scan(self) -> dict[str, Any] | None: ...

    async def capture(self, snap: dict[str, Any], *, locked: bool = False) -> None: ...

    async def open_chat(self, title: str) -> bool: ...

    def remember_row(self, snap: dict[str, Any], title: str) -> None: ...

    async def fetch_shown_media(self) -> None: ...


class _NotShown(Exception):
    """The page is not showing the chat list (reloading, logged out)."""


@dataclass
class _Walk:
    """Where the walk down the chat list is: its scroll position and the chats it looked at / read."""

    position: int = 0
    done: bool = False
    recheck: bool = False  # the second pass, from the top (see ``Backfill._step``)
    left: str | None = None  # the chat the last step left open
    force: set[str] = field(default_factory=set)  # chats to read whatever their preview says (opened by the sender)
    tries: dict[str, int] = field(default_factory=dict)  # attempts to read a chat
    hits: bool = False  # a chat was read at this position
    checked: set[str] = field(default_factory=set)  # titles looked at (read or up to date)
    opened: list[str] = field(default_factory=list)
    seen: int = 0  # message rows rendered while reading them


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
        """Read what changed (see the module notes), taking the driver's ``ui_lock`` for one step at a time."""
        host = self.host
        row_sels = list(host.profile.entry("chat_row").selectors)
        async with host.ui_lock:
            snap = await host.scan()
        if snap is None or snap.get("state") != "logged_in":
            return BackfillResult(0, (), 0)
        before = snap.get("header")
        walk = _Walk()
        failures = 0
        while not walk.done and len(walk.checked) < BACKFILL_CHATS:
            try:
                async with host.ui_lock:
                    await self._step(row_sels, walk)
                failures = 0
            except (PlaywrightError, _NotShown) as exc:  # a slow page, or it reloaded or logged out under the walk
                failures += 1
                log.info("WhatsApp: a catch-up step failed (%d in a row): %s", failures, exc)
                if failures > STEP_RETRIES or not await self._logged_in():
                    log.warning("WhatsApp: catching up stopped early: %s", exc)
                    break
        async with host.ui_lock:
            try:
                await self._list_at(row_sels, 0)  # back to the top, where new messages show up
            except PlaywrightError as exc:
                log.info("WhatsApp: could not scroll the chat list back to the top: %s", exc.message)
            if walk.opened:
                await self._restore(before if isinstance(before, str) else None)
        log.info("WhatsApp: caught up on %d of %d chats (%d rows seen)", len(walk.opened), len(walk.checked), walk.seen)
        return BackfillResult(len(walk.checked), tuple(walk.opened), walk.seen)

    async def _step(self, row_sels: list[str], walk: _Walk) -> None:
        """One step of the walk down the chat list: read the newest chat of the rows at ``walk.position`` that needs
        reading, or, when none does, move ``walk.position`` a step down (``walk.done`` at the end of the list).

        In the second pass (``walk.recheck``) every row not looked at yet needs reading: it is a chat that moved above
        the walk during the catch-up (a new message, or the sender's), whose preview no longer tells whether the rows
        before it were read; the pass ends at the first part of the list without such a row.
        """
        host = self.host
        at = await self._list_at(row_sels, walk.position)
        if at is None:
            walk.done = True  # no chat at all
            return
        snap = await host.scan()
        if snap is None or snap.get("state") != "logged_in":
            raise _NotShown("WhatsApp Web is not showing the chat list")
        header = snap.get("header")
        if isinstance(header, str) and header != walk.left and header not in walk.opened:
            # Someone else (the sender) opened this chat between two steps: its rows may now be recorded up to a
            # message of its own, with the backlog before it never read, so its preview proves nothing.
            walk.checked.discard(header)
            walk.force.add(header)
        walk.left = header if isinstance(header, str) else None
        rows = [c for c in snap.get("chats") or [] if isinstance(c, dict) and c.get("title")]
        fresh = list(dict.fromkeys(str(r["title"]) for r in rows if str(r["title"]) not in walk.checked))
        if walk.recheck:
            stale = fresh
        else:
            differ = set(await self._stale(rows))
            stale = [title for title in fresh if title in differ or title in walk.force]
            walk.checked.update(title for title in fresh if title not in stale)
        if stale:
            title = stale[0]
            walk.hits = True
            walk.tries[title] = walk.tries.get(title, 0) + 1
            if walk.tries[title] > STEP_RETRIES:  # (an error or a row that would not open each time: move on)
                log.warning("WhatsApp: catching up could not read one chat; it is read when it shows a new message")
                walk.checked.add(title)
                return
            if await host.open_chat(title):
                walk.left = title
                seen = await self.read_history(title)
                walk.opened.append(title)
                walk.seen += seen
                walk.checked.add(title)  # only now: a step that failed on the way tries the chat again
                walk.force.discard(title)
            return  # the next step looks at the same rows again (after putting the list back where it was)
        if at["end"] or (walk.recheck and not walk.hits):
            if walk.recheck:
                walk.done = True
            else:  # then once more from the top, for chats that moved above the walk meanwhile
                walk.recheck, walk.position, walk.hits = True, 0, False
            return
        walk.position = at["top"] + at["step"]
        walk.hits = False

    async def _list_at(self, row_sels: list[str], position: int) -> dict[str, Any] | None:
        """Scroll the chat list to ``position`` and wait (a while) for its rows there to render; None when the page
        shows no chat row."""
        page = self.host.page
        at = await page.evaluate(_LIST_AT, [row_sels, position, LIST_STEP])
        if not isinstance(at, dict):
            return None
        try:
            await page.wait_for_function(_LIST_SHOWN, arg=row_sels, timeout=LIST_RENDER_TIMEOUT_MS)
        except PlaywrightTimeoutError:
            log.info(
                "WhatsApp: the chat list did not render the rows at %d px in time; reading what it shows", position
            )
        return at

    async def _logged_in(self) -> bool:
        """Wait (a while) for the page to settle after a failed step: True when it shows the chat list again (a
        reload under the walk), False at once when it shows a QR code (logged out) or never settles. The catch-up
        runs on the driver's report loop, so waiting here for a page that will not come back would hold every state
        change (logged out, scan the QR) behind it."""
        try:
            settled = await self.host.page.wait_for_function(_SETTLED, timeout=LOGGED_IN_TIMEOUT_MS)
            return bool(await settled.json_value() == "logged_in")
        except PlaywrightError:
            return False

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
            host.remember_row(snap, title)  # read up to here: only a later change to its row is news
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
            await host.fetch_shown_media()  # the chat's media rows are still shown: read their bytes first
            await host.page.keyboard.press("Escape")
            await host.page.wait_for_function(_HEADER_NONE, timeout=CLOSE_TIMEOUT_MS)
        except PlaywrightError as exc:
            log.info("WhatsApp: could not go back to the chat open before catching up: %s", exc.message)
