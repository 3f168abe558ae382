"""The Labels manager: the org's labels with their colour and how many contacts and chats carry each.

Type a name and press Enter to create a label; rename one in place (double-click, F2 or Rename), give it another
colour, merge it into another label or delete it. Every change is an operation of ``app/store/ops/labels.py`` run on
the task runner: renaming, merging and deleting rewrite every contact and chat that carries the label in the same
transaction, and the list follows the ``tags`` table (a teammate's change included). A refused change is said in
the dialog as a sentence (renaming to a name another label has says to merge instead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.errors import InvalidInput, describe
from app.core.models import Tag
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.store.labels import PALETTE, all_labels, clean_name, usage
from app.store.ops import Done
from app.store.ops.labels import create_label, delete_label, merge_labels, recolor_label, rename_label
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.dialogs.form_dialog import FormDialog, secondary_button
from app.ui.kit import confirm, note
from app.ui.widgets.label_picker import swatch

# The palette's colours by the names people use for them (the menu shows both).
COLOR_NAMES = {
    "#2e86de": "Blue",
    "#10ac84": "Green",
    "#ee5253": "Red",
    "#ff9f43": "Orange",
    "#8e44ad": "Purple",
    "#0abde3": "Cyan",
    "#f368e0": "Pink",
    "#576574": "Slate",
    "#1dd1a1": "Mint",
    "#c0392b": "Brick",
}
WATCHED = frozenset({"tags", "contacts", "chats"})  # the labels and the rows whose counts are shown


def carriers_text(count: int) -> str:
    if not count:
        return "none"
    return "1 contact or chat" if count == 1 else f"{count} contacts and chats"


class LabelsDialog(FormDialog):
    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Labels", "Labels", "Create label", parent, cancel="Close")
        self.ctx = ctx
        self.setMinimumSize(460, 420)
        self.labels: list[Tag] = []
        self.counts: dict[str, int] = {}
        self.menu: QtWidgets.QMenu | None = None  # the colour or merge menu while it is open
        self.question: QtWidgets.QMessageBox | None = None  # the merge or delete confirmation while it is open
        self._filling = False

        self.name = QtWidgets.QLineEdit(placeholderText="New label name")
        self.name.setMaxLength(60)
        self.first_field = self.name
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Label", "Carried by"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setEditTriggers(
            QtWidgets.QAbstractItemView.EditTrigger.DoubleClicked
            | QtWidgets.QAbstractItemView.EditTrigger.EditKeyPressed
        )
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemChanged.connect(self._edited)
        self._stale = False  # a change came while a name was being edited: read again once the editor closes
        self.tree.itemDelegate().closeEditor.connect(lambda *_: QtCore.QTimer.singleShot(0, self._reload_if_stale))
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.empty = note("No labels yet. Type a name above and press Enter to create one.")

        self.rename_button = secondary_button("Rename")
        self.rename_button.clicked.connect(self.start_rename)
        self.color_button = secondary_button("Colour…")
        self.color_button.clicked.connect(self.choose_color)
        self.merge_button = secondary_button("Merge into…")
        self.merge_button.clicked.connect(self.choose_merge_target)
        self.delete_button = secondary_button("Delete")
        self.delete_button.clicked.connect(self.ask_delete)
        self.tree.installEventFilter(self)  # the Delete key on the list asks to delete too
        commands = QtWidgets.QHBoxLayout()
        for button in (self.rename_button, self.color_button, self.merge_button, self.delete_button):
            commands.addWidget(button)
        commands.addStretch(1)

        self.body.addWidget(self.name)
        self.body.addWidget(self.tree, 1)
        self.body.addWidget(self.empty)
        self.body.addLayout(commands)
        self.primary.clicked.connect(self.add_label)
        self.watch = StaleWhenHidden(self, ctx.changes, WATCHED, lambda _t: self.reload())
        self.reload()

    # ---- the list ---------------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the labels and their counts again, keeping the selected label selected (not under a name being
        typed: clearing the list would commit the half-typed name)."""
        if self.tree.state() == QtWidgets.QAbstractItemView.State.EditingState:
            self._stale = True
            return
        self._stale = False
        store = self.ctx.store
        chosen = self.selected()
        keep = chosen.id if chosen is not None else None
        self.labels = all_labels(store)
        self.counts = {t.id: usage(store, t.name) for t in self.labels}
        self._filling = True
        try:
            self.tree.clear()
            for label in self.labels:
                item = QtWidgets.QTreeWidgetItem([label.name, carriers_text(self.counts[label.id])])
                item.setIcon(0, swatch(label.color, 14))
                item.setData(0, Qt.ItemDataRole.UserRole, label.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(0, "Double-click or press F2 to rename")
                self.tree.addTopLevelItem(item)
                if label.id == keep:
                    self.tree.setCurrentItem(item)
        finally:
            self._filling = False
        self.empty.setVisible(not self.labels)
        self._update_buttons()

    def _reload_if_stale(self) -> None:
        if self._stale:
            self.reload()

    def item_of(self, name: str) -> QtWidgets.QTreeWidgetItem | None:
        found = self.tree.findItems(name, Qt.MatchFlag.MatchFixedString)  # any case: names are unique so
        return found[0] if found else None

    def selected(self) -> Tag | None:
        item = self.tree.currentItem()
        if item is None or not item.isSelected():
            return None
        label_id = item.data(0, Qt.ItemDataRole.UserRole)
        return next((t for t in self.labels if t.id == label_id), None)

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        for button in (self.rename_button, self.color_button, self.delete_button):
            button.setEnabled(chosen)
        self.merge_button.setEnabled(chosen and len(self.labels) > 1)

    # ---- running an operation ---------------------------------------------------------------------------------
    def _run(self, title: str, work: Callable[[], Done[Any]], then: Callable[[Done[Any]], None] | None = None) -> None:
        self.clear_error()
        self.set_busy(True)

        def done(result: Done[Any]) -> None:
            self.set_busy(False)
            self.reload()
            if then is not None:
                then(result)

        def failed(message: str) -> None:
            self.show_error(message)  # (hides the busy bar)
            self.reload()  # an inline rename that was refused shows the name it still has

        self.ctx.tasks.start(title, work, done, failed, owner=self)

    # ---- create -----------------------------------------------------------------------------------------------
    def add_label(self) -> None:
        if self.tree.state() == QtWidgets.QAbstractItemView.State.EditingState:
            return  # Enter in a name being renamed commits the rename, it does not create a label
        try:
            name = clean_name(self.name.text())
        except InvalidInput as exc:
            self.show_error(describe(exc))
            return
        store = self.ctx.store

        def created(result: Done[Any]) -> None:
            self.name.clear()
            item = self.item_of(result.value.name)
            if item is not None:
                self.tree.setCurrentItem(item)

        self._run("Creating a label", lambda: create_label(store, name), created)

    # ---- rename -----------------------------------------------------------------------------------------------
    def start_rename(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.tree.editItem(item, 0)

    def rename(self, label_id: str, name: str) -> None:
        store = self.ctx.store
        self._run("Renaming a label", lambda: rename_label(store, label_id, name))

    def _edited(self, item: QtWidgets.QTreeWidgetItem, column: int) -> None:
        if self._filling or column != 0:
            return
        label_id = item.data(0, Qt.ItemDataRole.UserRole)
        label = next((t for t in self.labels if t.id == label_id), None)
        if label is None or item.text(0) == label.name:
            return
        self.rename(label.id, item.text(0))

    # ---- colour -----------------------------------------------------------------------------------------------
    def choose_color(self) -> None:
        label = self.selected()
        if label is None:
            return
        menu = QtWidgets.QMenu(self)
        for color in PALETTE:
            action = menu.addAction(swatch(color, 14), COLOR_NAMES.get(color, color))
            action.setCheckable(True)
            action.setChecked(color == label.color.lower())
            action.triggered.connect(lambda _=False, c=color: self.recolor(label.id, c))
        menu.addSeparator()
        other = menu.addAction("Other colour…")
        other.triggered.connect(lambda: self._other_color(label))
        self._popup(menu, self.color_button)

    def _other_color(self, label: Tag) -> None:
        picker = QtWidgets.QColorDialog(QtGui.QColor(label.color), self)
        picker.setWindowTitle(f"Colour of {label.name}")
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.colorSelected.connect(lambda c: self.recolor(label.id, c.name()))
        picker.open()

    def recolor(self, label_id: str, color: str) -> None:
        store = self.ctx.store
        self._run("Changing a label's colour", lambda: recolor_label(store, label_id, color))

    # ---- merge ------------------------------------------------------------------------------------------------
    def choose_merge_target(self) -> None:
        source = self.selected()
        if source is None:
            return
        menu = QtWidgets.QMenu(self)
        for target in self.labels:
            if target.id != source.id:
                action = menu.addAction(swatch(target.color, 14), target.name)
                action.triggered.connect(lambda _=False, t=target: self.ask_merge(source, t))
        self._popup(menu, self.merge_button)

    def ask_merge(self, source: Tag, target: Tag) -> None:
        count = self.counts.get(source.id, 0)
        text = f"Everything labelled “{source.name}” becomes “{target.name}”"
        text += f" ({carriers_text(count)})." if count else "."
        self._ask(f"Merge “{source.name}” into “{target.name}”", text, "Merge", lambda: self.merge(source, target))

    def merge(self, source: Tag, target: Tag) -> None:
        store = self.ctx.store

        def merged(_result: Done[Any]) -> None:
            item = self.item_of(target.name)
            if item is not None:
                self.tree.setCurrentItem(item)

        self._run("Merging labels", lambda: merge_labels(store, source.id, target.id), merged)

    # ---- delete -----------------------------------------------------------------------------------------------
    def ask_delete(self) -> None:
        label = self.selected()
        if label is None:
            return
        count = usage(self.ctx.store, label.name)
        if count:
            text = f"Take “{label.name}” off {carriers_text(count)}?"
        else:
            text = f"Delete the label “{label.name}”? No contact or chat carries it."
        self._ask("Delete label", text, "Delete", lambda: self.delete(label))

    def delete(self, label: Tag) -> None:
        store = self.ctx.store
        self._run("Deleting a label", lambda: delete_label(store, label.id))

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if (
            watched is self.tree
            and event.type() == QtCore.QEvent.Type.KeyPress
            and isinstance(event, QtGui.QKeyEvent)
            and event.key() == Qt.Key.Key_Delete
            and self.tree.state() != QtWidgets.QAbstractItemView.State.EditingState
        ):
            self.ask_delete()
            return True
        return super().eventFilter(watched, event)

    # ---- small parts ------------------------------------------------------------------------------------------
    def _ask(self, title: str, text: str, action: str, then: Callable[[], None]) -> None:
        self.clear_error()  # a refusal said before is about another command

        def answered() -> None:
            self.question = None
            then()

        box = confirm(self, title, text, action, answered)
        box.finished.connect(lambda _r: setattr(self, "question", None))
        self.question = box

    def _popup(self, menu: QtWidgets.QMenu, under: QtWidgets.QWidget) -> None:
        self.clear_error()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.aboutToHide.connect(lambda: setattr(self, "menu", None))
        self.menu = menu
        menu.popup(under.mapToGlobal(under.rect().bottomLeft()))


def open_labels_dialog(ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> LabelsDialog:
    """Show the Labels manager over ``parent`` (the one already open there is raised instead of a second)."""
    if parent is not None:
        for dialog in parent.findChildren(LabelsDialog):
            if dialog.isVisible():
                dialog.raise_()
                dialog.activateWindow()
                return dialog
    dialog = LabelsDialog(ctx, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
