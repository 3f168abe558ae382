"""What every page is given: the open workspace's services, built once in bootstrap (house rule 7).

``Changes`` is how the UI announces what it changed so other views refresh; core events published on the bus
(possibly from a worker thread) are forwarded to it as queued Qt signals, so widgets are only touched on the main
thread. The WhatsApp connection reaches pages the same way, through ``WhatsAppBridge``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.core.events import Event, MessageQueued, MessageReceived, MessageStatusChanged
from app.core.settings import Settings
from app.qt import QtCore, Signal
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.ui.startup import OpenWorkspace
from app.ui.tasks import TaskRunner
from app.ui.whatsapp_bridge import WhatsAppBridge

if TYPE_CHECKING:
    from app.ai.service import AiService
    from app.ui.sync_bridge import SyncBridge


class Changes(QtCore.QObject):
    """Table names that changed; views listen for the ones they show."""

    changed = Signal(object)  # frozenset[str]
    core_event = Signal(object)  # a core Event, delivered on the main thread

    def announce(self, *tables: str) -> None:
        self.changed.emit(frozenset(tables))

    def forward(self, event: Event) -> None:
        self.core_event.emit(event)
        if isinstance(event, MessageReceived | MessageQueued | MessageStatusChanged):
            self.changed.emit(frozenset({"messages", "chats"}))


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

    @property
    def business_name(self) -> str:
        return self.workspace.header.name
