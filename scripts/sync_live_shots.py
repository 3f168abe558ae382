"""Part of ``make screenshots``: team sync for real — the workspace's sync service against a real sync server
(``python -m sync_server`` on a throwaway PostgreSQL cluster, as the tests run it).

Settings › Team sync signed out (the create-a-team form filled in), then signed in after creating the team (with an
invite code shown) and after an admin removed this computer, the status-bar indicator in each state it can show, the
first-run screen and the "Join a team with an invite" dialog, and Settings › AI › Team AI as the owner sees it (one
provider entry with its key set, this month's use after real gateway calls to a local provider), light and dark.
Output: ``build/screenshots/sync-<mode>-<nn>-<screen>.png``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.bootstrap import build_context  # noqa: E402
from app.qt import QtWidgets  # noqa: E402
from app.store.keyring_vault import KeyringVault  # noqa: E402
from app.store.keys import KdfParams  # noqa: E402
from app.store.store import Store  # noqa: E402
from app.store.workspaces import Workspaces  # noqa: E402
from app.sync.credentials import Credentials  # noqa: E402
from app.sync.protocol import DeviceInfo, Session  # noqa: E402
from app.sync.service import SyncService  # noqa: E402
from app.sync.status import SyncState, SyncStatus  # noqa: E402
from app.ui import theme  # noqa: E402
from app.ui.dialogs.join_team import JoinTeamDialog  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.pages.settings import SettingsPage  # noqa: E402
from app.ui.pages.team_ai import TeamAiCard  # noqa: E402
from app.ui.sections import SECTIONS  # noqa: E402
from app.ui.startup import OpenWorkspace, StartupFlow  # noqa: E402
from app.ui.sync_bridge import SyncLoop  # noqa: E402
from app.ui.tasks import TaskRunner  # noqa: E402
from app.ui.widgets.sync_indicator import SyncIndicator  # noqa: E402
from scripts.screenshots import grab, settle, start_shots, wait_for  # noqa: E402
from sync_server.pgcluster import Cluster  # noqa: E402
from tests.ai.openai_server import OpenAIServer  # noqa: E402
from tests.support.keyrings import InMemoryKeyring  # noqa: E402
from tests.support.sync_server import ServerProcess, fresh_database  # noqa: E402

PASSWORD = "correct horse battery"
TEAM_KEY = "sk-lumen-team-key-7f3a"
CUSTOMERS = ["Maya Putri", "Budi Santoso", "Rina Wijaya", "Dewi Lestari", "Agus Pratama"]


def indicator_states(now: datetime) -> list[tuple[str, SyncStatus]]:
    """Each state the indicator can show, as the service reports it (for one picture of them all)."""
    base = {"server_url": "https://sync.lumen.example", "email": "alex@lumen.example", "org_name": "Lumen Boutique"}
    return [
        ("Synced", SyncStatus(state=SyncState.SYNCED, last_synced_at=now, role="owner", **base)),
        ("Syncing", SyncStatus(state=SyncState.SYNCING, pending=3, role="owner", **base)),
        ("First download", SyncStatus(state=SyncState.INITIAL, progress=0.45, role="staff", **base)),
        (
            "Offline",
            SyncStatus(state=SyncState.OFFLINE, pending=12, next_retry_at=now + timedelta(seconds=20), **base),
        ),
        ("Conflicts", SyncStatus(state=SyncState.SYNCED, last_synced_at=now, unseen_conflicts=2, **base)),
        ("Sign-in expired", SyncStatus(state=SyncState.SIGN_IN_AGAIN, **base)),
        ("Removed", SyncStatus(state=SyncState.REVOKED, **base)),
    ]


def indicator_sheet() -> QtWidgets.QWidget:
    sheet = QtWidgets.QWidget()
    sheet.setWindowTitle("Team sync indicator")
    sheet.setAutoFillBackground(True)
    grid = QtWidgets.QGridLayout(sheet)
    grid.setContentsMargins(20, 16, 20, 16)
    grid.setHorizontalSpacing(24)
    for row, (label, status) in enumerate(indicator_states(datetime.now(UTC))):
        name = QtWidgets.QLabel(label)
        name.setObjectName("muted")
        bar = QtWidgets.QStatusBar()
        bar.setSizeGripEnabled(False)
        indicator = SyncIndicator()
        indicator.show_status(status)
        bar.addPermanentWidget(indicator)
        bar.setMinimumWidth(520)
        grid.addWidget(name, row, 0)
        grid.addWidget(bar, row, 1)
    return sheet


def scroll_to_team_sync(app: QtWidgets.QApplication, settings: SettingsPage, offset: int = 0) -> None:
    settings.reveal_team_sync()
    settle(app, 200)
    if offset:
        bar = settings.scroll_area.verticalScrollBar()
        bar.setValue(bar.value() + offset)
    settle(app, 200)


def scroll_to(app: QtWidgets.QApplication, settings: SettingsPage, card: QtWidgets.QWidget) -> None:
    settle(app, 200)
    settings.reveal(card)  # the card's section (one is shown at a time), scrolled to the card
    settle(app, 200)


def team_ai_shots(
    app: QtWidgets.QApplication,
    out: Path,
    server: ServerProcess,
    windows: dict[str, MainWindow],
    settings_pages: dict[str, SettingsPage],
) -> None:
    """The owner sets up the team's provider in the card (for real), members use it, and the card shows the use."""
    provider = OpenAIServer(keys={TEAM_KEY}).start()
    try:
        theme.apply(app, "light")
        windows["light"].show()
        card = settings_pages["light"].team_ai
        assert card is not None
        wait_for(app, "the team AI settings", lambda: card.loads > 0)
        card.add_button.click()
        card.kind.setCurrentIndex(card.kind.findData("openai_compatible"))
        card.model.setText("llama3.1:8b")
        card.base_url.setText(provider.base_url)
        card.embedding.setText("nomic-embed-text")
        card.key.setText(TEAM_KEY)
        card.budget.setValue(75.0)
        card.rate.setValue(120)
        card.save_button.click()
        wait_for(app, "the save", lambda: card.saved_note.isVisible() or card.error.isVisible())
        if card.error.isVisible():
            raise SystemExit(f"saving the team AI settings failed: {card.error.text()}")
        windows["light"].hide()
        with httpx.Client(base_url=server.url, timeout=60) as http:
            body = {"model": "default", "messages": [{"role": "user", "content": "Is the red dress in stock?"}]}
            for email, device, calls in (("alex@lumen.example", "Alex's phone", 2), ("sam@lumen.example", "Sam pc", 5)):
                login = {"email": email, "password": PASSWORD, "device_name": device}
                who = Session.model_validate(http.post("/api/auth/login", json=login).raise_for_status().json())
                for _ in range(calls):
                    auth = {"Authorization": f"Bearer {who.access_token}"}
                    http.post("/v1/chat/completions", json=body, headers=auth).raise_for_status()
    finally:
        provider.stop()
    for mode in ("light", "dark"):
        theme.apply(app, mode)
        window = windows[mode]
        window.show()
        shown: TeamAiCard | None = settings_pages[mode].team_ai
        assert shown is not None
        loads = shown.loads
        shown.load()
        wait_for(app, "the team AI use", lambda: shown.loads > loads)  # noqa: B023
        scroll_to(app, settings_pages[mode], shown)
        grab(app, window, out / f"sync-{mode}-09-team-ai.png")
        window.hide()


