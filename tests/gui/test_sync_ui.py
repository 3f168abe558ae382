"""Team sync in the UI against the real sync server (a ``python -m sync_server`` process on a throwaway PostgreSQL):
the status-bar indicator, Settings › Team sync signed out and signed in, and joining a team with an invite.

The sync service runs on the bridge's own loop thread exactly as in the app; the tests wait on signals and
conditions (the indicator's text, a label becoming visible), never on sleeps.
"""

from __future__ import annotations

import sys
import threading
import traceback
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pytestqt.exceptions import TimeoutError as QtTimeoutError
from pytestqt.qtbot import QtBot

from app.ai.keys import ProviderKeys
from app.ai.service import AiService
from app.bootstrap import open_main_window, start_sync
from app.qt import QtWidgets
from app.store.keyring_vault import KeyringVault
from app.store.keys import KdfParams
from app.store.seed import populate
from app.store.workspaces import Workspaces
from app.sync.credentials import Credentials
from app.sync.protocol import DeviceInfo, Session
from app.sync.service import SyncService
from app.sync.status import SyncState, SyncStatus
from app.ui.context import AppContext
from app.ui.dialogs.join_team import JoinTeamDialog
from app.ui.main_window import MainWindow
from app.ui.pages.settings import SettingsPage
from app.ui.pages.sync_settings import SyncSettingsCard
from app.ui.pages.sync_team import SignedInPanel
from app.ui.startup import OpenWorkspace, StartupFlow
from app.ui.sync_bridge import SyncBridge
from app.ui.tasks import TaskRunner
from app.ui.widgets.sync_indicator import SyncIndicator, indicator_text
from sync_server.pgcluster import free_port
from tests.support.keyrings import InMemoryKeyring, RefusingKeyring
from tests.support.sync_fixtures import PASSWORD, bearer, signup, unique_email
from tests.support.sync_server import ServerProcess

NOW = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
SYNCED = SyncStatus(
    state=SyncState.SYNCED,
    server_url="https://sync.example.com",
    email="olivia@example.com",
    org_name="Acme Shoes",
    role="owner",
    last_synced_at=NOW,
)


# ---- the indicator's words ----------------------------------------------------------------------------------------
def test_indicator_text_for_each_state() -> None:
    assert indicator_text(SYNCED) == "Synced"
    assert indicator_text(SyncStatus(state=SyncState.SYNCING)) == "Syncing…"
    initial = SyncStatus(state=SyncState.INITIAL, progress=0.45, progress_text="Downloading 45 of 100 rows")
    assert indicator_text(initial) == "Downloading 45 %"
    upload = SyncStatus(state=SyncState.INITIAL, progress=0.5, progress_text="Uploading 5 of 10 rows")
    assert indicator_text(upload) == "Uploading 50 %"
    offline = SyncStatus(state=SyncState.OFFLINE, pending=12, next_retry_at=NOW + timedelta(seconds=20))
    assert indicator_text(offline, now=NOW) == "Offline — 12 changes waiting · retry in 20 s"
    assert indicator_text(SyncStatus(state=SyncState.OFFLINE, pending=1), now=NOW) == "Offline — 1 change waiting"
    assert indicator_text(SyncStatus(state=SyncState.SIGN_IN_AGAIN)) == "Sign in again"
    assert indicator_text(SyncStatus(state=SyncState.REVOKED)) == "Removed from team"


