"""Sign-up, login, refresh rotation, logout, invites and rate limits against a real server and PostgreSQL."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from app.sync.protocol import Invite, Session
from sync_server.pgcluster import Cluster
from tests.support.sync_fixtures import PASSWORD, bearer, signup, unique_email
from tests.support.sync_server import ServerProcess, fresh_database
from tests.support.waiting import wait_until
from tests.sync.clients import wait_for
from tests.sync.sync_db import query, snapshot


def login(
    http: httpx.Client, email: str, password: str = PASSWORD, headers: dict[str, str] | None = None, **extra: str
) -> httpx.Response:
    body = {"email": email, "password": password, "device_name": "pc", **extra}
    return http.post("/api/auth/login", json=body, headers=headers)


def refresh(http: httpx.Client, token: str) -> httpx.Response:
    return http.post("/api/auth/refresh", json={"refresh_token": token})


def invite(http: httpx.Client, session: Session, role: str = "staff", email: str | None = None) -> Invite:
    response = http.post(
        "/api/invites", json={"email": email or unique_email("staff"), "role": role}, headers=bearer(session)
    )
    assert response.status_code == 201, response.text
    return Invite.model_validate(response.json())


def accept(http: httpx.Client, token: str, password: str = PASSWORD) -> httpx.Response:
    return http.post(
        "/api/invites/accept", json={"token": token, "name": "Sam Staff", "password": password, "device_name": "till"}
    )


def join(http: httpx.Client, owner: Session, role: str = "staff") -> Session:
    response = accept(http, invite(http, owner, role).token)
    assert response.status_code == 201, response.text
    return Session.model_validate(response.json())


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return str(body["message"])


def test_signup_login_and_refresh_rotation(http: httpx.Client) -> None:
    email = unique_email()
    owner = signup(http, email=email, org_name="Rotation Co")
    assert owner.user.role == "owner"
    assert owner.org.name == "Rotation Co"
    assert http.get("/api/members", headers=bearer(owner)).status_code == 200

    again = Session.model_validate(login(http, email.upper()).json())  # e-mails match without case
    assert again.device_id != owner.device_id
    assert again.user.id == owner.user.id

    rotated = refresh(http, again.refresh_token)
    assert rotated.status_code == 200, rotated.text
    fresh = Session.model_validate(rotated.json())
    assert fresh.refresh_token != again.refresh_token
    assert fresh.device_id == again.device_id
    assert http.get("/api/members", headers=bearer(fresh)).status_code == 200

    # The rotated-out token coming back means it was copied: the device is revoked, its current tokens die too.
    error(refresh(http, again.refresh_token), 403, "device_revoked")
    error(refresh(http, fresh.refresh_token), 403, "device_revoked")
    error(http.get("/api/members", headers=bearer(fresh)), 403, "device_revoked")
    # The owner's other device is untouched.
    assert http.get("/api/members", headers=bearer(owner)).status_code == 200


def test_unknown_refresh_token_and_garbage_bearer(http: httpx.Client) -> None:
    owner = signup(http)
    error(refresh(http, "x" * 50), 401, "unauthorized")
    error(refresh(http, "nosuchdevice." + "A" * 43), 401, "unauthorized")
    error(http.get("/api/members"), 401, "unauthorized")
    error(http.get("/api/members", headers={"Authorization": "Bearer nonsense"}), 401, "unauthorized")
    forged = owner.access_token[:-4] + ("AAAA" if not owner.access_token.endswith("AAAA") else "BBBB")
    error(http.get("/api/members", headers={"Authorization": f"Bearer {forged}"}), 401, "unauthorized")
    error(http.get("/api/members", headers={"Authorization": f"Basic {owner.access_token}"}), 401, "unauthorized")


def test_wrong_password_is_a_clear_401(http: httpx.Client) -> None:
    email = unique_email()
    signup(http, email=email)
    assert error(login(http, email, "not the password"), 401, "unauthorized") == "Wrong e-mail or password."
    assert error(login(http, unique_email("nobody")), 401, "unauthorized") == "Wrong e-mail or password."


def test_one_email_in_two_orgs_must_choose(http: httpx.Client) -> None:
    email = unique_email()
    first = signup(http, email=email, org_name="First Shop")
    second = signup(http, email=email, org_name="Second Shop")
    message = error(login(http, email), 409, "choose_org")
    assert "First Shop" in message
    assert "Second Shop" in message
    chosen = Session.model_validate(login(http, email, org_id=second.org.id).json())
    assert chosen.org.id == second.org.id
    assert chosen.org.id != first.org.id


def test_signup_keeps_the_workspace_ids_and_refuses_a_taken_org(http: httpx.Client, database_url: str) -> None:
    owner = signup(http, org_id="ws-keep-1", user_id="user-keep-1")
    assert (owner.org.id, owner.user.id) == ("ws-keep-1", "user-keep-1")
    before = snapshot(database_url)
    response = http.post(
        "/api/orgs",
        json={
            "org_name": "Thief",
            "name": "T",
            "email": unique_email(),
            "password": PASSWORD,
            "device_name": "x",
            "org_id": "ws-keep-1",
        },
    )
    error(response, 409, "conflict")
    assert snapshot(database_url) == before
    # The signup wrote the org's synced users and orgs rows, stamped with org versions.
    assert query(database_url, "SELECT version FROM orgs WHERE id = 'ws-keep-1'") == [(2,)]


def test_invite_and_accept_with_the_role(http: httpx.Client, database_url: str) -> None:
    owner = signup(http)
    made = invite(http, owner, "admin")
    assert made.role == "admin"
    assert made.expires_at > time.time() * 1000
    accepted = accept(http, made.token)
    assert accepted.status_code == 201, accepted.text
    admin = Session.model_validate(accepted.json())
    assert admin.user.role == "admin"
    assert admin.user.email == made.email
    assert admin.org.id == owner.org.id

    assert error(accept(http, made.token), 410, "invite_gone").startswith("This invite was already used")
    error(accept(http, "q" * 43), 404, "not_found")
    # Already a member: refused before an invite is made.
    duplicate = http.post("/api/invites", json={"email": made.email.upper()}, headers=bearer(owner))
    error(duplicate, 409, "conflict")

    late = invite(http, owner)
    query(database_url, "UPDATE invites SET expires_at = now() - interval '1 second' WHERE id = %s", (late.id,))
    assert "expired" in error(accept(http, late.token), 410, "invite_gone")

    members = http.get("/api/members", headers=bearer(admin)).json()
    assert {(m["email"], m["role"]) for m in members} == {(owner.user.email, "owner"), (made.email, "admin")}


def test_logout_revokes_only_the_calling_device(http: httpx.Client) -> None:
    email = unique_email()
    owner = signup(http, email=email)
    second = Session.model_validate(login(http, email).json())
    assert http.post("/api/auth/logout", headers=bearer(second)).status_code == 204
    error(http.get("/api/members", headers=bearer(second)), 403, "device_revoked")
    error(refresh(http, second.refresh_token), 403, "device_revoked")
    assert http.get("/api/members", headers=bearer(owner)).status_code == 200


def test_revoked_device_is_refused_everywhere(http: httpx.Client) -> None:
    owner = signup(http)
    staff = join(http, owner)
    assert http.delete(f"/api/devices/{staff.device_id}", headers=bearer(owner)).status_code == 204
    calls = [
        ("GET", "/api/members", None),
        ("GET", "/api/devices", None),
        ("POST", "/api/invites", {"email": unique_email()}),
        ("PATCH", f"/api/members/{owner.user.id}", {"role": "owner"}),
        ("DELETE", f"/api/devices/{staff.device_id}", None),
        ("POST", "/api/auth/logout", None),
        ("GET", "/api/sync/pull?protocol=2&cursor=0", None),
        ("POST", "/api/sync/push", {"protocol": 2, "known_version": 0, "changes": []}),
    ]
    for method, path, body in calls:
        response = http.request(method, path, json=body, headers=bearer(staff))
        error(response, 403, "device_revoked")
    error(refresh(http, staff.refresh_token), 403, "device_revoked")


def test_removed_member_is_refused_and_can_be_invited_back(http: httpx.Client) -> None:
    owner = signup(http)
    staff = join(http, owner)
    assert http.delete(f"/api/members/{staff.user.id}", headers=bearer(owner)).status_code == 204
    error(http.get("/api/members", headers=bearer(staff)), 403, "device_revoked")
    error(login(http, staff.user.email), 401, "unauthorized")
    members = {m["id"]: m for m in http.get("/api/members", headers=bearer(owner)).json()}
    assert members[staff.user.id]["removed"] is True

    back = accept(http, invite(http, owner, email=staff.user.email).token)
    assert back.status_code == 201, back.text
    returned = Session.model_validate(back.json())
    assert returned.user.id == staff.user.id
    assert http.get("/api/members", headers=bearer(returned)).status_code == 200


def test_malformed_bodies_are_refused_with_nothing_written(http: httpx.Client, database_url: str) -> None:
    owner = signup(http)
    before = snapshot(database_url)
    good = {"org_name": "X", "name": "Y", "email": unique_email(), "password": PASSWORD, "device_name": "pc"}
    error(http.post("/api/orgs", content=b"{not json", headers={"Content-Type": "application/json"}), 400, "bad_json")
    error(http.post("/api/orgs", json={**good, "password": "short"}), 422, "invalid")
    error(http.post("/api/orgs", json={**good, "email": "no-at-sign"}), 422, "invalid")
    error(http.post("/api/orgs", json={**good, "extra": 1}), 422, "invalid")
    error(http.post("/api/orgs", json={**good, "org_id": "bad id with spaces"}), 422, "invalid")
    error(http.post("/api/orgs", json=[good]), 422, "invalid")
    huge = b'{"org_name": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    error(http.post("/api/orgs", content=huge, headers={"Content-Type": "application/json"}), 413, "too_large")
    error(
        http.post("/api/auth/login", content=b"\xff\xfe", headers={"Content-Type": "application/json"}), 400, "bad_json"
    )
    error(
        http.post("/api/invites", json={"email": unique_email(), "role": "owner"}, headers=bearer(owner)),
        422,
        "invalid",
    )
    error(http.post("/api/invites/accept", json={"token": "short"}), 422, "invalid")
    error(http.patch(f"/api/members/{owner.user.id}", json={"role": "king"}, headers=bearer(owner)), 422, "invalid")
    error(refresh(http, ""), 422, "invalid")
    assert snapshot(database_url) == before


def test_expired_access_token_then_refresh(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(database_url, tmp_path / "short.log", env_extra={"PARLEY_SYNC_ACCESS_SECONDS": "2"}).start()
    try:
        with httpx.Client(base_url=server.url, timeout=10.0) as client:
            owner = signup(client)
            assert owner.access_expires_in == 2

            def refused() -> httpx.Response | None:
                response = client.get("/api/members", headers=bearer(owner))
                return response if response.status_code != 200 else None

            response = wait_until(refused, 15, "the 2 s access token expired", interval=0.1)
            error(response, 401, "token_expired")
            renewed = refresh(client, owner.refresh_token)
            assert renewed.status_code == 200, renewed.text
            assert client.get("/api/members", headers=bearer(Session.model_validate(renewed.json()))).status_code == 200
    finally:
        server.stop()


@pytest.fixture
def own_server(pg: Cluster, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server with a database of its own: the rate limit counts per client address, which tests share."""
    server = ServerProcess(fresh_database(pg), tmp_path / "limits.log").start()
    try:
        yield server
    finally:
        server.stop()


