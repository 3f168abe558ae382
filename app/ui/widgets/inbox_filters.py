"""The inbox's filters: the conversation views with their counts (Open, Pending, Resolved, Snoozed, Archived,
All), whose chats (all, mine, unassigned), unread only, and a label — offering only the labels chats carry."""

from __future__ import annotations

from app.qt import QtCore, QtWidgets, Signal
from app.store.inbox import VIEWS, InboxFilter, Owner, View
from app.ui.widgets.label_picker import swatch

VIEW_NAMES: dict[View, str] = {
    "open": "Open",
    "pending": "Pending",
    "resolved": "Resolved",
    "snoozed": "Snoozed",
    "archived": "Archived",
    "all": "All",
}
OWNER_NAMES: dict[Owner, str] = {"all": "Everyone's", "mine": "Mine", "unassigned": "Unassigned"}
MANAGE = "__manage__"  # the label box's last entry opens the label manager


class InboxFilterBar(QtWidgets.QWidget):
    changed = Signal()
    manage_labels = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        # A chooser as Chatwoot's status menu (six tabs did not fit beside the chat, and the last ones hid).
        self.views = QtWidgets.QComboBox()
        for view in VIEWS:
            self.views.addItem(VIEW_NAMES[view], view)
        self.views.setAccessibleName("Conversation view")
        self.views.setToolTip("Which conversations: open, pending, resolved, snoozed, archived or all")
        self.views.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.owner = QtWidgets.QComboBox()
        for owner, name in OWNER_NAMES.items():
            self.owner.addItem(name, owner)
        self.owner.setToolTip("Whose chats: everyone's, yours, or nobody's yet")
        self.unread = QtWidgets.QToolButton()
        self.unread.setText("Unread")
        self.unread.setCheckable(True)
        self.label = QtWidgets.QComboBox()
        self.label.setMinimumContentsLength(8)
        self.label.setToolTip("Show only chats with this label (on the chat or its customer)")
        self._label_colors: dict[str, str] = {}
        self.set_labels([], {})

        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.views, 1)
        top.addWidget(self.owner, 1)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.unread)
        row.addWidget(self.label, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addLayout(row)

        self.views.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.owner.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.unread.toggled.connect(lambda _: self.changed.emit())
        self.label.currentIndexChanged.connect(self._label_picked)
        self._label_before = 0

    # ---- state ---------------------------------------------------------------------------------------------
    def view(self) -> View:
        data = self.views.currentData()
        return data if data in VIEWS else "open"

    def set_view(self, view: View) -> None:
        self.views.setCurrentIndex(VIEWS.index(view))

    def filters(self, me: str | None) -> InboxFilter:
        owner: Owner = self.owner.currentData() or "all"
        label = self.label.currentData()
        return InboxFilter(
            view=self.view(),
            unread_only=self.unread.isChecked(),
            assigned_user_id=me if owner == "mine" else None,
            unassigned=owner == "unassigned",
            tag=label if label and label != MANAGE else None,
        )

    def words(self) -> list[str]:
        """The filters in force besides the view, as the controls name them ("Unread", "Mine", "VIP")."""
        words = []
        if self.owner.currentData() != "all":
            words.append(self.owner.currentText())
        if self.unread.isChecked():
            words.append("Unread")
        if self.label.currentData() not in (None, MANAGE):
            words.append(self.label.currentText())
        return words

    def clear(self) -> None:
        """Back to everyone's chats, read or not, any label (the view stays)."""
        for widget in (self.owner, self.unread, self.label):
            widget.blockSignals(True)
        self.owner.setCurrentIndex(0)
        self.unread.setChecked(False)
        self.label.setCurrentIndex(0)
        self._label_before = 0
        for widget in (self.owner, self.unread, self.label):
            widget.blockSignals(False)
        self.changed.emit()

    def set_counts(self, counts: dict[View, int]) -> None:
        for i in range(self.views.count()):
            view = self.views.itemData(i)
            n = counts.get(view, 0)
            self.views.setItemText(i, f"{VIEW_NAMES[view]} · {n}" if n else VIEW_NAMES[view])

    def set_labels(self, in_use: list[str], colors: dict[str, str], renamed: dict[str, str] | None = None) -> None:
        """Offer the labels chats carry (with their colours); the chosen one stays chosen while it is in use, and
        follows a rename (``renamed``: old name -> new name)."""
        chosen = self.label.currentData()
        current = renamed.get(chosen, chosen) if renamed and chosen not in (None, MANAGE) else chosen
        self._label_colors = {k.casefold(): v for k, v in colors.items()}
        self.label.blockSignals(True)
        self.label.clear()
        self.label.addItem("All labels", None)
        for name in in_use:
            self.label.addItem(swatch(self._label_colors.get(name.casefold(), "#7f8c8d")), name, name)
        self.label.insertSeparator(self.label.count())
        self.label.addItem("Manage labels…", MANAGE)
        index = self.label.findData(current) if current not in (None, MANAGE) else 0
        self.label.setCurrentIndex(max(0, index))
        self._label_before = self.label.currentIndex()
        self.label.blockSignals(False)
        if self.label.currentData() != chosen and chosen not in (None, MANAGE):
            self.changed.emit()  # the label chosen was renamed, or is on no chat any more

    def _label_picked(self, index: int) -> None:
        if self.label.itemData(index) == MANAGE:
            self.label.blockSignals(True)
            self.label.setCurrentIndex(self._label_before)
            self.label.blockSignals(False)
            QtCore.QTimer.singleShot(0, self.manage_labels.emit)  # after the popup has closed
            return
        if index != self._label_before:
            self._label_before = index
            self.changed.emit()

    def color_of(self, name: str) -> str | None:
        return self._label_colors.get(name.casefold())

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(300, super().sizeHint().height())
