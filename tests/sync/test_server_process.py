"""``parley-sync`` as a process: --dev with its own cluster, /metrics, and refusing bad settings or a newer database
with one clear line and exit code 2."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest

from sync_server.pgcluster import Cluster, free_port
from tests.support.sync_fixtures import private_cluster
from tests.support.sync_server import ROOT, SECRET, ServerProcess, fresh_database
from tests.support.waiting import wait_until


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PARLEY_SYNC_SECRET")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sync_server", "--port", str(free_port()), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_dev_mode_runs_its_own_cluster_and_says_where(tmp_path: Path) -> None:
    data = tmp_path / "sync-data"
    log_path = tmp_path / "dev.log"
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sync_server", "--dev", "--port", str(port)],
            env=_env(PARLEY_SYNC_DATA=str(data)),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> httpx.Response | None:
            if proc.poll() is not None:
                pytest.fail(f"the dev server exited with {proc.returncode}: {log_path.read_text(errors='replace')}")
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)
            except httpx.HTTPError:
                return None
            return health if health.status_code == 200 else None

        # 90 s: initdb on a busy machine
        health = wait_until(healthy, 90, lambda: f"the dev server healthy: {log_path.read_text(errors='replace')}", 0.1)
        output = log_path.read_text(errors="replace")
        assert health.json()["database"] is True
        assert f"data folder {data}" in output
        assert "DATABASE_URL=postgresql://parley@127.0.0.1:" in output
        assert (data / "postgres" / "data" / "PG_VERSION").exists()
        assert stat.S_IMODE((data / "secret.b64").stat().st_mode) == 0o600
        signup = httpx.post(
            f"http://127.0.0.1:{port}/api/orgs",
            json={"org_name": "Dev", "name": "D", "email": "d@example.com", "password": "x" * 12, "device_name": "pc"},
            timeout=10.0,
        )
        assert signup.status_code == 201, signup.text
        proc.terminate()
        assert proc.wait(30) == 0, log_path.read_text(errors="replace")
        # The private cluster stops with the server.
        assert not (data / "postgres" / "data" / "postmaster.pid").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        Cluster(data / "postgres", 0).stop(mode="immediate")


def test_metrics_and_request_log(http: httpx.Client, server: ServerProcess) -> None:
    assert http.get("/health").status_code == 200
    assert http.get("/api/members", params={"marker": "query-value-not-logged"}).status_code == 401
    assert http.get("/no/such/page").status_code == 404
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'parley_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert 'parley_http_requests_total{method="GET",route="/api/members",status="401"} 1' in text
    assert 'parley_http_requests_total{method="GET",route="unmatched",status="404"} 1' in text
    assert 'parley_http_request_duration_seconds_bucket{method="GET",route="/health",le="+Inf"}' in text
    assert "# TYPE parley_http_request_duration_seconds histogram" in text

    wait_until(lambda: "route=unmatched status=404" in server.log_tail(100_000), 10, "the 404 request logged")
    log = server.log_tail(100_000)
    line = next(line for line in log.splitlines() if "route=/api/members status=401" in line)
    assert "msg=request method=GET" in line
    assert "ms=" in line
    assert "query-value-not-logged" not in log
    assert "/no/such/page" not in log  # unmatched paths are not echoed either


def test_health_follows_the_database(tmp_path: Path) -> None:
    # A cluster of its own outside pytest's temp folder: another pytest session on the machine makes that folder
    # private again, and pg_ctl start (as the postgres user) then cannot reach the data directory.
    with private_cluster("parley-health-pg-") as cluster:
        server = ServerProcess(fresh_database(cluster), tmp_path / "server.log")
        try:
            server.start()

            def health_until(status: int) -> httpx.Response:
                seen: list[httpx.Response] = []

                def answers() -> httpx.Response | None:
                    seen[:] = [httpx.get(server.url + "/health", timeout=5.0)]
                    return seen[0] if seen[0].status_code == status else None

                last = lambda: f"/health answered {seen[-1].status_code if seen else None}: {server.log_tail()}"  # noqa: E731
                return wait_until(answers, 30, last, 0.1)

            cluster.stop(mode="immediate")
            down = health_until(503)
            assert down.status_code == 503
            assert down.json()["database"] is False
            cluster.start()
            up = health_until(200)
            assert up.status_code == 200, server.log_tail()
            assert up.json() == {"status": "ok", "database": True, "version": up.json()["version"]}
        finally:
            server.stop()


def test_missing_settings_exit_2_with_one_clear_line() -> None:
    result = _run(env=_env())
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("parley-sync: DATABASE_URL is not set")
    assert "Traceback" not in result.stderr

    result = _run(env=_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/x", PARLEY_SYNC_SECRET="tooshort"))
    assert result.returncode == 2
    assert "PARLEY_SYNC_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_from_a_newer_server_is_refused_and_untouched(pg: Cluster) -> None:
    url = fresh_database(pg, prefix="newer")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (999, '0999_future.sql')")
    result = _run(env=_env(DATABASE_URL=url, PARLEY_SYNC_SECRET=SECRET))
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("parley-sync: The database is at schema 999, newer than this server's")
    assert "Traceback" not in result.stderr
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT version FROM schema_migrations").fetchall() == [(999,)]
        assert conn.execute("SELECT to_regclass('public.orgs'), to_regclass('public.members')").fetchone() == (
            None,
            None,
        )
