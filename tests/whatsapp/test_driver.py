"""The WhatsApp driver against the WhatsApp Web imitation: real headless Chromium, real SQLCipher store.

Fixtures and helpers come from ``conftest`` (one module-scoped event loop, the imitation server per test). The driver
launches its own browser on a temporary profile. Waits are on conditions the driver signals (``wait_until``) or on
the imitation's state, always with a timeout; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Locator
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from app.store.intake import CapturedChat, record_chat
from app.store.store import Store
from app.whatsapp.driver import MAX_QR_RELOADS, ConnectionState, ack_level, parse_data_id, parse_pre_plain_text
from app.whatsapp.profile import Profile
from tests.support.whatsapp_fixtures import PNG_MAGIC, WAIT, DriverRunner, Recorder, stored_wa_ids
from tests.whatsapp.imitation_server import ImitationControl

ALICE, BOB, CARA, DAN = "6590000001", "6590000002", "6590000003", "6590000004"
CHATS = {ALICE: "Alice", BOB: "Bob", CARA: "Cara", DAN: "Dan"}
# (chat, how many in a row): 99 messages across 4 chats in bursts, after one waiting before connecting. Dan's chat is
# new and never open when its burst starts, and his burst is longer than what the page renders on opening a chat.
BURSTS = [(ALICE, 10), (BOB, 8), (DAN, 40), (CARA, 10), (ALICE, 8), (BOB, 11), (CARA, 7), (ALICE, 5)]
RELOAD_IN = 2  # the page reloads in the middle of this burst (Dan's)


# ---- pure parsing -----------------------------------------------------------------------------------------------


def test_parsing_helpers() -> None:
    row = parse_data_id("false_6590000001@c.us_3A0123456789ABCDEF01")
    assert (row.wa_id, row.chat_jid, row.from_me) == ("3A0123456789ABCDEF01", "6590000001@c.us", False)
    group = parse_data_id("true_120363@g.us_3EB0AA_6590000001@c.us")
    assert (group.chat_jid, group.from_me, group.participant) == ("120363@g.us", True, "6590000001@c.us")
    assert parse_data_id("3EB0AA").chat_jid is None
    when, author = parse_pre_plain_text("[14:05, 02/11/2026] Alice: ")
    assert author == "Alice"
    assert when is not None
    assert (when.day, when.month, when.hour, when.minute) == (2, 11, 14, 5)
    assert when.tzinfo is not None
    assert parse_pre_plain_text("garbage") == (None, None)
    assert [ack_level(i) for i in ("msg-time", "msg-check", "msg-dblcheck", "msg-error")] == [0, 1, 2, -1]
    assert ack_level("msg-dblcheck", " Read ") == 3


# ---- against the imitation --------------------------------------------------------------------------------------


def test_qr_scan_and_logout(
    driver_runner: DriverRunner,
    control: ImitationControl,
) -> None:
    rec = Recorder()
    driver = driver_runner.driver(rec)

    async def scenario() -> None:
        await asyncio.to_thread(control.configure, qr_ms=800, qr_rotations=1000)  # rotates, never expires
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: len(rec.qrs) >= 1, WAIT)
            assert driver.state is ConnectionState.scan_qr
            assert rec.states[:2] == [ConnectionState.starting, ConnectionState.scan_qr]
            assert rec.qrs[0].startswith(PNG_MAGIC)
            await driver.wait_until(lambda: len(rec.qrs) >= 2, WAIT)  # the imitation rotated the code
            assert rec.qrs[1].startswith(PNG_MAGIC)
            assert rec.qrs[1] != rec.qrs[0]

            await asyncio.to_thread(control.scan)
            await driver.wait_until(lambda: driver.state is ConnectionState.connected, WAIT)
            assert driver.health is not None
            assert driver.health.ok, driver.health.message
            assert driver.health.state == "logged_in"

            shown = len(rec.qrs)
            await asyncio.to_thread(control.logout)
            await driver.wait_until(lambda: driver.state is ConnectionState.scan_qr, WAIT)
            assert rec.states[-3:] == [ConnectionState.connected, ConnectionState.logged_out, ConnectionState.scan_qr]
            await driver.wait_until(lambda: len(rec.qrs) > shown, WAIT)  # a new QR after logging out
            assert rec.qrs[-1].startswith(PNG_MAGIC)
            assert driver.last_error is None
        assert driver.state is ConnectionState.stopped

    driver_runner.run(scenario)


def test_a_slow_qr_picture_is_taken_again_not_dropped(
    driver_runner: DriverRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A loaded computer took longer than the screenshot's timeout for the QR canvas: the driver recorded an error
    and, the code not rotating meanwhile (no new report), showed no code at all. The first picture times out here
    (as Playwright does); the code is shown all the same and nothing is called an error."""
    real = Locator.screenshot
    slow = {"left": 1}

    async def screenshot(self: Locator, **kwargs: Any) -> bytes:
        if slow["left"]:
            slow["left"] -= 1
            raise PlaywrightTimeoutError("Locator.screenshot: Timeout 5000ms exceeded.")
        return await real(self, **kwargs)

    monkeypatch.setattr(Locator, "screenshot", screenshot)
    rec = Recorder()
    driver = driver_runner.driver(rec)

    async def scenario() -> None:
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: len(rec.qrs) >= 1, WAIT)
            assert rec.qrs[0].startswith(PNG_MAGIC)
            assert slow["left"] == 0
            assert driver.last_error is None

    driver_runner.run(scenario)


