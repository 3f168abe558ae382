"""The one-sending-device rule on a real SQLCipher workspace: who holds a WhatsApp number after a link, a reconnect,
a teammate's claim pulled by sync (through sync's real page apply), and what the claim puts in the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.core.ids import new_id, to_ms
from app.store import sending_device as sd
from app.store.store import Store
from app.sync.apply import apply_page
from app.sync.protocol import PullResponse, RowState

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATER, EARLIER = T0 + timedelta(minutes=5), T0 - timedelta(minutes=5)


def pull_claim(store: Store, *, linked_at: datetime, device: str = "dev-b", name: str = "Bea's laptop") -> str:
    """A teammate's claim arriving as sync delivers it: a pulled page applied by sync's own code, after this
    device's own outbox was pushed (an unpushed local row would keep its values, as sync's rebase rules say)."""
    with store.db.transaction() as conn:
        conn.execute("DELETE FROM outbox")
    claim_id = new_id()
    cursor = int(store.meta("sync.cursor") or 0)
    at = to_ms(linked_at)
    data = {
        "created_at": at,
        "updated_at": at,
        "deleted_at": None,
        "claim_id": claim_id,
        "device_id": device,
        "device_name": name,
        "linked_at": at,
        "last_seen_at": at,
    }
    row = RowState(table=sd.TABLE, id=sd.NUMBER, version=cursor + 1, data=data)
    apply_page(
        store.db, store.org_id, PullResponse(rows=[row], cursor=cursor + 1, version=cursor + 1, has_more=False), cursor
    )
    return claim_id


@dataclass(frozen=True)
class Case:
    name: str
    mine: datetime | None  # this device claimed the number at this time earlier (None: never)
    theirs: datetime | None  # then a teammate's claim with this linked_at was pulled (None: none)
    newly_linked: bool  # this connection follows a QR scan (else a reconnect of the existing session)
    holds: bool  # this device sends afterwards


CASES = [
    Case("first connection, nobody holds it", None, None, False, True),
    Case("first link, nobody holds it", None, None, True, True),
    Case("reconnect of the holder", T0, None, False, True),
    Case("reconnect after a newer link elsewhere", T0, LATER, False, False),
    Case("reconnect: an older claim arrived after ours", T0, EARLIER, False, True),
    Case("new link here after a link elsewhere", T0, LATER, True, True),
    Case("reconnect, never claimed here, a teammate holds it", None, T0, False, False),
    Case("first link here while a teammate holds it", None, T0, True, True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_who_holds_the_number_after_connecting(store: Store, case: Case) -> None:
    if case.mine is not None:
        sd.claim(store, now=case.mine)
    theirs = pull_claim(store, linked_at=case.theirs) if case.theirs is not None else None
    now = T0 + timedelta(hours=1)
    assert sd.on_connected(store, newly_linked=case.newly_linked, now=now) is case.holds
    assert sd.holds(store) is case.holds
    current = sd.holder(store)
    assert current is not None
    if case.holds:
        assert current.device_id == sd.this_device(store).id
        assert sd.held_elsewhere(store) is None
    else:
        assert current.claim_id == theirs
        elsewhere = sd.held_elsewhere(store)
        assert elsewhere is not None
        assert elsewhere.device_name == "Bea's laptop"
        assert sd.waiting_sentence(elsewhere) == "Waiting for Bea's laptop to send"


def test_nobody_holding_the_number_is_no_obstacle(store: Store) -> None:
    assert sd.holder(store) is None
    assert sd.holds(store)
    assert sd.held_elsewhere(store) is None


def test_sending_jobs_run_on_the_holder_and_alone_also_when_nobody_holds(store: Store) -> None:
    assert sd.runs_sending_jobs(store)  # a workspace outside a team is the only device
    store.set_meta("sync.device_id", "dev-a")  # in a team, "nobody holds it" is every teammate at once
    assert not sd.runs_sending_jobs(store)
    sd.claim(store, now=T0)
    assert sd.runs_sending_jobs(store)
    pull_claim(store, linked_at=LATER)  # the phone is linked on a teammate's computer now
    assert not sd.runs_sending_jobs(store)


def test_a_pulled_newer_claim_takes_the_number_from_the_holder(store: Store) -> None:
    sd.claim(store, now=T0)
    assert sd.holds(store)
    pull_claim(store, linked_at=LATER)
    assert not sd.holds(store)  # as soon as the row arrives: no reconnect needed


def test_a_claim_is_synced_and_a_pulled_one_is_not_echoed(store: Store) -> None:
    with store.db.read() as conn:
        before = conn.execute("SELECT max(seq) FROM outbox").fetchone()[0] or 0
    claimed = sd.claim(store, now=T0)
    with store.db.read() as conn:
        queued = conn.execute(
            "SELECT table_name, row_id, op FROM outbox WHERE seq > ? ORDER BY seq", (before,)
        ).fetchall()
    assert queued == [(sd.TABLE, sd.NUMBER, "insert")]
    assert claimed.linked_at == T0
    pull_claim(store, linked_at=LATER)  # (pushes ours first)
    with store.db.read() as conn:
        after = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    assert after == 0


def test_last_seen_is_written_only_every_few_minutes(store: Store) -> None:
    sd.claim(store, now=T0)
    sd.seen(store, now=T0 + timedelta(minutes=1))
    current = sd.holder(store)
    assert current is not None
    assert current.last_seen_at == T0
    sd.seen(store, now=T0 + timedelta(minutes=11))
    current = sd.holder(store)
    assert current is not None
    assert current.last_seen_at == T0 + timedelta(minutes=11)


def test_the_device_is_the_team_device_in_a_team_else_a_local_one(store: Store) -> None:
    local = sd.this_device(store)
    assert local.id.startswith("local-")
    assert sd.this_device(store) == local  # made once
    sd.claim(store, now=T0)
    store.set_meta("sync.device_id", "dev-a")  # the workspace joins a team
    assert sd.this_device(store).id == "dev-a"
    assert sd.holds(store)  # the claim is this workspace's whatever its device id became
    assert sd.on_connected(store, newly_linked=False, now=LATER)


def test_a_takeover_in_a_team_waits_until_the_team_has_heard_of_it(store: Store) -> None:
    store.set_meta("sync.device_id", "dev-a")  # in a team
    pull_claim(store, linked_at=T0)  # Bea's laptop holds the number
    assert sd.on_connected(store, newly_linked=True, now=LATER)  # the phone is linked here now
    current = sd.holder(store)
    assert current is not None
    assert current.device_id == "dev-a"
    # Until the claim is pushed, Bea's laptop cannot know and may still be sending: this device keeps waiting.
    previous = sd.held_elsewhere(store)
    assert previous is not None
    assert previous.device_name == "Bea's laptop"
    assert not sd.holds(store)
    with store.db.transaction() as conn:  # pushed (the engine drops acknowledged entries)
        conn.execute("DELETE FROM outbox")
    assert sd.held_elsewhere(store) is None
    assert sd.holds(store)
    assert store.meta(sd.TAKEOVER) is None


def test_outside_a_team_a_new_link_sends_at_once(store: Store) -> None:
    pull_claim(store, linked_at=T0)  # a claim from when this workspace was in a team
    assert sd.on_connected(store, newly_linked=True, now=LATER)
    assert sd.holds(store)  # nobody to hand over with: no server, no teammate
