"""pytest plugin with the WhatsApp fixtures: the imitation server, real headless Chromium, the driver.

pytest-asyncio is not installed. Async scenarios run on one module-scoped event loop (``loop``) through ``run``, with
an overall timeout; ``browser_runner`` adds one async Chromium on that loop and a fresh context per scenario (for
tests of the page itself, without the driver). ``sync_browser`` is a sync-Playwright Chromium for the imitation's own
tests. Every browser is the one ``find_chromium`` picks (``PARLEY_CHROMIUM``, Playwright's, or a system one) with
the driver's launch flags; without one the tests skip (a failure under ``CI=true``).

The imitation server starts per test with short loading screens and a QR that does not rotate during a test
(``imitation_config``; override the fixture in a module, or ``control.configure(...)`` before the page loads).
Waits are on conditions (``driver.wait_until``, the imitation's long-poll ``control.wait_for``), never sleeps.

The imitation is ``imitation_server`` / ``imitation_control`` here (``server`` and ``control`` in tests/whatsapp, whose
conftest names them so; ``server`` elsewhere is the sync server). Use fixtures by name; import the helpers:
``from tests.support.whatsapp_fixtures import WAIT, Recorder, make_driver, run``. A driver test takes
``driver_runner`` (with ``store`` and ``control`` when it uses them): ``driver = driver_runner.driver()``, its scenario
``async with driver_runner.connected(driver): ...``, then ``driver_runner.run(scenario)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser as AsyncBrowser
from playwright.async_api import Page as AsyncPage
from playwright.async_api import Playwright as AsyncPlaywright
from playwright.async_api import async_playwright
from playwright.sync_api import Browser, sync_playwright

from app.core.models import Chat
from app.store.intake import CapturedChat, record_chat
from app.store.store import Store
from app.whatsapp.browser import BrowserChoice, NoBrowser, find_chromium, launch_args
from app.whatsapp.driver import ConnectionState, WhatsAppDriver
from app.whatsapp.humanizer import TypingPace
from app.whatsapp.limits import SendLimits
from app.whatsapp.profile import Profile, load_profile
from tests.whatsapp.imitation_server import ImitationConfig, ImitationControl, ImitationServer, JsonDict

WAIT = 10.0  # seconds for one condition the driver or the page should reach
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

AsyncScenario = Callable[[AsyncPage], Awaitable[None]]


# ---- Chromium ---------------------------------------------------------------------------------------------------


@functools.cache
def _chromium() -> BrowserChoice | None:
    try:
        return find_chromium()
    except NoBrowser:
        return None


@pytest.fixture(scope="session")
def chromium() -> BrowserChoice:
    """The browser every WhatsApp test launches; skips (fails under CI) when there is none."""
    choice = _chromium()
    if choice is None:
        pytest.skip("no Chromium found (PARLEY_CHROMIUM, Playwright's browser or a system one)")
    return choice


def launch_options(choice: BrowserChoice) -> dict[str, Any]:
    return {"headless": True, "executable_path": str(choice.executable), "args": launch_args(headless=True)}


@pytest.fixture(scope="module")
def loop(chromium: BrowserChoice) -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop per module for async scenarios (requires a Chromium: every user of it drives one)."""
    running = asyncio.new_event_loop()
    try:
        yield running
    finally:
        running.close()


def run(loop: asyncio.AbstractEventLoop, scenario: Callable[[], Awaitable[None]], timeout: float = 30) -> None:
    """Run ``scenario()`` on ``loop`` to completion, failing with TimeoutError after ``timeout`` seconds."""

    async def main() -> None:
        await asyncio.wait_for(scenario(), timeout)

    loop.run_until_complete(main())


class BrowserRunner:
    """One async headless Chromium on the module's loop; each scenario gets a fresh browser context and page."""

    def __init__(self, loop: asyncio.AbstractEventLoop, choice: BrowserChoice) -> None:
        self.loop = loop
        self._choice = choice
        self._playwright: AsyncPlaywright | None = None
        self._browser: AsyncBrowser | None = None

    def start(self) -> None:
        async def start() -> None:
            self._playwright = await async_playwright().start()
            self._browser = await self._playwright.chromium.launch(**launch_options(self._choice))

        self.loop.run_until_complete(start())

    def run(self, scenario: AsyncScenario, timeout: float = 30) -> None:
        async def main() -> None:
            assert self._browser is not None
            context = await self._browser.new_context(viewport={"width": 1280, "height": 800})
            try:
                await scenario(await context.new_page())
            finally:
                await context.close()

        self.loop.run_until_complete(asyncio.wait_for(main(), timeout))

    def close(self) -> None:
        async def stop() -> None:
            if self._browser is not None:
                await self._browser.close()
            if self._playwright is not None:
                await self._playwright.stop()

        self.loop.run_until_complete(stop())


@pytest.fixture(scope="module")
def browser_runner(loop: asyncio.AbstractEventLoop, chromium: BrowserChoice) -> Iterator[BrowserRunner]:
    runner = BrowserRunner(loop, chromium)
    try:
        runner.start()
        yield runner
    finally:
        runner.close()