def test_100_inbound_messages_in_bursts_no_loss_no_duplicate(
    driver_runner: DriverRunner,
    store: Store,
    profile: Profile,
    control: ImitationControl,
) -> None:
    """100 inbound messages in bursts across four chats, the page reloading mid-burst; then own messages and acks."""
    rec = Recorder()
    driver = driver_runner.driver(rec)
    halfway, reloading = threading.Event(), threading.Event()

    def send_bursts() -> list[str]:
        ids: list[str] = []
        for index, (chat, count) in enumerate(BURSTS):
            for k in range(count):
                if index == RELOAD_IN and k == count // 2:
                    halfway.set()
                    assert reloading.wait(WAIT)
                n = len(ids) + 1
                ids.append(control.incoming(chat, f"message {n} for {CHATS[chat]}", name=CHATS[chat])["id"])
        return ids

    async def scenario() -> None:
        # Linked before the driver starts, with one unread message waiting: the driver opens that chat itself.
        first = control.incoming(ALICE, "Is the blue dress in stock?", name="Alice")["id"]
        control.scan()
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: driver.state is ConnectionState.connected, WAIT)
            assert driver.health is not None
            assert driver.health.ok, driver.health.message
            await driver.wait_until(lambda: driver.captured >= 1, WAIT)

            sending = asyncio.ensure_future(asyncio.to_thread(send_bursts))
            assert await asyncio.to_thread(halfway.wait, WAIT)
            reloading.set()  # the rest of the burst arrives while the page reloads
            await driver.page.reload()
            ids = [first, *await sending]
            assert len(ids) == 100
            await driver.wait_until(lambda: driver.captured >= len(ids), 45)
            stored = stored_wa_ids(store)
            assert sorted(stored) == sorted(ids)  # no loss, no duplicate
            assert store.messages.count() == len(ids)
            contacts = {c.name: c.phone for c in store.contacts.find_all()}
            assert contacts == {name: f"+{phone}" for phone, name in CHATS.items()}
            chats = {c.wa_chat_id: c.title for c in store.chats.find_all()}
            assert chats == {f"{phone}@c.us": name for phone, name in CHATS.items()}
            alice = store.messages.find_by_wa_id(first)
            assert alice is not None
            assert (alice.direction, alice.status, alice.body) == ("in", "received", "Is the blue dress in stock?")
            assert driver.state is ConnectionState.connected

            # A message typed in the page (as from the phone) is captured as outbound; its ticks move its status.
            async with driver.ui_lock:  # the driver may be opening a chat: never type into a page it is changing
                composer = driver.page.locator(profile.entry("composer").selectors[0])
                await composer.click()
                await driver.page.keyboard.type("Yes, size M")
                await driver.page.keyboard.press("Enter")
            sent = await asyncio.to_thread(
                control.wait_for,
                lambda s: any(m["from_me"] and m["ack"] >= 1 for c in s["chats"] for m in c["messages"]),
            )
            own = next(m["id"] for c in sent["chats"] for m in c["messages"] if m["from_me"])

            def status_is(wanted: str) -> Callable[[], bool]:
                def check() -> bool:
                    message = store.messages.find_by_wa_id(own)
                    return message is not None and message.status == wanted

                return check

            await driver.wait_until(status_is("sent"), WAIT)
            await asyncio.to_thread(control.ack, own, 3)
            await driver.wait_until(status_is("read"), WAIT)
            message = store.messages.find_by_wa_id(own)
            assert message is not None
            assert (message.direction, message.body) == ("out", "Yes, size M")
            assert store.messages.count() == len(ids) + 1
            assert driver.skipped == 0
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=90)


