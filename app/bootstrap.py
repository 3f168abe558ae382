"""Builds every service once and wires them together (house rule 7): no globals, no service locator.

``run_desktop`` owns the QApplication and Qt's event loop, the one ``TaskRunner`` (worker pool + the service loop
every coroutine runs on, ``app.ui.tasks``) and the one ordered ``Shutdown`` that every way out ends in (window
closed, Quit, SIGTERM/SIGINT; ``app.ui.shutdown``). The log line ``inbox ready`` marks the moment the first page of
chats is on screen; the start-up benchmark waits for it.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from typing import TYPE_CHECKING

import keyring

from app import logs
from app.ai.keys import provider_keys
from app.ai.service import AiService
from app.core.events import Event, MessageQueued, MessageStatusChanged
from app.core.loops import SERVICE_THREAD, LoopThread
from app.qt import QtCore, QtGui, QtWidgets
from app.store.keyring_vault import KeyringVault
from app.store.paths import resolve_home
from app.store.switcher import SwitchTarget
from app.store.workspaces import Workspaces
from app.thumbnails import make_thumbnail
from app.ui import theme
from app.ui.context import AppContext, Changes
from app.ui.health_watch import HealthWatch, start_health
from app.ui.main_window import MainWindow
from app.ui.pages.inbox import InboxPage
from app.ui.quick_switcher import install_quick_switcher
from app.ui.sections import SECTIONS
from app.ui.shutdown import Shutdown, Stage, install_signal_handlers
from app.ui.startup import OpenWorkspace, StartupFlow
from app.ui.sync_bridge import SyncBridge, SyncLoop
from app.ui.tasks import TaskRunner
from app.ui.tray import Tray

if TYPE_CHECKING:
    from app.ai.cloud import CloudAccess
    from app.sync.status import SyncStatus
    from app.whatsapp.host import WhatsAppHost

log = logging.getLogger("parley")
STARTED = time.perf_counter()


def build_context(workspaces: Workspaces, tasks: TaskRunner, opened: OpenWorkspace) -> AppContext:
    changes = Changes()
    opened.store.bus.subscribe(Event, changes.forward)
    settings = opened.store.settings
    return AppContext(
        store=opened.store,
        tasks=tasks,
        settings=settings,
        workspaces=workspaces,
        workspace=opened,
        changes=changes,
        ai=AiService(opened.store, settings, provider_keys(workspaces, opened.store), loop=tasks.service_loop),
        # The service is attached after the first paint (start_sync); it runs on the one service loop.
        sync=SyncBridge(loop=SyncLoop(tasks)),
    )


def start_ai(ctx: AppContext, app: QtWidgets.QApplication, shutdown: Shutdown | None = None) -> None:
    """After the window is up: with AI replies on, import litellm now on a worker of the pool (seconds, ~180 MB) so
    the first suggestion does not wait for it (with AI off it is never imported); and start the analysis of
    incoming messages on the service loop, which acts only while its setting is on."""
    if ctx.ai is None:
        return
    ctx.ai.loader.use(ctx.tasks.pool)
    if ctx.ai.config().mode != "off":
        ctx.ai.loader.start()
    from app.ai.inbound import InboundAnalysis

    inbound = InboundAnalysis(ctx.ai, loop=ctx.tasks.service_loop)
    inbound.start()
    if shutdown is not None:
        shutdown.add(Stage.AGENTS, "the analysis of incoming messages", inbound.close)


def start_agents(ctx: AppContext, shutdown: Shutdown | None = None) -> None:
    """After the window is up: the orchestrator (the agents on the durable event log) and the durable jobs' runner,
    both on the one service loop; they stop first at shutdown (a run in flight runs again on the next start).

    The agents that exist are registered here, and their job kinds on the registry, before either starts
    (docs/architecture.md, "Agents")."""
    from app.agents import acquisition, finance, retention
    from app.agents.greetings import GreetingsAgent
    from app.agents.job_kinds import JobKinds
    from app.agents.jobs_runner import JobRunner
    from app.agents.orchestrator import Orchestrator
    from app.campaigns import runner as campaigns
    from app.campaigns.replies import OptOutAgent
    from app.core.events import RevenueDropped
    from app.store import sending_device
    from app.ui.tasks import logged_only

    store = ctx.store
    kinds = JobKinds()

    def tell(alert: finance.DropAlert) -> None:  # on the jobs runner: an event, which the tray shows
        store.emit(
            RevenueDropped(
                org_id=store.org_id, day=alert.day.isoformat(), currency=alert.currency, sentence=alert.sentence
            )
        )

    money = finance.build(store, kinds, notify=tell)  # registers its job kinds (the daily revenue check, its alerts)
    campaigns.build(store, kinds)  # registers the campaigns' step job (shared: runs where the number is held)
    orchestrator = Orchestrator(
        store,
        [
            money,
            GreetingsAgent(),
            retention.build(store, kinds, ai=getattr(ctx, "ai", None)),
            *acquisition.agents(getattr(ctx, "ai", None)),
            OptOutAgent(),  # an exact opt-out word opts the contact out of campaigns and follow-ups (issue 19)
        ],
        loop=ctx.tasks.service_loop,
    )
    jobs = JobRunner(
        store.jobs, kinds, loop=ctx.tasks.service_loop, holds_whatsapp=lambda: sending_device.runs_sending_jobs(store)
    )
    orchestrator.start()
    jobs.start()
    ctx.agents = orchestrator  # the Agents page's dry run uses the same agents
    # Yesterday's and today's revenue checks (idempotent writes: on the pool, then the runner looks at once).
    ctx.tasks.start(
        "Schedule the revenue checks", money.ensure_scheduled, lambda _none: jobs.poke(), logged_only, quiet=True
    )
    if shutdown is not None:
        shutdown.add(Stage.AGENTS, "the agents", orchestrator.close)
        shutdown.add(Stage.AGENTS, "the scheduled jobs", jobs.close)


def start_sync(ctx: AppContext, app: QtWidgets.QApplication, shutdown: Shutdown | None = None) -> None:
    """After the window is up: build the workspace's sync service and start it on the sync loop. Signed out it only
    reports SIGNED_OUT (no network); signed in it syncs. While signed in, the AI's cloud mode uses the team server."""
    bridge = ctx.sync
    if bridge is None:
        return
    from app.sync.credentials import Credentials
    from app.sync.service import SyncService

    workspace_id = ctx.workspace.workspace_id
    credentials = Credentials(ctx.store, workspace_id, ctx.workspaces.vault.backend)
    service = SyncService(ctx.store, workspace_id, credentials)

    seen: list[object] = []  # the account last seen, to look it up again only when it changes

    def follow(status: SyncStatus) -> None:
        key = (status.signed_in, status.server_url, status.email, status.org_name)
        if ctx.ai is None or seen == [key]:
            return
        seen[:] = [key]
        if status.signed_in:
            ctx.tasks.start("Team server AI access", service.cloud_access, ai_access)  # reads the account: a worker
        else:
            ctx.ai.cloud = None

    def ai_access(access: CloudAccess | None) -> None:
        if ctx.ai is not None and bridge.status.signed_in:
            ctx.ai.cloud = access

    bridge.statusChanged.connect(follow)
    bridge.attach(service)
    bridge.start(on_error=lambda message: log.warning("team sync did not start: %s", message))
    if shutdown is not None:
        shutdown.add(Stage.SYNC, "team sync", bridge.close)


