"""The health monitor (app/agents/health.py) against real conditions: a real SQLCipher store (and one with a damaged
page for the quick check), ai_interactions rows written here, WhatsApp and sync snapshots, and the free-space
reading injected; alerts come once per change and a recovery says so; the history keeps a week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.agents.health import GB, MB, HealthMonitor, Thresholds
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync.status import SyncState, SyncStatus
from app.whatsapp.status import ConnectionState, Health, HealthEntry, QueueStatus, WhatsAppStatus

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
CONNECTED = WhatsAppStatus(state=ConnectionState.connected, linked=True)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class World:
    """What the checks read besides the store: WhatsApp, sync and the free space, set by each test."""

    def __init__(self) -> None:
        self.whatsapp: WhatsAppStatus | None = CONNECTED
        self.sync: SyncStatus | None = None
        self.free = 50 * GB


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def monitor(store: Store, tmp_path: Path, world: World, clock: Clock) -> HealthMonitor:
    return HealthMonitor(
        store,
        tmp_path,
        whatsapp=lambda: world.whatsapp,
        sync=lambda: world.sync,
        free_bytes=lambda _folder: world.free,
        clock=clock,
    )


def statuses(monitor: HealthMonitor) -> dict[str, str]:
    return {r.name: r.status for r in monitor.run().results}


# ---- each check ------------------------------------------------------------------------------------------------
def test_all_ok_on_a_healthy_workspace(monitor: HealthMonitor) -> None:
    report = monitor.run()
    assert {r.name: r.status for r in report.results} == dict.fromkeys(
        ("whatsapp", "database", "ai", "sync", "disk"), "ok"
    )
    assert report.alerts == ()
    database = next(r for r in report.results if r.name == "database")
    assert database.sentence.startswith("The database (")
    assert database.value is not None


@pytest.mark.parametrize(
    ("status", "level", "words"),
    [
        (WhatsAppStatus(), "warn", "not linked"),
        (WhatsAppStatus(state=ConnectionState.phone_offline, linked=True), "warn", "phone is offline"),
        (WhatsAppStatus(state=ConnectionState.failed, linked=True), "fail", "could not connect"),
        (WhatsAppStatus(state=ConnectionState.logged_out, linked=True), "fail", "logged out"),
        (WhatsAppStatus(state=ConnectionState.stopped, linked=True), "warn", "not connected"),
        (CONNECTED, "ok", "Connected"),
    ],
)
def test_whatsapp_states(monitor: HealthMonitor, world: World, status: WhatsAppStatus, level: str, words: str) -> None:
    world.whatsapp = status
    result = monitor.check_whatsapp(NOW)
    assert (result.status, words.lower() in result.sentence.lower()) == (level, True)


def test_whatsapp_broken_profile_pauses_sending(monitor: HealthMonitor, world: World) -> None:
    entries = (
        HealthEntry("composer", "the message box", ok=False, used_fallback=False, selector=None),
        HealthEntry("chat_list", "the chat list", ok=True, used_fallback=False, selector="#pane"),
    )
    health = Health(NOW, "logged_in", "2026.1", entries, "The message box is missing")
    world.whatsapp = WhatsAppStatus(
        state=ConnectionState.connected, linked=True, health=health, queue=QueueStatus(waiting=4)
    )
    result = monitor.check_whatsapp(NOW)
    assert result.status == "fail"
    assert "Profile broken: sending paused" in result.sentence
    assert "the message box" in result.sentence
    assert result.value == 4
    ok = Health(NOW, "logged_in", "2026.1", entries[1:], "All good")
    world.whatsapp = WhatsAppStatus(state=ConnectionState.connected, linked=True, health=ok)
    assert monitor.check_whatsapp(NOW).sentence == "Connected and the page self-test passed."


def test_database_quick_check_fails_on_a_damaged_page(workspaces: Workspaces, tmp_path: Path) -> None:
    store = workspaces.create("Acme", "Ana")
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    with store.db.transaction() as conn:  # a table of many pages, none of which opening the workspace reads
        conn.executemany(
            "INSERT INTO health_checks (checked_at, name, status, sentence, value) VALUES (?, ?, ?, ?, ?)",
            [(i, "disk", "ok", "x" * 200, 1.0) for i in range(3000)],
        )
    path = store.db.path
    healthy = HealthMonitor(store, tmp_path).check_database(NOW)
    assert healthy.status == "ok"
    store.close()
    data = bytearray(path.read_bytes())
    page = len(data) // 4096 - 3
    data[page * 4096 + 100 : (page + 1) * 4096 - 100] = b"\x00" * (4096 - 200)
    path.write_bytes(bytes(data))
    damaged = workspaces.open(workspace_id)
    try:
        result = HealthMonitor(damaged, tmp_path).check_database(NOW)
    finally:
        damaged.close()
    assert result.status == "fail"
    assert "failed its integrity check" in result.sentence
    assert "restore the latest backup" in result.sentence


def test_database_slow_check_warns(store: Store, tmp_path: Path) -> None:
    slow = HealthMonitor(store, tmp_path, thresholds=Thresholds(database_slow=timedelta(0)))
    result = slow.check_database(NOW)
    assert result.status == "warn"
    assert "took" in result.sentence


def add_ai_calls(store: Store, *, ok: int, failed: int, at: datetime) -> None:
    for i in range(ok + failed):
        store.ai_interactions.add(
            store.ai_interactions.new(
                purpose="suggest",
                mode="byok",
                provider="openai",
                model="m",
                outcome="failed" if i < failed else "accepted",
                error="timeout: provider did not answer" if i < failed else None,
                created_at=at,
                updated_at=at,
            )
        )


def test_ai_error_rate_over_the_last_hour(monitor: HealthMonitor, store: Store) -> None:
    assert monitor.check_ai(NOW).sentence == "No AI calls in the last hour."
    add_ai_calls(store, ok=0, failed=9, at=NOW - timedelta(hours=2))  # outside the hour: not counted
    add_ai_calls(store, ok=9, failed=1, at=NOW - timedelta(minutes=10))
    result = monitor.check_ai(NOW)
    assert (result.status, result.value) == ("ok", 10.0)
    assert result.sentence == "1 of 10 AI calls in the last hour failed."
    add_ai_calls(store, ok=0, failed=2, at=NOW - timedelta(minutes=5))  # 3 of 12 = 25 %
    assert (monitor.check_ai(NOW).status, monitor.check_ai(NOW).value) == ("warn", 25.0)
    add_ai_calls(store, ok=0, failed=8, at=NOW - timedelta(minutes=1))  # 11 of 20
    result = monitor.check_ai(NOW)
    assert result.status == "fail"
    assert result.sentence.startswith("11 of 20 AI calls in the last hour failed: check the AI provider")


def test_ai_two_failures_of_two_calls_are_not_an_outage(monitor: HealthMonitor, store: Store) -> None:
    add_ai_calls(store, ok=0, failed=2, at=NOW - timedelta(minutes=1))
    assert monitor.check_ai(NOW).status == "warn"  # 100 %, but under the minimum count for a failure


def test_sync_lag_only_in_a_team(monitor: HealthMonitor, world: World) -> None:
    assert monitor.check_sync(NOW).sentence == "Not in a team: nothing to sync."
    world.sync = SyncStatus(state=SyncState.SYNCED, last_synced_at=NOW)
    assert monitor.check_sync(NOW).status == "ok"
    world.sync = SyncStatus(state=SyncState.OFFLINE, pending=3, last_synced_at=NOW - timedelta(minutes=5))
    assert monitor.check_sync(NOW).status == "ok"
    world.sync = SyncStatus(state=SyncState.OFFLINE, pending=3, last_synced_at=NOW - timedelta(minutes=45))
    result = monitor.check_sync(NOW)
    assert (result.status, result.value) == ("warn", 2700)
    assert result.sentence == "Last synced with the team 45 min ago; 3 changes waiting to go up."
    world.sync = SyncStatus(state=SyncState.OFFLINE, pending=1, last_synced_at=NOW - timedelta(hours=7))
    assert monitor.check_sync(NOW).status == "fail"
    world.sync = SyncStatus(state=SyncState.ERROR, pending=1, last_synced_at=NOW - timedelta(minutes=1))
    assert monitor.check_sync(NOW).status == "fail"


@pytest.mark.parametrize(
    ("free", "level"), [(50 * GB, "ok"), (2 * GB - 1, "warn"), (500 * MB, "warn"), (500 * MB - 1, "fail")]
)
def test_disk_thresholds(monitor: HealthMonitor, world: World, free: int, level: str) -> None:
    world.free = free
    result = monitor.check_disk(NOW)
    assert result.status == level
    assert result.value == round(free / MB, 1)


def test_disk_reads_the_workspace_folder(store: Store, tmp_path: Path) -> None:
    seen: list[Path] = []

    def free(folder: Path) -> int:
        seen.append(folder)
        return 3 * GB

    HealthMonitor(store, tmp_path, free_bytes=free).check_disk(NOW)
    assert seen == [tmp_path]


# ---- alerts, history, pruning ----------------------------------------------------------------------------------
def test_an_alert_once_per_change_and_a_recovery(monitor: HealthMonitor, world: World, clock: Clock) -> None:
    assert monitor.run().alerts == ()
    world.free = 100 * MB
    first = monitor.run()
    assert [(a.name, a.status, a.recovered) for a in first.alerts] == [("disk", "fail", False)]
    assert first.alerts[0].title == "Disk space: problem"
    for _ in range(3):  # the problem lasts: no new alert on each run
        clock.now += timedelta(minutes=5)
        assert monitor.run().alerts == ()
    world.free = 1 * GB  # fail → warn is a change too
    assert [(a.name, a.status) for a in monitor.run().alerts] == [("disk", "warn")]
    world.free = 10 * GB
    back = monitor.run()
    assert [(a.name, a.status, a.recovered) for a in back.alerts] == [("disk", "ok", True)]
    assert back.alerts[0].title == "Disk space is working again"
    assert monitor.run().alerts == ()


def test_a_restart_does_not_alert_again_for_a_told_problem(
    store: Store, tmp_path: Path, world: World, clock: Clock
) -> None:
    def make() -> HealthMonitor:
        return HealthMonitor(
            store, tmp_path, whatsapp=lambda: world.whatsapp, free_bytes=lambda _f: world.free, clock=clock
        )

    world.free = 100 * MB
    assert [a.name for a in make().run().alerts] == ["disk"]
    assert make().run().alerts == ()  # a new monitor (the app restarted) reads the last statuses back


def test_results_are_recorded_and_read_back(monitor: HealthMonitor, world: World, clock: Clock) -> None:
    monitor.run()
    clock.now += timedelta(minutes=5)
    world.whatsapp = WhatsAppStatus(state=ConnectionState.phone_offline, linked=True)
    monitor.run()
    latest = {r.name: r for r in monitor.latest()}
    assert latest["whatsapp"].status == "warn"
    assert latest["whatsapp"].checked_at == clock.now
    history = monitor.history()
    assert [r.status for r in history["whatsapp"]] == ["ok", "warn"]
    assert len(history["disk"]) == 2


def test_a_week_is_kept_and_older_rows_pruned(monitor: HealthMonitor, store: Store, clock: Clock) -> None:
    monitor.run()
    clock.now += timedelta(days=6)
    monitor.run()
    with store.db.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM health_checks").fetchone()[0] == 10
    clock.now += timedelta(days=1, minutes=1)  # the first run is now more than 7 days old
    monitor.run()
    with store.db.read() as conn:
        times = sorted({row[0] for row in conn.execute("SELECT checked_at FROM health_checks")})
    assert len(times) == 2
    assert min(times) > int((clock.now - timedelta(days=7)).timestamp() * 1000)
    assert len(monitor.history(timedelta(days=30))["database"]) == 2


def test_a_broken_check_does_not_stop_the_others(store: Store, tmp_path: Path) -> None:
    def broken(_folder: Path) -> int:
        raise OSError("the disk went away")

    report = HealthMonitor(store, tmp_path, free_bytes=broken).run()
    disk = next(r for r in report.results if r.name == "disk")
    assert disk.status == "warn"
    assert "could not run" in disk.sentence
    assert len(report.results) == 5


def test_sentences_never_carry_customer_content(
    monitor: HealthMonitor, store: Store, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    add_ai_calls(store, ok=0, failed=5, at=NOW - timedelta(minutes=1))
    world.whatsapp = WhatsAppStatus(state=ConnectionState.failed, linked=True, last_error="Hello Maria, 3 dresses")
    report = monitor.run()
    text = " ".join(r.sentence for r in report.results) + caplog.text
    assert "Maria" not in text
    assert "provider did not answer" not in text


def test_setup_states_shown_by_the_whatsapp_banner_raise_no_second_alert(monitor: HealthMonitor, world: World) -> None:
    """Not linked yet / not connected: the page says so (warn), but the app's WhatsApp banner already tells it all
    the time, so no health banner or notification repeats it (seen under Xvfb: two banners saying one thing)."""
    world.whatsapp = WhatsAppStatus()
    report = monitor.run()
    assert {r.name: r.status for r in report.results}["whatsapp"] == "warn"
    assert report.alerts == ()
    assert report.problems == []  # the health banner names nothing
    world.whatsapp = WhatsAppStatus(state=ConnectionState.logged_out, linked=True)
    assert [a.name for a in monitor.run().alerts] == ["whatsapp"]  # a real problem still alerts


def test_a_teammate_holding_the_number_is_not_a_whatsapp_problem(
    store: Store, monitor: HealthMonitor, world: World
) -> None:
    from tests.unit.store.test_sending_device import pull_claim

    pull_claim(store, linked_at=NOW - timedelta(hours=1), name="Bea's laptop")
    world.whatsapp = WhatsAppStatus()  # this computer never linked: it does not need to
    result = monitor.check_whatsapp(NOW)
    assert (result.status, result.sentence) == (
        "ok",
        "Bea's laptop sends for this number; this computer does not need WhatsApp.",
    )
