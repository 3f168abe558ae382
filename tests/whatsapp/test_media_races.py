"""Received photos and a person's reply racing for the page: real headless Chromium, the imitation, SQLCipher.

The media fetcher reads photos' bytes from the page under the driver's ``ui_lock``; the sender takes the same lock
to type a reply. A reply must never wait for the photo backlog (the fetcher holds the lock for one read at a time),
and a reply that leaves the photos' chat must not lose the photos not read yet to "click to fetch": they wait for
their chat to be open again. The races are made deterministic by holding ``ui_lock`` in the test while the photos
are captured and the reply is queued behind it; waits are on conditions, never sleeps.
"""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

from app.core.models import Chat, Message
from app.store.ops.messages import queue_message
from app.store.store import Store
from app.whatsapp.driver import WhatsAppDriver
from app.whatsapp.humanizer import Humanizer
from app.whatsapp.sender import Sender, SendOutcome
from tests.support.waiting import async_wait_until
from tests.support.whatsapp_fixtures import FAST, NO_QUIET, WAIT, DriverRunner, caught_up, store_chat
from tests.whatsapp.imitation_server import ImitationControl

ALICE = "6590000001"
BOB = "6590000002"
PHOTOS = 8


class WatchingSender(Sender):
    """Counts the photos already stored when it gets the page (``ui_lock`` held, before touching it)."""

    def __init__(self, *args: Any, photo_ids: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.photo_ids = photo_ids
        self.stored_on_entry: int | None = None

    async def _drive(self, message: Message, chat: Chat, recovering: bool) -> SendOutcome:
        self.stored_on_entry = await asyncio.to_thread(stored_count, self.store, self.photo_ids)
        return await super()._drive(message, chat, recovering)


def stored_count(store: Store, wa_ids: list[str]) -> int:
    found = [store.messages.find_by_wa_id(wa_id) for wa_id in wa_ids]
    return sum(1 for m in found if m is not None and m.media is not None and m.media["state"] == "stored")


async def open_alice(driver: WhatsAppDriver, store: Store, control: ImitationControl) -> None:
    """Alice writes; the driver's sweep opens her chat and records the text (after the catch-up on connect)."""
    await caught_up(driver)
    hello = await asyncio.to_thread(control.incoming, ALICE, "I'll send you the photos", "Alice")
    await driver.wait_until(lambda: store.messages.find_by_wa_id(hello["id"]) is not None, WAIT)
    await driver.page.wait_for_function("() => window.__parleyScan().header === 'Alice'")
    await driver.wait_until(lambda: driver.idle, WAIT)  # the reports from before she was open are handled too


async def photos_and_a_reply(
    driver: WhatsAppDriver,
    store: Store,
    control: ImitationControl,
    sender: Sender,
    reply: Message,
    *,
    reply_first: bool,
    photos: int = PHOTOS,
) -> tuple[list[str], dict[str, bytes], asyncio.Task[SendOutcome]]:
    """With ``ui_lock`` held, the photos arrive and are captured and the reply is queued for the page (the reply
    first in line for the lock, or behind the fetcher); then the lock is let go. Returns the photos' wa_ids, their
    bytes and the send task."""
    sent: dict[str, bytes] = {}

    async def queue_reply() -> asyncio.Task[SendOutcome]:
        send = asyncio.create_task(sender.send_next())
        typing = lambda: store.messages.get(reply.id).status == "typing"  # noqa: E731
        await async_wait_until(typing, WAIT, "the reply marked typing, waiting for the page", interval=0.01)
        return send

    async with driver.ui_lock:
        if reply_first:
            send = await queue_reply()
        for _ in range(photos):
            data = os.urandom(3000)
            message = await asyncio.to_thread(control.incoming_media, ALICE, "image", data, "image/jpeg", name="Alice")
            sent[message["id"]] = data
        ids = list(sent)
        captured = lambda: all(store.messages.find_by_wa_id(i) is not None for i in ids)  # noqa: E731
        await async_wait_until(captured, WAIT, "every photo captured", interval=0.02)
        if not reply_first:
            send = await queue_reply()
        assert driver.media.fetched == 0
    return ids, sent, send


async def all_stored(driver: WhatsAppDriver, store: Store, sent: dict[str, bytes]) -> None:
    await driver.media.wait_idle(30)
    for wa_id, data in sent.items():
        message = store.messages.find_by_wa_id(wa_id)
        assert message is not None
        assert message.media is not None
        assert message.media["state"] == "stored", wa_id  # never "missing": the page had the bytes
        assert store.media.get(message.media["blob_id"]) == data


def test_a_reply_waits_for_one_photo_read_not_the_backlog(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    """A reply queued behind eight photos in the same chat (the fetcher first in line for the page) gets the page
    after at most one of them (it waited for all eight, thumbnails and writes included, when the fetcher held the
    lock through its queue)."""
    control.add_chat(ALICE, "Alice")
    alice = store_chat(store, ALICE, "Alice")
    reply = queue_message(store, alice.id, "Thanks, looking now").value
    driver = driver_runner.driver()

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await open_alice(driver, store, control)
            sender = WatchingSender(driver, store, Humanizer(FAST, random.Random(3)), NO_QUIET, photo_ids=[])
            ids, sent, send = await photos_and_a_reply(driver, store, control, sender, reply, reply_first=False)
            sender.photo_ids = ids
            outcome = await send
            assert outcome.kind == "sent", outcome
            assert sender.stored_on_entry is not None
            assert sender.stored_on_entry <= 1, sender.stored_on_entry  # one read at most went before the reply
            await all_stored(driver, store, sent)
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=60)


def test_photos_left_unread_by_a_reply_to_another_chat_are_fetched_not_missing(
    driver_runner: DriverRunner,
    store: Store,
    control: ImitationControl,
) -> None:
    """The reply to Bob takes the page before the fetcher read any of Alice's photos and leaves her chat: each photo
    waits for her chat to be open again (the sweep or the fetcher reopens it) and is stored; none ends "click to
    fetch"."""
    control.add_chat(ALICE, "Alice")
    control.add_chat(BOB, "Bob")
    store_chat(store, ALICE, "Alice")
    bob = store_chat(store, BOB, "Bob")
    reply = queue_message(store, bob.id, "Your parcel left today").value
    driver = driver_runner.driver()

    async def scenario() -> None:
        async with driver_runner.connected(driver):
            await open_alice(driver, store, control)
            sender = Sender(driver, store, Humanizer(FAST, random.Random(4)), NO_QUIET)
            _ids, sent, send = await photos_and_a_reply(driver, store, control, sender, reply, reply_first=False)
            outcome = await send
            assert outcome.kind == "sent", outcome
            assert store.messages.get(reply.id).status == "sent"
            await all_stored(driver, store, sent)
            assert driver.media.deferrals >= 1  # the race happened: a photo found Bob's chat open
            assert driver.media.failed == 0
            assert driver.last_error is None

    driver_runner.run(scenario, timeout=60)