def _client(server: ServerProcess, address: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, timeout=10.0, transport=transport)


WRONG = "guessing-wrong"


def test_an_attacking_address_is_limited_without_locking_the_victim_out(own_server: ServerProcess) -> None:
    with _client(own_server, "127.0.0.2") as attacker, _client(own_server, "127.0.0.3") as office:
        victim, second, third, bystander = (unique_email(p) for p in ("victim", "second", "third", "bystander"))
        for email in (victim, second, third, bystander):
            signup(office, email=email)
        stale = "INSERT INTO login_attempts (email, client, at) VALUES ('old@example.com', '10.0.0.1', now() - %s)"
        query(own_server.database_url, stale, (timedelta(days=2),))
        for i in range(10):
            # A forged X-Forwarded-For changes nothing: only a trusted proxy's is read (FORWARDED_ALLOW_IPS).
            forged = {"X-Forwarded-For": f"198.51.100.{i}"}
            error(login(attacker, victim, WRONG, headers=forged), 401, "unauthorized")
        limited = login(attacker, victim)  # even the right password waits now, from this address
        error(limited, 429, "rate_limited")
        assert 0 < int(limited.headers["Retry-After"]) <= 15 * 60
        # The victim, from their own address, signs in at once: knowing an e-mail does not lock its owner out.
        assert login(office, victim).status_code == 200
        # The attacking address, whatever e-mails it tries: 30 failures, then refused for any e-mail.
        for email in (second, third):
            for _ in range(10):
                error(login(attacker, email, WRONG), 401, "unauthorized")
        error(login(attacker, bystander), 429, "rate_limited")
        assert login(office, bystander).status_code == 200
    rows = query(own_server.database_url, "SELECT client, count(*) FROM login_attempts GROUP BY client")
    assert rows == [("127.0.0.2", 30)]  # the day-old attempt was cleared on the way; right passwords leave nothing


