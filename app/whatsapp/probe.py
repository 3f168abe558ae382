"""Check a page profile against the live WhatsApp Web page: which selector fallback each entry needs, and what broke.

``self_test`` is a snapshot: the caller first waits for the page to reach ``state`` ("landing", "logged_in" or
"chat_open"), then asks which entries of that state can be found. Entries that depend on data (unread chats, messages)
are reported but never count as broken when absent; the send button is only checked with ``draft=True`` (it appears
only while the composer holds text). A broken entry pauses what depends on it, and ``ProbeReport.message`` says so in
words a shop owner can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page

from app.whatsapp.profile import Entry, Profile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EntryResult:
    name: str
    entry: Entry
    matched: int | None  # index of the first selector that found something, None when none did
    errors: tuple[str, ...] = ()  # selectors the browser rejected (syntax), with the reason

    @property
    def selector(self) -> str | None:
        return None if self.matched is None else self.entry.selectors[self.matched]

    @property
    def broken(self) -> bool:
        return self.matched is None and self.entry.presence != "if_content"

    @property
    def used_fallback(self) -> bool:
        return self.matched is not None and self.matched > 0


@dataclass(frozen=True)
class ProbeReport:
    state: str
    profile_version: str
    results: tuple[EntryResult, ...]

    @property
    def ok(self) -> bool:
        return not self.broken

    @property
    def broken(self) -> list[str]:
        return [r.name for r in self.results if r.broken]

    @property
    def used_fallbacks(self) -> list[str]:
        return [r.name for r in self.results if r.used_fallback]

    @property
    def missing_optional(self) -> list[str]:
        """Data-dependent entries not on the page right now (no unread chats, no messages): not a failure."""
        return [r.name for r in self.results if r.matched is None and not r.broken]

    def result(self, name: str) -> EntryResult:
        return next(r for r in self.results if r.name == name)

    @property
    def message(self) -> str:
        broken = [r for r in self.results if r.broken]
        if not broken:
            # Every entry passed: the found ones and the data-dependent ones that are simply absent right now (the
            # self-test table shows them all as OK, so the count matches it).
            fallbacks = len(self.used_fallbacks)
            note = f", {fallbacks} of them through an older or looser selector" if fallbacks else ""
            return f"Parley found everything it needs on the WhatsApp page ({len(self.results)} checks passed{note})."
        things = _join([f"{r.entry.label} (entry '{r.name}')" for r in broken])
        paused = list(dict.fromkeys(r.entry.pauses for r in broken))
        verb = "is" if len(paused) == 1 else "are"
        return f"Parley can't find {things}; {_join(paused)} {verb} paused until the page profile is updated"


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


async def _probe(page: Page, selectors: tuple[str, ...]) -> tuple[int | None, tuple[str, ...]]:
    errors: list[str] = []
    for index, selector in enumerate(selectors):
        try:
            if await page.locator(selector).count() > 0:
                return index, tuple(errors)
        except PlaywrightError as exc:  # a malformed selector must not stop the check
            errors.append(f"{selector}: {exc.message.splitlines()[0] if exc.message else exc}")
    return None, tuple(errors)


async def first_match(page: Page, profile: Profile, name: str) -> Locator | None:
    """The first element found by the first selector of entry ``name`` that finds anything, or None."""
    matched, _ = await _probe(page, profile.entry(name).selectors)
    if matched is None:
        return None
    return page.locator(profile.entry(name).selectors[matched]).first


async def self_test(page: Page, profile: Profile, state: str, *, draft: bool = False) -> ProbeReport:
    """Which fallback each entry of ``state`` matched; ``draft=True`` (composer holds text) adds the send button."""
    results: list[EntryResult] = []
    for name, entry in profile.entries_for(state).items():
        if entry.presence == "with_draft" and not draft:
            continue
        matched, errors = await _probe(page, entry.selectors)
        results.append(EntryResult(name, entry, matched, errors))
    report = ProbeReport(state=state, profile_version=profile.version, results=tuple(results))
    if report.broken:
        log.warning("%s (profile %s, state %s)", report.message, profile.version, state)
    elif report.used_fallbacks:
        log.info("WhatsApp page check: fallback selectors used for %s", ", ".join(report.used_fallbacks))
    return report


async def dismiss_notice(page: Page, profile: Profile, name: str) -> bool:
    """Close WhatsApp's notice ``name`` with its button (profile ``notices[name].dismiss``, tried in order), so the
    page takes clicks again; False when the notice has no such button on the page (nothing clicked)."""
    notice = profile.notices.get(name)
    if notice is None or not notice.dismiss:
        return False
    matched, _ = await _probe(page, notice.dismiss)
    if matched is None:
        return False
    try:
        await page.locator(notice.dismiss[matched]).first.click(timeout=5000)
    except PlaywrightError as exc:  # gone meanwhile, or covered: the next navigation replaces the page anyway
        log.info("WhatsApp: could not close the notice %s: %s", name, type(exc).__name__)
        return False
    return True