def test_indicator_renders_each_status(qtbot: QtBot, qapp: QtWidgets.QApplication) -> None:
    indicator = SyncIndicator()
    qtbot.addWidget(indicator)
    indicator.show()
    indicator.show_status(SyncStatus())
    assert indicator.isHidden(), "signed out: sync is optional, nothing is shown"

    indicator.show_status(SYNCED)
    assert indicator.isVisible()
    assert indicator.text == "Synced"
    tip = indicator.button.toolTip()
    assert "https://sync.example.com" in tip
    assert "Acme Shoes" in tip
    assert "Last synced:" in tip
    assert indicator.badge.isHidden()

    indicator.show_status(SyncStatus(state=SyncState.INITIAL, progress=0.45))
    assert indicator.text == "Downloading 45 %"

    retry = datetime.now(UTC) + timedelta(seconds=20)
    indicator.show_status(SyncStatus(state=SyncState.OFFLINE, pending=12, next_retry_at=retry))
    assert indicator.text.startswith("Offline — 12 changes waiting · retry in ")
    first = indicator.text
    qtbot.waitUntil(lambda: indicator.text != first, timeout=3000)  # the countdown moves on its own
    assert indicator.text.startswith("Offline — 12 changes waiting · retry in ")

    indicator.show_status(SyncStatus(state=SyncState.SIGN_IN_AGAIN, email="olivia@example.com"))
    assert indicator.text == "Sign in again"
    indicator.show_status(SyncStatus(state=SyncState.REVOKED))
    assert indicator.text == "Removed from team"
    assert indicator.isVisible()

    conflicted = SyncStatus(**{**SYNCED.__dict__, "unseen_conflicts": 2})
    indicator.show_status(conflicted)
    assert indicator.badge.isVisible()
    assert "2 edits replaced" in indicator.badge.text()
    with qtbot.waitSignal(indicator.conflicts_requested, timeout=2000):
        indicator.badge.click()
    with qtbot.waitSignal(indicator.clicked, timeout=2000):
        indicator.button.click()


# ---- fixtures -----------------------------------------------------------------------------------------------------
@pytest.fixture
def window(qtbot: QtBot, ctx: AppContext, bridge: SyncBridge, qapp: QtWidgets.QApplication) -> MainWindow:
    window = open_main_window(ctx, qapp)
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    return window


def team_card(window: MainWindow) -> SyncSettingsCard:
    page = window.show_section("settings")
    assert isinstance(page, SettingsPage)
    page.select_section("Team")  # one section at a time: the card is in Team
    assert page.team_sync is not None
    return page.team_sync


def create_team(qtbot: QtBot, card: SyncSettingsCard, url: str, email: str, password: str = PASSWORD) -> None:
    form = card.signed_out
    form.server.setText(url)
    form.tabs.setCurrentIndex(1)
    form.create_name.setText("Olivia Owner")
    form.create_email.setText(email)
    form.create_password.setText(password)
    form.create_repeat.setText(password)
    form.create_button.click()
    assert form.create_password.text() == "", "passwords leave the widgets"
    assert form.create_repeat.text() == ""


def wait_state(qtbot: QtBot, bridge: SyncBridge, state: SyncState, timeout: int = 20000) -> None:
    try:
        qtbot.waitUntil(lambda: bridge.status.state is state, timeout=timeout)
    except QtTimeoutError:
        # Say where the sync loop's thread is, so a state that never comes can be told from a loop that is stuck.
        frame = sys._current_frames().get(bridge.loop._thread.ident or -1)
        where = "".join(traceback.format_stack(frame)) if frame is not None else "(the sync thread has ended)"
        raise AssertionError(
            f"sync state still {bridge.status.state} after {timeout} ms, not {state}; status: {bridge.status}\n"
            f"sync thread:\n{where}"
        ) from None


# ---- signed out ---------------------------------------------------------------------------------------------------
def test_signed_out_card_checks_the_form_before_asking_the_server(qtbot: QtBot, window: MainWindow) -> None:
    card = team_card(window)
    assert card.signed_out.isVisible()
    assert not card.signed_in.isVisible()
    assert not window.sync_indicator.isVisible()
    form = card.signed_out
    assert form.device.text(), "the device name defaults to the host name"
    create_team(qtbot, card, "", "olivia@example.com")
    assert "address" in form.error.text()
    create_team(qtbot, card, "http://127.0.0.1:9", "olivia@example.com", password="short")
    assert form.error.text() == "The password must be at least 10 characters long."
    form.create_password.setText(PASSWORD)
    form.create_repeat.setText(PASSWORD + "x")
    form.create_button.click()
    assert form.error.text() == "The two passwords differ."
    assert form.create_password.text() == ""