def _failures(server: ServerProcess, email: str) -> list[tuple[str, float]]:
    """The e-mail's recorded failures: address and seconds since the first, in order."""
    rows = query(
        server.database_url,
        "SELECT client, extract(epoch FROM at - min(at) OVER ()) FROM login_attempts WHERE email = %s ORDER BY at",
        (email,),
    )
    return [(str(client), float(seconds)) for client, seconds in rows]


def test_a_distributed_attack_on_one_email_is_slowed_not_locked(own_server: ServerProcess) -> None:
    """Many addresses guessing one e-mail (through a load balancer the server trusts): past 20 failures the e-mail
    is tried at most once per 1, 2, 4 ... s, from anywhere and even by a burst of simultaneous guesses; its owner
    waits seconds, never the 15 minutes of a lock-out."""
    victim = unique_email("victim")
    # From 127.0.0.1, the proxy uvicorn trusts by default: the client is the last address it appends.
    with httpx.Client(base_url=own_server.url, timeout=60.0) as proxy:
        signup(proxy, email=victim)

        def guess(address: str, password: str = WRONG) -> httpx.Response:
            return login(proxy, victim, password, headers={"X-Forwarded-For": f"192.0.2.1, {address}"})

        for i in range(20):  # one guess from each of 20 addresses: no pair or address is near its own limit
            error(guess(f"203.0.113.{i}"), 401, "unauthorized")
        assert {client for client, _ in _failures(own_server, victim)} == {f"203.0.113.{i}" for i in range(20)}

        waits: list[int] = []

        def answered(address: str, password: str = WRONG) -> httpx.Response:
            """The attempt once the back-off lets it through (each refusal says how long to wait)."""
            found: list[httpx.Response] = []

            def through() -> bool:
                response = guess(address, password)
                if response.status_code == 429:
                    error(response, 429, "rate_limited")
                    waits.append(int(response.headers["Retry-After"]))
                    return False
                found.append(response)
                return True

            wait_for(through, timeout=120, what="the back-off to let an attempt through")
            return found[0]

        for i in range(20, 23):
            error(answered(f"203.0.113.{i}"), 401, "unauthorized")
        owner = answered("198.51.100.7", PASSWORD)  # the owner, from their own address
        assert owner.status_code == 200, owner.text
        assert waits
        assert max(waits) <= 60  # slowed, never locked out

        # The owner's attempt took the open slot and gave it back: a burst of guesses now gets exactly one through.
        def burst(i: int) -> int:
            with httpx.Client(base_url=own_server.url, timeout=60.0) as each:
                return login(each, victim, WRONG, headers={"X-Forwarded-For": f"203.0.113.{100 + i}"}).status_code

        with ThreadPoolExecutor(6) as pool:
            statuses = sorted(pool.map(burst, range(6)))
        assert statuses == [401, 429, 429, 429, 429, 429]

    times = [seconds for _, seconds in _failures(own_server, victim)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times[19:])]
    assert len(gaps) == 4
    for k, gap in enumerate(gaps):  # the database's own clock: the 21st failure 1 s after the 20th, then 2, 4, 8 s
        assert gap >= 2**k, gaps