def test_phone_offline_and_back(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    rec = Recorder()
    driver = driver_runner.driver(rec)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await asyncio.to_thread(control.phone_online, False)
            await driver.wait_until(lambda: driver.state is ConnectionState.phone_offline, WAIT)
            assert rec.details[-1] == "Your phone is offline. Make sure it is on and connected to the internet."
            # Still linked: what the page shows is captured meanwhile.
            sent = await asyncio.to_thread(control.incoming, "6590000001", "are you there?", "Alice")
            await driver.wait_until(lambda: store.messages.find_by_wa_id(sent["id"]) is not None, WAIT)

            await asyncio.to_thread(control.phone_online, True)
            await driver.wait_until(lambda: driver.state is ConnectionState.connected, WAIT)
            assert rec.states[-3:] == [
                ConnectionState.connected,
                ConnectionState.phone_offline,
                ConnectionState.connected,
            ]
            # A reload while the phone is offline: the banner is back at once and so is the state.
            await asyncio.to_thread(control.phone_online, False)
            await driver.wait_until(lambda: driver.state is ConnectionState.phone_offline, WAIT)
            await driver.page.reload()
            await driver.page.wait_for_function("() => window.__parleyScan && window.__parleyScan().phone_offline")
            assert driver.state is ConnectionState.phone_offline
            assert driver.last_error is None

    driver_runner.run(scenario)


def test_expired_qr_is_reloaded_up_to_a_cap_then_on_demand(
    driver_runner: DriverRunner,
    control: ImitationControl,
) -> None:
    rec = Recorder()
    driver = driver_runner.driver(rec)

    async def series() -> int:
        return int((await asyncio.to_thread(control.state))["qr_series"])

    async def scenario() -> None:
        # Each series of codes: the first, one rotation, then "Click to reload QR code" after ~0.6 s.
        await asyncio.to_thread(control.configure, qr_ms=300, qr_rotations=1)
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: driver.qr_expired, 20)
            assert driver.state is ConnectionState.scan_qr
            assert rec.details[-1] == "The QR code expired. Press Connect to get a new one."
            assert driver.qr_reloads == MAX_QR_RELOADS
            assert await series() == 1 + MAX_QR_RELOADS  # the first series and one per unattended reload
            assert (await asyncio.to_thread(control.state))["qr"]["expired"]
            assert rec.qrs
            assert all(png.startswith(PNG_MAGIC) for png in rec.qrs)

            # The user presses Connect: a fresh code (a long-lived one this time), and the cap starts again.
            await asyncio.to_thread(control.configure, qr_ms=20_000, qr_rotations=5)
            shown = len(rec.qrs)
            assert await driver.reload_qr()
            await driver.wait_until(lambda: len(rec.qrs) > shown, WAIT)
            assert rec.details[-1] == "Scan the QR code with WhatsApp on the phone"
            assert not driver.qr_expired
            assert driver.qr_reloads == 0
            assert await series() == 2 + MAX_QR_RELOADS

            await asyncio.to_thread(control.scan)
            await driver.wait_until(lambda: driver.state is ConnectionState.connected, WAIT)
            assert not await driver.reload_qr()  # nothing to reload once linked
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=45)


def test_2026_markup_saved_names_from_the_store_or_the_contact_info(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    """Bare data-ids: a chat titled with a saved name is found in the store when that is unambiguous, else its
    number is read from the contact-info drawer (once per chat)."""
    alice, bob, cara = "6590000001", "6590000002", "6590000003"
    record_chat(store, CapturedChat(chat_jid=f"{alice}@c.us", title="Alice"))  # known, one match: no drawer
    record_chat(store, CapturedChat(chat_jid=f"{cara}@c.us", title="Cara"))  # two chats titled Cara: ambiguous
    record_chat(store, CapturedChat(chat_jid="6590000009@c.us", title="Cara"))
    # Bob is unknown to the store.
    rec = Recorder()
    driver = driver_runner.driver(rec)

    def send(rounds: int) -> list[tuple[str, str]]:
        sent = []
        for n in range(rounds):
            for phone, name in ((alice, "Alice"), (bob, "Bob"), (cara, "Cara")):
                sent.append((control.incoming(phone, f"{name} {n}", name=name)["id"], phone))
        return sent

    async def scenario() -> None:
        await asyncio.to_thread(control.configure, variant="2026")
        expected = await asyncio.to_thread(send, 2)  # waiting before the driver connects
        async with driver_runner.connected(driver):
            await driver.wait_until(lambda: driver.captured >= len(expected), WAIT)
            expected += await asyncio.to_thread(send, 1)  # and live
            await driver.wait_until(lambda: driver.captured >= len(expected), WAIT)
            for wa_id, phone in expected:
                message = store.messages.find_by_wa_id(wa_id)
                assert message is not None
                chat = store.chats.find_by_wa_chat_id(f"{phone}@c.us")
                assert chat is not None
                assert message.chat_id == chat.id, (message.body, phone)
            assert store.messages.count() == len(expected)
            assert driver.skipped == 0
            assert driver.chats.drawer_reads == 2  # Bob and Cara, once each
            bob_chat = store.chats.find_by_wa_chat_id(f"{bob}@c.us")
            assert bob_chat is not None
            assert bob_chat.title == "Bob"
            assert await driver.page.locator("section").count() == 0  # the drawer was closed again
            assert driver.last_error is None

    driver_runner.run(scenario)
