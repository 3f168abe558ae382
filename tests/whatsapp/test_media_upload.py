"""Our own file while WhatsApp still uploads it (the clock): real headless Chromium, the imitation, SQLCipher.

The imitation keeps a page-sent message on the clock for ``ack_delay_ms``; here that is a minute, and the test moves
the tick (or the error mark) itself with ``control.ack``. The store must not say ``sent`` before the page shows a
tick; a browser killed mid-upload must neither send the file twice nor leave the send queue stuck behind it.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Callable
from pathlib import Path

from app.core.models import Message
from app.store.ops.media import queue_media
from app.store.ops.messages import queue_message
from app.store.store import Store
from app.whatsapp.browser import browser_pid
from app.whatsapp.driver import WhatsAppDriver
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.sender import Sender
from tests.support.waiting import async_wait_until
from tests.support.whatsapp_fixtures import (
    FAST,
    NO_QUIET,
    WAIT,
    DriverRunner,
    caught_up,
    connect,
    page_sent,
    store_chat,
)
from tests.whatsapp.imitation_server import ImitationControl

ALICE = "6590000001"
CLOCK_MS = 60_000  # the imitation's clock → tick delay: longer than any test here, so only control.ack ticks


def sender_for(driver: WhatsAppDriver, store: Store) -> Sender:
    return Sender(driver, store, Humanizer(FAST, random.Random(5)), NO_QUIET)


def status_of(store: Store, message: Message) -> Callable[[], str]:
    return lambda: store.messages.get(message.id).status


async def ready(driver: WhatsAppDriver, control: ImitationControl) -> None:
    """Connected, and the catch-up on connect done (it needs the page, which a send holds while a file uploads)."""
    await connect(driver, control)
    await caught_up(driver)


async def page_ack(control: ImitationControl, wa_id: str) -> int:
    """The ack the imitation holds for the page's bubble ``wa_id``, once it has it: the page shows a file's bubble
    (which the driver may adopt) before its send has read the file and reached the server."""
    has = lambda s: any(m["id"] == wa_id for m in page_sent(s))  # noqa: E731
    state = await asyncio.to_thread(control.wait_for, has, WAIT)
    return int(next(m["ack"] for m in page_sent(state) if m["id"] == wa_id))


def test_a_photo_on_the_clock_is_adopted_but_not_sent_until_the_tick(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    control.configure(ack_delay_ms=CLOCK_MS)
    control.add_chat(ALICE, "Alice")
    chat = store_chat(store, ALICE, "Alice")
    (photo,) = queue_media(store, chat.id, [("dress.jpg", os.urandom(2500), "image/jpeg", "the blue one")]).value
    driver = driver_runner.driver()
    sender = sender_for(driver, store)

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await caught_up(driver)  # the catch-up needs the page, which a send holds while a file uploads
            send = asyncio.create_task(sender.send_next())
            adopted = lambda: store.messages.get(photo.id).wa_id is not None  # noqa: E731
            await async_wait_until(adopted, WAIT, "the driver adopted the bubble", interval=0.02)
            status = store.messages.get(photo.id).status
            wa_id = store.messages.get(photo.id).wa_id
            assert wa_id is not None
            assert await page_ack(control, wa_id) == 0  # the page showed the clock all along
            assert status == "typing"  # not "sent" while the clock shows
            assert [m.id for m in store.messages.send_queue()] == [photo.id]
            await asyncio.to_thread(control.ack, wa_id, 1)
            outcome = await send
            assert (outcome.kind, outcome.wa_id) == ("sent", wa_id)
            assert store.messages.get(photo.id).status == "sent"
            assert store.messages.send_queue() == []
            assert len(page_sent(await asyncio.to_thread(control.state))) == 1
            assert store.messages.count({"direction": "out"}) == 1

    driver_runner.run(scenario, timeout=60)


async def killed_mid_upload(
    driver: WhatsAppDriver, store: Store, control: ImitationControl, photo: Message, tmp_path: Path
) -> str:
    """Send ``photo``, and kill the browser once WhatsApp took it (clock showing, the store adopted it): the app's
    crash mid-upload. Returns the bubble's wa_id."""
    await ready(driver, control)
    send = asyncio.create_task(sender_for(driver, store).run_until_empty())
    adopted = lambda: store.messages.get(photo.id).wa_id is not None  # noqa: E731
    await async_wait_until(adopted, WAIT, "the driver adopted the bubble", interval=0.02)
    pid = browser_pid(tmp_path / "wa-profile")
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await asyncio.wait([send], timeout=WAIT)  # it fails with the browser (the supervisor catches that in the app)
    await driver.stop()
    wa_id = store.messages.get(photo.id).wa_id
    assert wa_id is not None
    assert store.messages.get(photo.id).status == "typing"
    return wa_id