def test_login_limits_hold_across_server_processes(own_server: ServerProcess, tmp_path: Path) -> None:
    second = ServerProcess(own_server.database_url, tmp_path / "second.log").start()
    try:
        with _client(own_server, "127.0.0.2") as first, _client(second, "127.0.0.2") as other:
            victim = unique_email("victim")
            signup(first, email=victim)
            for client in (first, other) * 5:
                error(login(client, victim, WRONG), 401, "unauthorized")
            error(login(other, victim), 429, "rate_limited")
            error(login(first, victim), 429, "rate_limited")
    finally:
        second.stop()


def test_passwords_and_tokens_never_stored_or_logged_in_plain(
    http: httpx.Client, server: ServerProcess, database_url: str
) -> None:
    password = "a distinctive passphrase 7431"
    email = unique_email()
    owner = signup(http, email=email, password=password)
    rotated = Session.model_validate(refresh(http, owner.refresh_token).json())
    made = invite(http, rotated)
    staff = Session.model_validate(accept(http, made.token, password=password).json())
    login(http, email, "wrong " + password)
    (hashed,) = query(database_url, "SELECT password_hash FROM members WHERE id = %s", (owner.user.id,))[0]
    assert hashed.startswith("$argon2id$")
    assert password not in hashed
    stored = query(database_url, "SELECT refresh_hash FROM devices WHERE id = %s", (owner.device_id,))[0][0]
    assert len(bytes(stored)) == 32
    assert rotated.refresh_token.encode() not in bytes(stored)

    def logged() -> str:
        return server.log_path.read_text(errors="replace")

    # the request lines are written as the answers go out
    wait_until(
        lambda: "route=/api/invites/accept" in logged(), 10, lambda: f"the accept request logged: {logged()[-2000:]}"
    )
    text = logged()
    secrets = [password, PASSWORD, owner.refresh_token, rotated.refresh_token, made.token, staff.refresh_token]
    secrets += [owner.access_token, rotated.access_token, staff.access_token]
    for secret in secrets:
        assert secret not in text
        assert secret.split(".")[-1] not in text
