"""The catch-up part of the WhatsApp benchmark (``bench/whatsapp_bench.py`` runs it; not a command of its own).

Messages waiting at connect: 100 chats the store had read before (two messages each, recorded as the driver would
have), then 2,000 new messages across them (5–35 a chat, in rounds so the chats' order in the list shuffles) while
Parley is closed. Two figures, each from a fresh browser on the same imitation (in a process of its own):

- **driver**: ``driver.start()`` → the last of the 2,000 committed to a fresh passphrase-mode SQLCipher workspace
  (``MessageReceived`` on the store's bus), with the catch-up's own end (``last_backfill`` set) beside it;
- **page**: what the page needs to show them, with no driver and no store: a plain Playwright reader loads the page,
  walks the virtualized chat list from the top (scrolling it like the driver), clicks each chat and waits until its
  new messages are all rendered (scrolling the conversation up while fewer are; it knows how many from the control
  API, which the driver does not).

The page figure runs first, so the driver's catch-up is the one that meets the page's "new messages" state (opening
a chat marks it read; the driver compares previews with the store, not badges, so either order is fair).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from app.core.events import MessageReceived
from app.store.intake import CapturedChat, CapturedMessage, record_chat, record_messages
from app.store.store import Store
from app.whatsapp.browser import find_chromium, launch_args
from app.whatsapp.driver import ConnectionState, WhatsAppDriver
from app.whatsapp.profile import Profile, load_profile
from tests.whatsapp.imitation_server import ImitationControl

CHATS = 100
MESSAGES = 2000
BEFORE = 2  # messages per chat the store already had
TIMEOUT = 900.0  # seconds either side may take before the bench gives up
SETTLE = 30.0  # seconds after the catch-up's end for its last rows to reach the store

# [chat-row selector, scrollTop] → {titles, end, step} after scrolling the chat list's pane there.
_LIST = r"""
([sel, to]) => {
  const pane = document.querySelector('#pane-side');
  pane.scrollTop = to;
  pane.dispatchEvent(new Event('scroll'));
  const rows = Array.from(document.querySelectorAll(sel)).map((r) => [r.getBoundingClientRect().top, r])
    .sort((a, b) => a[0] - b[0]);
  return {
    titles: rows.map(([, r]) => r.querySelector('span[dir=auto][title]').getAttribute('title')),
    end: pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 1,
    step: Math.floor(pane.clientHeight * 0.75),
    top: pane.scrollTop,
  };
}
"""
_SHOWN = r"""
([sel, title, want]) => {
  const header = document.querySelector('#main header span[title]');
  return !!header && header.getAttribute('title') === title && document.querySelectorAll(sel).length >= want;
}
"""
_OLDER = r"""
([sel]) => {
  const rows = document.querySelectorAll(sel);
  let pane = rows.length ? rows[0].parentElement : null;
  while (pane && !(pane.scrollHeight > pane.clientHeight + 1)) pane = pane.parentElement;
  if (pane) { pane.scrollTop = 0; pane.dispatchEvent(new Event('scroll')); }
  return rows.length;
}
"""


@dataclass
class CatchUp:
    chats: int = 0
    messages: int = 0
    driver_seconds: float = float("nan")  # driver.start() → the last new message committed
    backfill_seconds: float = float("nan")  # driver.start() → the catch-up reported done
    page_seconds: float = float("nan")  # page load → every new message rendered, by a plain reader
    landed: int = 0
    duplicates: int = 0
    opened: int = 0  # chats the catch-up read


def load(control: ImitationControl, store: Store, rng: random.Random) -> dict[str, int]:
    """Fill the imitation and the store (see the module notes); the number of new messages per chat title."""
    chats = {f"659500{n:04d}": f"Waiting {n:03d}" for n in range(CHATS)}
    counts = [5] * CHATS
    for _ in range(MESSAGES - 5 * CHATS):  # 5-35 each, 2,000 in all
        n = rng.choice([i for i in range(CHATS) if counts[i] < 35])
        counts[n] += 1
    start = time.time() - 3 * 86400
    old: list[CapturedMessage] = []
    for n, (phone, name) in enumerate(chats.items()):
        record_chat(store, CapturedChat(chat_jid=f"{phone}@c.us", title=name))
        for k in range(BEFORE):
            m = control.incoming(phone, f"{name} before {k}", name=name, timestamp=start + n * 120 + k)
            old.append(
                CapturedMessage(
                    wa_id=m["id"],
                    chat_jid=m["chat"],
                    from_me=False,
                    push_name=name,
                    body=m["text"],
                    timestamp=datetime.fromtimestamp(m["timestamp"], UTC),
                )
            )
    record_messages(store, old)
    weekend = time.time() - 86400
    order = list(enumerate(chats.items()))
    for round_ in range(max(counts)):
        rng.shuffle(order)
        for n, (phone, name) in order:
            if counts[n] > round_:
                control.incoming(phone, f"{name} new {round_}", name=name, timestamp=weekend + round_ * 600 + n)
    return {name: counts[n] for n, name in enumerate(chats.values())}


async def page_time(url: str, profile: Profile, wanted: dict[str, int]) -> float:
    """Seconds a plain reader needs from loading the page until it has seen every chat's new messages rendered."""
    row_sel = profile.entry("chat_row").selectors[0]
    msg_sel = profile.entry("message_row").selectors[0]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            headless=True, executable_path=str(find_chromium().executable), args=launch_args(headless=True)
        )
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 800})).new_page()
            started = time.perf_counter()
            await page.goto(url + "/", wait_until="domcontentloaded")
            await page.wait_for_selector(row_sel, timeout=TIMEOUT * 1000)
            done: set[str] = set()
            position = 0
            while True:
                shown: dict[str, Any] = await page.evaluate(_LIST, [row_sel, position])
                todo = [t for t in shown["titles"] if t not in done]
                if todo:
                    title = todo[0]
                    await page.locator(row_sel).filter(has=page.get_by_title(title, exact=True)).first.click()
                    want = wanted.get(title, 0)
                    await page.wait_for_function(_SHOWN, arg=[msg_sel, title, 1], timeout=TIMEOUT * 1000)
                    while not await page.evaluate(_SHOWN, [msg_sel, title, want]):
                        before = await page.evaluate(_OLDER, [msg_sel])
                        await page.wait_for_function(
                            "([sel, n]) => document.querySelectorAll(sel).length > n",
                            arg=[msg_sel, before],
                            timeout=TIMEOUT * 1000,
                        )
                    done.add(title)
                    continue
                if shown["end"]:
                    break
                position = shown["top"] + shown["step"]
            seconds = time.perf_counter() - started
            if set(wanted) - done:
                raise RuntimeError(f"the page reader missed {len(set(wanted) - done)} chats")
            return seconds
        finally:
            await browser.close()


