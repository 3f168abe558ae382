"""A contact's labels as coloured chips, picked from the org's managed labels instead of typed as free text.

The free-text "Tags" field let "vip", "VIP" and "v.i.p" become three tags. Here a person sees the labels the contact
carries, each on its colour with a × to take it off, and adds one from a searchable list of the labels that exist
("+ Label"); a name that matches none is offered as "Create label …". The picker only holds names: the panel saves
them with the contact (``update_contact`` spells each as its label), and a label created here is created at once so
it has its colour. Everything works from the keyboard: Tab reaches "+ Label", Enter opens the list, typing filters
it, Up/Down move, Enter picks, Esc closes.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.core.errors import InvalidInput
from app.core.models import Tag
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.contacts_csv import split_tags
from app.store.labels import PALETTE, all_labels, clean_name
from app.store.ops.labels import create_label
from app.ui.context import AppContext, StaleWhenHidden

NEUTRAL = "#8395a7"  # a name carried that is not a label (yet): it becomes one when the contact is saved
MANAGE_TEXT = "Manage labels…"


def text_color(background: str) -> str:
    """Dark or white text, whichever contrasts more with ``background`` (WCAG relative luminance)."""
    color = QtGui.QColor(background)

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())
    # contrast with white (1.05 / (lum + 0.05)) against contrast with near-black (#1d2433, luminance ~0.017)
    return "#ffffff" if 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.067 else "#1d2433"


def swatch(color: str, size: int = 12) -> QtGui.QIcon:
    """A round dot of ``color`` for lists and menus."""
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(color))
    painter.drawEllipse(0, 0, size - 1, size - 1)
    painter.end()
    return QtGui.QIcon(pixmap)


class FlowLayout(QtWidgets.QLayout):
    """Widgets left to right, wrapping onto the next line when the width runs out (Qt's flow layout example)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QtWidgets.QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QtWidgets.QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QtWidgets.QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QtWidgets.QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QtCore.QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QtCore.QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QtCore.QSize:
        return self.minimumSize()

    def minimumSize(self) -> QtCore.QSize:
        size = QtCore.QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _place(self, rect: QtCore.QRect, *, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            widget = item.widget()
            if widget is not None and widget.isHidden():
                continue
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line > 0:
                x, y, line = rect.x(), y + line + self._spacing, 0
            if move:
                item.setGeometry(QtCore.QRect(QtCore.QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y()


class Chip(QtWidgets.QFrame):
    """One label: its name on its colour, and a × that takes it off."""

    removed = Signal(str)

    def __init__(self, name: str, color: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.setObjectName("labelChip")
        fg = text_color(color)
        self.setStyleSheet(
            f"QFrame#labelChip {{ background: {color}; border-radius: 10px; }}"
            f"QLabel {{ color: {fg}; background: transparent; }}"
            f"QToolButton {{ color: {fg}; background: transparent; border: none; padding: 0px 2px; font-weight: 600; }}"
            f"QToolButton:hover, QToolButton:focus {{ background: rgba(0, 0, 0, 40); border-radius: 7px; }}"
        )
        self.text = QtWidgets.QLabel(name)
        self.remove = QtWidgets.QToolButton()
        self.remove.setText("×")
        self.remove.setToolTip(f"Take the label {name!r} off")
        self.remove.setAccessibleName(f"Remove label {name}")
        self.remove.setCursor(Qt.CursorShape.PointingHandCursor)
        self.remove.clicked.connect(lambda: self.removed.emit(self.name))
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(9, 1, 3, 1)
        layout.setSpacing(2)
        layout.addWidget(self.text)
        layout.addWidget(self.remove)


class AddButton(QtWidgets.QPushButton):
    """ "+ Label": Enter or Return opens the list too (a push button outside a dialog takes only Space)."""

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Down):
            self.click()
            return
        super().keyPressEvent(event)


class LabelPopup(QtWidgets.QFrame):
    """The searchable list under "+ Label": existing labels (checked when carried), "Create label …" for a typed
    name that matches none, and "Manage labels…"."""

    toggled = Signal(str)  # a label name to put on or take off
    create_wanted = Signal(str)  # a new label's name
    manage = Signal()

    CREATE, MANAGE = "create", "manage"

    def __init__(self, parent: QtWidgets.QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("card")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.search = QtWidgets.QLineEdit(placeholderText="Find or create a label")
        self.search.setClearButtonEnabled(True)
        self.list = QtWidgets.QListWidget()
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the search keeps the keys; Up/Down move the list
        self.list.setUniformItemSizes(True)
        self.list.itemClicked.connect(self._pick)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        self.labels: list[Tag] = []
        self.chosen: list[str] = []
        self.search.textChanged.connect(self._fill)
        self.search.textChanged.connect(self._fit)
        self.search.installEventFilter(self)
        self.resize(260, 300)

    def open_at(self, anchor: QtWidgets.QWidget, labels: list[Tag], chosen: list[str]) -> None:
        self.labels, self.chosen = labels, chosen
        self.search.clear()
        self._fill()
        self._fit()
        # under the button, kept on its screen (the panel is at the window's right edge)
        at = anchor.mapToGlobal(QtCore.QPoint(0, anchor.height() + 2))
        screen = anchor.screen().availableGeometry()
        x = max(screen.left(), min(at.x(), screen.right() - self.width()))
        y = (
            at.y()
            if at.y() + self.height() <= screen.bottom()
            else anchor.mapToGlobal(QtCore.QPoint()).y() - self.height() - 2
        )
        self.move(x, max(screen.top(), y))
        self.show()
        self.search.setFocus(Qt.FocusReason.PopupFocusReason)

    def refill(self, labels: list[Tag], chosen: list[str]) -> None:
        self.labels, self.chosen = labels, chosen
        self._fill()
        self._fit()

    def _fit(self) -> None:
        """As tall as its rows (up to ten), so a short list is not a tall empty box."""
        row = max(self.list.sizeHintForRow(0), 18)
        shown = min(max(self.list.count(), 1), 10)
        self.list.setFixedHeight(row * shown + 2 * self.list.frameWidth() + 2)
        self.adjustSize()
        self.resize(max(self.width(), 260), self.sizeHint().height())

    def _fill(self) -> None:
        typed = " ".join(self.search.text().split())
        key = typed.casefold()
        current = self.list.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.list.clear()
        carried = {n.casefold() for n in self.chosen}
        known = {t.name.casefold() for t in self.labels}
        rows = [(t.name, t.color) for t in self.labels] + [
            (n, NEUTRAL) for n in self.chosen if n.casefold() not in known
        ]
        for name, color in rows:
            if key and key not in name.casefold():
                continue
            item = QtWidgets.QListWidgetItem(swatch(color), name)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name.casefold() in carried else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        if typed and key not in known | carried:
            try:
                name = clean_name(typed)
                item = QtWidgets.QListWidgetItem(f"Create label “{name}”")
                item.setData(Qt.ItemDataRole.UserRole, (self.CREATE, name))
            except InvalidInput as exc:
                item = QtWidgets.QListWidgetItem(str(exc))
                item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(item)
        manage = QtWidgets.QListWidgetItem(MANAGE_TEXT)
        manage.setData(Qt.ItemDataRole.UserRole, (self.MANAGE, ""))
        font = manage.font()
        font.setItalic(True)
        manage.setFont(font)
        self.list.addItem(manage)
        # keep the row the person was on; else the first one the typing matches
        rows_enabled = [self.list.item(i) for i in range(self.list.count())]
        again = next((i for i in rows_enabled if i.data(Qt.ItemDataRole.UserRole) == keep and keep), None)
        first = next((i for i in rows_enabled if i.flags() & Qt.ItemFlag.ItemIsEnabled), None)
        start = again or first
        if start is not None:
            self.list.setCurrentItem(start)

    def items(self) -> list[QtWidgets.QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())]

    def _pick(self, item: QtWidgets.QListWidgetItem | None) -> None:
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return
        data = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(data, tuple | list):
            kind, name = data
            if kind == self.MANAGE:
                self.hide()
                self.manage.emit()
                return
            self.search.clear()
            self.create_wanted.emit(name)
            return
        self.toggled.emit(str(data))
        self.search.selectAll()  # the next typing starts a new search

    def _move(self, step: int) -> None:
        rows = [i for i in range(self.list.count()) if self.list.item(i).flags() & Qt.ItemFlag.ItemIsEnabled]
        if not rows:
            return
        at = self.list.currentRow()
        later = [r for r in rows if (r > at if step > 0 else r < at)]
        self.list.setCurrentRow((later[0] if step > 0 else later[-1]) if later else at)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.search and event.type() == QtCore.QEvent.Type.KeyPress:
            assert isinstance(event, QtGui.QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._pick(self.list.currentItem())
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(watched, event)


class LabelPicker(QtWidgets.QWidget):
    """The labels a contact carries, as chips, and "+ Label" to add one. ``labels()`` is what the panel saves."""

    edited = Signal()

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._names: list[str] = []
        self._colors: dict[str, str] = {}  # casefolded name -> colour, read from the labels
        self._ids: dict[str, str] = {}  # casefolded name -> label id, as last read
        self.chips: list[Chip] = []
        self.add_button = AddButton("+ Label")
        self.add_button.setAutoDefault(False)
        self.add_button.setToolTip("Add a label (Enter), or create one")
        self.add_button.clicked.connect(self.open_popup)
        self.flow = FlowLayout(self)
        self.flow.addWidget(self.add_button)
        self.setFocusProxy(self.add_button)
        self.popup = LabelPopup(self)
        self.popup.toggled.connect(self.toggle)
        self.popup.create_wanted.connect(self.add_new)
        self.popup.manage.connect(self.manage)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred)
        StaleWhenHidden(self, ctx.changes, frozenset({"tags"}), self._labels_changed)
        self._read_colors()

    # ---- the names --------------------------------------------------------------------------------------------
    def labels(self) -> list[str]:
        return list(self._names)

    def set_labels(self, names: Iterable[str]) -> None:
        wanted: list[str] = []
        for name in names:
            text = " ".join(name.split())
            if text and text.casefold() not in {n.casefold() for n in wanted}:
                wanted.append(text)
        if wanted == self._names:
            return
        self._names = wanted
        self._show_chips()
        self.edited.emit()

    def text(self) -> str:
        """The names as the old free-text field showed them (comma-separated)."""
        return ", ".join(self._names)

    def setText(self, text: str) -> None:
        """Names typed as the old field took them ("vip, #gold; wholesale")."""
        self.set_labels(split_tags(text))

    def toggle(self, name: str) -> None:
        key = name.casefold()
        if any(n.casefold() == key for n in self._names):
            self.remove(name)
        else:
            self.set_labels([*self._names, name])
        self._refill_popup()

    def remove(self, name: str) -> None:
        key = name.casefold()
        self.set_labels([n for n in self._names if n.casefold() != key])
        self._refill_popup()

    def _removed_by_chip(self, name: str) -> None:
        had_focus = any(chip.remove.hasFocus() for chip in self.chips)
        self.remove(name)
        if had_focus:  # the focused × is gone with its chip: the keyboard stays in the picker
            self.add_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def add_new(self, name: str) -> None:
        """Put a new label on now and create it in the background (it takes the next colour of the palette)."""
        self.set_labels([*self._names, name])
        self._colors.setdefault(name.casefold(), PALETTE[len(self._colors) % len(PALETTE)])
        self._show_chips()
        self._refill_popup()
        store = self.ctx.store
        # Refused only when the name became a label meanwhile (a teammate): the contact's save spells it as that one.
        self.ctx.tasks.start("Creating a label", lambda: create_label(store, name), None, lambda _m: None, owner=self)

    def manage(self) -> None:
        from app.ui.dialogs.labels_dialog import open_labels_dialog

        open_labels_dialog(self.ctx, self.window())

    # ---- showing ----------------------------------------------------------------------------------------------
    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        """The list is a window of its own: it goes with the picker (another chat, another section)."""
        super().hideEvent(event)
        self.popup.hide()

    def open_popup(self) -> None:
        self._read_colors()
        self.popup.open_at(self.add_button, all_labels(self.ctx.store), self._names)

    def _refill_popup(self) -> None:
        if self.popup.isVisible():
            self.popup.refill(all_labels(self.ctx.store), self._names)

    def _read_colors(self) -> list[Tag]:
        labels = all_labels(self.ctx.store)
        self._colors = {t.name.casefold(): t.color for t in labels}
        self._ids = {t.name.casefold(): t.id for t in labels}
        return labels

    def _labels_changed(self, _tables: frozenset[str]) -> None:
        """A label was renamed, merged or deleted (here in the manager, or by a teammate): the names held here,
        saved or not, follow it as the store rewrote every contact, so a pick not saved yet is not saved later
        under a name that is no longer a label (which would bring the old label back)."""
        before = self._ids
        now = {t.id: t.name for t in self._read_colors()}
        names: list[str] = []
        for name in self._names:
            label_id = before.get(name.casefold())
            if label_id is None:
                names.append(name)  # not a label when read (being created): kept as it is
            elif label_id in now:
                names.append(now[label_id])  # renamed, or the same
            # else: deleted or merged away, so taken off here as from every contact
        if names != self._names:
            self.set_labels(names)
        else:
            self._show_chips()
        self._refill_popup()

    def _show_chips(self) -> None:
        for chip in self.chips:
            self.flow.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        self.flow.removeWidget(self.add_button)
        before: QtWidgets.QWidget = self.add_button  # Tab: "+ Label", then each chip's ×
        for name in self._names:
            chip = Chip(name, self._colors.get(name.casefold(), NEUTRAL), self)
            chip.removed.connect(self._removed_by_chip)
            self.flow.addWidget(chip)
            chip.show()
            self.chips.append(chip)
            QtWidgets.QWidget.setTabOrder(before, chip.remove)
            before = chip.remove
        self.flow.addWidget(self.add_button)
        self.updateGeometry()
