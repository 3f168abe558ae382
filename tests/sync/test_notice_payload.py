"""The NOTIFY payload between a write and every process's hub: what it carries, and what each socket is sent
(alone, or merged with the notices that queued up while the socket was busy).

Pure functions on both ends (``sync_engine.notice_payload`` → ``realtime.parse_payload``); the path through
PostgreSQL and real sockets is in test_realtime.py.
"""

from __future__ import annotations

import asyncio
import json
import time

from app.sync.protocol import VersionNotice
from sync_server import sync_engine
from sync_server.realtime import MIN_GAP_SECONDS, Notice, Subscription, merged_text, parse_payload
from sync_server.sync_merge import Row
from tests.support.waiting import async_assert_stays, async_wait_until


def parsed(payload: str) -> tuple[str, Notice]:
    found = parse_payload(payload)
    assert found is not None, payload
    return found


def contact(n: int, name: str = "Ana") -> Row:
    return Row("contacts", f"c{n}", 40 + n, data={"name": name, "lead_score": n}, field_versions={"*": [40 + n, "d"]})


def test_a_small_write_carries_its_rows_to_sockets_that_asked_for_them() -> None:
    payload = sync_engine.notice_payload("org1", 40, 42, [contact(1), contact(2)])
    org_id, notice = parsed(payload)
    assert org_id == "org1"
    full = VersionNotice.model_validate_json(notice.text_for("dev1", changes=True))
    assert (full.since, full.version) == (40, 42)
    assert full.rows is not None
    assert [(r.id, r.version, r.data) for r in full.rows] == [
        ("c1", 41, {"name": "Ana", "lead_score": 1}),
        ("c2", 42, {"name": "Ana", "lead_score": 2}),
    ]
    # Field stamps are the server's business: they never leave it.
    assert "field_versions" not in notice.text_for("dev1", changes=True)
    # A socket that did not ask (an older client, whose VersionNotice forbids unknown fields) gets the bare version.
    assert json.loads(notice.text_for("dev1", changes=False)) == {"type": "version", "version": 42}


def test_bulk_and_oversized_writes_and_devices_with_a_new_conflict_get_the_bare_version() -> None:
    bulk = [contact(n) for n in range(sync_engine.NOTICE_ROWS + 1)]
    assert parsed(sync_engine.notice_payload("org1", 40, 61, bulk))[1].full is None

    big = [contact(1, name="x" * sync_engine.NOTICE_BYTES)]
    payload = sync_engine.notice_payload("org1", 40, 41, big)
    assert len(payload.encode()) < 8000  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
    assert parsed(payload)[1].full is None

    payload = sync_engine.notice_payload("org1", 40, 41, [contact(1)], conflicted=["loser", "loser"])
    _, notice = parsed(payload)
    assert json.loads(notice.text_for("loser", changes=True)) == {"type": "version", "version": 41}
    assert "rows" in json.loads(notice.text_for("winner", changes=True))


def test_a_notice_whose_rows_do_not_parse_still_sends_its_version() -> None:
    payload = json.dumps({"org": "org1", "version": 9, "since": 8, "rows": [{"table": "contacts"}]})
    _, notice = parsed(payload)
    assert notice.full is None
    assert json.loads(notice.text_for("dev1", changes=True)) == {"type": "version", "version": 9}


def test_the_old_payload_is_understood_and_garbage_is_ignored() -> None:
    org_id, notice = parsed("org-7:12")
    assert (org_id, notice.version, notice.full) == ("org-7", 12, None)
    for garbage in ("", "no version", "org:x", "{not json", '{"org": "o"}', '{"version": 3}'):
        assert parse_payload(garbage) is None, garbage


def notice_of(since: int, rows: list[Row], *, conflicted: tuple[str, ...] = ()) -> Notice:
    version = since + len(rows)
    return parsed(sync_engine.notice_payload("org1", since, version, rows, conflicted))[1]


def test_notices_that_queued_up_for_a_busy_socket_go_out_as_one() -> None:
    first = notice_of(40, [contact(1, "Old name")])
    second = notice_of(41, [contact(2)])
    third = notice_of(42, [Row("contacts", "c1", 43, data={"name": "New name"})])
    merged = VersionNotice.model_validate_json(merged_text([first, second, third], "dev1", changes=True))
    assert (merged.since, merged.version) == (40, 43)
    assert merged.rows is not None
    # Each row once, at its latest state: what a pull from 40 would return.
    assert sorted((r.id, r.version, r.data["name"]) for r in merged.rows) == [("c1", 43, "New name"), ("c2", 42, "Ana")]
    # A gap, a bare notice, a conflict record or an old client: the newest bare version, and the client pulls.
    bare = {"type": "version", "version": 43}
    assert json.loads(merged_text([first, third], "dev1", changes=True)) == bare
    assert json.loads(merged_text([first, second, parsed("org1:43")[1]], "dev1", changes=True)) == bare
    conflicted = notice_of(42, [contact(3)], conflicted=("dev1",))
    assert json.loads(merged_text([first, second, conflicted], "dev1", changes=True)) == bare
    assert json.loads(merged_text([first, second, third], "dev1", changes=False)) == bare


def test_a_merged_notice_too_big_for_the_apps_message_limit_goes_out_bare() -> None:
    big = "x" * 7000
    notices = [notice_of(40 + n, [contact(n, name=big)]) for n in range(12)]
    assert all(n.full is not None for n in notices)
    assert json.loads(merged_text(notices, "dev1", changes=True)) == {"type": "version", "version": 52}


def test_a_busy_socket_gets_what_queued_up_in_one_message_and_nothing_twice() -> None:
    sent: list[tuple[float, str]] = []
    release = asyncio.Event()

    async def send(text: str) -> None:
        sent.append((time.monotonic(), text))
        await release.wait()  # the first message is slow to go out

    async def scenario() -> None:
        sub = Subscription("org1", "dev1", send, 5.0, changes=True)
        task = asyncio.create_task(sub.run())
        notices = [notice_of(40 + n, [contact(n)]) for n in range(4)]
        sub.offer(notices[0])
        await asyncio.sleep(0.01)
        for notice in notices[1:]:
            sub.offer(notice)
        sub.offer(notices[2])  # heard twice (a second LISTEN after a reconnect): ignored
        release.set()
        await async_wait_until(lambda: len(sent) >= 2, 5, lambda: f"two notices sent; sent: {sent}", 0.01)
        # nothing else may follow: a third notice would go out one gap after the second
        await async_assert_stays(lambda: len(sent) == 2, MIN_GAP_SECONDS * 2, lambda: f"more notices sent: {sent}")
        task.cancel()

    asyncio.run(scenario())
    assert len(sent) == 2
    (first_at, first_text), (rest_at, rest_text) = sent
    first, rest = VersionNotice.model_validate_json(first_text), VersionNotice.model_validate_json(rest_text)
    assert (first.since, first.version) == (40, 41)
    assert (rest.since, rest.version) == (41, 44)
    assert rest.rows is not None
    assert len(rest.rows) == 3
    assert rest_at - first_at >= MIN_GAP_SECONDS * 0.9  # one message per gap at most, however busy the org