async def driver_time(url: str, store: Store, profile_dir: Path, result: CatchUp) -> None:
    """driver.start() → every new message in the store; fills ``result``."""
    landed: set[str] = set()
    repeats = 0
    done = asyncio.Event()

    def on_received(event: MessageReceived) -> None:  # runs on the writing thread
        nonlocal repeats
        if event.message_id in landed:
            repeats += 1
        landed.add(event.message_id)
        if len(landed) >= result.messages:
            loop.call_soon_threadsafe(done.set)

    loop = asyncio.get_running_loop()
    store.bus.subscribe(MessageReceived, on_received)
    driver = WhatsAppDriver(store, load_profile(None), profile_dir, url=url + "/")
    started = time.perf_counter()
    await driver.start()
    try:
        await driver.wait_until(lambda: driver.state is ConnectionState.connected, 60)
        await driver.wait_until(lambda: driver.last_backfill is not None, TIMEOUT)
        result.backfill_seconds = time.perf_counter() - started
        try:  # (the last rows may be written just after the catch-up reports done)
            await asyncio.wait_for(done.wait(), SETTLE)
            result.driver_seconds = time.perf_counter() - started
        except TimeoutError:
            pass  # reported as a loss
        result.opened = len(driver.last_backfill.opened) if driver.last_backfill else 0
    finally:
        result.landed, result.duplicates = len(landed), repeats
        await driver.stop()


async def run_catch_up(url: str, store: Store, work: Path, seed: int) -> CatchUp:
    """The whole part, on a fresh imitation at ``url`` and a fresh ``store`` (see the module notes)."""
    control = ImitationControl(url)
    control.configure(slow_ms=60, sync_ms=120)
    control.scan()
    wanted = await asyncio.to_thread(load, control, store, random.Random(seed))
    result = CatchUp(chats=len(wanted), messages=sum(wanted.values()))
    result.page_seconds = await page_time(url, load_profile(None), wanted)
    await driver_time(url, store, work / "wa-catchup-profile", result)
    return result