def test_unreachable_server_is_said_inline(qtbot: QtBot, window: MainWindow) -> None:
    card = team_card(window)
    form = card.signed_out
    form.server.setText(f"http://127.0.0.1:{free_port()}")
    form.sign_in_email.setText("olivia@example.com")
    form.sign_in_password.setText(PASSWORD)
    form.sign_in_button.click()
    assert form.sign_in_password.text() == ""
    qtbot.waitUntil(form.error.isVisible, timeout=20000)
    assert form.error.text()
    assert "reach" in form.error.text().lower() or "connect" in form.error.text().lower(), form.error.text()
    assert form.sign_in_button.isEnabled()


# ---- against the server -------------------------------------------------------------------------------------------
def test_create_team_reaches_synced_then_sign_out_keeps_data(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, ctx: AppContext, server: ServerProcess
) -> None:
    ctx.store.contacts.create(name="Maya", phone="+628111111111")
    seen: list[SyncState] = []
    bridge.statusChanged.connect(lambda status: seen.append(status.state))
    card = team_card(window)
    email = unique_email("owner")
    create_team(qtbot, card, server.url, email)
    qtbot.waitUntil(lambda: window.sync_indicator.isVisible() and window.sync_indicator.text == "Synced", timeout=30000)
    assert SyncState.INITIAL in seen or SyncState.SYNCING in seen
    tip = window.sync_indicator.button.toolTip()
    assert server.url in tip
    assert ctx.business_name in tip
    assert card.signed_in.isVisible()
    assert not card.signed_out.isVisible()
    assert card.signed_in.who.text() == f"{email} (owner)"
    qtbot.waitUntil(lambda: card.signed_in.members.rowCount() == 1, timeout=10000)
    qtbot.waitUntil(lambda: card.signed_in.devices.rowCount() == 1, timeout=10000)
    first = card.signed_in.devices.item(0, 0)
    assert first is not None
    assert "(this computer)" in first.text()

    card.signed_in.sign_out_button.click()
    box = card.signed_in.confirm_box
    assert "kept" in box.text() or "stays" in box.text()
    sign_out = next(b for b in box.buttons() if b.text() == "Sign out")
    sign_out.click()
    qtbot.waitUntil(lambda: not window.sync_indicator.isVisible(), timeout=15000)
    assert bridge.status.state is SyncState.SIGNED_OUT
    assert card.signed_out.isVisible()
    assert [c.name for c in ctx.store.contacts.find_all()] == ["Maya"], "local data is kept"


def test_wrong_password_shows_the_servers_sentence(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, http: httpx.Client, server: ServerProcess
) -> None:
    email = unique_email("taken")
    signup(http, email=email)
    card = team_card(window)
    form = card.signed_out
    form.server.setText(server.url)
    form.sign_in_email.setText(email)
    form.sign_in_password.setText("not the password at all")
    form.sign_in_button.click()
    qtbot.waitUntil(form.error.isVisible, timeout=15000)
    wrong = form.error.text()
    assert "password" in wrong.lower(), wrong
    assert form.sign_in_password.text() == ""
    assert bridge.status.state is SyncState.SIGNED_OUT

    assert form.sign_in_button.isEnabled()


def signed_in_owner(qtbot: QtBot, window: MainWindow, bridge: SyncBridge, server: ServerProcess) -> str:
    email = unique_email("owner")
    create_team(qtbot, team_card(window), server.url, email)
    qtbot.waitUntil(lambda: window.sync_indicator.text == "Synced", timeout=30000)
    return email


def test_invite_shows_a_one_time_code_and_a_taken_email_is_refused(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, server: ServerProcess
) -> None:
    email = signed_in_owner(qtbot, window, bridge, server)
    panel = team_card(window).signed_in
    assert panel.invite_box.isVisible()
    panel.invite_email.setText(email)
    panel.invite_button.click()
    qtbot.waitUntil(panel.error.isVisible, timeout=10000)
    assert panel.error.text() == "This e-mail already belongs to a member of the team."
    assert not panel.code_box.isVisible()
    assert panel.invite_button.isEnabled()
    panel.invite_email.setText("sam@example.com")
    panel.invite_button.click()
    qtbot.waitUntil(panel.code_box.isVisible, timeout=10000)
    assert len(panel.invite_code.text()) >= 16
    assert "sam@example.com" in panel.code_note.text()
    panel.copy_button.click()
    clipboard = QtWidgets.QApplication.clipboard()
    assert clipboard is not None
    assert clipboard.text() == panel.invite_code.text()