@pytest.fixture(scope="module")
def sync_browser(chromium: BrowserChoice) -> Iterator[Browser]:
    """A sync-Playwright Chromium (for tests that script the page directly, without an event loop)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(**launch_options(chromium))
        try:
            yield launched
        finally:
            launched.close()


# ---- the imitation ----------------------------------------------------------------------------------------------


@pytest.fixture
def imitation_config() -> ImitationConfig:
    """Short loading screens and acks; the QR keeps its default 20 s rotation (a test sets its own if it cares)."""
    return ImitationConfig(slow_ms=60, sync_ms=120, ack_delay_ms=100)


@pytest.fixture
def imitation_server(imitation_config: ImitationConfig) -> Iterator[ImitationServer]:
    with ImitationServer(imitation_config) as running:
        yield running


@pytest.fixture
def imitation_control(imitation_server: ImitationServer) -> ImitationControl:
    return imitation_server.control()


@pytest.fixture
def profile() -> Profile:
    return load_profile(None)


# ---- the driver -------------------------------------------------------------------------------------------------


class Recorder:
    """What the driver told its callbacks: states with their details, and every QR picture."""

    def __init__(self) -> None:
        self.states: list[ConnectionState] = []
        self.details: list[str] = []
        self.qrs: list[bytes] = []

    def on_state(self, state: ConnectionState, detail: str) -> None:
        self.states.append(state)
        self.details.append(detail)

    def on_qr(self, png: bytes) -> None:
        self.qrs.append(png)


def make_driver(
    store: Store, profile: Profile, tmp_path: Path, server: ImitationServer, rec: Recorder
) -> WhatsAppDriver:
    """A driver on ``tmp_path / "wa-profile"`` pointed at the imitation (make a new one to "restart" it)."""
    return WhatsAppDriver(
        store, profile, tmp_path / "wa-profile", url=server.url + "/", on_state=rec.on_state, on_qr=rec.on_qr
    )


async def connect(driver: WhatsAppDriver, control: ImitationControl) -> None:
    """Link the phone (if not yet), start the driver and wait until it is connected."""
    if (await asyncio.to_thread(control.state))["session"] != "logged_in":
        await asyncio.to_thread(control.scan)
    await driver.start()
    await driver.wait_until(lambda: driver.state is ConnectionState.connected, WAIT)


async def caught_up(driver: WhatsAppDriver, timeout: float = WAIT) -> None:
    """Wait until the catch-up on connect is over and the driver idle (no page report left to act on): before a test
    takes the page for itself, or counts what the catch-up stored."""
    await driver.wait_until(lambda: driver.last_backfill is not None and driver.idle, timeout)


@dataclass
class DriverRunner:
    """A driver or supervisor test's set-up against the imitation, which a test asks for instead of the six fixtures
    it is made of: drivers on the test's profile folder (``driver``), started or connected for a block and stopped
    after it (``started``, ``connected``), the scenario run on the module's loop (``run``)."""

    loop: asyncio.AbstractEventLoop
    store: Store
    profile: Profile
    tmp_path: Path
    server: ImitationServer
    control: ImitationControl

    def driver(self, rec: Recorder | None = None) -> WhatsAppDriver:
        """A new driver (a new one on the same folder is the app started again); ``rec`` hears its callbacks."""
        return make_driver(self.store, self.profile, self.tmp_path, self.server, rec or Recorder())

    @contextlib.asynccontextmanager
    async def started(self, driver: WhatsAppDriver, *, link: bool = False) -> AsyncIterator[WhatsAppDriver]:
        """``driver`` started (not linked, not waited for; with ``link``, as ``connected``); stopped when the block
        ends, however it ends. A start that fails is not stopped (there is nothing to stop)."""
        await (connect(driver, self.control) if link else driver.start())
        try:
            yield driver
        finally:
            await driver.stop()

    def connected(self, driver: WhatsAppDriver) -> contextlib.AbstractAsyncContextManager[WhatsAppDriver]:
        """``driver`` linked (the phone scans if it has not), started and connected (``connect``) for the block."""
        return self.started(driver, link=True)

    def run(self, scenario: Callable[[], Awaitable[None]], timeout: float = 30) -> None:
        run(self.loop, scenario, timeout)


@pytest.fixture
def driver_runner(
    loop: asyncio.AbstractEventLoop,
    store: Store,
    profile: Profile,
    tmp_path: Path,
    imitation_server: ImitationServer,
    imitation_control: ImitationControl,
) -> DriverRunner:
    return DriverRunner(loop, store, profile, tmp_path, imitation_server, imitation_control)


def stored_wa_ids(store: Store) -> list[str]:
    return [m.wa_id for m in store.messages.find_all() if m.wa_id]


# ---- sending ----------------------------------------------------------------------------------------------------

# Humanized but fast: real keystrokes with jitter at 150–300 chars/s, barely any reading time, no pause between
# contacts. Tests of the pacing itself use the humanizer's defaults (tests/unit/whatsapp/test_humanizer.py, the bench).
FAST = TypingPace(
    chars_per_second_min=150,
    chars_per_second_max=300,
    key_jitter=0.2,
    pause_chance=0,
    read_base_seconds=0.01,
    read_seconds_per_char=0,
    read_max_seconds=0.02,
    gap_seconds_min=0,
    gap_seconds_max=0,
)
NO_QUIET = SendLimits(quiet_start=None, quiet_end=None, per_contact_per_hour=100, per_hour=500)


def store_chat(store: Store, phone: str, title: str) -> Chat:
    """The store's chat for a phone number, as the driver would have recorded it."""
    return record_chat(store, CapturedChat(chat_jid=f"{phone}@c.us", title=title))


def page_sent(state: JsonDict) -> list[JsonDict]:
    """Messages typed into the page (as the imitation's phone side saw them), oldest first per chat."""
    return [m for c in state["chats"] for m in c["messages"] if m["from_me"] and m["source"] == "page"]
