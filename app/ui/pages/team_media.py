"""Settings › Team › "Media sharing": the owner's switch for sending the team's media bytes through its server.

Photos, voice notes and documents are kept on the computer that received them (the one holding the WhatsApp
session); devices have no path to each other, so a teammate's Parley can show them only if they go through the team
server. That sends customers' media where it did not go before, so it is off until the owner turns it on
(docs/sync.md, "Media"). Every member sees the switch, the space used and the quota; only the owner can change it.

Calls run on the sync loop through ``SyncBridge.call``; answers come back on the main thread.
"""

from __future__ import annotations

from app.qt import Qt, QtWidgets
from app.sync.protocol import MediaSettings
from app.sync.status import SyncState, SyncStatus
from app.ui import kit
from app.ui.sync_bridge import SyncBridge

WHAT_IT_DOES = (
    "When this is on, photos, voice notes and documents your team receives are sent, encrypted, to the team's "
    "server so teammates' Parley can show them; turning it off removes them from the server."
)


def size_text(size: int) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    return f"{size / 1024**2:.1f} MB"


class TeamMediaCard(kit.Card):
    def __init__(self, bridge: SyncBridge, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Media sharing", parent)
        self.bridge = bridge
        self.settings: MediaSettings | None = None
        self._loaded_for: tuple[str | None, str | None] | None = None
        self.loads = 0  # answers received (read or saved), for whoever waits on one

        self.switch = QtWidgets.QCheckBox("Share media through the team server")
        self.switch.setEnabled(False)
        self.switch.toggled.connect(self._toggled)
        self.body.addWidget(self.switch)
        self.body.addWidget(kit.note(WHAT_IT_DOES))
        self.usage = kit.note("")
        self.body.addWidget(self.usage)
        self.role_note = kit.note("Only the team's owner can change this.", "hint")
        self.body.addWidget(self.role_note)
        self.error = kit.note("", "error")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.body.addWidget(self.error)
        self._owner = False
        bridge.statusChanged.connect(self.show_status)
        self.show_status(bridge.status)

    def show_status(self, status: SyncStatus) -> None:
        self.setVisible(status.signed_in)
        if not status.signed_in:
            self._loaded_for = None
            return
        self._owner = status.role == "owner"
        self.role_note.setVisible(not self._owner)
        key = (status.server_url, status.email)
        if self._loaded_for != key and status.state is SyncState.SYNCED:
            self._loaded_for = key
            self.load()

    def load(self) -> None:
        self.error.hide()
        self.bridge.call("Read media sharing", self.bridge.service.media_settings, self._show, self._failed, owner=self)

    def _show(self, settings: MediaSettings) -> None:
        self.settings = settings
        self._apply(settings)
        self.loads += 1

    def _apply(self, settings: MediaSettings) -> None:
        self.switch.blockSignals(True)
        self.switch.setChecked(settings.enabled)
        self.switch.blockSignals(False)
        self.switch.setEnabled(self._owner)
        self.usage.setText(
            f"Using {size_text(settings.used_bytes)} of {size_text(settings.quota_bytes)} on the server."
            if settings.enabled
            else "Off: media stays on the computer that received it."
        )

    def _toggled(self, enabled: bool) -> None:
        self.switch.setEnabled(False)
        self.error.hide()
        service = self.bridge.service
        self.bridge.call(
            "Save media sharing", lambda: service.set_media_sharing(enabled), self._show, self._failed, owner=self
        )

    def _failed(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        if self.settings is not None:
            self._apply(self.settings)  # the switch shows what the server has
        else:
            self.switch.setEnabled(False)
        self.loads += 1