def test_revoked_device_shows_a_banner(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, server: ServerProcess, http: httpx.Client
) -> None:
    email = signed_in_owner(qtbot, window, bridge, server)
    other = http.post(
        "/api/auth/login", json={"email": email, "password": PASSWORD, "device_name": "owner phone"}
    ).raise_for_status()
    session = Session.model_validate(other.json())
    devices = [DeviceInfo.model_validate(d) for d in http.get("/api/devices", headers=bearer(session)).json()]
    ours = next(d for d in devices if d.name == team_card(window).signed_out.device.text())
    http.delete(f"/api/devices/{ours.id}", headers=bearer(session)).raise_for_status()
    bridge.sync_now()
    qtbot.waitUntil(lambda: window.sync_indicator.text == "Removed from team", timeout=30000)
    card = team_card(window)
    assert card.signed_out.isVisible()
    assert card.signed_out.banner.isVisible()
    assert card.signed_out.banner.message.text()
    assert card.signed_out.tabs.currentIndex() == 0, "the sign-in form is up (the team was made on the other tab)"
    card.signed_out.tabs.setCurrentIndex(1)
    card.signed_out.banner.button.click()
    assert card.signed_out.tabs.currentIndex() == 0
    window.sync_indicator.button.click()
    assert window.current_section() == "settings"


def fill_join(dialog: JoinTeamDialog, url: str, code: str) -> None:
    dialog.server.setText(url)
    dialog.code.setText(code)
    dialog.name.setText("Sam Staff")
    dialog.password.setText(PASSWORD)
    dialog.repeat.setText(PASSWORD)
    dialog.business.setText("Acme (Sam)")


def test_join_with_an_invite_opens_a_workspace_with_the_teams_data(
    qtbot: QtBot,
    window: MainWindow,
    bridge: SyncBridge,
    ctx: AppContext,
    server: ServerProcess,
    tmp_path: Path,
) -> None:
    for i in range(30):
        ctx.store.contacts.create(name=f"Customer {i:02}", phone=f"+6281100000{i:02}")
    signed_in_owner(qtbot, window, bridge, server)
    panel = team_card(window).signed_in
    panel.invite_email.setText("sam@example.com")
    panel.invite_button.click()
    qtbot.waitUntil(panel.code_box.isVisible, timeout=10000)
    code = panel.invite_code.text()

    staff = Workspaces(tmp_path / "staff", KeyringVault(InMemoryKeyring()), kdf=KdfParams(time_cost=1, memory_kib=8192))
    tasks = TaskRunner()
    flow = StartupFlow(staff, tasks)
    dialog = flow.show_join()
    qtbot.addWidget(dialog)
    assert isinstance(dialog, JoinTeamDialog)
    progress: list[tuple[int, int, str]] = []
    dialog._progressed.connect(lambda done, total, text: progress.append((done, total, text)))
    fill_join(dialog, server.url, code)
    opened: list[OpenWorkspace] = []
    flow.opened.connect(opened.append)
    dialog.primary.click()
    assert dialog.progress.isVisible(), "progress is shown while joining"
    assert dialog.password.text() == ""
    assert dialog.repeat.text() == ""
    qtbot.waitUntil(lambda: bool(opened), timeout=60000)
    assert progress, "the download reported its progress"
    workspace = opened[0]
    try:
        assert workspace.store.org_id == ctx.store.org_id
        names = sorted(c.name for c in workspace.store.contacts.find_all())
        assert len(names) == 30
        assert names[0] == "Customer 00"
        assert workspace.header.name == "Acme (Sam)"
    finally:
        workspace.store.close()
        if flow._sync_loop is not None:
            flow._sync_loop.close()
        tasks.shutdown()


