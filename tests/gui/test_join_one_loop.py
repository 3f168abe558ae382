"""Joining a team from the start-up screen leaves exactly one loop running (issue 15).

Before, "Join a team" made a sync loop thread of its own for the join and never stopped it; the opened workspace's
sync then made a second. Now the join and the workspace's sync (and AI, and the analysis of incoming messages) share
the task runner's one service loop. Real sync server and PostgreSQL; the threads are counted by name.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from pytestqt.qtbot import QtBot

from app.bootstrap import build_context, start_sync
from app.core.loops import SERVICE_THREAD
from app.qt import QtWidgets
from app.store.keyring_vault import KeyringVault
from app.store.keys import KdfParams
from app.store.workspaces import Workspaces
from app.sync.protocol import Invite
from app.sync.status import SyncState
from app.ui.dialogs.join_team import JoinTeamDialog
from app.ui.startup import OpenWorkspace, StartupFlow
from app.ui.tasks import TaskRunner
from tests.support.keyrings import InMemoryKeyring
from tests.support.sync_fixtures import PASSWORD, bearer, signup, unique_email
from tests.support.sync_server import ServerProcess

LOOP_THREADS = {"parley-sync", "parley-ai", "ai-inbound", SERVICE_THREAD}  # every name a loop thread had


def loop_threads(before: set[int | None]) -> list[str]:
    return sorted(t.name for t in threading.enumerate() if t.ident not in before and t.name in LOOP_THREADS)


def test_after_joining_a_team_one_loop_runs_sync(
    qtbot: QtBot, qapp: QtWidgets.QApplication, tmp_path: Path, server: ServerProcess, http: httpx.Client
) -> None:
    owner = signup(http, org_name="Acme")
    response = http.post("/api/invites", json={"email": unique_email("sam"), "role": "staff"}, headers=bearer(owner))
    assert response.status_code == 201, response.text
    code = Invite.model_validate(response.json()).token

    before = {t.ident for t in threading.enumerate()}
    home = tmp_path / "staff"
    staff = Workspaces(home, KeyringVault(InMemoryKeyring()), kdf=KdfParams(time_cost=1, memory_kib=8192))
    tasks = TaskRunner()
    flow = StartupFlow(staff, tasks)
    dialog = flow.show_join()
    qtbot.addWidget(dialog)
    assert isinstance(dialog, JoinTeamDialog)
    dialog.server.setText(server.url)
    dialog.code.setText(code)
    dialog.name.setText("Sam Staff")
    dialog.password.setText(PASSWORD)
    dialog.repeat.setText(PASSWORD)
    dialog.business.setText("Acme (Sam)")
    opened: list[OpenWorkspace] = []
    flow.opened.connect(opened.append)
    dialog.primary.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=60000)

    ctx = build_context(staff, tasks, opened[0])  # what bootstrap does next
    start_sync(ctx, qapp)
    bridge = ctx.sync
    assert bridge is not None
    try:
        qtbot.waitUntil(lambda: bridge.status.state is SyncState.SYNCED, timeout=30000)
        assert loop_threads(before) == [SERVICE_THREAD]
        assert bridge.loop.loop is tasks.service_loop.loop
    finally:
        bridge.close()
        tasks.shutdown()
        ctx.store.close()
    assert loop_threads(before) == [], "the service loop ends with the runner"
