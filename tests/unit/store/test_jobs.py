"""Durable jobs in the encrypted store (app/store/jobs.py, schema 12): dedupe, exclusive claims, leases, retries,
cancel, the jobs list — on real SQLCipher files, two connections where two claimers are meant."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.core.ids import to_ms
from app.store import keys, sqlcipher
from app.store.database import Database
from app.store.jobs import Jobs, backoff, keyed_id
from app.store.migrations import LATEST_VERSION
from app.store.store import Store
from tests.data.make_snapshot import ORG_ID, SNAPSHOT_KEY, snapshot_path

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def db_file(tmp_path: Path) -> tuple[Path, bytes]:
    path, key = tmp_path / "jobs.db", keys.random_key()
    Database.open(path, key).close()
    return path, key


@pytest.fixture
def jobs(db_file: tuple[Path, bytes]) -> Iterator[Jobs]:
    db = Database.open(*db_file)
    yield Jobs(db)
    db.close()


def test_store_exposes_the_jobs(db_file: tuple[Path, bytes]) -> None:
    store = Store(Database.open(*db_file), ORG_ID)
    job = store.jobs.schedule("followup", {"sale_id": "s1"}, T0, "followup:sale:s1:d3", now=T0)
    assert store.jobs.get(job.id) == job
    store.close()


def test_scheduling_a_key_twice_keeps_one_job(jobs: Jobs) -> None:
    first = jobs.schedule("followup", {"sale_id": "s1"}, T0, "followup:sale:s1:d3", max_attempts=2, now=T0)
    again = jobs.schedule("followup", {"sale_id": "other"}, T0 + timedelta(days=1), "followup:sale:s1:d3", now=T0)
    assert again == first
    assert (again.payload, again.run_at, again.max_attempts, again.status) == ({"sale_id": "s1"}, T0, 2, "due")
    assert jobs.counts()["due"] == 1
    # Still one once it has run: the key means "once, ever".
    [claimed] = jobs.claim_due(T0, "a", LEASE, 10)
    assert jobs.complete(claimed.id, "a", "sent", now=T0)
    assert jobs.schedule("followup", {"sale_id": "s1"}, T0, "followup:sale:s1:d3").status == "done"
    assert sum(jobs.counts().values()) == 1
    # Without a key every job is its own.
    assert jobs.schedule("health", {}, T0).id != jobs.schedule("health", {}, T0).id


def test_only_due_jobs_are_claimed_oldest_first(jobs: Jobs) -> None:
    later = jobs.schedule("k", {"n": 3}, T0 + timedelta(minutes=1), "later")
    second = jobs.schedule("k", {"n": 2}, T0, "second")
    first = jobs.schedule("k", {"n": 1}, T0 - timedelta(hours=1), "first")
    claimed = jobs.claim_due(T0, "a", LEASE, 10)
    assert [j.id for j in claimed] == [first.id, second.id]
    assert all(j.status == "running" and j.lease_owner == "a" and j.attempts == 1 for j in claimed)
    assert claimed[0].lease_until == T0 + LEASE
    assert jobs.claim_due(T0, "b", LEASE, 10) == []
    assert [j.id for j in jobs.claim_due(T0 + timedelta(minutes=1), "b", LEASE, 10)] == [later.id]


def test_claim_is_exclusive_between_two_connections(db_file: tuple[Path, bytes]) -> None:
    """Two databases on one file (as two runners, or two processes, would have) claim concurrently in small
    batches: every job goes to exactly one of them. They claim in rounds, both at once in each round (a barrier
    before and after): free-running, a loaded machine let one thread take all 300 before the other started."""
    dbs = [Database.open(*db_file), Database.open(*db_file)]
    setup = Jobs(dbs[0])
    for i in range(300):
        setup.schedule("k", {"i": i}, T0, f"k:{i}")
    got: dict[str, list[str]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    rounds = threading.Barrier(2, timeout=30)
    empty = {"a": False, "b": False}

    def claimer(owner: str, db: Database) -> None:
        try:
            mine = Jobs(db)
            while True:
                rounds.wait()  # both claim in this round
                batch = mine.claim_due(T0, owner, LEASE, 7)
                got[owner].extend(j.id for j in batch)
                empty[owner] = not batch
                rounds.wait()  # both claimed: the same answer to "anything left?" for both
                if all(empty.values()):
                    return
        except BaseException as exc:  # noqa: BLE001 — collected for the assertion below
            errors.append(exc)
            rounds.abort()

    threads = [threading.Thread(target=claimer, args=(o, db)) for o, db in zip(got, dbs, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert not set(got["a"]) & set(got["b"])
    assert len(got["a"]) + len(got["b"]) == 300
    assert got["a"], "both claimers should have got some (they ran concurrently)"
    assert got["b"], "both claimers should have got some (they ran concurrently)"
    with dbs[1].read() as conn:
        owners = dict(conn.execute("SELECT lease_owner, count(*) FROM jobs GROUP BY lease_owner").fetchall())
    assert owners == {"a": len(got["a"]), "b": len(got["b"])}
    for db in dbs:
        db.close()


def test_an_expired_lease_is_claimed_again_and_the_old_holder_is_refused(jobs: Jobs) -> None:
    job = jobs.schedule("k", {}, T0, "k")
    assert [j.id for j in jobs.claim_due(T0, "a", LEASE, 10)] == [job.id]
    assert jobs.claim_due(T0 + LEASE - timedelta(seconds=1), "b", LEASE, 10) == []  # still held
    [again] = jobs.claim_due(T0 + LEASE, "b", LEASE, 10)  # "a" crashed: its lease ran out
    assert (again.id, again.lease_owner, again.attempts) == (job.id, "b", 2)
    assert not jobs.complete(job.id, "a", "late")  # the old holder's outcome is refused
    assert not jobs.fail(job.id, "a", "It failed.")
    assert jobs.complete(job.id, "b", "ok")
    done = jobs.get(job.id)
    assert done is not None
    assert (done.status, done.result, done.lease_owner, done.lease_until) == ("done", "ok", None, None)


def test_a_lease_that_ran_out_with_no_attempt_left_fails_with_a_sentence(jobs: Jobs) -> None:
    job = jobs.schedule("k", {}, T0, "k", max_attempts=2)
    jobs.claim_due(T0, "a", LEASE, 10)
    jobs.claim_due(T0 + LEASE, "b", LEASE, 10)  # attempt 2: this one dies too
    assert jobs.claim_due(T0 + 2 * LEASE, "c", LEASE, 10) == []
    failed = jobs.get(job.id)
    assert failed is not None
    assert (failed.status, failed.attempts, failed.finished_at) == ("failed", 2, T0 + 2 * LEASE)
    assert failed.last_error == "It stopped before it finished (Parley closed or crashed) 2 times."


def test_a_failed_attempt_is_retried_with_backoff_then_fails_with_the_sentence(jobs: Jobs) -> None:
    job = jobs.schedule("k", {}, T0, "k", max_attempts=3)
    now = T0
    for attempt in (1, 2):
        [claimed] = jobs.claim_due(now, "a", LEASE, 10)
        assert claimed.attempts == attempt
        assert jobs.fail(job.id, "a", "The customer's chat could not be opened.", now=now)
        waiting = jobs.get(job.id)
        assert waiting is not None
        assert (waiting.status, waiting.lease_owner) == ("due", None)
        assert waiting.run_at == now + backoff(attempt) == now + timedelta(seconds=30 * 2 ** (attempt - 1))
        assert waiting.last_error == "The customer's chat could not be opened."
        assert jobs.claim_due(waiting.run_at - timedelta(milliseconds=1), "a", LEASE, 10) == []
        now = waiting.run_at
    jobs.claim_due(now, "a", LEASE, 10)
    assert jobs.fail(job.id, "a", "WhatsApp is not connected.", now=now)
    failed = jobs.get(job.id)
    assert failed is not None
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 3, "WhatsApp is not connected.")
    assert failed.finished_at == now
    assert backoff(40) == timedelta(hours=1)  # capped


def test_fail_without_retry_fails_at_once(jobs: Jobs) -> None:
    job = jobs.schedule("k", {}, T0, "k", max_attempts=5)
    jobs.claim_due(T0, "a", LEASE, 10)
    assert jobs.fail(job.id, "a", "The sale no longer exists.", retry=False, now=T0)
    failed = jobs.get(job.id)
    assert failed is not None
    assert (failed.status, failed.attempts) == ("failed", 1)


def test_cancel(jobs: Jobs) -> None:
    waiting = jobs.schedule("k", {}, T0, "waiting")
    running = jobs.schedule("k", {}, T0, "running")
    by_key = jobs.schedule("k", {}, T0 + timedelta(days=3), "followup:sale:s9:d3")
    assert jobs.cancel(waiting.id, now=T0)
    [claimed] = jobs.claim_due(T0, "a", LEASE, 10)
    assert claimed.id == running.id  # a cancelled job is never claimed
    assert jobs.cancel(running.id, now=T0)
    assert not jobs.complete(running.id, "a", "sent")  # its handler's outcome no longer counts
    assert jobs.cancel_key("followup:sale:s9:d3", now=T0)
    assert not jobs.cancel(waiting.id)  # already finished
    assert not jobs.cancel_key("no such key")
    for job in (waiting, running, by_key):
        after = jobs.get(job.id)
        assert after is not None
        assert (after.status, after.finished_at) == ("cancelled", T0)
    assert jobs.claim_due(T0 + timedelta(days=4), "a", LEASE, 10) == []


def test_release_gives_a_job_back_without_counting_the_attempt(jobs: Jobs) -> None:
    job = jobs.schedule("k", {}, T0, "k")
    jobs.claim_due(T0, "a", LEASE, 10)
    assert not jobs.release(job.id, "b")
    assert jobs.release(job.id, "a")
    [again] = jobs.claim_due(T0, "b", LEASE, 10)
    assert again.attempts == 1


def test_skip_keeps_the_reason(jobs: Jobs) -> None:
    job = jobs.schedule("k", {}, T0, "k")
    jobs.claim_due(T0, "a", LEASE, 10)
    assert jobs.skip(job.id, "a", "customer_wrote", now=T0)
    skipped = jobs.get(job.id)
    assert skipped is not None
    assert (skipped.status, skipped.result) == ("skipped", "customer_wrote")


def test_the_jobs_list_and_counts(jobs: Jobs) -> None:
    soon = jobs.schedule("k", {}, T0 + timedelta(hours=1), "soon")
    sooner = jobs.schedule("k", {}, T0 + timedelta(minutes=1), "sooner")
    for i, key in enumerate(("d1", "d2")):
        job = jobs.schedule("k", {}, T0, key)
        jobs.claim_due(T0, "a", LEASE, 1)
        jobs.complete(job.id, "a", now=T0 + timedelta(seconds=i))
    broken = jobs.schedule("k", {}, T0, "broken", max_attempts=1)
    jobs.claim_due(T0, "a", LEASE, 1)
    jobs.fail(broken.id, "a", "It failed.", now=T0)
    assert [j.id for j in jobs.find()] == [sooner.id, soon.id]
    assert [j.dedupe_key for j in jobs.find(["done"])] == ["d2", "d1"]  # newest first
    assert [j.id for j in jobs.find(["failed"])] == [broken.id]
    assert jobs.find([]) == []
    assert jobs.counts() == {"due": 2, "running": 0, "done": 2, "failed": 1, "cancelled": 0, "skipped": 0}
    assert jobs.next_run_at() == T0 + timedelta(minutes=1)


def test_excluded_kinds_stay_due(jobs: Jobs) -> None:
    send = jobs.schedule("send", {}, T0, "send")
    other = jobs.schedule("other", {}, T0, "other")
    assert [j.id for j in jobs.claim_due(T0, "a", LEASE, 10, exclude_kinds=["send"])] == [other.id]
    assert [j.id for j in jobs.claim_due(T0, "a", LEASE, 10)] == [send.id]


def test_a_tick_with_nothing_due_reads_one_index_range_and_writes_nothing(jobs: Jobs) -> None:
    for i in range(2000):
        jobs.schedule("k", {"i": i}, T0 + timedelta(days=1, seconds=i), f"k:{i}")
    with jobs.db.read() as conn:
        before = conn.execute("PRAGMA data_version").fetchone()[0]
        plan = " ".join(
            str(row[3])
            for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT 1 FROM jobs WHERE status = 'due' AND run_at <= ?", (0,)
            ).fetchall()
        )
    assert "USING COVERING INDEX jobs_due (status=? AND run_at<?)" in plan
    writes = jobs.db.writer.total_changes
    assert jobs.claim_due(T0, "a", LEASE, 50) == []
    assert jobs.db.writer.total_changes == writes
    with jobs.db.read() as conn:
        assert conn.execute("PRAGMA data_version").fetchone()[0] == before


def test_payload_must_be_a_json_object(jobs: Jobs) -> None:
    with pytest.raises(sqlcipher.IntegrityError), jobs.db.transaction() as conn:
        conn.execute(
            "INSERT INTO jobs (id, kind, payload, run_at, dedupe_key, created_at, updated_at) "
            "VALUES ('x', 'k', '[1]', 0, 'x', 0, 0)"
        )
    with pytest.raises(ValueError, match="max_attempts"):
        jobs.schedule("k", {}, T0, max_attempts=0)


@pytest.mark.parametrize("version", range(1, LATEST_VERSION))
def test_jobs_work_after_upgrading_every_earlier_schema(version: int, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    shutil.copy(snapshot_path(version), path)
    db = Database.open(path, SNAPSHOT_KEY)
    store = Store(db, ORG_ID)
    before = store.outbox.count()
    check = store.jobs.schedule("revenue_check", {"day": "2026-11-30"}, T0, "revenue:2026-11-30")
    claimed = store.jobs.claim_due(T0, "a", LEASE, 10)  # with the snapshot's own jobs from schema 12 on
    assert check.id in [j.id for j in claimed]
    for job in claimed:
        assert store.jobs.complete(job.id, "a", "ok")
    assert store.outbox.count() == before  # a job of this computer alone never reaches the outbox
    followup = store.jobs.schedule("followup", {"sale_id": "s1"}, T0, "followup:sale:s1:d3", shared=True)
    [claimed] = store.jobs.claim_due(T0, "a", LEASE, 10)
    assert claimed.id == followup.id == keyed_id("followup:sale:s1:d3")
    assert store.outbox.count() == before + 2  # scheduled, claimed (status and attempts travel, the lease not)
    assert store.jobs.complete(followup.id, "a", "ok")
    assert store.outbox.count() == before + 3
    db.close()


# ---- shared jobs (schema 14): one row per key on every computer, a lease that stays here ----------------------------
def test_a_keyed_job_has_the_same_id_on_every_computer(tmp_path: Path) -> None:
    ids = []
    for name in ("a", "b"):
        db = Database.open(tmp_path / f"{name}.db", keys.random_key())
        ids.append(Jobs(db, ORG_ID).schedule("followup", {}, T0, "followup:sale:s9:d3", shared=True).id)
        db.close()
    assert ids[0] == ids[1] == keyed_id("followup:sale:s9:d3")
    assert keyed_id("followup:sale:s9:d3") != keyed_id("followup:sale:s9:d7")


def test_only_shared_jobs_reach_the_outbox_and_a_lease_never_does(db_file: tuple[Path, bytes]) -> None:
    store = Store(Database.open(*db_file), ORG_ID)
    store.jobs.schedule("revenue_check", {}, T0, "revenue:1")
    [local] = store.jobs.claim_due(T0, "a", LEASE, 1)
    store.jobs.complete(local.id, "a")
    assert store.outbox.count() == 0
    shared = store.jobs.schedule("followup", {}, T0, "followup:1", shared=True)
    [claimed] = store.jobs.claim_due(T0, "a", LEASE, 1)
    store.jobs.release(claimed.id, "a")  # status back to due, lease gone
    with store.db.read() as conn:
        rows = conn.execute("SELECT op, changed FROM outbox WHERE row_id = ? ORDER BY seq", (shared.id,)).fetchall()
        local_rows = conn.execute("SELECT count(*) FROM outbox WHERE row_id = ?", (local.id,)).fetchone()[0]
    assert local_rows == 0
    assert [r[0] for r in rows] == ["insert", "update", "update"]
    assert all("lease" not in r[1] for r in rows)
    store.db.close()


def test_a_status_that_ends_the_run_takes_the_lease_with_it(jobs: Jobs) -> None:
    """A cancel pulled from a teammate while this computer runs the job: the lease goes, the late outcome is refused."""
    job = jobs.schedule("followup", {}, T0, "followup:2", shared=True)
    jobs.claim_due(T0, "a", LEASE, 1)
    with jobs.db.applying_remote(check_foreign_keys=False) as conn:
        conn.execute("UPDATE jobs SET status = 'cancelled' WHERE id = ?", (job.id,))
    after = jobs.get(job.id)
    assert after is not None
    assert after.status == "cancelled"
    assert after.lease_owner is None
    assert after.lease_until is None
    assert not jobs.complete(job.id, "a", "sent")


def test_a_job_pulled_as_running_is_claimed_here_only_once_abandoned_for_a_lease(jobs: Jobs) -> None:
    """Running on the teammate that held the number (no lease here): left alone while it may still be running there,
    claimable once it has not been heard of for a whole lease (that device is gone; this one holds the number now)."""
    job = jobs.schedule("followup", {}, T0, "followup:3", shared=True)
    with jobs.db.applying_remote(check_foreign_keys=False) as conn:
        conn.execute(
            "UPDATE jobs SET status = 'running', attempts = 1, updated_at = ? WHERE id = ?", (to_ms(T0), job.id)
        )
    assert jobs.claim_due(T0 + LEASE - timedelta(seconds=1), "b", LEASE, 5) == []
    [claimed] = jobs.claim_due(T0 + LEASE, "b", LEASE, 5)
    assert claimed.id == job.id
    assert claimed.lease_owner == "b"
    assert claimed.attempts == 2