def test_killed_mid_upload_settles_without_a_second_send_and_the_queue_goes_on(
    driver_runner: DriverRunner,
    store: Store,
    tmp_path: Path,
    control: ImitationControl,
) -> None:
    """After the restart the photo still shows the clock: the sender waits for it (a while), then lets the text
    queued after it go; the tick, when it comes, makes it sent. One photo on the page, never attached again."""
    control.configure(ack_delay_ms=CLOCK_MS)
    control.add_chat(ALICE, "Alice")
    chat = store_chat(store, ALICE, "Alice")
    (photo,) = queue_media(store, chat.id, [("a.jpg", os.urandom(2500), "image/jpeg", "")]).value
    text = queue_message(store, chat.id, "And the price is 25").value

    async def scenario() -> None:
        first = driver_runner.driver()
        wa_id = await killed_mid_upload(first, store, control, photo, tmp_path)
        driver = driver_runner.driver()  # the app started again
        async with driver_runner.connected(driver):
            await caught_up(driver)
            sender = sender_for(driver, store)
            sender.upload_timeout_ms = 1500
            outcomes = await sender.run_until_empty()
            # Not stuck: the text queued after the photo goes; the photo waits to be looked at again.
            assert [(o.kind, o.message_id) for o in outcomes] == [("sent", text.id), ("waiting", photo.id)], outcomes
            assert store.messages.get(photo.id).status == "typing"  # still uploading: neither sent nor failed
            assert (await sender.send_next()).kind == "waiting"  # looked at again later, not retried at once
            await asyncio.to_thread(control.ack, wa_id, 1)
            await driver.wait_until(lambda: status_of(store, photo)() == "sent", WAIT)  # the driver saw the tick
            assert (await sender.send_next()).kind == "idle"
            sent = page_sent(await asyncio.to_thread(control.state))
            assert [m["id"] for m in sent if m.get("media")] == [wa_id]  # the photo once
            assert store.messages.count({"direction": "out"}) == 2

    driver_runner.run(scenario, timeout=90)


def test_killed_mid_upload_then_ticked_is_recovered_and_an_upload_error_fails_with_a_sentence(
    driver_runner: DriverRunner,
    store: Store,
    tmp_path: Path,
    control: ImitationControl,
) -> None:
    """Two photos caught uploading by the crash: one got its tick meanwhile (recovered, not sent again), the other
    WhatsApp failed to upload (failed with a sentence, without its wa_id, so "Try again" attaches it afresh)."""
    control.configure(ack_delay_ms=CLOCK_MS)
    control.add_chat(ALICE, "Alice")
    chat = store_chat(store, ALICE, "Alice")
    (first,) = queue_media(store, chat.id, [("a.jpg", os.urandom(2500), "image/jpeg", "first")]).value

    async def scenario() -> None:
        first_id = await killed_mid_upload(driver_runner.driver(), store, control, first, tmp_path)
        (second,) = queue_media(store, chat.id, [("b.jpg", os.urandom(2500), "image/jpeg", "second")]).value
        await asyncio.to_thread(control.ack, first_id, 1)  # uploaded while the app was down
        second_id = await killed_mid_upload(driver_runner.driver(), store, control, second, tmp_path)
        await asyncio.to_thread(control.ack, second_id, -1)  # the upload failed
        driver = driver_runner.driver()
        async with driver_runner.connected(driver):
            await caught_up(driver)
            outcomes = await sender_for(driver, store).run_until_empty()
            kinds = {o.message_id: o.kind for o in outcomes}
            assert store.messages.get(first.id).status == "sent"
            assert kinds.get(first.id) in (None, "recovered")  # the driver may have seen its tick first
            failed = store.messages.get(second.id)
            assert failed.status == "failed"
            if second.id in kinds:  # settled by the sender (else the driver's capture of the error mark failed it)
                assert (kinds[second.id], failed.wa_id) == ("failed", None)
                assert failed.status_reason == "WhatsApp could not send the file (it shows it as not sent)."
            assert store.messages.send_queue() == []
            assert len(page_sent(await asyncio.to_thread(control.state))) == 2  # each attached once

    driver_runner.run(scenario, timeout=90)