def test_join_refusal_is_shown_in_the_dialog(qtbot: QtBot, tmp_path: Path, server: ServerProcess) -> None:
    staff = Workspaces(tmp_path / "staff", KeyringVault(InMemoryKeyring()), kdf=KdfParams(time_cost=1, memory_kib=8192))
    flow = StartupFlow(staff, TaskRunner())
    dialog = flow.show_join()
    qtbot.addWidget(dialog)
    fill_join(dialog, server.url, "x" * 40)
    dialog.primary.click()
    qtbot.waitUntil(dialog.error.isVisible, timeout=15000)
    assert dialog.error.text()
    assert dialog.primary.isEnabled()
    assert staff.available() == [], "no workspace is made for a refused invite"
    if flow._sync_loop is not None:
        flow._sync_loop.close()


def test_server_down_shows_offline_then_catches_up(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, ctx: AppContext, server: ServerProcess
) -> None:
    signed_in_owner(qtbot, window, bridge, server)
    server.kill()
    try:
        ctx.store.contacts.create(name="Written offline", phone="+628122222222")
        qtbot.waitUntil(lambda: window.sync_indicator.text.startswith("Offline"), timeout=30000)
        qtbot.waitUntil(lambda: "waiting" in window.sync_indicator.text, timeout=15000)
        assert "change" in window.sync_indicator.text
    finally:
        server.start()
    bridge.sync_now()
    qtbot.waitUntil(lambda: window.sync_indicator.text == "Synced", timeout=60000)


def test_status_from_another_thread_arrives_on_the_main_thread(qtbot: QtBot, ctx: AppContext) -> None:
    credentials = Credentials(ctx.store, ctx.workspace.workspace_id, ctx.workspaces.vault.backend)
    bridge = SyncBridge()
    with qtbot.waitSignal(bridge.statusChanged, timeout=5000):  # the service's first status, as it is attached
        bridge.attach(SyncService(ctx.store, ctx.workspace.workspace_id, credentials))  # not started: quiet
    threads: list[threading.Thread] = []
    bridge.statusChanged.connect(lambda _status: threads.append(threading.current_thread()))
    worker = threading.Thread(target=lambda: bridge.publish(SYNCED))
    with qtbot.waitSignal(bridge.statusChanged, timeout=5000):
        worker.start()
    worker.join()
    assert threads == [threading.main_thread()]
    assert bridge.status is SYNCED
    bridge.close()


def test_a_status_still_queued_at_close_reaches_no_page(qtbot: QtBot, ctx: AppContext) -> None:
    """CI saw a snapshot published just before quit reach a page after its workspace had closed."""
    bridge = SyncBridge()
    seen: list[SyncStatus] = []
    bridge.statusChanged.connect(seen.append)
    bridge.publish(SYNCED)  # queued for the main thread, not delivered yet
    bridge.close()
    qtbot.wait(50)  # the queued delivery's turn
    QtWidgets.QApplication.processEvents()
    assert seen == []
    assert bridge.status is not SYNCED


def test_bootstrap_wires_sync_and_the_ai_cloud_access(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication, server: ServerProcess
) -> None:
    ctx.ai = AiService(ctx.store, ctx.settings, ProviderKeys(ctx.workspaces.vault.backend))
    ctx.sync = SyncBridge()
    start_sync(ctx, qapp)
    bridge = ctx.sync
    try:
        assert bridge.ready
        qtbot.waitUntil(lambda: bridge.status.state is SyncState.SIGNED_OUT)
        assert ctx.ai.cloud is None
        card = SyncSettingsCard(ctx, bridge)
        qtbot.addWidget(card)
        card.show()
        create_team(qtbot, card, server.url, unique_email("owner"))
        qtbot.waitUntil(lambda: bridge.status.state is SyncState.SYNCED, timeout=30000)
        ai = ctx.ai
        qtbot.waitUntil(lambda: ai.cloud is not None, timeout=10000)  # signed in: cloud mode uses the team server
        cloud = ai.cloud
        assert cloud is not None
        assert cloud.server_url == server.url
        assert cloud.token()
        card.signed_in.sign_out()
        qtbot.waitUntil(lambda: bridge.status.state is SyncState.SIGNED_OUT, timeout=15000)
        assert ctx.ai.cloud is None
    finally:
        bridge.close()


