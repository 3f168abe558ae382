"""The page-profile self-test as a person reads it: its sentence, then each thing Parley looks for and how it went."""

from __future__ import annotations

from app.qt import Qt, QtGui, QtWidgets
from app.ui import theme
from app.ui.widgets.whatsapp_indicator import clock
from app.whatsapp.status import Health, HealthEntry

MAX_ROWS = 10
PAGE_STATES = {"landing": "QR screen", "logged_in": "chat list", "chat_open": "a chat open"}


def entry_result(entry: HealthEntry) -> str:
    if not entry.ok:
        return "Broken"
    return "Fallback used" if entry.used_fallback else "OK"


class HealthView(QtWidgets.QWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.entries = QtWidgets.QTreeWidget()
        self.entries.setObjectName("healthEntries")
        self.entries.setColumnCount(2)
        self.entries.setHeaderLabels(["What Parley looks for", "Result"])
        self.entries.setRootIsDecorated(False)
        self.entries.setUniformRowHeights(True)
        self.entries.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.entries.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.entries.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        header = self.entries.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.checked = QtWidgets.QLabel()
        self.checked.setObjectName("muted")
        self.checked.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.message)
        layout.addWidget(self.entries)
        layout.addWidget(self.checked)
        layout.addStretch(1)
        self.show_health(None)

    def show_health(self, health: Health | None) -> None:
        c = theme.colors()
        self.entries.clear()
        if health is None:
            self.message.setText("Not checked yet: the self-test runs each time WhatsApp opens.")
            self.message.setStyleSheet(f"color: {c.muted};")
            self.entries.hide()
            self.checked.hide()
            return
        self.message.setText(health.message or ("Everything Parley needs was found." if health.ok else ""))
        self.message.setStyleSheet("" if health.ok else f"color: {c.danger}; font-weight: 600;")
        colours = {"OK": c.accent, "Fallback used": c.warning, "Broken": c.danger}
        for entry in health.entries:
            result = entry_result(entry)
            item = QtWidgets.QTreeWidgetItem([entry.label, result])
            item.setForeground(1, QtGui.QBrush(QtGui.QColor(colours[result])))
            tip = f"{entry.name}: {entry.selector}" if entry.selector else f"{entry.name}: nothing matched"
            item.setToolTip(0, tip)
            item.setToolTip(1, tip)
            self.entries.addTopLevelItem(item)
        self.entries.setVisible(bool(health.entries))
        self._fit_entries()
        page = PAGE_STATES.get(health.page_state, health.page_state)
        self.checked.setText(
            f"Checked {clock(health.checked_at, seconds=True)} with {page} · page profile {health.profile_version}"
        )
        self.checked.show()

    def _fit_entries(self) -> None:
        """As tall as its rows (a profile has a handful to a few dozen entries), scrolling past ``MAX_ROWS``."""
        rows = min(self.entries.topLevelItemCount(), MAX_ROWS)
        row_h = self.entries.sizeHintForRow(0) if rows else 0
        frame = 2 * self.entries.frameWidth()
        self.entries.setFixedHeight(self.entries.header().sizeHint().height() + rows * row_h + frame + 2)

    def results(self) -> list[tuple[str, str]]:
        """(label, result) per entry, as shown (for tests and screen readers' summaries)."""
        return [
            (item.text(0), item.text(1))
            for item in (self.entries.topLevelItem(i) for i in range(self.entries.topLevelItemCount()))
            if item is not None
        ]
