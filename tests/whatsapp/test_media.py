"""Receiving media against the WhatsApp Web imitation: real headless Chromium, real SQLCipher store.

A customer sends every media kind (with and without a caption, one "no longer available", a non-ASCII caption) and
the driver captures each with its kind, its ``MediaInfo`` and its caption as the body, then reads the bytes in the
page and hands them to the store (encrypted): they must equal what the customer sent. Both markup variants. Waits are on
conditions (``driver.wait_until``, ``MediaFetcher.wait_idle``), never sleeps.
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime, timedelta
from typing import Any

import pytest

from app.store.store import Store
from app.whatsapp.driver import ConnectionState
from app.whatsapp.media import media_info, parse_duration, parse_size
from tests.support.whatsapp_fixtures import WAIT, DriverRunner
from tests.whatsapp.imitation_server import ImitationControl, ImitationServer

ALICE = "6590000001"
CAPTION = "Preço: 25 € — 有货 ✓ 😀"  # non-ASCII caption


# (kind, mime, caption, extra details); the bytes are random per test.
SENT: list[tuple[str, str, str, dict[str, Any]]] = [
    ("image", "image/jpeg", CAPTION, {}),
    ("image", "image/png", "", {}),
    ("video", "video/mp4", "", {"duration": 12}),
    ("video", "video/mp4", "the red one", {"duration": 65}),
    ("voice", "audio/ogg", "", {"duration": 7}),
    ("audio", "audio/mpeg", "our jingle", {"duration": 125}),
    ("document", "application/pdf", "price list", {"file_name": "prices.pdf"}),
    ("document", "text/csv", "", {"file_name": "stock 2026.csv"}),
    ("sticker", "image/webp", "", {}),
    ("location", "", "", {"latitude": 1.2834, "longitude": 103.8607, "place": "Marina Bay Sands"}),
    ("contact", "", "", {"contact_name": "Bob Tan"}),
    ("image", "image/jpeg", "", {"unavailable": True}),
]
BYTE_KINDS = {"image", "video", "voice", "audio", "document", "sticker"}


def test_parsing_helpers() -> None:
    assert parse_duration("0:12") == 12
    assert parse_duration("0:00/1:05") == 65
    assert parse_duration("1:02:09") == 3729
    assert parse_duration("") is None
    assert parse_size("12 kB") == 12 * 1024
    assert parse_size("PDF • 1.5 MB") == round(1.5 * 1024 * 1024)
    info = media_info({"kind": "document", "title": 'Ver "precios.pdf"', "size": "3 kB"})
    assert info is not None
    assert (info.file_name, info.mime, info.size, info.state) == ("precios.pdf", "application/pdf", 3072, "pending")
    gone = media_info({"kind": "image", "unavailable": True})
    assert gone is not None
    assert gone.state == "unavailable"
    assert media_info({"kind": "poll"}) is None


@pytest.mark.parametrize("variant", ["classic", "2026"])
def test_every_media_kind_is_captured_and_its_bytes_fetched(
    variant: str,
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    control.configure(variant=variant)
    driver = driver_runner.driver()  # its media go to the store (ops.media)
    sent: dict[str, tuple[str, str, str, dict[str, Any], bytes]] = {}  # wa_id -> what the customer sent

    async def scenario() -> None:
        control.add_chat(ALICE, "Alice")
        control.scan()
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: driver.state is ConnectionState.connected, WAIT)
            downloads: list[object] = []
            driver.page.on("download", lambda download: downloads.append(download))
            for n, (kind, mime, caption, details) in enumerate(SENT):
                data = os.urandom(2000 + 997 * n) if kind in BYTE_KINDS else b""
                message = await asyncio.to_thread(
                    control.incoming_media, ALICE, kind, data, mime, caption=caption, name="Alice", **details
                )
                sent[message["id"]] = (kind, mime, caption, details, data)
            await driver.wait_until(lambda: store.messages.count() >= len(SENT), 30)
            await driver.media.wait_idle(30)

            assert store.messages.count() == len(SENT)  # each once
            for wa_id, (kind, mime, caption, details, data) in sent.items():
                message = store.messages.find_by_wa_id(wa_id)
                assert message is not None, (kind, caption)
                assert (message.direction, message.kind, message.body) == ("in", kind, caption)
                media = message.media
                assert media is not None
                assert media["kind"] == kind
                if details.get("unavailable"):
                    assert (media["state"], media["blob_id"]) == ("unavailable", None)
                    continue
                if kind in BYTE_KINDS:
                    assert media["state"] == "stored", kind
                    assert store.media.get(media["blob_id"]) == data, kind  # the very bytes the customer sent
                    assert store.media.mime(media["blob_id"]) == mime
                    assert media["size"] == len(data)
                if "duration" in details:
                    assert media["duration_s"] == details["duration"]
                if kind == "document":
                    assert media["file_name"] == details["file_name"]
                    assert media["mime"] == mime
                if kind == "location":
                    assert (media["latitude"], media["longitude"], media["place"]) == (
                        details["latitude"],
                        details["longitude"],
                        details["place"],
                    )
                if kind == "contact":
                    assert "FN:Bob Tan" in media["vcard"]
            assert driver.media.fetched == sum(1 for k, _, _, d in SENT if k in BYTE_KINDS and not d.get("unavailable"))
            assert driver.media.failed == 0
            # Nothing was downloaded by the browser (a document's <a download> is not followed while fetching).
            assert downloads == []
            assert driver.skipped == 0
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=90)


def test_media_the_page_must_download_first_is_fetched_and_what_it_lacks_is_marked(
    driver_runner: DriverRunner,
    store: Store,
    server: ImitationServer,
    control: ImitationControl,
) -> None:
    """A photo not downloaded yet (blurred thumbnail, download control) is clicked and fetched; one whose bytes the
    page cannot get is ``missing`` and fetched on demand later ("click to fetch"); one over the cap is
    ``too_large``, its bytes not kept."""
    driver = driver_runner.driver()
    driver.media.cap = 4000
    driver.media.grab_timeout_ms = 1500
    later, lost = os.urandom(3000), os.urandom(3000)

    async def scenario() -> None:
        control.add_chat(ALICE, "Alice")
        control.scan()
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: driver.state is ConnectionState.connected, WAIT)
            ids = {}
            for name, data, details in [
                ("later", later, {"downloaded": False}),
                ("lost", lost, {"lost": True}),
                ("big", os.urandom(5000), {}),
            ]:
                sent = await asyncio.to_thread(
                    control.incoming_media, ALICE, "image", data, "image/jpeg", name="Alice", **details
                )
                ids[name] = sent["id"]
            await driver.wait_until(lambda: store.messages.count() >= 3, 30)
            await driver.media.wait_idle(30)
            media = {}
            for name, wa_id in ids.items():
                message = store.messages.find_by_wa_id(wa_id)
                assert message is not None
                assert message.media is not None
                media[name] = message.media
            assert media["later"]["state"] == "stored"
            assert store.media.get(media["later"]["blob_id"]) == later
            assert (media["lost"]["state"], media["lost"]["blob_id"]) == ("missing", None)
            assert (media["big"]["state"], media["big"]["blob_id"]) == ("too_large", None)
            assert (driver.media.fetched, driver.media.failed) == (1, 2)

            # "Click to fetch" once the phone has the bytes again, with the chat closed meanwhile: it is opened.
            server.state.media_bytes[ids["lost"]] = lost
            async with driver.ui_lock:
                await driver.page.keyboard.press("Escape")
                await driver.page.wait_for_function("() => window.__parleyScan().header === null")
            lost_message = store.messages.find_by_wa_id(ids["lost"])
            assert lost_message is not None
            assert await driver.fetch_media(lost_message.id) == "stored"
            refetched = store.messages.get(lost_message.id).media
            assert refetched is not None
            assert refetched["state"] == "stored"
            assert store.media.get(refetched["blob_id"]) == lost

    driver_runner.run(scenario, timeout=60)


def test_media_waiting_before_connect_is_fetched_by_the_catch_up(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    """A photo and a voice note arrived while Parley was closed: the catch-up opens the chat, captures them and reads
    their bytes before it closes the chat again (once it is closed, the rows and their blobs are gone)."""
    photo, voice = os.urandom(4000), os.urandom(3000)
    control.incoming("6590000009", "hello", name="Zed")  # another chat, so the catch-up has more than one to read
    first = control.incoming_media(ALICE, "image", photo, "image/jpeg", caption="this one?", name="Alice")
    second = control.incoming_media(ALICE, "voice", voice, "audio/ogg", name="Alice", duration=4)
    control.scan()
    driver = driver_runner.driver()

    async def scenario() -> None:
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: driver.last_backfill is not None, 30)
            await driver.wait_until(lambda: driver.idle, WAIT)
            await driver.media.wait_idle(WAIT)
            for sent, data in ((first, photo), (second, voice)):
                message = store.messages.find_by_wa_id(sent["id"])
                assert message is not None
                assert message.media is not None
                assert message.media["state"] == "stored"
                assert store.media.get(message.media["blob_id"]) == data

    driver_runner.run(scenario, timeout=60)


def test_a_media_bubble_without_a_caption_keeps_its_own_day_and_minute(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    """Media without a caption has no ``data-pre-plain-text``: its time comes from its msg-meta, its day from the
    row above (it was stamped "now" before)."""
    earlier = datetime.now().astimezone().replace(hour=10, minute=15, second=0, microsecond=0) - timedelta(days=3)
    control.incoming(ALICE, "here is the photo", name="Alice", timestamp=earlier.timestamp())
    later = (earlier + timedelta(minutes=5)).timestamp()
    photo = control.incoming_media(ALICE, "image", os.urandom(1000), "image/jpeg", name="Alice", timestamp=later)
    control.scan()
    driver = driver_runner.driver()

    async def scenario() -> None:
        async with driver_runner.started(driver):
            await driver.wait_until(lambda: store.messages.find_by_wa_id(photo["id"]) is not None, 30)
            message = store.messages.find_by_wa_id(photo["id"])
            assert message is not None
            assert message.sent_at is not None
            assert message.sent_at.astimezone() == earlier + timedelta(minutes=5)

    driver_runner.run(scenario, timeout=60)
