"""Media through the team server, at the HTTP level (docs/sync.md, "Media"): the owner's switch (off by default),
the checks on an upload (name = SHA-256, per-blob cap, per-org quota), tenancy, and sealed bytes at rest."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator

import httpx
import pytest

from app.sync.protocol import Session
from sync_server import media
from sync_server.pgcluster import Cluster
from tests.support.sync_fixtures import PASSWORD, bearer, signup, unique_email
from tests.support.sync_server import SECRET, ServerProcess
from tests.sync.clients import superuser_query

MAX_BYTES = 64 * 1024
QUOTA_BYTES = 160 * 1024


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"PARLEY_SYNC_MEDIA_MAX_BYTES": str(MAX_BYTES), "PARLEY_SYNC_MEDIA_QUOTA_BYTES": str(QUOTA_BYTES)}
    proc = ServerProcess(database_url, tmp_path_factory.mktemp("server") / "server.log", env_extra=env).start()
    try:
        yield proc
    finally:
        proc.stop()


def _blob(size: int, marker: bytes = b"PARLEY-MEDIA-PLAINTEXT") -> tuple[str, bytes]:
    data = (marker + os.urandom(16)) * (size // (len(marker) + 16) + 1)
    data = data[:size]
    return hashlib.sha256(data).hexdigest(), data


def _put(http: httpx.Client, session: Session, blob_id: str, data: bytes) -> httpx.Response:
    return http.put(f"/api/media/{blob_id}", content=data, headers={**bearer(session), "Content-Type": "image/jpeg"})


def _share(http: httpx.Client, owner: Session, enabled: bool = True) -> dict[str, object]:
    answer = http.put("/api/media/settings", json={"enabled": enabled}, headers=bearer(owner))
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _staff(http: httpx.Client, owner: Session) -> Session:
    made = http.post("/api/invites", json={"email": unique_email("staff"), "role": "staff"}, headers=bearer(owner))
    assert made.status_code == 201, made.text
    accepted = http.post(
        "/api/invites/accept",
        json={"token": made.json()["token"], "name": "Sam", "password": PASSWORD, "device_name": "till"},
    )
    assert accepted.status_code == 201, accepted.text
    return Session.model_validate(accepted.json())


def test_sharing_is_off_by_default_and_only_the_owner_turns_it_on(http: httpx.Client) -> None:
    owner = signup(http)
    staff = _staff(http, owner)
    blob_id, data = _blob(1000)
    seen = http.get("/api/media/settings", headers=bearer(staff))
    assert seen.status_code == 200, seen.text
    assert seen.json() == {"enabled": False, "quota_bytes": QUOTA_BYTES, "used_bytes": 0, "since": None}
    refused = _put(http, staff, blob_id, data)
    assert (refused.status_code, refused.json()["code"]) == (403, "media_sharing_off")
    assert http.get(f"/api/media/{blob_id}", headers=bearer(staff)).json()["code"] == "media_sharing_off"
    by_staff = http.put("/api/media/settings", json={"enabled": True}, headers=bearer(staff))
    assert (by_staff.status_code, by_staff.json()["code"]) == (403, "forbidden")
    assert _share(http, owner)["enabled"] is True
    assert _put(http, staff, blob_id, data).status_code == 201
    assert _put(http, staff, blob_id, data).status_code == 200  # already there: nothing twice
    got = http.get(f"/api/media/{blob_id}", headers=bearer(owner))
    assert (got.status_code, got.content, got.headers["content-type"]) == (200, data, "image/jpeg")
    assert http.get("/api/media/settings", headers=bearer(staff)).json()["used_bytes"] == 1000


def test_an_upload_is_checked_by_name_size_and_quota(http: httpx.Client) -> None:
    owner = signup(http)
    _share(http, owner)
    blob_id, data = _blob(1000)
    wrong = _put(http, owner, blob_id, data + b"x")
    assert (wrong.status_code, wrong.json()["code"]) == (422, "blob_mismatch")
    assert _put(http, owner, "not-a-sha", data).status_code == 422
    big_id, big = _blob(MAX_BYTES + 1)
    too_big = _put(http, owner, big_id, big)
    assert (too_big.status_code, too_big.json()["code"]) == (413, "too_large")
    assert http.get(f"/api/media/{blob_id}", headers=bearer(owner)).status_code == 404  # nothing was kept
    kept = 0
    for _ in range(3):  # 3 x 60 KB > 160 KB
        part_id, part = _blob(60 * 1024)
        answer = _put(http, owner, part_id, part)
        if answer.status_code == 413:
            assert answer.json()["code"] == "media_quota"
            assert "full" in answer.json()["message"]
            break
        assert answer.status_code == 201, answer.text
        kept += 1
    assert kept == 2
    assert http.get("/api/media/settings", headers=bearer(owner)).json()["used_bytes"] == 2 * 60 * 1024


def test_another_orgs_blob_is_not_found_and_its_ciphertext_does_not_open_elsewhere(
    http: httpx.Client, pg: Cluster, database_url: str
) -> None:
    a, b = signup(http, org_name="Org A"), signup(http, org_name="Org B")
    _share(http, a)
    _share(http, b)
    blob_id, data = _blob(4000)
    assert _put(http, b, blob_id, data).status_code == 201
    for method in ("GET", "DELETE"):
        answer = http.request(method, f"/api/media/{blob_id}", headers=bearer(a))
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found"), method
    # At rest: sealed, not the plaintext (nor any long piece of it).
    [(sealed,)] = superuser_query(
        pg, database_url, "SELECT sealed FROM media_blobs WHERE org_id = %s AND blob_id = %s", (b.org.id, blob_id)
    )
    sealed = bytes(sealed)
    assert data[:64] not in sealed
    assert b"PARLEY-MEDIA-PLAINTEXT" not in sealed
    # B's ciphertext copied into A's row (same blob id) does not open for A, nor under another blob id.
    superuser_query(
        pg,
        database_url,
        "INSERT INTO media_blobs (org_id, blob_id, mime, size, sealed) VALUES (%s, %s, 'image/jpeg', %s, %s)"
        " RETURNING 1",
        (a.org.id, blob_id, len(data), sealed),
    )
    assert http.get(f"/api/media/{blob_id}", headers=bearer(a)).status_code == 404
    secret = base64.b64decode(SECRET)
    assert media.open_blob(secret, b.org.id, blob_id, sealed) == data
    with pytest.raises(media.BlobUnreadable):
        media.open_blob(secret, a.org.id, blob_id, sealed)
    with pytest.raises(media.BlobUnreadable):
        media.open_blob(secret, b.org.id, "0" * 64, sealed)
    # B still has its own; deleting it (GDPR erase) leaves it gone.
    assert http.get(f"/api/media/{blob_id}", headers=bearer(b)).content == data
    assert http.delete(f"/api/media/{blob_id}", headers=bearer(b)).status_code == 204
    assert http.get(f"/api/media/{blob_id}", headers=bearer(b)).status_code == 404
    assert (
        superuser_query(
            pg, database_url, "SELECT 1 FROM media_blobs WHERE org_id = %s AND blob_id = %s", (b.org.id, blob_id)
        )
        == []
    )


def test_turning_sharing_off_removes_the_teams_copies(http: httpx.Client) -> None:
    owner = signup(http)
    first = _share(http, owner)
    blob_id, data = _blob(2000)
    assert _put(http, owner, blob_id, data).status_code == 201
    off = _share(http, owner, False)
    assert (off["enabled"], off["used_bytes"], off["since"]) == (False, 0, None)
    again = _share(http, owner)
    assert isinstance(again["since"], int)
    assert isinstance(first["since"], int)
    assert again["since"] >= first["since"]
    assert http.get(f"/api/media/{blob_id}", headers=bearer(owner)).status_code == 404