def test_first_run_and_unlock_screens_offer_joining_a_team(qtbot: QtBot, workspaces: Workspaces) -> None:
    empty = Workspaces(workspaces.home / "empty", workspaces.vault)
    flow = StartupFlow(empty, TaskRunner())
    flow.start()
    first_run = flow.dialog
    assert first_run is not None
    qtbot.addWidget(first_run)
    join_button = first_run.findChild(QtWidgets.QPushButton, "joinTeam")
    assert join_button is not None
    assert join_button.isVisible()
    join_button.click()
    dialog = flow.join_dialog
    qtbot.addWidget(dialog)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.device.text(), "the device name defaults to the host name"
    dialog.server.setText("sync.example.com")
    dialog.primary.click()
    assert dialog.error.text() == "The server address starts with https:// (or http:// on a local network)."
    dialog.reject()
    if flow._sync_loop is not None:
        flow._sync_loop.close()


def test_a_replaced_edit_shows_the_badge_and_the_conflicts_list(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, ctx: AppContext, server: ServerProcess, http: httpx.Client
) -> None:
    contact = ctx.store.contacts.create(name="Maya", phone="+628111111111")
    email = signed_in_owner(qtbot, window, bridge, server)
    seen_version = bridge.status.cursor
    ctx.store.contacts.update(contact.id, name="Maya Putri")  # this device's edit...
    bridge.sync_now()
    qtbot.waitUntil(lambda: bridge.status.pending == 0 and bridge.status.cursor > seen_version, timeout=20000)
    other = Session.model_validate(
        http.post("/api/auth/login", json={"email": email, "password": PASSWORD, "device_name": "owner phone"})
        .raise_for_status()
        .json()
    )
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    change = {"seq": 1, "table": "contacts", "id": contact.id, "op": "update"}
    push = {
        "protocol": 2,
        "known_version": seen_version,  # ...which the phone had not seen when it wrote its own
        "changes": [{**change, "data": {"name": "Maya P.", "updated_at": now_ms}}],
    }
    http.post("/api/sync/push", json=push, headers=bearer(other)).raise_for_status()
    bridge.sync_now()
    badge = window.sync_indicator.badge
    qtbot.waitUntil(badge.isVisible, timeout=20000)
    assert "1 edit replaced" in badge.text()
    badge.click()
    panel = team_card(window).signed_in
    qtbot.waitUntil(lambda: panel.conflicts.rowCount() == 1, timeout=10000)
    cells = [panel.conflicts.item(0, column) for column in range(5)]
    texts = [item.text() if item is not None else "" for item in cells]
    assert texts[2] == "name"
    assert texts[3] == "Changed on another device at the same time"
    assert "Maya P." in texts[4]
    panel.seen_button.click()
    qtbot.waitUntil(lambda: not badge.isVisible(), timeout=10000)


def click_confirm(panel: SignedInPanel, action: str) -> None:
    box = panel.confirm_box
    button = next(b for b in box.buttons() if b.text() == action)
    button.click()


def test_admin_revokes_a_device_and_removes_a_member(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, server: ServerProcess, http: httpx.Client
) -> None:
    email = signed_in_owner(qtbot, window, bridge, server)
    panel = team_card(window).signed_in
    login = {"email": email, "password": PASSWORD, "device_name": "owner phone"}
    phone = Session.model_validate(http.post("/api/auth/login", json=login).raise_for_status().json())
    panel.invite_email.setText("sam@example.com")
    panel.invite_button.click()
    qtbot.waitUntil(panel.code_box.isVisible, timeout=10000)
    accept = {"token": panel.invite_code.text(), "name": "Sam Staff", "password": PASSWORD, "device_name": "sam pc"}
    http.post("/api/invites/accept", json=accept).raise_for_status()
    panel.refresh_button.click()
    qtbot.waitUntil(lambda: panel.members.rowCount() == 2 and panel.refresh_button.text() == "Refresh", timeout=10000)
    qtbot.waitUntil(lambda: any(d.name == "owner phone" for d in panel._devices), timeout=10000)

    row = next(i for i, d in enumerate(panel._devices) if d.name == "owner phone")
    panel.devices.selectRow(row)
    panel.revoke_button.click()
    assert "owner phone" in panel.confirm_box.text()
    click_confirm(panel, "Revoke")
    qtbot.waitUntil(
        lambda: any(d.name == "owner phone" and d.revoked_at is not None for d in panel._devices), timeout=10000
    )
    assert http.get("/api/members", headers=bearer(phone)).status_code in (401, 403), "the phone is signed out"

    row = next(i for i, m in enumerate(panel._members) if m.email == "sam@example.com")
    panel.members.selectRow(row)
    panel.remove_button.click()
    click_confirm(panel, "Remove")
    qtbot.waitUntil(lambda: [m.email for m in panel._members] == [email], timeout=10000)
    assert not panel.error.isVisible()


