"""What every page is given: the open workspace's services, built once in bootstrap (house rule 7).

``Changes`` tells views what changed. Nobody announces it: the store derives the tables each committed write
transaction touched and publishes ``TablesChanged`` on its bus (from whichever thread committed: a worker, the sync
loop, the WhatsApp host); ``Changes`` gathers those and emits ``changed`` once on the main thread, so widgets are
only touched there. Other core events are forwarded as ``core_event`` the same way. The WhatsApp connection reaches
pages through ``WhatsAppBridge``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.core.events import Event, TablesChanged
from app.core.settings import Settings
from app.qt import Qt, QtCore, QtWidgets, Signal
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.ui.startup import OpenWorkspace
from app.ui.tasks import TaskRunner
from app.ui.whatsapp_bridge import WhatsAppBridge

if TYPE_CHECKING:
    from app.agents.orchestrator import Orchestrator
    from app.ai.service import AiService
    from app.ui.health_watch import HealthWatch
    from app.ui.sync_bridge import SyncBridge


class Changes(QtCore.QObject):
    """Table names that changed, derived by the store; views listen for the ones they show.

    Commits from any thread are gathered and delivered as one ``changed`` per turn of the main loop, always queued
    (never inside the writer's call), so a burst of writes costs each view one refresh.
    """

    changed = Signal(object)  # frozenset[str], on the main thread
    # Just before ``changed`` when chats, messages or notes changed: the chat ids (frozenset[str]), or None for "any".
    chats_changed = Signal(object)
    core_event = Signal(object)  # a core Event, delivered on the main thread
    _pending_ready = Signal()

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._pending_chats: set[str] | None = set()
        self._pending_ready.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def forward(self, event: Event) -> None:
        """Bus handler (any thread): table changes are gathered for ``changed``, other events re-emitted."""
        if isinstance(event, TablesChanged):
            with self._lock:
                first = not self._pending
                self._pending |= event.tables
                if event.chat_ids is None or self._pending_chats is None:
                    self._pending_chats = None
                else:
                    self._pending_chats |= event.chat_ids
            if first:
                self._pending_ready.emit()
            return
        self.core_event.emit(event)

    def _deliver(self) -> None:
        with self._lock:
            tables, self._pending = frozenset(self._pending), set()
            chats, self._pending_chats = self._pending_chats, set()
        if not tables:
            return
        if chats is None or chats:
            self.chats_changed.emit(None if chats is None else frozenset(chats))
        self.changed.emit(tables)


class StaleWhenHidden(QtCore.QObject):
    """A view's refresh that runs now while the view is on screen, and when it is next shown otherwise.

    Hidden pages (another section, a collapsed panel) do not re-read the store on every change: they remember the
    tables they missed and refresh once, when shown. ``tables`` are the ones the view shows. A child of the widget,
    so its connection ends when Qt deletes the widget.
    """

    def __init__(
        self,
        widget: QtWidgets.QWidget,
        changes: Changes,
        tables: frozenset[str],
        refresh: Callable[[frozenset[str]], None],
    ) -> None:
        super().__init__(widget)
        self.widget = widget
        self.tables = tables
        self.refresh = refresh
        self.missed: set[str] = set()
        changes.changed.connect(self._changed)
        widget.installEventFilter(self)

    @property
    def stale(self) -> bool:
        return bool(self.missed)

    def _changed(self, tables: frozenset[str]) -> None:
        hit = tables & self.tables
        if not hit:
            return
        if self.widget.isVisible():
            self.refresh(hit)
        else:
            self.missed |= hit

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.widget and event.type() == QtCore.QEvent.Type.Show and self.missed:
            missed, self.missed = frozenset(self.missed), set()
            self.refresh(missed)
        return False


@dataclass
class AppContext:
    store: Store
    tasks: TaskRunner
    settings: Settings
    workspaces: Workspaces
    workspace: OpenWorkspace
    changes: Changes
    # Status in, commands out; bootstrap attaches the supervisor. A default keeps a context without WhatsApp whole.
    whatsapp: WhatsAppBridge = field(default_factory=WhatsAppBridge)
    # AI calls for this workspace (provider chain, keys, log); bootstrap builds it. None in contexts without AI.
    ai: AiService | None = None
    # Team sync status and actions for this workspace; bootstrap builds it. None in contexts without sync.
    sync: SyncBridge | None = None
    # The health monitor's runs and alerts (app.ui.health_watch); bootstrap makes it with the window. None in tests.
    health: HealthWatch | None = None
    # The agents' orchestrator (the Agents page's "Try on this chat"); bootstrap sets it once the agents start.
    agents: Orchestrator | None = None

    @property
    def business_name(self) -> str:
        """The org row's name (renamed here or by a teammate), else the header's (a workspace still being made)."""
        org = self.store.orgs.find(self.store.org_id)
        return org.name if org is not None and org.name else self.workspace.header.name
