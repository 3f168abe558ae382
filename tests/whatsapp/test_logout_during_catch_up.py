"""A logout while the catch-up walks the chat list is shown at once (issue 14's loaded runs): the catch-up runs on
the driver's report loop, and after a failed step it waited up to 15 s for the chat list to come back, holding
"logged out → scan the QR" behind it. Real headless Chromium against the imitation."""

from __future__ import annotations

import asyncio
import time

from app.whatsapp.driver import ConnectionState
from tests.support.waiting import async_wait_until
from tests.support.whatsapp_fixtures import WAIT, DriverRunner, Recorder
from tests.whatsapp.imitation_server import ImitationControl

CHATS = 30  # each with a message the store has not seen: the catch-up opens every one


def test_logout_during_the_catch_up_ends_it_and_shows_the_qr(
    driver_runner: DriverRunner,
    control: ImitationControl,
) -> None:
    start = time.time() - 3600
    for n in range(CHATS):
        control.incoming(
            f"65900{n:05d}", f"Is the blue scarf still there? ({n})", name=f"Customer {n}", timestamp=start + n
        )
    control.scan()  # the phone is linked; Parley was closed meanwhile
    rec = Recorder()
    driver = driver_runner.driver(rec)

    async def scenario() -> None:
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: driver.state is ConnectionState.connected, WAIT)

            def opened() -> int:
                return int(control.state()["chat_opens"])

            async def under_way() -> bool:  # the catch-up has opened its first chats
                return await asyncio.to_thread(opened) >= 2

            await async_wait_until(under_way, WAIT, lambda: f"the catch-up started; chats opened: {opened()}", 0.05)
            assert driver.last_backfill is None
            await asyncio.to_thread(control.logout)
            # Well inside the 15 s the old code held the report loop for (WAIT is 10 s).
            await driver.wait_until(lambda: driver.state is ConnectionState.scan_qr, WAIT)
            assert ConnectionState.logged_out in rec.states
            assert driver.last_backfill is not None
            assert len(driver.last_backfill.opened) < CHATS  # it stopped, it did not walk on

    driver_runner.run(scenario, timeout=60)