def open_main_window(ctx: AppContext, app: QtWidgets.QApplication) -> MainWindow:
    theme.apply(app, ctx.settings.appearance.theme)
    ctx.health = HealthWatch(ctx)  # before the window: its banner and the tray listen to it
    window = MainWindow(ctx, SECTIONS)
    window.tray = Tray(ctx, window)  # type: ignore[attr-defined]
    inbox = window.pages.get("inbox")
    viewport = getattr(inbox, "list", None)
    if isinstance(viewport, QtWidgets.QAbstractScrollArea):
        window.ready_probe = FirstPaint(viewport.viewport(), window)  # type: ignore[attr-defined]
    install_quick_switcher(window, ctx, lambda target: go_to(window, target))
    window.shortcut_guard = ShortcutGuard(  # type: ignore[attr-defined]
        window, QtCore.QKeyCombination(QtCore.Qt.KeyboardModifier.ControlModifier, QtCore.Qt.Key.Key_K)
    )
    window.show()
    return window


def start_whatsapp(ctx: AppContext, app: QtWidgets.QApplication, shutdown: Shutdown | None = None) -> WhatsAppHost:
    """Start the WhatsApp service for the open workspace (connecting at once when a phone is linked and the setting
    says so) and attach it to the UI. Called after the first paint: Playwright's import stays off the start-up path.
    """
    from app.campaigns.pace import stricter_for
    from app.whatsapp.config import ServiceConfig, service_config
    from app.whatsapp.host import WhatsAppHost
    from app.whatsapp.profile import load_profile

    paths = ctx.workspaces.paths(ctx.workspace.workspace_id)

    def configured() -> ServiceConfig:  # quiet hours are in the business's time zone (the org's, synced)
        return service_config(ctx.settings, zone=ctx.store.orgs.get(ctx.store.org_id).timezone)

    host = WhatsAppHost(
        ctx.store,
        load_profile(paths.root),
        paths.browser_profiles / "main",
        configured(),
        ctx.whatsapp.publish,
        stricter=stricter_for(ctx.store),  # a campaign's pace, only ever stricter than the number's
    )
    linked = ctx.settings.internal.whatsapp_linked
    host.start(connect=linked and ctx.settings.whatsapp.connect_on_start)
    ctx.whatsapp.attach(host)

    def settings_changed(tables: frozenset[str]) -> None:
        if "settings" in tables or "orgs" in tables:
            host.reconfigure(configured())

    def queue_changed(event: Event) -> None:
        if isinstance(event, MessageQueued) or (isinstance(event, MessageStatusChanged) and event.status == "queued"):
            host.queue_changed()

    ctx.changes.changed.connect(settings_changed)
    ctx.changes.core_event.connect(queue_changed)
    if shutdown is not None:
        shutdown.add(Stage.WHATSAPP, "WhatsApp", host.close)
        shutdown.add(Stage.WHATSAPP, "the WhatsApp status", ctx.whatsapp.close)
    return host


