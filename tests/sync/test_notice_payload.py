"""The NOTIFY payload between a write and every process's hub: what it carries, and what each socket is sent.

Pure functions on both ends (``sync_engine.notice_payload`` → ``realtime.parse_payload``); the path through
PostgreSQL and real sockets is in test_realtime.py.
"""

from __future__ import annotations

import json

from app.sync.protocol import VersionNotice
from sync_server import sync_engine
from sync_server.realtime import Notice, parse_payload
from sync_server.sync_merge import Row


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
