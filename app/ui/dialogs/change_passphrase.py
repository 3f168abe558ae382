"""Changing how the workspace key is protected: a new passphrase, or back to the system keyring.

The database is re-encrypted under a fresh key (``Workspaces.change_protection``), which takes a moment and must
not freeze the window, so it runs on a worker. When a passphrase protects the workspace today it has to be typed
first: it is checked against the header's verifier (Argon2id, also on the worker) before anything changes, so a
wrong one changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.errors import WrongPassphrase
from app.qt import QtWidgets, Signal
from app.store import keys
from app.store.header import WorkspaceHeader
from app.store.keyring_vault import keyring_label
from app.store.keys import MIN_PASSPHRASE
from app.ui.context import AppContext
from app.ui.dialogs.backup_dialogs import TaskDialog
from app.ui.kit import note, password_field


def protection_text(header: WorkspaceHeader) -> str:
    """How the key is protected, for people: "Passphrase (Argon2id)" or the keyring that holds it, by its name
    ("Secret Service"), never the backend's class path."""
    if header.key.mode == "passphrase":
        return "Passphrase (Argon2id)"
    return f"System keyring ({keyring_label(header.key.keyring_backend or '')})"


class ChangePassphraseDialog(TaskDialog):
    task_name = "Changing the workspace key"
    changed = Signal(object)  # the new WorkspaceHeader

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, "Change passphrase", "Change", parent)
        self.header = ctx.workspaces.header(ctx.workspace.workspace_id)
        self.needs_current = self.header.key.mode == "passphrase"
        # Back to the keyring is offered from a passphrase, and only with a keyring that really protects secrets.
        self.keyring_offered = self.needs_current and ctx.workspaces.vault.secure
        now = note(f"The key is protected by: {protection_text(self.header)}.")
        self.current = password_field("The passphrase you type when Parley starts")
        self.use_keyring = QtWidgets.QCheckBox("Keep the key in the system keyring instead")
        self.new = password_field(f"At least {MIN_PASSPHRASE} characters")
        self.confirm = password_field("Type it again")
        warning = note("There is no way to recover a forgotten passphrase. Keep a backup.", "hint")
        form = QtWidgets.QFormLayout(self.form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(now)
        if self.needs_current:
            form.addRow("Current passphrase", self.current)
        if self.keyring_offered:
            form.addRow(self.use_keyring)
        form.addRow("New passphrase", self.new)
        form.addRow("Confirm", self.confirm)
        form.addRow("", warning)
        self.current.setVisible(self.needs_current)
        self.use_keyring.setVisible(self.keyring_offered)
        self.use_keyring.toggled.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        to_keyring = self.use_keyring.isChecked()
        self.new.setEnabled(not to_keyring)
        self.confirm.setEnabled(not to_keyring)
        self.action.setText("Move to keyring" if to_keyring else "Change")

    def problem(self) -> str | None:
        if self.needs_current and not self.current.text():
            return "Enter the current passphrase."
        if self.use_keyring.isChecked():
            return None
        if len(self.new.text()) < MIN_PASSPHRASE:
            return f"The new passphrase must be at least {MIN_PASSPHRASE} characters long."
        if self.new.text() != self.confirm.text():
            return "The two new passphrases differ."
        return None

    def job(self) -> Callable[[], WorkspaceHeader]:
        ctx = self.ctx
        workspace_id = ctx.workspace.workspace_id
        current = self.current.text() if self.needs_current else None
        new_passphrase = None if self.use_keyring.isChecked() else self.new.text()

        def run() -> WorkspaceHeader:
            header = ctx.workspaces.header(workspace_id)
            if header.key.mode == "passphrase":
                assert header.key.kdf is not None
                if current is None or not keys.matches(keys.derive_key(current, header.key.kdf), header.key):
                    raise WrongPassphrase("The current passphrase is not right.")
            ctx.workspaces.change_protection(ctx.store, workspace_id, new_passphrase=new_passphrase)
            # Updated here rather than in ``succeeded`` so it happens even if the dialog is gone by then.
            ctx.workspace.header = changed = ctx.workspaces.header(workspace_id)
            return changed

        return run

    def show_error(self, message: str) -> None:
        super().show_error(message)
        if self.needs_current and "passphrase is not right" in message:
            self.current.selectAll()
            self.current.setFocus()

    def succeeded(self, result: Any) -> str:
        assert isinstance(result, WorkspaceHeader)
        self.changed.emit(result)
        if result.key.mode == "passphrase":
            return "Done. From now on Parley asks for the new passphrase when it starts."
        return "Done. The key is now kept in the system keyring and Parley opens without asking for a passphrase."
