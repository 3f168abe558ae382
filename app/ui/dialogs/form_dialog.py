"""The frame Parley's form dialogs share: heading, fields, error line, busy bar, a way out and one action."""

from __future__ import annotations

from app.qt import QtWidgets


def secondary_button(text: str) -> QtWidgets.QPushButton:
    """A button beside a dialog's action that Enter never presses. Qt makes every dialog button "auto-default": the
    one holding focus takes Enter. When the action disables the field Enter was pressed in, focus moves on to the
    next button, and the same key press then clicked it (Enter in Unlock opened "Join a team")."""
    button = QtWidgets.QPushButton(text)
    button.setAutoDefault(False)
    return button


class FormDialog(QtWidgets.QDialog):
    def __init__(
        self,
        window_title: str,
        heading: str,
        action: str,
        parent: QtWidgets.QWidget | None = None,
        *,
        cancel: str = "Quit",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(window_title)
        title = QtWidgets.QLabel(heading)
        title.setObjectName("pageTitle")
        self.body = QtWidgets.QVBoxLayout()
        self.body.setSpacing(12)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QtWidgets.QVBoxLayout()  # below the busy bar: what happened (subclasses fill it)
        self.primary = QtWidgets.QPushButton(action)
        self.primary.setObjectName("primary")
        self.primary.setDefault(True)
        self.cancel_button = secondary_button(cancel)
        self.cancel_button.clicked.connect(self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.primary)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addLayout(self.body)
        layout.addWidget(self.error)
        layout.addWidget(self.progress)
        layout.addLayout(self.status)
        layout.addLayout(buttons)

    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.primary.setEnabled(not busy)
        self.fit_height()

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self.error.setText(message)
        self.error.show()
        self.fit_height()

    def fit_height(self) -> None:
        """Grow (never shrink) to the height the contents need at the current width. A window does not follow its
        word-wrapped labels' height-for-width by itself: a long error would squash the fields above it instead."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        needed = layout.heightForWidth(self.width()) if layout.hasHeightForWidth() else layout.sizeHint().height()
        if needed > self.height():
            self.resize(self.width(), needed)