def go_to(window: MainWindow, target: SwitchTarget) -> None:
    """Open what the quick switcher picked: a chat in the inbox, a contact, or a deal's pipeline."""
    if target.kind == "chat" and target.chat_id:
        inbox = window.show_section("inbox")
        if isinstance(inbox, InboxPage):
            inbox.open_chat(target.chat_id)
    elif target.kind == "contact":
        from app.ui.pages.contacts import ContactsPage  # built (and imported) on first visit only

        contacts = window.show_section("contacts")
        if isinstance(contacts, ContactsPage):
            contacts.select_contact(target.id)
    elif target.kind == "deal":
        window.show_section("pipeline")


class ShortcutGuard(QtCore.QObject):
    """Lets an app-wide shortcut win over a text field's own binding (Ctrl+K deletes to line end in Qt's edits)."""

    def __init__(self, window: QtWidgets.QMainWindow, combination: QtCore.QKeyCombination) -> None:
        super().__init__(window)
        self._window = window
        self._combo = combination.toCombined()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and isinstance(event, QtGui.QKeyEvent):
            combined = event.keyCombination().toCombined()
            if combined == self._combo and isinstance(watched, QtWidgets.QWidget) and watched.window() is self._window:
                event.ignore()
                return True  # the edit never claims the key, so the window's shortcut fires
        return False


class FirstPaint(QtCore.QObject):
    """Logs ``inbox ready`` once the chat list has painted its first page (the start-up benchmark waits for it)."""

    def __init__(self, target: QtWidgets.QWidget, parent: QtCore.QObject) -> None:
        super().__init__(parent)
        self._target = target
        target.installEventFilter(self)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self._target and event.type() == QtCore.QEvent.Type.Paint:
            self._target.removeEventFilter(self)
            QtCore.QTimer.singleShot(0, self._ready)
        return False

    def _ready(self) -> None:
        log.info("inbox ready: first page painted %.0f ms after start", (time.perf_counter() - STARTED) * 1000)


def run_desktop(args: argparse.Namespace) -> int:
    logs.setup()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv)
    assert isinstance(app, QtWidgets.QApplication)
    app.setApplicationName("Parley")
    app.setOrganizationName("Parley")
    app.setQuitOnLastWindowClosed(True)
    install_signal_handlers(app)  # SIGTERM/SIGINT end the event loop; the shutdown below runs as for any quit
    theme.apply(app, "system")

    home = resolve_home(args.home)
    workspaces = Workspaces(home, KeyringVault(keyring.get_keyring()), thumbnailer=make_thumbnail)
    tasks = TaskRunner(loop=LoopThread(SERVICE_THREAD))  # the one service loop: sync, AI, inbound analysis
    shutdown = Shutdown(tasks)
    flow = StartupFlow(workspaces, tasks)
    windows: list[MainWindow] = []  # held here: Qt does not keep a parentless window alive for Python

    def opened(workspace: OpenWorkspace) -> None:
        logs.log_to(workspaces.paths(workspace.workspace_id).logs)
        log.info("workspace %s open", workspace.workspace_id)
        ctx = build_context(workspaces, tasks, workspace)
        shutdown.add(Stage.STORE, "the workspace", ctx.store.close)
        windows.append(open_main_window(ctx, app))
        # What start-up built lives as long as the app: out of the collector's way, a full collection no longer
        # walks it (one took 50-85 ms, stalling the UI under a stream of messages; bench/inbox_stall_bench.py).
        gc.freeze()
        QtCore.QTimer.singleShot(0, lambda: start_whatsapp(ctx, app, shutdown))
        QtCore.QTimer.singleShot(0, lambda: start_ai(ctx, app, shutdown))
        QtCore.QTimer.singleShot(0, lambda: start_agents(ctx, shutdown))
        QtCore.QTimer.singleShot(0, lambda: start_sync(ctx, app, shutdown))
        QtCore.QTimer.singleShot(0, lambda: start_health(ctx, shutdown))

    flow.opened.connect(opened)
    flow.cancelled.connect(lambda: QtCore.QTimer.singleShot(0, app.quit))  # also when cancelled before exec
    flow.start()
    app.exec()
    shutdown.run()
    return 0
