"""Start-up: the workspace folders Parley cannot open, each with its reason and what to do.

Shown before anything else when a workspace's header is damaged, missing, unreadable or from a newer Parley, so such
a workspace never just vanishes and the user is not led to create a new one as if there were none: going on to
"Create a new workspace" is an explicit choice here.
"""

from __future__ import annotations

from app.qt import QtCore, QtWidgets, Signal
from app.store.workspaces import UnusableWorkspace
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.kit import note


class UnusableWorkspacesDialog(FormDialog):
    proceed = Signal()  # the user chose to go on (open another workspace, or create a new one)

    def __init__(
        self, unusable: list[UnusableWorkspace], *, others: bool, parent: QtWidgets.QWidget | None = None
    ) -> None:
        count = len(unusable)
        heading = "Parley cannot open a workspace" if count == 1 else f"Parley cannot open {count} workspaces"
        action = "Continue" if others else "Create a new workspace…"
        super().__init__("Parley", heading, action, parent)
        self.setMinimumWidth(560)
        self.reasons: list[QtWidgets.QLabel] = []
        for entry in unusable:
            label = QtWidgets.QLabel(f"{entry.error}\n{entry.error.hint}\nFolder: {entry.folder}")
            label.setWordWrap(True)
            label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            self.reasons.append(label)
            self.body.addWidget(label)
        after = note(
            "Nothing in these folders was changed. Continue to open your other workspaces."
            if others
            else "Nothing in these folders was changed. A new workspace would be a separate, empty one.",
            "hint",
        )
        self.body.addWidget(after)
        self.primary.clicked.connect(self.proceed.emit)
