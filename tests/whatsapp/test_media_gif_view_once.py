"""GIFs and view-once media against the WhatsApp Web imitation: real headless Chromium, real SQLCipher store.

A GIF is a short muted MP4 whose bubble says "Play GIF": it is captured as a video kept as a GIF, and its bytes are
fetched like a video's. A view-once photo or video shows only a badge on WhatsApp Web (which can neither open nor send
them since November 2022): it is recorded, with its caption, as media that stays on the phone — never fetched, never
"no longer available", and the list says "View-once … open it on your phone". Both markup variants.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from app.core.media import MediaInfo, describe
from app.store.store import Store
from app.whatsapp.driver import ConnectionState
from tests.support.whatsapp_fixtures import WAIT, DriverRunner
from tests.whatsapp.imitation_server import ImitationControl

ALICE = "6590000001"


@pytest.mark.parametrize("variant", ["classic", "2026"])
def test_a_gif_is_fetched_as_a_looping_video_and_view_once_media_stays_on_the_phone(
    variant: str,
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    control.configure(variant=variant)
    driver = driver_runner.driver()
    gif_bytes = os.urandom(4321)

    async def scenario() -> None:
        control.add_chat(ALICE, "Alice")
        control.scan()
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: driver.state is ConnectionState.connected, WAIT)
            gif = await asyncio.to_thread(
                control.incoming_media, ALICE, "video", gif_bytes, "video/mp4", caption="haha ✓", gif=True
            )
            once = await asyncio.to_thread(
                control.incoming_media,
                ALICE,
                "image",
                os.urandom(999),
                "image/jpeg",
                caption="só pra você",
                view_once=True,
            )
            plain = await asyncio.to_thread(
                control.incoming_media, ALICE, "video", os.urandom(2222), "video/mp4", duration=9
            )
            await driver.wait_until(lambda: store.messages.count() >= 3, 30)
            await driver.media.wait_idle(30)

            got_gif = store.messages.find_by_wa_id(gif["id"])
            assert got_gif is not None
            info = MediaInfo.model_validate(got_gif.media)
            assert (got_gif.kind, info.gif, info.state, got_gif.body) == ("video", True, "stored", "haha ✓")
            assert info.blob_id is not None
            assert store.media.get(info.blob_id) == gif_bytes
            assert describe(info, got_gif.body) == "GIF — haha ✓"

            got_once = store.messages.find_by_wa_id(once["id"])
            assert got_once is not None
            info = MediaInfo.model_validate(got_once.media)
            assert (info.view_once, info.state, info.blob_id, got_once.body) == (
                True,
                "unavailable",
                None,
                "só pra você",
            )
            assert describe(info, got_once.body) == "View-once media — open it on your phone — só pra você"

            got_plain = store.messages.find_by_wa_id(plain["id"])  # an ordinary video beside them is not a GIF
            assert got_plain is not None
            info = MediaInfo.model_validate(got_plain.media)
            assert (info.gif, info.view_once, info.state, info.duration_s) == (False, False, "stored", 9)

            assert driver.media.fetched == 2  # the GIF and the video; the view-once bubble has nothing to fetch
            assert driver.media.failed == 0
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=90)
