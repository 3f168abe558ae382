"""Push and pull against the real server process: the conflict rules, idempotence, paging and refused batches.

Each test signs up its own org (and logs in a second device where it needs one), so tests share the module's
server without seeing each other's rows. The org's version and rows are read with the superuser's ``psql`` where a
test must see what was (not) written without going through the API under test.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest

from app.sync.protocol import MAX_PUSH_CHANGES, PROTOCOL_VERSION, Change, PushRequest, Session
from sync_server import sync_engine, tokens
from sync_server.access import send_confirm
from sync_server.db import Db
from sync_server.errors import ApiError
from sync_server.pgcluster import Cluster
from sync_server.push_body import PushBody, read_push
from tests.support.sync_fixtures import PASSWORD, signup, unique_email
from tests.support.sync_server import SECRET


def auth(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.access_token}"}


def push(
    http: httpx.Client, session: Session, changes: list[dict[str, Any]], *, known: int = 0, protocol: int = 2
) -> httpx.Response:
    body = {"protocol": protocol, "known_version": known, "changes": changes}
    return http.post("/api/sync/push", json=body, headers=auth(session))


def pushed(http: httpx.Client, session: Session, changes: list[dict[str, Any]], *, known: int = 0) -> dict[str, Any]:
    response = push(http, session, changes, known=known)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def pull(http: httpx.Client, session: Session, cursor: int = 0, limit: int = 2000) -> dict[str, Any]:
    response = http.get(
        "/api/sync/pull", params={"protocol": PROTOCOL_VERSION, "cursor": cursor, "limit": limit}, headers=auth(session)
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def rows_by_id(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in page["rows"]}


def second_device(http: httpx.Client, owner: Session, email: str) -> Session:
    response = http.post(
        "/api/auth/login",
        json={"email": email, "password": PASSWORD, "device_name": "owner phone", "org_id": owner.org.id},
    )
    assert response.status_code == 200, response.text
    session = Session.model_validate(response.json())
    assert session.device_id != owner.device_id
    return session


def two_devices(http: httpx.Client) -> tuple[Session, Session]:
    email = unique_email()
    first = signup(http, email=email)
    return first, second_device(http, first, email)


def sql(pg: Cluster, database_url: str, query: str) -> str:
    return pg.psql(query, database=database_url.rsplit("/", 1)[1]).strip()


def org_state(pg: Cluster, database_url: str, org_id: str) -> tuple[int, int, int]:
    """(org version, rows, device seqs) as the database holds them."""
    out = sql(
        pg,
        database_url,
        f"SELECT version, (SELECT count(*) FROM sync_rows WHERE org_id = '{org_id}'), "
        f"(SELECT coalesce(sum(last_seq), 0) FROM devices WHERE org_id = '{org_id}') FROM orgs WHERE id = '{org_id}'",
    )
    version, rows, seqs = out.split("|")
    return int(version), int(rows), int(seqs)


def contact(seq: int, row_id: str, op: str = "insert", **data: Any) -> dict[str, Any]:
    return {"seq": seq, "table": "contacts", "id": row_id, "op": op, "data": data}


def test_a_repeated_push_writes_nothing_twice(http: httpx.Client, pg: Cluster, database_url: str) -> None:
    owner = signup(http)
    changes = [contact(i, f"c{i}", name=f"Contact {i}", updated_at=i) for i in range(1, 4)]
    first = pushed(http, owner, changes)
    before = org_state(pg, database_url, owner.org.id)
    again = pushed(http, owner, changes)
    assert again["acknowledged_seq"] == first["acknowledged_seq"] == 3
    assert again["version"] == first["version"]
    assert org_state(pg, database_url, owner.org.id) == before
    # A retry that overlaps the applied part applies only the new change.
    third = pushed(http, owner, [*changes[1:], contact(4, "c4", name="Contact 4")])
    assert third["acknowledged_seq"] == 4
    assert third["version"] == first["version"] + 1


def test_versions_are_gapless_and_pull_returns_them_in_order(http: httpx.Client) -> None:
    owner = signup(http)
    start = pull(http, owner)["version"]
    answer = pushed(http, owner, [contact(i, f"g{i}", name=f"G {i}") for i in range(1, 6)])
    assert answer["version"] == start + 5
    page = pull(http, owner, cursor=start)
    assert [r["version"] for r in page["rows"]] == list(range(start + 1, start + 6))
    assert [r["id"] for r in page["rows"]] == [f"g{i}" for i in range(1, 6)]
    assert page["cursor"] == start + 5
    assert page["has_more"] is False


def test_last_writer_wins_per_field(http: httpx.Client) -> None:
    a, b = two_devices(http)
    pushed(http, a, [contact(1, "lww", name="Ann", phone="111", email="ann@example.com")])
    pushed(http, a, [contact(2, "lww", "update", name="Ann A")])
    pushed(http, b, [contact(1, "lww", "update", phone="222")])
    row = rows_by_id(pull(http, a))["lww"]
    assert row["data"]["name"] == "Ann A"  # b did not touch the name
    assert row["data"]["phone"] == "222"  # b's later phone wins
    assert row["data"]["email"] == "ann@example.com"
    pushed(http, b, [contact(2, "lww", "update", name="Ann B")], known=row["version"])
    assert rows_by_id(pull(http, a))["lww"]["data"]["name"] == "Ann B"  # arrival order decides


def test_an_overwritten_edit_is_reported_to_the_losing_device_once(http: httpx.Client) -> None:
    a, b = two_devices(http)
    seen = pushed(http, a, [contact(1, "ow", name="Start", phone="1")])["version"]
    pushed(http, a, [contact(2, "ow", "update", name="From A")])  # b has not seen this one
    answer = pushed(http, b, [contact(1, "ow", "update", name="From B", phone="2")], known=seen)
    assert answer["conflicts"] == []  # b won: nothing to tell b
    page = pull(http, a)
    assert len(page["conflicts"]) == 1
    conflict = page["conflicts"][0]
    assert conflict["table"] == "contacts"
    assert conflict["id"] == "ow"
    assert conflict["reason"] == "overwritten"
    assert conflict["fields"] == ["name"]  # the phone was a's too, but a had not touched it after b's known version
    assert conflict["theirs"] == {"name": "From B"}
    assert pull(http, a)["conflicts"] == []  # delivered once
    assert pull(http, b)["conflicts"] == []  # never to the winner
    # An edit made after seeing the other's change is no conflict.
    latest = pull(http, b)["version"]
    pushed(http, b, [contact(2, "ow", "update", name="B again")], known=latest)
    pushed(http, a, [contact(3, "ow", "update", name="A again")], known=latest + 1)
    assert pull(http, b)["conflicts"] == []


def test_deletes_win_over_later_updates(http: httpx.Client) -> None:
    a, b = two_devices(http)
    pushed(http, a, [contact(1, "del", name="Doomed", updated_at=1)])
    pushed(http, a, [contact(2, "del", "delete", deleted_at=5000, updated_at=5000)])
    version = pull(http, a)["version"]
    answer = pushed(http, b, [contact(1, "del", "update", name="Saved?", updated_at=6000)])
    assert answer["version"] == version  # dropped whole: no version taken
    assert len(answer["conflicts"]) == 1
    conflict = answer["conflicts"][0]
    assert conflict["reason"] == "deleted"
    assert conflict["fields"] == ["name"]
    assert conflict["theirs"]["deleted_at"] == 5000
    row = rows_by_id(pull(http, a))["del"]
    assert row["deleted"] is True
    assert row["data"]["name"] == "Doomed"
    # An insert cannot bring it back either.
    again = pushed(http, b, [contact(2, "del", name="Reborn")])
    assert [c["reason"] for c in again["conflicts"]] == ["deleted"]
    assert rows_by_id(pull(http, a))["del"]["data"]["name"] == "Doomed"


def test_append_only_rows_keep_their_text(http: httpx.Client) -> None:
    a, b = two_devices(http)
    message = {"chat_id": "chat1", "body": "hello", "direction": "out", "sent_at": 10, "status": "sent"}
    pushed(http, a, [{"seq": 1, "table": "messages", "id": "m1", "op": "insert", "data": message}])
    clash = pushed(
        http, b, [{"seq": 1, "table": "messages", "id": "m1", "op": "insert", "data": {**message, "body": "HELLO"}}]
    )
    assert [(c["reason"], c["fields"], c["theirs"]) for c in clash["conflicts"]] == [
        ("append_only", ["body"], {"body": "hello"})
    ]
    edit = pushed(
        http,
        b,
        [{"seq": 2, "table": "messages", "id": "m1", "op": "update", "data": {"body": "edited", "status": "read"}}],
    )
    assert [(c["reason"], c["fields"]) for c in edit["conflicts"]] == [("append_only", ["body"])]
    row = rows_by_id(pull(http, a))["m1"]
    assert row["data"]["body"] == "hello"
    assert row["data"]["status"] == "read"  # the rest still follows last-writer-wins
    note = {"seq": 3, "table": "notes", "id": "n1", "op": "insert", "data": {"body": "first", "chat_id": "chat1"}}
    pushed(http, b, [note])
    same = pushed(http, b, [{"seq": 4, "table": "notes", "id": "n1", "op": "update", "data": {"body": "first"}}])
    assert same["conflicts"] == []  # writing the same text again is no conflict


def test_purge_scrubs_the_row(http: httpx.Client, pg: Cluster, database_url: str) -> None:
    owner = signup(http)
    pushed(http, owner, [contact(1, "gdpr", name="Private Person", phone="+44 7700 900123")])
    pushed(http, owner, [{"seq": 2, "table": "contacts", "id": "gdpr", "op": "purge"}])
    row = rows_by_id(pull(http, owner))["gdpr"]
    assert (row["deleted"], row["purged"], row["data"]) == (True, True, {})
    stored = sql(
        pg,
        database_url,
        f"SELECT data::text || field_versions::text FROM sync_rows WHERE org_id = '{owner.org.id}' AND id = 'gdpr'",
    )
    assert stored == "{}{}"
    late = pushed(http, owner, [contact(3, "gdpr", "update", name="Private Person")])
    assert [c["reason"] for c in late["conflicts"]] == ["deleted"]
    assert "Private" not in sql(pg, database_url, "SELECT data::text FROM sync_rows WHERE id = 'gdpr'")


def test_pull_pages_with_cursor_and_has_more(http: httpx.Client) -> None:
    owner = signup(http)
    start = pull(http, owner)["version"]
    pushed(http, owner, [contact(i, f"p{i:02}", name=f"P {i}") for i in range(1, 26)])
    seen: list[int] = []
    cursor, pages = start, 0
    while True:
        page = pull(http, owner, cursor=cursor, limit=10)
        pages += 1
        seen += [r["version"] for r in page["rows"]]
        assert page["cursor"] >= cursor
        cursor = page["cursor"]
        if not page["has_more"]:
            break
        assert len(page["rows"]) == 10
    assert pages == 3
    assert seen == list(range(start + 1, start + 26))
    assert cursor == start + 25


def test_a_cursor_older_than_purged_tombstones_must_refetch(http: httpx.Client, pg: Cluster, database_url: str) -> None:
    owner = signup(http)
    pushed(http, owner, [contact(1, "old", name="Old"), contact(2, "keep", name="Keep")])
    pushed(http, owner, [contact(3, "old", "delete", deleted_at=1)])
    early_cursor = 1
    assert pull(http, owner, cursor=early_cursor)["must_refetch"] is False
    sql(pg, database_url, "UPDATE sync_rows SET changed_at = now() - interval '100 days' WHERE id = 'old'")

    async def janitor() -> int:
        db = await Db.open(database_url, min_size=1, max_size=1)
        try:
            return await sync_engine.purge_all_tombstones(db, 90)
        finally:
            await db.close()

    assert asyncio.run(janitor()) >= 1
    stale = pull(http, owner, cursor=early_cursor)
    assert stale["must_refetch"] is True
    assert stale["rows"] == []
    assert stale["cursor"] == 0
    fresh = pull(http, owner, cursor=0)
    assert fresh["must_refetch"] is False
    assert "old" not in rows_by_id(fresh)
    assert "keep" in rows_by_id(fresh)
    assert pull(http, owner, cursor=fresh["cursor"])["must_refetch"] is False


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ([{"seq": 1, "table": "no_such_table", "id": "x", "op": "insert", "data": {"a": 1}}], 422),
        ([contact(1, "x", name="ok"), contact(2, "y", no_such_column=1)], 422),
        ([contact(2, "x", name="two"), contact(1, "y", name="one")], 422),
        ([contact(i, f"x{i}", name="n") for i in range(1, MAX_PUSH_CHANGES + 2)], 422),
        ([contact(1, "x", name="ok"), contact(2, "y", lead_score=float("nan"))], 422),
        ([contact(1, "x", name="ok"), contact(2, "y", name="nul\x00byte")], 422),
        (
            [contact(1, "x", name="ok"), {"seq": 2, "table": "contacts", "id": "y", "op": "purge", "data": {"a": 1}}],
            422,
        ),
        ([contact(1, "bad id with spaces", name="x")], 422),
    ],
    ids=["unknown-table", "unknown-column", "out-of-order", "oversized", "nan", "nul", "purge-with-data", "bad-id"],
)
def test_an_invalid_batch_is_refused_whole(
    http: httpx.Client, pg: Cluster, database_url: str, changes: list[dict[str, Any]], status: int
) -> None:
    owner = signup(http)
    before = org_state(pg, database_url, owner.org.id)
    body = json.dumps({"protocol": 2, "known_version": 0, "changes": changes}, allow_nan=True)
    response = http.post("/api/sync/push", content=body, headers={**auth(owner), "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["code"] == "invalid"
    assert org_state(pg, database_url, owner.org.id) == before
    # The refused seqs were not consumed: the same seq 1 applies afterwards.
    assert pushed(http, owner, [contact(1, "after", name="fine")])["acknowledged_seq"] == 1


def test_wrong_protocol_too_large_and_bad_json_are_refused(http: httpx.Client, pg: Cluster, database_url: str) -> None:
    owner = signup(http)
    before = org_state(pg, database_url, owner.org.id)
    future = push(
        http, owner, [{"seq": 1, "table": "future_table", "id": "f", "op": "insert", "data": {"x": 1}}], protocol=99
    )
    assert future.status_code == 426
    assert future.json()["code"] == "protocol"
    assert future.json()["supported_protocols"] == [PROTOCOL_VERSION]
    # A batch that would be valid under this protocol is refused too: a newer client may mean something else by it.
    same_shape = push(http, owner, [contact(1, "f", name="from the future")], protocol=99)
    assert same_shape.status_code == 426
    huge = [contact(i, f"h{i}", name="x" * 200_000) for i in range(1, 50)]
    assert push(http, owner, huge).status_code == 413
    garbled = http.post("/api/sync/push", content=b"{not json", headers=auth(owner))
    assert garbled.status_code == 400
    assert http.post("/api/sync/push", json={"protocol": 2, "known_version": 0, "changes": []}).status_code == 401
    old = http.get("/api/sync/pull", params={"protocol": 99}, headers=auth(owner))
    assert old.status_code == 426
    # An app of the previous release (protocol 1: no media, AI owner, labels... columns) is told to update, before
    # it pushes or pulls rows it would misread.
    assert PROTOCOL_VERSION == 2
    previous = push(http, owner, [contact(1, "p", name="from an older Parley")], protocol=1)
    assert (previous.status_code, previous.json()["supported_protocols"]) == (426, [2])
    assert http.get("/api/sync/pull", params={"protocol": 1}, headers=auth(owner)).status_code == 426
    bad: list[dict[str, str | int]] = [
        {"protocol": 2, "cursor": "abc"},
        {"protocol": 2, "limit": "0"},
        {"protocol": 2, "cursor": "-1"},
    ]
    for params in bad:
        assert http.get("/api/sync/pull", params=params, headers=auth(owner)).status_code == 422
    assert org_state(pg, database_url, owner.org.id) == before


def test_pull_limit_is_capped(http: httpx.Client) -> None:
    owner = signup(http)
    page = pull(http, owner, limit=10**9)
    assert page["has_more"] is False
    assert len(page["rows"]) >= 1


def test_another_orgs_rows_cannot_be_touched(http: httpx.Client, pg: Cluster, database_url: str) -> None:
    victim = signup(http, org_name="Victim")
    pushed(http, victim, [contact(1, "shared-id", name="Victim's contact")])
    attacker = signup(http, org_name="Attacker")
    answer = pushed(
        http,
        attacker,
        [
            contact(1, "shared-id", "update", name="pwned"),
            contact(2, "shared-id", "delete", deleted_at=1),
            {"seq": 3, "table": "orgs", "id": victim.org.id, "op": "update", "data": {"name": "pwned"}},
            {"seq": 4, "table": "users", "id": victim.user.id, "op": "update", "data": {"name": "pwned"}},
        ],
    )
    assert [c["reason"] for c in answer["conflicts"]] == ["forbidden"]  # the other org's id as this org's row
    mine = rows_by_id(pull(http, victim))
    assert mine["shared-id"]["data"]["name"] == "Victim's contact"
    assert mine["shared-id"]["deleted"] is False
    assert mine[victim.org.id]["data"]["name"] == "Victim"
    assert mine[victim.user.id]["data"]["name"] == "Olivia Owner"
    leaked = sql(
        pg,
        database_url,
        f"SELECT count(*) FROM sync_rows WHERE data::text LIKE '%pwned%' AND org_id = '{victim.org.id}'",
    )
    assert leaked == "0"
    assert victim.org.id not in rows_by_id(pull(http, attacker))


def test_roles_cannot_be_pushed(http: httpx.Client) -> None:
    owner = signup(http)
    users = {"table": "users", "id": owner.user.id}
    answer = pushed(http, owner, [{**users, "seq": 1, "op": "update", "data": {"role": "staff", "name": "Olivia O."}}])
    assert [(c["reason"], c["fields"], c["theirs"]) for c in answer["conflicts"]] == [
        ("forbidden", ["role"], {"role": "owner"})
    ]
    row = rows_by_id(pull(http, owner))[owner.user.id]
    assert row["data"]["role"] == "owner"
    assert row["data"]["name"] == "Olivia O."
    invented = pushed(
        http, owner, [{"table": "users", "id": "ghost", "seq": 2, "op": "insert", "data": {"role": "owner"}}]
    )
    assert [c["reason"] for c in invented["conflicts"]] == ["forbidden"]
    assert "role" not in rows_by_id(pull(http, owner)).get("ghost", {"data": {}})["data"]


def test_updates_and_deletes_of_unknown_rows_create_them(http: httpx.Client) -> None:
    owner = signup(http)
    pushed(
        http,
        owner,
        [contact(1, "u-only", "update", name="Made by update"), contact(2, "d-only", "delete", deleted_at=7)],
    )
    rows = rows_by_id(pull(http, owner))
    assert rows["u-only"]["data"] == {"name": "Made by update"}
    assert rows["u-only"]["deleted"] is False
    assert rows["d-only"]["deleted"] is True


def test_a_batch_written_in_parts_keeps_each_rows_last_change(
    http: httpx.Client, pg: Cluster, database_url: str
) -> None:
    """A big batch is merged and written a part at a time: a row a later part changes again (in a middle part or
    in the last one) ends with that change, and versions stay gapless across the parts."""
    owner = signup(http)
    start = pull(http, owner)["version"]
    part = sync_engine.STORE_PART
    changes = [contact(i + 1, f"p{i}", name=f"P {i}", lead_score=1, updated_at=i) for i in range(3 * part)]
    # Second part: rename p0 (first part). Last part: rename p0 again, delete p1, score p{part + 1} (second part).
    changes[part + 5] = contact(part + 6, "p0", "update", name="renamed once", updated_at=5_000)
    changes[-3] = contact(3 * part - 2, "p0", "update", name="renamed twice", updated_at=6_000)
    changes[-2] = contact(3 * part - 1, "p1", "delete", deleted_at=6_001, updated_at=6_001)
    changes[-1] = contact(3 * part, f"p{part + 1}", "update", lead_score=42, updated_at=6_002)
    answer = pushed(http, owner, changes)
    assert answer["acknowledged_seq"] == 3 * part
    assert answer["version"] == start + 3 * part  # every change wrote: one version each, none skipped

    page = pull(http, owner, cursor=start, limit=5000)
    rows = rows_by_id(page)
    ids = {c["id"] for c in changes}
    assert len(page["rows"]) == len(rows) == len(ids)  # each row once, at its latest version
    assert rows["p0"]["data"]["name"] == "renamed twice"
    assert rows["p0"]["version"] == start + 3 * part - 2
    assert rows["p1"]["deleted"] is True
    assert rows[f"p{part + 1}"]["data"] == {"name": f"P {part + 1}", "lead_score": 42, "updated_at": 6_002}
    assert max(r["version"] for r in page["rows"]) == answer["version"]
    stamp = sql(
        pg,
        database_url,
        f"SELECT field_versions->'name'->>0 FROM sync_rows WHERE org_id = '{owner.org.id}' AND id = 'p0'",
    )
    assert int(stamp) == start + 3 * part - 2


def test_a_body_checked_whole_reads_its_rows_ahead_too(http: httpx.Client, database_url: str) -> None:
    """A body the quick parse could not make out is checked whole (``PushBody.of``); its rows are read ahead by the
    same keys, so an existing row is found (a plain insert of it would fail)."""
    owner = signup(http)
    pushed(http, owner, [contact(1, "known", name="first")])
    request = PushRequest(
        protocol=2,
        known_version=0,
        changes=[Change(seq=2, table="contacts", id="known", op="insert", data={"name": "second"})],
    )

    async def run() -> int:
        db = await Db.open(database_url, min_size=1, max_size=1)
        try:
            claims = tokens.verify_access(base64.b64decode(SECRET), owner.access_token)
            async with db.org(owner.org.id) as conn:
                start = await sync_engine.start_push(conn, await send_confirm(conn, claims), PushBody.of(request))
                return (await sync_engine.push(conn, start)).acknowledged_seq
        finally:
            await db.close()

    assert asyncio.run(run()) == 2
    assert rows_by_id(pull(http, owner))["known"]["data"]["name"] == "second"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 422),
        (b'{"protocol": 2, "known_version": 0, "changes": {"a": 1}}', 422),
        (b'{"protocol": 2, "known_version": 0, "changes": [1]}', 422),
        (b'{"protocol": 2, "known_version": 0, "changes": [{"table": "contacts", "id": 5}]}', 422),
        (b'{"protocol": 2, "known_version": -1, "changes": []}', 422),
        (b'{"protocol": 2, "known_version": 0, "changes": [], "org_id": "x"}', 422),
        (json.dumps({"protocol": 2, "known_version": 0, "changes": [{}] * (MAX_PUSH_CHANGES + 1)}).encode(), 422),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "changes-not-a-list",
        "change-not-an-object",
        "id-not-text",
        "bad-header",
        "extra-field",
        "too-many",
    ],
)
def test_a_body_that_cannot_be_read_is_refused_before_the_database(raw: bytes, status: int) -> None:
    with pytest.raises(ApiError) as refused:
        read_push(raw)
    assert refused.value.status == status


def test_reading_a_push_takes_every_changes_key_and_refuses_a_newer_protocol() -> None:
    body = {
        "protocol": 2,
        "known_version": 3,
        "changes": [contact(1, "a", name="x"), {"seq": 2, "table": "notes", "id": "b", "op": "delete", "data": {}}],
    }
    read = read_push(json.dumps(body).encode())
    assert read.keys == [("contacts", "a"), ("notes", "b")]
    assert read.known_version == 3
    assert [[c.id for c in part] for part in read.parts(1)] == [["a"], ["b"]]
    with pytest.raises(ApiError) as refused:
        read_push(json.dumps({**body, "protocol": 99}).encode())
    assert refused.value.status == 426


@pytest.mark.parametrize("problem", ["value", "order"])
def test_a_problem_in_a_later_part_refuses_the_whole_batch(
    http: httpx.Client, pg: Cluster, database_url: str, problem: str
) -> None:
    """The first parts are already written when a later one fails its check: the transaction is rolled back, and
    the answer names the change as the whole-body check would."""
    owner = signup(http)
    before = org_state(pg, database_url, owner.org.id)
    count = 2 * sync_engine.STORE_PART + 3
    changes = [contact(i + 1, f"q{i}", name=f"Q {i}") for i in range(count)]
    if problem == "value":
        changes[-1] = contact(count, "q-last", name="a\x00b")
    else:
        changes[-1] = contact(count - 2, "q-last", name="too early")  # seq goes back across the part boundary
    body = json.dumps({"protocol": 2, "known_version": 0, "changes": changes}).encode()
    response = http.post("/api/sync/push", content=body, headers={**auth(owner), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    expected = f"changes.{count - 1}.data.name: it holds a NUL character" if problem == "value" else "in increasing seq"
    assert expected in response.json()["message"]
    assert org_state(pg, database_url, owner.org.id) == before
    assert pushed(http, owner, [contact(1, "after", name="fine")])["acknowledged_seq"] == 1