def test_owner_changes_a_role_and_the_team_keeps_an_owner(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, server: ServerProcess, http: httpx.Client
) -> None:
    email = signed_in_owner(qtbot, window, bridge, server)
    panel = team_card(window).signed_in
    assert panel.role_box.isVisible()
    panel.invite_email.setText("ria@example.com")
    panel.invite_button.click()
    qtbot.waitUntil(panel.code_box.isVisible, timeout=10000)
    accept = {"token": panel.invite_code.text(), "name": "Ria Staff", "password": PASSWORD, "device_name": "ria pc"}
    ria = Session.model_validate(http.post("/api/invites/accept", json=accept).raise_for_status().json())
    panel.refresh_button.click()
    qtbot.waitUntil(lambda: panel.members.rowCount() == 2 and panel.refresh_button.text() == "Refresh", timeout=10000)

    row = next(i for i, m in enumerate(panel._members) if m.email == "ria@example.com")
    panel.members.selectRow(row)
    panel.new_role.setCurrentIndex(panel.new_role.findData("admin"))
    panel.role_button.click()
    qtbot.waitUntil(
        lambda: (
            [(m.email, m.role) for m in panel._members if m.email == "ria@example.com"]
            == [("ria@example.com", "admin")]
        ),
        timeout=10000,
    )
    row = next(i for i, m in enumerate(panel._members) if m.email == "ria@example.com")
    assert panel.members.item(row, 2).text() == "Admin"
    # The server holds it too: Ria may now invite, which staff may not.
    invite = http.post("/api/invites", json={"email": "kim@example.com", "role": "staff"}, headers=bearer(ria))
    assert invite.status_code == 201, invite.text

    # The only owner cannot step down: the server's sentence is shown and nothing changes.
    row = next(i for i, m in enumerate(panel._members) if m.email == email)
    panel.members.selectRow(row)
    panel.new_role.setCurrentIndex(panel.new_role.findData("staff"))
    panel.role_button.click()
    qtbot.waitUntil(panel.error.isVisible, timeout=10000)
    assert "owner" in panel.error.text()
    assert panel.role_button.isEnabled()
    assert next(m.role for m in panel._members if m.email == email) == "owner"

    # Admins and staff see no role control (only owners may change roles).
    panel.show_status(replace(bridge.service.status(), role="admin"))
    assert not panel.role_box.isVisible()


# ---- a keyring that refuses the sign-in ---------------------------------------------------------------------------
@pytest.fixture
def keyring_backend() -> RefusingKeyring:
    """The workspace's keyring for this module: a secure in-memory one that a test can lock."""
    return RefusingKeyring()


def test_create_team_with_a_locked_keyring_says_so_and_makes_nothing(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, keyring_backend: RefusingKeyring, server: ServerProcess
) -> None:
    card = team_card(window)
    form = card.signed_out
    keyring_backend.lock()
    email = unique_email("owner")
    create_team(qtbot, card, server.url, email)
    qtbot.waitUntil(form.error.isVisible, timeout=20000)
    assert form.error.text().startswith(
        "Parley cannot keep the sign-in in the system keyring (it is locked), so the team was not created."
    ), form.error.text()
    assert form.save_row.isHidden(), "nothing was made on the server, so there is nothing to save"
    assert card.signed_out.isVisible()
    assert bridge.status.state is SyncState.SIGNED_OUT
    keyring_backend.unlock()
    create_team(qtbot, card, server.url, email)  # the same e-mail: no team was made the first time
    qtbot.waitUntil(lambda: window.sync_indicator.text == "Synced", timeout=30000)
    assert card.signed_in.who.text() == f"{email} (owner)"


