"""Members and devices: roles enforced, the last owner kept, the synced users row following, and another org's ids
answered as if they did not exist (with nothing changed)."""

from __future__ import annotations

import httpx
import psycopg

from app.sync.protocol import Session
from tests.support.sync_fixtures import bearer, signup
from tests.sync.sync_db import query, snapshot
from tests.sync.test_auth import accept, error, join


def members(http: httpx.Client, session: Session) -> dict[str, dict[str, object]]:
    response = http.get("/api/members", headers=bearer(session))
    assert response.status_code == 200, response.text
    return {m["id"]: m for m in response.json()}


def devices(http: httpx.Client, session: Session) -> list[dict[str, object]]:
    response = http.get("/api/devices", headers=bearer(session))
    assert response.status_code == 200, response.text
    return list(response.json())


def users_row(database_url: str, org_id: str, member_id: str) -> tuple[object, ...]:
    """The org's synced users row for a member (row-level security on sync_rows needs the org set)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('parley.org_id', %s, false)", (org_id,))
        row = conn.execute(
            "SELECT data->>'role', data->>'deleted_at', deleted, version FROM sync_rows"
            " WHERE org_id = %s AND tbl = 'users' AND id = %s",
            (org_id, member_id),
        ).fetchone()
    assert row is not None, "no users row"
    return tuple(row)


def test_roles_are_enforced(http: httpx.Client) -> None:
    owner = signup(http)
    admin = join(http, owner, "admin")
    staff = join(http, owner, "staff")
    other_staff = join(http, owner, "staff")

    error(http.post("/api/invites", json={"email": "x@example.com"}, headers=bearer(staff)), 403, "forbidden")
    error(http.patch(f"/api/members/{staff.user.id}", json={"role": "admin"}, headers=bearer(staff)), 403, "forbidden")
    error(http.patch(f"/api/members/{staff.user.id}", json={"role": "admin"}, headers=bearer(admin)), 403, "forbidden")
    error(http.delete(f"/api/members/{other_staff.user.id}", headers=bearer(staff)), 403, "forbidden")
    error(http.delete(f"/api/members/{owner.user.id}", headers=bearer(admin)), 403, "forbidden")
    error(http.delete(f"/api/members/{admin.user.id}", headers=bearer(admin)), 403, "forbidden")
    # Staff see their own devices only, and someone else's device looks like a missing one.
    assert {d["id"] for d in devices(http, staff)} == {staff.device_id}
    error(http.delete(f"/api/devices/{other_staff.device_id}", headers=bearer(staff)), 404, "not_found")
    assert {d["id"] for d in devices(http, admin)} >= {owner.device_id, staff.device_id, other_staff.device_id}
    assert [d["current"] for d in devices(http, staff)] == [True]

    assert http.delete(f"/api/members/{other_staff.user.id}", headers=bearer(admin)).status_code == 204
    error(http.get("/api/members", headers=bearer(other_staff)), 403, "device_revoked")
    assert http.delete(f"/api/devices/{staff.device_id}", headers=bearer(staff)).status_code == 204  # own device
    error(http.get("/api/members", headers=bearer(staff)), 403, "device_revoked")


def test_role_changes_follow_at_once_and_the_last_owner_stays(http: httpx.Client, database_url: str) -> None:
    owner = signup(http)
    staff = join(http, owner)
    assert users_row(database_url, owner.org.id, staff.user.id)[:3] == ("staff", None, False)

    promoted = http.patch(f"/api/members/{staff.user.id}", json={"role": "admin"}, headers=bearer(owner))
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "admin"
    # The role is read from the database on every call, so the old token already carries the new power.
    assert http.post("/api/invites", json={"email": "new@example.com"}, headers=bearer(staff)).status_code == 201
    assert users_row(database_url, owner.org.id, staff.user.id)[0] == "admin"

    message = error(
        http.patch(f"/api/members/{owner.user.id}", json={"role": "admin"}, headers=bearer(owner)), 409, "conflict"
    )
    assert "owner" in message
    error(http.delete(f"/api/members/{owner.user.id}", headers=bearer(owner)), 409, "conflict")

    # With a second owner, the first may step down.
    assert http.patch(f"/api/members/{staff.user.id}", json={"role": "owner"}, headers=bearer(owner)).status_code == 200
    assert http.patch(f"/api/members/{owner.user.id}", json={"role": "staff"}, headers=bearer(owner)).status_code == 200
    error(http.patch(f"/api/members/{staff.user.id}", json={"role": "staff"}, headers=bearer(owner)), 403, "forbidden")

    assert http.delete(f"/api/members/{owner.user.id}", headers=bearer(staff)).status_code == 204
    role, deleted_at, deleted, _ = users_row(database_url, owner.org.id, owner.user.id)
    assert (role, deleted) == ("staff", True)
    assert deleted_at is not None
    assert members(http, staff)[owner.user.id]["removed"] is True


def test_another_orgs_ids_are_not_found_and_untouched(http: httpx.Client, database_url: str) -> None:
    mine = signup(http, org_name="Mine")
    my_admin = join(http, mine, "admin")
    theirs = signup(http, org_name="Theirs")
    their_staff = join(http, theirs, "staff")
    before = snapshot(database_url)

    for caller in (mine, my_admin):
        for target in (theirs.user.id, their_staff.user.id):
            patch = http.patch(f"/api/members/{target}", json={"role": "staff"}, headers=bearer(caller))
            if caller is mine:
                error(patch, 404, "not_found")
            else:
                error(patch, 403, "forbidden")  # role first: an admin may not change roles anywhere
            error(http.delete(f"/api/members/{target}", headers=bearer(caller)), 404, "not_found")
        for device in (theirs.device_id, their_staff.device_id):
            error(http.delete(f"/api/devices/{device}", headers=bearer(caller)), 404, "not_found")
        assert theirs.user.id not in members(http, caller)
        assert their_staff.user.id not in members(http, caller)
        listed = {d["id"] for d in devices(http, caller)}
        assert theirs.device_id not in listed
        assert their_staff.device_id not in listed
    # Their e-mail is no conflict here: an invite only ever looks inside the caller's org.
    response = http.post("/api/invites", json={"email": their_staff.user.email}, headers=bearer(mine))
    assert response.status_code == 201, response.text
    query(database_url, "DELETE FROM invites WHERE id = %s", (response.json()["id"],))

    assert snapshot(database_url) == before
    assert members(http, theirs)[their_staff.user.id]["role"] == "staff"
    assert http.get("/api/members", headers=bearer(their_staff)).status_code == 200


def test_a_removed_member_invited_back_is_live_again_in_the_synced_users_row(
    http: httpx.Client, database_url: str
) -> None:
    owner = signup(http)
    staff = join(http, owner, "staff")
    assert http.delete(f"/api/members/{staff.user.id}", headers=bearer(owner)).status_code == 204
    assert users_row(database_url, owner.org.id, staff.user.id)[2] is True

    made = http.post("/api/invites", json={"email": staff.user.email, "role": "admin"}, headers=bearer(owner))
    assert made.status_code == 201, made.text
    back = accept(http, made.json()["token"])
    assert back.status_code == 201, back.text
    assert Session.model_validate(back.json()).user.id == staff.user.id
    role, deleted_at, deleted, _ = users_row(database_url, owner.org.id, staff.user.id)
    assert (role, deleted_at, deleted) == ("admin", None, False)
