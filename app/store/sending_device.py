"""Which device sends for a WhatsApp number: one per number in a team, recorded in the synced ``wa_sessions`` row.

Every computer of a team holds the same send queue (messages sync), so something must say which one types a queued
message into WhatsApp, or it goes twice or never. The rule, reused by everything that sends (people, agents,
campaigns): **only the device that holds the number's WhatsApp session sends.**

- **Claiming.** When a phone is linked on a device (its WhatsApp Web reaches ``connected`` after a QR scan), or
  when it is connected and no device holds the number yet, that device writes the number's row: a new ``claim_id``,
  its device id and name, ``linked_at``. It remembers the ``claim_id`` locally (``workspace_meta``, never synced),
  so "do I hold it" survives a change of device id (a workspace that joins a team or signs in again).
- **The latest link wins.** A newer claim replaces the row; the previous holder stops sending as soon as the row
  reaches it (WhatsApp logs its page out anyway when the phone links elsewhere). Two claims made while both devices
  were offline reach the server in either order: the one that arrives last is what every device sees, and a device
  whose own claim is newer than the row it sees writes its claim again (``reassert``), so the team settles on the
  latest link whatever the arrival order.
- **A takeover waits until the team knows.** A claim that replaced another device's is not acted on while it is
  still in this workspace's outbox (in a team): until it reaches the server the previous holder cannot see it and
  may still be sending, so the queue keeps waiting for that device. Offline, that lasts until the server is back:
  sending twice is worse than sending late.
- **Nobody holds it** (no row: a workspace that never linked, or one made before this rule) means nobody is in the
  way: a connected device claims before its first send.

The device id is the team device's (``sync.device_id``) in a team; a workspace without sync is its own single device
with a local id made once. The name is the one the team's device list shows (the host name), unless
``device.name`` names it otherwise.
"""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime

from app.core.ids import from_ms, new_id, to_ms, utc_now
from app.store.store import Store

TABLE = "wa_sessions"
NUMBER = "default"  # the workspace's one number (WhatsApp Web does not show its own number to read)
MY_CLAIM = "whatsapp.claim"  # workspace_meta: the claim_id this device wrote last
SYNC_DEVICE_ID = "sync.device_id"  # app.sync.credentials.DEVICE_ID (the store does not import sync)
LOCAL_DEVICE_ID = "device.local_id"  # workspace_meta: this device's id while the workspace is not in a team
TAKEOVER = "whatsapp.takeover"  # workspace_meta: the claim this device's newest claim replaced (JSON), until pushed
DEVICE_NAME = "device.name"  # workspace_meta: the name this device goes by, when set (else the host name)
SEEN_EVERY_MS = 10 * 60 * 1000  # ``last_seen_at`` is written at most this often (each write syncs)

_COLUMNS = "id, claim_id, device_id, device_name, linked_at, last_seen_at"


@dataclass(frozen=True)
class Device:
    id: str
    name: str


@dataclass(frozen=True)
class Claim:
    """The number's row: which device sends for it."""

    number: str
    claim_id: str
    device_id: str
    device_name: str
    linked_at: datetime
    last_seen_at: datetime


def host_name() -> str:
    """This computer's name as the team's device list shows it (the host name, without its domain)."""
    return (socket.gethostname() or "").split(".")[0][:120] or "This computer"


def this_device(store: Store) -> Device:
    """This workspace's device: the team device when signed in to a team, else a local id made once."""
    device_id = store.meta(SYNC_DEVICE_ID)
    if device_id is None:
        device_id = store.meta(LOCAL_DEVICE_ID)
        if device_id is None:
            device_id = f"local-{uuid.uuid4()}"
            store.set_meta(LOCAL_DEVICE_ID, device_id)
    return Device(device_id, store.meta(DEVICE_NAME) or host_name())


def holder(store: Store, number: str = NUMBER) -> Claim | None:
    """The number's current claim, or None when no device holds it."""
    with store.db.read() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM {TABLE} WHERE org_id = ? AND id = ? AND deleted_at IS NULL",
            (store.org_id, number),
        ).fetchone()
    if row is None:
        return None
    return Claim(row[0], row[1], row[2], row[3], from_ms(int(row[4])), from_ms(int(row[5])))


def holds(store: Store, number: str = NUMBER) -> bool:
    """Whether this device may send for ``number``: it holds the claim, or nobody does."""
    return held_elsewhere(store, number) is None


def held_elsewhere(store: Store, number: str = NUMBER) -> Claim | None:
    """The claim of another device that holds ``number`` (so this one must not send), else None."""
    current = holder(store, number)
    mine = _mine(store)
    if current is None or (mine is not None and current.claim_id == mine[0]):
        return _handing_over(store, number)
    return current


def runs_sending_jobs(store: Store, number: str = NUMBER) -> bool:
    """Whether this device runs the scheduled jobs that send on ``number`` (a follow-up after a sale).

    Stricter than ``holds`` in a team: this device must hold the claim itself. Such jobs sync (``app/store/jobs.py``),
    so while nobody holds the number every teammate has the same job due; were "nobody holds it" enough, each would
    run it and queue its message once — the customer would get it twice. They wait for the device the phone is linked
    to, which claims the number as it connects. A workspace outside a team is the only device: nobody holding is
    enough there, as for ``holds``.
    """
    if held_elsewhere(store, number) is not None:
        return False
    if store.meta(SYNC_DEVICE_ID) is None:
        return True
    current, mine = holder(store, number), _mine(store)
    return current is not None and mine is not None and current.claim_id == mine[0]