def main() -> int:
    _args, out, app = start_shots()
    with tempfile.TemporaryDirectory(prefix="parley-sync-shots-") as tmp:
        cluster = Cluster.ensure(Path(tmp) / "pg")
        server = ServerProcess(fresh_database(cluster), Path(tmp) / "server.log")
        try:
            server.start()
            return shoot(app, out, Path(tmp), server)
        finally:
            server.stop()
            cluster.destroy()


def shoot(app: QtWidgets.QApplication, out: Path, tmp: Path, server: ServerProcess) -> int:
    keyring = InMemoryKeyring()
    kdf = KdfParams(time_cost=1, memory_kib=16384)
    workspaces = Workspaces(tmp / "home", KeyringVault(keyring), kdf=kdf)
    store = workspaces.create("Lumen Boutique", "Alex Morgan")
    workspace_id = store.meta("workspace_id") or ""
    for i, name in enumerate(CUSTOMERS):
        store.contacts.create(name=name, phone=f"+62811000{i:04}")
    tasks = TaskRunner()
    ctx = build_context(workspaces, tasks, OpenWorkspace(workspace_id, workspaces.header(workspace_id), store))
    bridge = ctx.sync
    assert bridge is not None
    bridge.attach(SyncService(store, workspace_id, Credentials(store, workspace_id, keyring)))
    bridge.start()
    wait_for(app, "the sync service", lambda: bridge.status.state is SyncState.SIGNED_OUT)

    windows: dict[str, MainWindow] = {}
    settings_pages: dict[str, SettingsPage] = {}
    for mode in ("light", "dark"):
        theme.apply(app, mode)
        window = MainWindow(ctx, SECTIONS)
        window.resize(1360, 900)
        window.show()
        settings = window.show_section("settings")
        assert isinstance(settings, SettingsPage)
        card = settings.team_sync
        assert card is not None
        form = card.signed_out
        form.server.setText(server.url)
        form.tabs.setCurrentIndex(1)
        form.create_name.setText("Alex Morgan")
        form.create_email.setText("alex@lumen.example")
        scroll_to_team_sync(app, settings)
        grab(app, window, out / f"sync-{mode}-01-settings-signed-out.png")
        windows[mode], settings_pages[mode] = window, settings
        window.hide()

    # Create the team from the light window's form, for real.
    theme.apply(app, "light")
    window = windows["light"]
    window.show()
    form = settings_pages["light"].team_sync.signed_out  # type: ignore[union-attr]
    form.create_password.setText(PASSWORD)
    form.create_repeat.setText(PASSWORD)
    form.create_button.click()
    wait_for(app, "the first upload", lambda: window.sync_indicator.text == "Synced")
    panel = settings_pages["light"].team_sync.signed_in  # type: ignore[union-attr]
    wait_for(app, "the members list", lambda: panel.members.rowCount() > 0 and panel.devices.rowCount() > 0)
    panel.invite_email.setText("sam@lumen.example")
    panel.invite_button.click()
    wait_for(app, "the invite code", panel.code_box.isVisible)
    code = panel.invite_code.text()

    for mode in ("light", "dark"):
        theme.apply(app, mode)
        window = windows[mode]
        window.show()
        settings = settings_pages[mode]
        other = settings.team_sync.signed_in  # type: ignore[union-attr]
        if other is not panel:
            other.refresh_team()
            wait_for(app, "the members list", lambda: other.members.rowCount() > 0)  # noqa: B023
            other.invite_code.setText(panel.invite_code.text())
            other.code_note.setText(panel.code_note.text())
            other.code_box.show()
        settle(app, 300)
        scroll_to_team_sync(app, settings)
        grab(app, window, out / f"sync-{mode}-02-settings-signed-in.png")
        scroll_to_team_sync(app, settings, offset=300)
        grab(app, window, out / f"sync-{mode}-03-settings-team.png")
        window.hide()

        sheet = indicator_sheet()
        grab(app, sheet, out / f"sync-{mode}-04-indicator-states.png")
        sheet.close()

        loop = SyncLoop()
        dialog = JoinTeamDialog(workspaces, loop)
        dialog.server.setText(server.url)
        dialog.code.setText(code)
        dialog.name.setText("Sam Staff")
        dialog.password.setText(PASSWORD)
        dialog.repeat.setText(PASSWORD)
        dialog.business.setText("Lumen Boutique")
        grab(app, dialog, out / f"sync-{mode}-05-join-dialog.png")
        if mode == "dark":  # join for real (once: the code works once) and catch the download's progress
            joined: list[Store] = []
            shot = out / f"sync-{mode}-06-join-downloading.png"

            def progressed(
                _done: int, total: int, _text: str, dialog: JoinTeamDialog = dialog, shot: Path = shot
            ) -> None:
                if total > 0 and not shot.exists():  # the bar has just been updated (connected first)
                    dialog.grab().save(str(shot))
                    print(shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot)

            dialog._progressed.connect(progressed)
            dialog.joined.connect(joined.append)
            shot.unlink(missing_ok=True)
            dialog.primary.click()
            wait_for(app, "the join", lambda: bool(joined) or dialog.error.isVisible())  # noqa: B023
            if dialog.error.isVisible():
                raise SystemExit(f"joining failed: {dialog.error.text()}")
            print(f"joined: {joined[0].contacts.count()} contacts downloaded")
            joined[0].close()
        dialog.close()
        loop.close()

    team_ai_shots(app, out, server, windows, settings_pages)

    # An admin removes this computer (from another device of the owner's): the banner says so and offers to sign in.
    with httpx.Client(base_url=server.url, timeout=10) as http:
        login = {"email": "alex@lumen.example", "password": PASSWORD, "device_name": "Alex's phone"}
        other = Session.model_validate(http.post("/api/auth/login", json=login).raise_for_status().json())
        auth = {"Authorization": f"Bearer {other.access_token}"}
        devices = [DeviceInfo.model_validate(d) for d in http.get("/api/devices", headers=auth).json()]
        ours = next(d for d in devices if d.name == form.device.text())
        http.delete(f"/api/devices/{ours.id}", headers=auth).raise_for_status()
    bridge.sync_now()
    wait_for(app, "the revocation", lambda: bridge.status.state is SyncState.REVOKED)
    for mode in ("light", "dark"):
        theme.apply(app, mode)
        window = windows[mode]
        window.show()
        scroll_to_team_sync(app, settings_pages[mode])
        grab(app, window, out / f"sync-{mode}-07-settings-removed.png")
        window.hide()

        # The first-run screen, with the way in for staff.
        flow = StartupFlow(Workspaces(tmp / f"fresh-{mode}", KeyringVault(keyring), kdf=kdf), tasks)
        flow.start()
        assert flow.dialog is not None
        grab(app, flow.dialog, out / f"sync-{mode}-08-first-run-join.png")
        flow.dialog.close()

    for window in windows.values():
        window.close()
    settle(app, 100)
    bridge.close()
    tasks.drain()
    tasks.shutdown()
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