def test_create_team_whose_sign_in_the_keyring_refuses_offers_to_save_it_without_a_second_team(
    qtbot: QtBot,
    window: MainWindow,
    bridge: SyncBridge,
    ctx: AppContext,
    keyring_backend: RefusingKeyring,
    server: ServerProcess,
) -> None:
    populate(ctx.store, chats=3, messages=9, seed=5)  # seeded staff users too: their roles are the server's to set
    card = team_card(window)
    form = card.signed_out
    keyring_backend.lock(after=1)  # Parley's check passes; the keyring locks before the real save
    email = unique_email("owner")
    create_team(qtbot, card, server.url, email)
    qtbot.waitUntil(form.error.isVisible, timeout=20000)
    assert form.error.text().startswith(
        "The team was created, but Parley could not save the sign-in to the system keyring (it is locked)."
    ), form.error.text()
    assert "Save sign-in" in form.error.text()
    assert form.save_row.isVisible()
    assert card.signed_out.isVisible(), "no 'Signed in as —' for a sign-in that is not kept"
    assert not card.signed_in.isVisible()
    assert not window.sync_indicator.isVisible()

    form.error.setText("")
    form.save_button.click()  # still locked: said again, still offered
    qtbot.waitUntil(lambda: form.error.text() != "", timeout=20000)
    assert "could not save the sign-in" in form.error.text()
    assert form.save_row.isVisible()

    keyring_backend.unlock()
    form.save_button.click()
    qtbot.waitUntil(lambda: window.sync_indicator.text == "Synced", timeout=30000)
    assert card.signed_in.isVisible()
    assert card.signed_in.who.text() == f"{email} (owner)"
    qtbot.waitUntil(lambda: card.signed_in.devices.rowCount() == 1, timeout=10000)
    assert window.sync_indicator.badge.isHidden(), "the first upload replaced nobody's edit"
    assert bridge.status.unseen_conflicts == 0


def test_join_whose_sign_in_the_keyring_refuses_is_saved_from_the_dialog(
    qtbot: QtBot, window: MainWindow, bridge: SyncBridge, server: ServerProcess, tmp_path: Path
) -> None:
    signed_in_owner(qtbot, window, bridge, server)
    panel = team_card(window).signed_in
    panel.invite_email.setText("sam@example.com")
    panel.invite_button.click()
    qtbot.waitUntil(panel.code_box.isVisible, timeout=10000)
    keyring = RefusingKeyring()
    keyring.lock(after=2)  # the check and the new workspace's key go in; the sign-in does not
    staff = Workspaces(tmp_path / "staff", KeyringVault(keyring), kdf=KdfParams(time_cost=1, memory_kib=8192))
    tasks = TaskRunner()
    flow = StartupFlow(staff, tasks)
    dialog = flow.show_join()
    qtbot.addWidget(dialog)
    fill_join(dialog, server.url, panel.invite_code.text())
    opened: list[OpenWorkspace] = []
    flow.opened.connect(opened.append)
    dialog.primary.click()
    qtbot.waitUntil(dialog.error.isVisible, timeout=30000)
    assert dialog.error.text().startswith("You joined the team, but Parley could not save the sign-in"), (
        dialog.error.text()
    )
    assert dialog.primary.text() == "Save sign-in"
    keyring.unlock()
    dialog.primary.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=60000)
    try:
        assert opened[0].store.org_id == window.ctx.store.org_id
        assert opened[0].store.meta("sync.device_id") is not None
    finally:
        opened[0].store.close()
        if flow._sync_loop is not None:
            flow._sync_loop.close()
        tasks.shutdown()
