"""Which WhatsApp chat a title names, when the page's message rows do not say (the 2026 markup's bare ``data-id``).

Until 2026 a row's ``data-id`` carried the chat id (``false_6590000001@c.us_3A…``). Since then it is the bare message
id, so the driver knows a row's chat only from the open chat's title. ``ChatResolver.resolve(title)`` answers, in
order:

1. what it already learnt for the title (from full ``data-id`` rows, or an earlier look-up);
2. a title that is a phone number ("+65 9000 0001") → ``6590000001@c.us``;
3. the store: exactly one chat titled so, or contact named so, with a WhatsApp id (case-sensitive, exact; several
   distinct ids → not this way);
4. the page: click the conversation header, read the phone number from the "Contact info" drawer, close it.

Steps 3 and 4 are skipped / not cached when the chat list shows the title on more than one row (two contacts saved
under one name): then only the open chat's own drawer can tell, and it is asked each time. A title the drawer cannot
resolve (a group, a page the profile no longer matches) is remembered as unresolvable for this session, so the
drawer is not opened over and over; its rows are skipped (``WhatsAppDriver.skipped``).

The caller holds the driver's ``ui_lock`` while step 4 clicks around, and the open chat is checked to still be the
title's before and while the drawer is read, so a number is never attributed to the wrong chat.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

from playwright.async_api import Error as PlaywrightError

from app.whatsapp.probe import first_match
from app.whatsapp.profile import Profile

if TYPE_CHECKING:
    from playwright.async_api import Page

    from app.store.store import Store

log = logging.getLogger(__name__)

CONTACT_INFO_TIMEOUT_MS = 3000
_MOVED = "moved"  # not a jid: the open chat changed under the look-up
ENTRIES = ("chat_header_info", "contact_info_phone", "contact_info_close")  # newer than some workspace profiles

# (selectors, title) → the first phone-like text among the entry's matches while the open chat is ``title``;
# {wrong: true} once another chat is open; false (keep waiting) until then.
_READ_PHONE = r"""
([sels, title]) => {
  const scan = window.__parleyScan && window.__parleyScan();
  if (!scan || scan.header !== title) return { wrong: true };
  for (const sel of sels) {
    let found;
    try { found = document.querySelectorAll(sel); } catch (err) { continue; }
    for (const node of found) {
      const text = (node.innerText || node.textContent || '').replace(/[\u200e\u200f\u202a-\u202e]/g, '').trim();
      if (/^\+?[\d\s().\-]{7,24}$/.test(text)) return { phone: text };
    }
  }
  return false;
}
"""
_HEADER_IS = "(title) => { const s = window.__parleyScan && window.__parleyScan(); return !!s && s.header === title; }"
_GONE = r"""
(sels) => !sels.some((sel) => { try { return !!document.querySelector(sel); } catch (err) { return false; } })
"""


def phone_jid(title: str | None) -> str | None:
    """A chat title that is a phone number ("+65 9000 0001", "+1 (555) 010-0000") → its ``@c.us`` id."""
    if not title:
        return None
    text = re.sub(r"[\u200e\u200f\u202a-\u202e]", "", title).strip()
    if not re.fullmatch(r"\+?[\d\s().-]{7,24}", text):
        return None
    digits = re.sub(r"\D", "", text)
    return f"{digits}@c.us" if 7 <= len(digits) <= 15 else None


def jid_from_store(store: Store, title: str) -> str | None:
    """The one WhatsApp id the store knows for ``title`` (chat title or contact name, exact), or None."""
    jids = {chat.wa_chat_id for chat in store.chats.find_all({"title": title}) if chat.wa_chat_id}
    jids |= {contact.wa_id for contact in store.contacts.find_all({"name": title}) if contact.wa_id}
    return next(iter(jids)) if len(jids) == 1 else None


class ChatResolver:
    """Title → chat id for rows that do not carry it; see the module notes for the order it tries."""

    def __init__(self, store: Store, profile: Profile) -> None:
        self.store = store
        self.profile = profile
        self.drawer_reads = 0  # contact-info drawers opened
        self._jids: dict[str, str] = {}
        self._unresolvable: set[str] = set()

    def learn(self, title: str, jid: str) -> None:
        """A row with a full ``data-id`` showed ``title``'s chat id."""
        self._jids[title] = jid
        self._unresolvable.discard(title)

    def known(self, title: str, *, ambiguous: bool = False) -> str | None:
        """What is known without asking the store or the page."""
        return phone_jid(title) or (None if ambiguous else self._jids.get(title))

    def titles_of(self, jid: str) -> list[str]:
        """The chat-list titles learnt for ``jid`` (a saved contact's name, the number)."""
        return [title for title, known in self._jids.items() if known == jid]

    def needs_page(self, title: str) -> bool:
        return title not in self._unresolvable

    async def from_store(self, title: str, *, ambiguous: bool = False) -> str | None:
        if ambiguous:
            return None
        jid = await asyncio.to_thread(jid_from_store, self.store, title)
        if jid is not None:
            self._jids[title] = jid
        return jid

    async def from_contact_info(self, page: Page, title: str, *, ambiguous: bool = False) -> str | None:
        """Open the open chat's contact-info drawer, read its phone number, close it. Caller holds ``ui_lock``."""
        jid = await self._read_drawer(page, title)
        if jid == _MOVED:
            return None  # another chat is open now: not an answer about this title
        if jid is None:
            self._unresolvable.add(title)
            log.warning("WhatsApp: could not tell which chat %r is; its messages are not captured", title)
        elif not ambiguous:
            self._jids[title] = jid
        return jid

    async def _read_drawer(self, page: Page, title: str) -> str | None:
        """The jid read from the drawer, None when there is none, ``_MOVED`` when ``title`` is not the open chat."""
        if any(name not in self.profile.entries for name in ENTRIES):
            log.info("WhatsApp: the page profile %s cannot open the contact info", self.profile.version)
            return None
        header = await first_match(page, self.profile, "chat_header_info")
        if header is None:
            return None
        phone_sels = list(self.profile.entry("contact_info_phone").selectors)
        if not await page.evaluate(_HEADER_IS, title):
            return _MOVED
        try:
            if not await page.evaluate(_GONE, phone_sels):
                await self._close(page)  # a drawer left open (another chat's, or the user's)
            await header.click(timeout=CONTACT_INFO_TIMEOUT_MS)
            self.drawer_reads += 1
            handle = await page.wait_for_function(_READ_PHONE, arg=[phone_sels, title], timeout=CONTACT_INFO_TIMEOUT_MS)
            found = await handle.json_value()
        except PlaywrightError as exc:  # includes the timeout: no phone number in the drawer (a group, say)
            log.info("WhatsApp: no phone number in the contact info of %r: %s", title, exc.message.splitlines()[0])
            found = None
        finally:
            await self._close(page)
        if isinstance(found, dict) and found.get("wrong"):
            return _MOVED
        if not isinstance(found, dict) or not isinstance(found.get("phone"), str):
            return None
        return phone_jid(found["phone"])

    async def _close(self, page: Page) -> None:
        phone_sels = list(self.profile.entry("contact_info_phone").selectors)
        try:
            if await page.evaluate(_GONE, phone_sels):
                return
            close = await first_match(page, self.profile, "contact_info_close")
            if close is not None:
                await close.click(timeout=CONTACT_INFO_TIMEOUT_MS)
            else:
                await page.keyboard.press("Escape")
            await page.wait_for_function(_GONE, arg=phone_sels, timeout=CONTACT_INFO_TIMEOUT_MS)
        except PlaywrightError as exc:
            log.info("WhatsApp: could not close the contact info: %s", exc.message.splitlines()[0])
