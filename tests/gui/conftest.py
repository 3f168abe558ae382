"""GUI fixtures: a real workspace (SQLCipher) behind the same AppContext the app builds, on the offscreen platform.

Qt warnings fail the test (``qt_log_level_fail`` in pyproject.toml); waits are on conditions, never sleeps
(``tests.support.gui.wait_idle``, ``qtbot.waitUntil``, ``tests.support.waiting.qt_assert_stays``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.core.events import Event
from app.qt import QtWidgets
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.sync.credentials import Credentials
from app.sync.service import SyncService
from app.ui import theme
from app.ui.context import AppContext, Changes
from app.ui.startup import OpenWorkspace
from app.ui.sync_bridge import SyncBridge
from app.ui.tasks import TaskRunner


@pytest.fixture
def ctx(qapp: QtWidgets.QApplication, store: Store, workspaces: Workspaces, workspace_id: str) -> Iterator[AppContext]:
    theme.apply(qapp, "light")
    changes = Changes()
    store.bus.subscribe(Event, changes.forward)
    tasks = TaskRunner()
    opened = OpenWorkspace(workspace_id, workspaces.header(workspace_id), store)
    yield AppContext(store, tasks, store.settings, workspaces, opened, changes)
    tasks.drain()
    tasks.shutdown()
    # The workspace closes next: a change still queued for delivery (a last write, a layout saved at quit) must not
    # reach this test's pages during the next test, where they would read a closed store.
    changes.blockSignals(True)


@pytest.fixture
def bridge(ctx: AppContext) -> Iterator[SyncBridge]:
    """A signed-out sync service for ``ctx``'s workspace on its bridge (``ctx.sync``), started as in the app."""
    credentials = Credentials(ctx.store, ctx.workspace.workspace_id, ctx.workspaces.vault.backend)
    service = SyncService(ctx.store, ctx.workspace.workspace_id, credentials, backoff=(0.5, 1.0, 2.0))
    bridge = SyncBridge(service)
    ctx.sync = bridge
    bridge.start()
    yield bridge
    bridge.close()
