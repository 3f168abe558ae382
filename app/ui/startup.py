"""From launch to an open workspace: create one on first run, unlock it, or open it straight from the keyring.

Opening runs off the UI thread (Argon2id and migrations take a moment); errors come back as the typed messages of
``app.core.errors`` and the user can try again without restarting.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import ParleyError, describe
from app.qt import QtCore, QtWidgets, Signal
from app.store.header import WorkspaceHeader
from app.store.paths import atomic_write
from app.store.store import Store
from app.store.workspaces import Workspaces, needs_passphrase
from app.ui.dialogs.create_workspace import CreateRequest, CreateWorkspaceDialog
from app.ui.dialogs.form_dialog import FormDialog, secondary_button
from app.ui.dialogs.unlock import UnlockDialog
from app.ui.dialogs.unusable_workspaces import UnusableWorkspacesDialog
from app.ui.sync_bridge import SyncLoop
from app.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from app.ui.dialogs.join_team import JoinTeamDialog

log = logging.getLogger(__name__)


@dataclass
class OpenWorkspace:
    workspace_id: str
    header: WorkspaceHeader
    store: Store


class StartupFlow(QtCore.QObject):
    opened = Signal(object)  # OpenWorkspace
    cancelled = Signal()

    def __init__(self, workspaces: Workspaces, tasks: TaskRunner, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.workspaces = workspaces
        self.tasks = tasks
        self.dialog: QtWidgets.QDialog | None = None
        # Made on the first "Join a team": joining runs on the runner's one service loop, which the open workspace's
        # sync then shares (no second loop is left running after the join).
        self._sync_loop: SyncLoop | None = None

    # ---- choosing --------------------------------------------------------------------------------------------
    def start(self) -> None:
        try:
            self.workspaces.sweep()  # what a crash left: unfinished workspaces, backup and restore scratch files
        except OSError:
            log.warning("could not clean up after an earlier crash", exc_info=True)
        headers = self.workspaces.available()
        unusable = self.workspaces.unusable()
        if unusable:
            log.warning("%d workspace folder(s) cannot be opened", len(unusable))
            dialog = UnusableWorkspacesDialog(unusable, others=bool(headers))
            dialog.proceed.connect(lambda: self._choose(headers))
            dialog.rejected.connect(self.cancelled.emit)
            self._present(dialog)
            return
        self._choose(headers)

    def _choose(self, headers: list[WorkspaceHeader]) -> None:
        if isinstance(self.dialog, UnusableWorkspacesDialog):
            self.dialog.accept()  # not close(): that would reject it, which means "quit"
            self.dialog = None
        if not headers:
            log.info("first run: asking for a new workspace")
            self._show_create()
            return
        last = self._last_used()
        headers.sort(key=lambda h: (h.workspace_id != last, h.name.lower()))
        first = headers[0]
        if not needs_passphrase(first):
            self._open_keyring(first)
        else:
            self._show_unlock([h for h in headers if needs_passphrase(h)])

    def _state_file(self) -> Path:
        return self.workspaces.home / "state.json"

    def _last_used(self) -> str | None:
        try:
            value = json.loads(self._state_file().read_text()).get("last_workspace")
        except (OSError, ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None

    def _remember(self, workspace_id: str) -> None:
        self.workspaces.home.mkdir(parents=True, exist_ok=True)
        atomic_write(self._state_file(), json.dumps({"last_workspace": workspace_id}).encode())

    # ---- creating --------------------------------------------------------------------------------------------
    def _show_create(self) -> None:
        vault = self.workspaces.vault
        dialog = CreateWorkspaceDialog(keyring_available=vault.secure, keyring_name=vault.name)
        dialog.submitted.connect(self._create)
        dialog.rejected.connect(self.cancelled.emit)
        self._offer_join(dialog)
        self._present(dialog)

    def _create(self, request: CreateRequest) -> None:
        dialog = self.dialog
        assert isinstance(dialog, CreateWorkspaceDialog)
        dialog.set_busy(True)

        def create() -> Store:
            return self.workspaces.create(
                request.business_name,
                request.owner_name,
                owner_email=request.owner_email,
                passphrase=request.passphrase.get_secret_value() if request.passphrase else None,
            )

        self.tasks.start("Creating the workspace", create, self._finish, dialog.show_error)

    # ---- unlocking -------------------------------------------------------------------------------------------
    def _show_unlock(self, headers: list[WorkspaceHeader]) -> None:
        dialog = UnlockDialog(headers)
        dialog.submitted.connect(self._unlock)
        dialog.rejected.connect(self.cancelled.emit)
        self._offer_join(dialog)
        self._present(dialog)

    def _unlock(self, workspace_id: str, passphrase: str) -> None:
        dialog = self.dialog
        assert isinstance(dialog, UnlockDialog)
        self.tasks.start(
            "Unlocking",
            lambda: self.workspaces.open(workspace_id, passphrase=passphrase),
            self._finish,
            dialog.show_error,
        )

    def _open_keyring(self, header: WorkspaceHeader) -> None:
        def failed(message: str) -> None:
            box = QtWidgets.QMessageBox(
                QtWidgets.QMessageBox.Icon.Warning, "Parley cannot open your workspace", message
            )
            retry = box.addButton("Try again", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Quit", QtWidgets.QMessageBox.ButtonRole.RejectRole)
            box.exec()
            if box.clickedButton() is retry:
                self._open_keyring(header)
            else:
                self.cancelled.emit()

        self.tasks.start("Opening", lambda: self.workspaces.open(header.workspace_id), self._finish, failed)

    # ---- joining a team ----------------------------------------------------------------------------------------
    def _offer_join(self, dialog: FormDialog) -> None:
        """A "Join a team with an invite" button beside the dialog's way out (first run and the unlock screen)."""
        button = secondary_button("Join a team with an invite…")
        button.setObjectName("joinTeam")
        button.clicked.connect(self.show_join)
        outer = dialog.layout()
        for row in outer.findChildren(QtWidgets.QHBoxLayout) if outer is not None else []:
            if row.indexOf(dialog.cancel_button) >= 0:
                row.insertWidget(0, button)
                break
        dialog.join_button = button  # type: ignore[attr-defined]

    def show_join(self) -> JoinTeamDialog:
        from app.ui.dialogs.join_team import JoinTeamDialog

        if self._sync_loop is None:
            self._sync_loop = SyncLoop(self.tasks, self)
        back = self.dialog
        dialog = JoinTeamDialog(self.workspaces, self._sync_loop, back)
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.joined.connect(lambda store: self._joined(dialog, store))
        self.join_dialog = dialog
        dialog.open()
        return dialog

    def _joined(self, dialog: JoinTeamDialog, store: Store) -> None:
        dialog.accept()
        self._finish(store)

    # ---- done ------------------------------------------------------------------------------------------------
    def _finish(self, store: Store) -> None:
        workspace_id = store.meta("workspace_id") or ""
        try:
            header = self.workspaces.header(workspace_id)
            self._remember(workspace_id)
        except (ParleyError, OSError) as exc:
            store.close()
            if self.dialog is not None and hasattr(self.dialog, "show_error"):
                self.dialog.show_error(describe(exc, doing="opening the workspace", logger=log))
            return
        if self.dialog is not None:
            self.dialog.accept()
            self.dialog = None
        self.opened.emit(OpenWorkspace(workspace_id, header, store))

    def _present(self, dialog: QtWidgets.QDialog) -> None:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
