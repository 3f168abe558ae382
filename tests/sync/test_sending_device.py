"""One sending device per WhatsApp number, end to end: two workspaces of one team syncing through the real server
(real PostgreSQL), each running the real WhatsApp supervisor in its own headless Chromium against ONE imitation of
WhatsApp Web (one phone, so both browsers are logged in at once: the case where a queue could go out twice).

A message queued on the device that does not hold the number is sent exactly once, by the holder, and shows as
sent on the other once the holder's status syncs back; a newer link on the other device moves the sending there.
"Exactly once" is read from the imitation (what the pages typed) and "by whom" from each workspace's own event log
(a sender records ``message.status_changed`` for what it types; pulled rows record no event).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.models import Message
from app.store import sending_device
from app.store.messaging import queue_outbound
from app.store.workspaces import Workspaces
from app.whatsapp.profile import load_profile
from app.whatsapp.status import ConnectionState
from app.whatsapp.supervisor import Supervisor
from tests.support.sync_server import ServerProcess
from tests.support.whatsapp_fixtures import _chromium, page_sent, store_chat
from tests.sync.clients import Client, join, owner_client
from tests.whatsapp.imitation_server import ImitationConfig, ImitationServer
from tests.whatsapp.test_supervisor import Statuses, config, wait_for

pytestmark = pytest.mark.slow

PHONE = "6590000011"
WAIT = 30.0


@pytest.fixture
def imitation() -> Iterator[ImitationServer]:
    if _chromium() is None:
        pytest.skip("no Chromium found (PARLEY_CHROMIUM, Playwright's browser or a system one)")
    with ImitationServer(ImitationConfig(slow_ms=60, sync_ms=120, ack_delay_ms=100)) as running:
        yield running


@pytest.fixture
def team(workspaces: Workspaces, server: ServerProcess) -> Iterator[tuple[Client, Client]]:
    owner = owner_client(workspaces, server.url)
    staff = join(workspaces, server.url, owner.invite())
    owner.store.set_meta(sending_device.DEVICE_NAME, "Front desk PC")
    staff.store.set_meta(sending_device.DEVICE_NAME, "Back office laptop")
    yield owner, staff
    owner.store.close()
    staff.store.close()


class Device:
    """One computer of the team: its workspace, its sync client and its running WhatsApp supervisor."""

    def __init__(self, client: Client, imitation: ImitationServer, root: Path) -> None:
        self.client = client
        self.store = client.store
        self.imitation = imitation
        self.root = root
        self.statuses = Statuses()
        self.supervisor: Supervisor | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.statuses = Statuses()
        self.supervisor = Supervisor(
            self.store,
            load_profile(None),
            self.root / "wa-profile",
            config(self.imitation, seed=len(self.client.name)),
            on_status=self.statuses,
        )
        self._task = asyncio.create_task(self.supervisor.run())
        self.supervisor.connect()
        await self.statuses.until(lambda s: s.state is ConnectionState.connected, WAIT)

    async def stop(self) -> None:
        if self.supervisor is not None and self._task is not None:
            self.supervisor.close()
            await asyncio.wait_for(self._task, WAIT)
            self.supervisor = self._task = None

    async def sync(self) -> None:
        await asyncio.to_thread(self.client.sync)

    def typed(self, message_id: str) -> bool:
        """Whether this device's own sender typed ``message_id``: it records ``typing`` in its event log before it
        touches the page (pulled rows write no event; this device's driver may still record acks it sees)."""
        with self.store.db.read() as conn:
            payloads = [
                json.loads(r[0])
                for r in conn.execute("SELECT payload FROM events WHERE name = 'message.status_changed'")
            ]
        return any(p.get("message_id") == message_id and p.get("status") == "typing" for p in payloads)

    def message(self, message_id: str) -> Message:
        return self.store.messages.get(message_id)


def sends_of(imitation: ImitationServer, text: str) -> int:
    return sum(1 for m in page_sent(imitation.control().state()) if m["text"] == text)


async def queued_on_sent_by(waiter: Device, holder: Device, imitation: ImitationServer, text: str) -> None:
    """Queue ``text`` on ``waiter``: it waits (naming ``holder``), ``holder`` sends it once, ``waiter`` sees it sent."""
    chat = waiter.store.chats.find_all()[0]
    message = await asyncio.to_thread(queue_outbound, waiter.store, chat.id, text)
    assert waiter.supervisor is not None
    waiter.supervisor.queue_changed()
    holder_name = holder.store.meta(sending_device.DEVICE_NAME)
    status = await waiter.statuses.until(lambda s: s.queue.waiting == 1 and bool(s.queue.held_by), WAIT)
    assert status.queue.held_by == holder_name
    assert status.queue.paused == f"Waiting for {holder_name} to send"
    await waiter.sync()
    await asyncio.to_thread(holder.client.sync, push=False)  # the pulled message wakes the holder's loop
    await wait_for(lambda: holder.message(message.id).status in ("sent", "delivered", "read"), WAIT)
    await holder.sync()
    await wait_for(lambda: waiter.message(message.id).status in ("sent", "delivered", "read"), WAIT)
    await waiter.sync()
    assert waiter.message(message.id).wa_id == holder.message(message.id).wa_id
    assert sends_of(imitation, text) == 1
    assert holder.typed(message.id)
    assert not waiter.typed(message.id)


def test_one_device_sends_and_a_newer_link_moves_the_sending(
    team: tuple[Client, Client], imitation: ImitationServer, tmp_path: Path
) -> None:
    owner, staff = team
    control = imitation.control()
    control.add_chat(PHONE, "Carla")
    store_chat(owner.store, PHONE, "Carla")
    owner.sync()
    staff.sync()
    control.scan()
    a = Device(owner, imitation, tmp_path / "a")
    b = Device(staff, imitation, tmp_path / "b")

    async def scenario() -> None:
        try:
            # B links first, then A: both browsers stay logged in (one phone), and A's is the latest link.
            await b.start()
            await b.sync()
            await a.sync()
            await a.start()
            await a.sync()
            await b.sync()
            holder = sending_device.holder(b.store)
            assert holder is not None
            assert holder.device_name == "Front desk PC"
            assert not sending_device.holds(b.store)
            assert sending_device.holds(a.store)

            await queued_on_sent_by(b, a, imitation, "Your parcel left today")

            # The phone is linked on B again (a new link there): the sending moves to B, A stops.
            await b.stop()
            b.store.settings.internal.whatsapp_linked = False
            await b.start()
            await b.sync()
            await a.sync()
            assert sending_device.holds(b.store)
            assert not sending_device.holds(a.store)
            await queued_on_sent_by(a, b, imitation, "It arrives on Friday")
        finally:
            await a.stop()
            await b.stop()

    asyncio.run(asyncio.wait_for(scenario(), 240))
