"""Sending files against the WhatsApp Web imitation: real headless Chromium, real SQLCipher store, fast humanizer.

The sender attaches each queued file through the page's attach menu and file input (from memory), types the caption
in the media preview, presses Enter and marks the message sent once its media bubble shows; the imitation's phone
side must hold the very bytes. A message caught mid-send that WhatsApp already holds is recovered, not sent again.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import signal

import pytest

from app.store.ops.media import queue_media
from app.store.store import Store
from app.whatsapp.browser import browser_pid
from app.whatsapp.config import ServiceConfig
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.sender import Sender
from app.whatsapp.status import ConnectionState, WhatsAppStatus
from app.whatsapp.supervisor import Supervisor
from tests.support.waiting import async_wait_until
from tests.support.whatsapp_fixtures import FAST, NO_QUIET, WAIT, DriverRunner, page_sent, store_chat
from tests.whatsapp.imitation_server import ImitationControl, ImitationServer

ALICE = "6590000001"
CAPTION = "Nova coleção — só R$ 59 ✓ 😀"


def humanizer() -> Humanizer:
    return Humanizer(FAST, random.Random(7))


@pytest.mark.parametrize("variant", ["classic", "2026"])
def test_sends_photos_with_and_without_caption_and_a_document(
    variant: str,
    driver_runner: DriverRunner,
    store: Store,
    server: ImitationServer,
    control: ImitationControl,
) -> None:
    control.configure(variant=variant, ack_delay_ms=700)  # the clock stays a while after the bubble shows
    control.add_chat(ALICE, "Alice")
    chat = store_chat(store, ALICE, "Alice")
    photo, plain, pdf = os.urandom(3000), os.urandom(2500), b"%PDF-1.4\n" + os.urandom(4000)
    files = [
        ("dress.jpg", photo, "image/jpeg", CAPTION),
        ("shoes.png", plain, "image/png", ""),
        ("prices.pdf", pdf, "application/pdf", "Price list"),
    ]
    queued = queue_media(store, chat.id, files).value
    driver = driver_runner.driver()
    sender = Sender(driver, store, humanizer(), NO_QUIET)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            outcomes = await sender.run_until_empty()
            assert [o.kind for o in outcomes] == ["sent"] * 3, outcomes
            stored = [store.messages.get(m.id) for m in queued]
            assert [m.status for m in stored] == ["sent"] * 3
            assert None not in [m.wa_id for m in stored]
            assert store.messages.send_queue() == []

            state = await asyncio.to_thread(control.state)
            sent = {m["id"]: m for m in page_sent(state)}
            assert set(sent) == {m.wa_id for m in stored}  # each once
            for message, (name, data, mime, caption) in zip(stored, files, strict=True):
                page = sent[str(message.wa_id)]
                assert page["text"] == caption
                assert page["ack"] >= 1  # sent means uploaded: marked only once the clock gave way to a tick
                assert page["media"]["kind"] == ("document" if mime == "application/pdf" else "image")
                assert page["media"]["mime"] == mime
                assert server.state.media_bytes[page["id"]] == data  # the very bytes, no file on disk
                if mime == "application/pdf":
                    assert page["media"]["file_name"] == name
            await driver.wait_until(lambda: driver.idle, WAIT)
            await driver.media.wait_idle(WAIT)
            assert store.messages.count({"direction": "out"}) == 3  # the captured rows were adopted, not inserted
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=60)


def test_media_caught_mid_send_is_recovered_not_sent_again(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    """We died after Enter on a photo without a caption: WhatsApp holds it, the store still says ``typing``."""
    control.add_chat(ALICE, "Alice")
    chat = store_chat(store, ALICE, "Alice")
    data = os.urandom(2000)
    (message,) = queue_media(store, chat.id, [("photo.jpg", data, "image/jpeg", "")]).value
    store.messages.update(message.id, status="typing")
    driver = driver_runner.driver()
    sender = Sender(driver, store, humanizer(), NO_QUIET)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            media = {"kind": "image", "mime": "image/jpeg", "file_name": "photo.jpg"}
            media["data"] = base64.b64encode(data).decode()
            await asyncio.to_thread(
                control.request, "POST", "/__page/send", {"chat": ALICE, "text": "", "media": media}
            )
            outcome = await sender.send_next()
            assert outcome.kind == "recovered", outcome
            stored = store.messages.get(message.id)
            assert (stored.status, stored.wa_id) == ("sent", outcome.wa_id)
            assert (await sender.send_next()).kind == "idle"
            state = await asyncio.to_thread(control.state)
            assert len(page_sent(state)) == 1  # once, not attached again
            await driver.wait_until(lambda: driver.idle, WAIT)
            assert store.messages.count({"direction": "out"}) == 1

    driver_runner.run(scenario)


def test_browser_killed_once_whatsapp_took_a_photo_sends_each_file_once(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    """The browser dies right after WhatsApp took a photo without a caption (its clock still showing): after the
    supervisor restarts it, the photo is adopted from the page (nothing to match by text) and the document after it
    goes out; each file once."""
    control.configure(ack_delay_ms=3000)  # the clock stays: the kill lands while the sender still waits for a tick
    control.add_chat(ALICE, "Alice")
    chat = store_chat(store, ALICE, "Alice")
    files = [("photo.jpg", os.urandom(2500), "image/jpeg", ""), ("terms.pdf", os.urandom(1500), "application/pdf", "")]
    queued = queue_media(store, chat.id, files).value
    control.scan()
    url = driver_runner.server.url + "/"
    cfg = ServiceConfig(url=url, typing=FAST, limits=NO_QUIET, restart_backoff_seconds=(0.2, 0.5), seed=11)
    seen: list[WhatsAppStatus] = []
    supervisor = Supervisor(store, driver_runner.profile, driver_runner.tmp_path / "wa", cfg, on_status=seen.append)

    def settled() -> bool:
        return (
            bool(seen)
            and seen[-1].restarts >= 1
            and seen[-1].state is ConnectionState.connected
            and all(store.messages.get(m.id).status in ("sent", "delivered", "read") for m in queued)
        )

    async def scenario() -> None:
        task = asyncio.create_task(supervisor.run())
        try:
            supervisor.connect()
            await asyncio.to_thread(control.wait_for, lambda s: bool(page_sent(s)), WAIT * 2)
            pid = browser_pid(supervisor.profile_dir)
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await async_wait_until(settled, 60, "both files sent after the restart", interval=0.05)
        finally:
            supervisor.close()
            await asyncio.wait_for(task, 30)

    driver_runner.run(scenario, timeout=120)
    sent = page_sent(control.state())
    assert [m["media"]["kind"] for m in sent] == ["image", "document"]  # each once
    assert [store.messages.get(m.id).wa_id for m in queued] == [m["id"] for m in sent]
    assert store.messages.count() == 2
