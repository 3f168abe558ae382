"""Where this workspace keeps a kind of secret (AI provider keys, the team sign-in), said under the card that uses
it: "in this computer's keyring (KWallet)" or "inside this workspace's encrypted database".

When the workspace keeps its secrets in a keyring that is gone now, the note says so and offers the one explicit
way on: "Keep keys inside this workspace" (the keyring's secrets cannot be read, so they are entered again). Parley
never moves them by itself. The home is one per workspace: choosing it here changes it for every kind of secret.
"""

from __future__ import annotations

from collections.abc import Callable

from app.qt import QtWidgets
from app.store.keyring_vault import backend_name, insecure_reason, keyring_label
from app.store.secrets import Secrets
from app.ui import kit
from app.ui.context import AppContext


def where_text(secrets: Secrets, subject: str, *, backups: str = "") -> str:
    """The sentence for ``subject`` ("Provider keys are", "The team sign-in is"); ``backups`` is added when they are
    kept inside the workspace (what an encrypted backup does with them)."""
    if secrets.home() == "workspace":
        text = f"{subject} kept inside this workspace's encrypted database, never in a plain file."
        return f"{text} {backups}" if backups else text
    if secrets.keyring_missing():
        return (
            f"{subject} kept in this computer's keyring, which is not available now "
            f"({insecure_reason(secrets.backend)}). Parley does not move secrets by itself: start or unlock the "
            "keyring and restart Parley, or keep provider keys and the team sign-in inside this workspace from now "
            "on (then enter the keys and sign in again)."
        )
    return f"{subject} kept in this computer's keyring ({keyring_label(backend_name(secrets.backend))})."


class SecretsHomeNote(QtWidgets.QWidget):
    """The sentence, and "Keep keys inside this workspace" while the keyring that holds them is gone."""

    def __init__(
        self,
        ctx: AppContext,
        secrets: Secrets,
        subject: str,
        *,
        backups: str = "",
        moved: Callable[[], None] | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.secrets, self.subject, self.backups, self.moved = ctx, secrets, subject, backups, moved
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.label = kit.note()
        self.keep_button = QtWidgets.QPushButton("Keep keys inside this workspace")
        self.keep_button.setToolTip(
            "From now on keep provider keys and the team sign-in in this workspace's encrypted database"
        )
        self.keep_button.clicked.connect(self.keep_in_workspace)
        layout.addWidget(self.label)
        layout.addLayout(kit.button_row(self.keep_button, align="left"))
        self.refresh()

    def refresh(self) -> None:
        self.label.setText(where_text(self.secrets, self.subject, backups=self.backups))
        self.keep_button.setVisible(self.secrets.keyring_missing())

    def keep_in_workspace(self) -> None:
        self.keep_button.setEnabled(False)

        def done(_: None) -> None:
            self.keep_button.setEnabled(True)
            self.refresh()
            if self.moved is not None:
                self.moved()

        def failed(message: str) -> None:
            self.keep_button.setEnabled(True)
            self.label.setText(message)

        self.ctx.tasks.start("Keep keys in the workspace", self.secrets.keep_in_workspace, done, failed, owner=self)
