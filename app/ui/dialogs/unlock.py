"""Unlocking a passphrase-protected workspace; a wrong passphrase says so and lets you try again."""

from __future__ import annotations

from app.qt import QtWidgets, Signal
from app.store.header import WorkspaceHeader
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.kit import note, password_field


class UnlockDialog(FormDialog):
    submitted = Signal(str, str)  # workspace id, passphrase

    def __init__(self, headers: list[WorkspaceHeader], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Unlock Parley", "Unlock your workspace", "Unlock", parent)
        self.setMinimumWidth(420)
        self._headers = headers
        self.workspace = QtWidgets.QComboBox()
        for header in headers:
            self.workspace.addItem(header.name, header.workspace_id)
        self.workspace.setVisible(len(headers) > 1)
        self.name = note(headers[0].name if headers else "")
        self.name.setVisible(len(headers) == 1)
        self.passphrase = password_field("Passphrase")
        self.unlock_button = self.primary
        for widget in (self.name, self.workspace, self.passphrase):
            self.body.addWidget(widget)
        self.first_field = self.passphrase  # even when the workspace list is shown above it
        # Enter presses the default button, Unlock, and nothing else (no returnPressed as a second path).
        self.unlock_button.clicked.connect(self._submit)

    def _submit(self) -> None:
        if not self.passphrase.text():
            self.show_error("Enter the passphrase.")
            return
        self.error.hide()
        self.set_busy(True)
        self.submitted.emit(str(self.workspace.currentData()), self.passphrase.text())

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        self.passphrase.setEnabled(not busy)

    def show_error(self, message: str) -> None:
        super().show_error(message)
        self.passphrase.selectAll()
        self.passphrase.setFocus()