def _handing_over(store: Store, number: str) -> Claim | None:
    """The claim this device's own replaced, while the team has not heard of the new one (it is still in the outbox
    of a workspace in a team); None once it is pushed (the mark is then dropped) or outside a team."""
    value = store.meta(TAKEOVER)
    if value is None:
        return None
    if store.meta(SYNC_DEVICE_ID) is not None:
        with store.db.read() as conn:
            unpushed = conn.execute(
                "SELECT 1 FROM outbox WHERE table_name = ? AND row_id = ? LIMIT 1", (TABLE, number)
            ).fetchone()
        if unpushed is not None:
            previous = json.loads(value)
            return Claim(
                number,
                previous["claim_id"],
                previous["device_id"],
                previous["device_name"],
                from_ms(previous["linked_at"]),
                from_ms(previous["last_seen_at"]),
            )
    with store.db.transaction() as conn:
        conn.execute("DELETE FROM workspace_meta WHERE key = ? AND value = ?", (TAKEOVER, value))
    return None


def _write(store: Store, number: str, claim_id: str, device: Device, linked_at: datetime, now: datetime) -> Claim:
    at, linked = to_ms(now), to_ms(linked_at)
    replaced = held_elsewhere(store, number)  # another device's claim (or one still being handed over)
    with store.db.transaction() as conn:
        if replaced is None:
            conn.execute("DELETE FROM workspace_meta WHERE key = ?", (TAKEOVER,))
        else:
            previous = {
                "claim_id": replaced.claim_id,
                "device_id": replaced.device_id,
                "device_name": replaced.device_name,
                "linked_at": to_ms(replaced.linked_at),
                "last_seen_at": to_ms(replaced.last_seen_at),
            }
            conn.execute(
                "INSERT INTO workspace_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (TAKEOVER, json.dumps(previous)),
            )
        conn.execute(
            f"INSERT INTO {TABLE} (org_id, id, created_at, updated_at, claim_id, device_id, device_name, linked_at,"
            " last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (org_id, id) DO UPDATE SET"
            " updated_at = excluded.updated_at, deleted_at = NULL, claim_id = excluded.claim_id,"
            " device_id = excluded.device_id, device_name = excluded.device_name, linked_at = excluded.linked_at,"
            " last_seen_at = excluded.last_seen_at",
            (store.org_id, number, at, at, claim_id, device.id, device.name, linked, at),
        )
        conn.execute(
            "INSERT INTO workspace_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (MY_CLAIM, f"{claim_id} {linked}"),
        )
    return Claim(number, claim_id, device.id, device.name, from_ms(linked), from_ms(at))


def _mine(store: Store) -> tuple[str, int] | None:
    """This device's last claim: (claim_id, linked_at ms)."""
    value = store.meta(MY_CLAIM)
    if not value or " " not in value:
        return None
    claim_id, linked = value.split(" ", 1)
    return claim_id, int(linked)


def claim(store: Store, number: str = NUMBER, *, now: datetime | None = None) -> Claim:
    """Record this device as the one that sends for ``number`` (a phone was just linked here)."""
    at = now or utc_now()
    return _write(store, number, new_id(), this_device(store), at, at)


def on_connected(store: Store, *, newly_linked: bool, number: str = NUMBER, now: datetime | None = None) -> bool:
    """Called when this device's WhatsApp connects; returns whether it now holds ``number``.

    A fresh link claims the number; a reconnect of a session linked before claims it only when nobody holds it,
    writes its own claim again when it is newer than the row's (an older claim that reached the server later), and
    otherwise leaves a newer device's claim alone."""
    at = now or utc_now()
    current = holder(store, number)
    mine = _mine(store)
    if newly_linked or current is None:
        claim(store, number, now=at)
        return True
    if mine is not None and current.claim_id != mine[0] and mine[1] > to_ms(current.linked_at):
        _write(store, number, mine[0], this_device(store), from_ms(mine[1]), at)
        return True
    if mine is not None and current.claim_id == mine[0]:
        seen(store, number, now=at, force=True)
        return True
    return False


def seen(store: Store, number: str = NUMBER, *, now: datetime | None = None, force: bool = False) -> None:
    """Refresh ``last_seen_at`` of this device's claim (at most every ``SEEN_EVERY_MS`` unless ``force``)."""
    at = to_ms(now or utc_now())
    current = holder(store, number)
    mine = _mine(store)
    if current is None or mine is None or current.claim_id != mine[0]:
        return
    if not force and at - to_ms(current.last_seen_at) < SEEN_EVERY_MS:
        return
    with store.db.transaction() as conn:
        conn.execute(
            f"UPDATE {TABLE} SET last_seen_at = ?, updated_at = ? WHERE org_id = ? AND id = ? AND claim_id = ?",
            (at, at, store.org_id, number, mine[0]),
        )


def waiting_sentence(claim: Claim) -> str:
    """What a message waiting on another device shows."""
    return f"Waiting for {claim.device_name} to send"
