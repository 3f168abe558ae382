"""Managing quick replies: a list of the workspace's replies beside an editor with a live preview.

The preview fills the variables with a sample customer and the business name, exactly as the inbox composer will;
a ``{word}`` that is not a known variable is allowed but warned about (it would be sent as written). Reading and
writing run on a worker; every write to ``quick_replies`` (here, or by a teammate through sync) reaches the composer
and this list through ``ctx.changes``, which the store derives from the commit. Errors,
such as a shortcut already in use, are shown under the editor and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable

from app.core.models import QuickReply
from app.core.templates import contact_variables, render
from app.qt import Qt, QtWidgets, Signal
from app.store.ops import Done
from app.store.ops.quick_replies import delete_quick_reply, save_quick_reply
from app.store.quick_replies import VARIABLES, unknown_variables
from app.ui.context import AppContext, StaleWhenHidden

SAMPLE_NAME = "Maria Lopez"
SAMPLE_PHONE = "+34600111222"
IdRole = Qt.ItemDataRole.UserRole


def _label(text: str, name: str) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    return label


def _shown_shortcut(reply: QuickReply) -> str:
    return "/" + reply.shortcut.strip().lstrip("/")


class QuickRepliesEditor(QtWidgets.QWidget):
    loaded = Signal()  # the list shows the stored replies
    saved = Signal(object)  # QuickReply
    deleted = Signal(str)  # id

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.replies: list[QuickReply] = []
        self.current_id: str | None = None  # None: the editor holds a new, unsaved reply
        self.busy = False
        # Asked before a delete; tests (or scripts) replace it, e.g. ``editor.confirm = lambda reply: True``.
        self.confirm: Callable[[QuickReply], bool] = self.ask_delete
        self._seq = 0

        self.list = QtWidgets.QListWidget()
        self.list.setMinimumWidth(190)
        self.list.setMaximumWidth(260)
        self.list.setMinimumHeight(220)
        self.list.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.empty = _label("No quick replies yet. Press New to write one.", "muted")
        self.empty.hide()

        self.shortcut = QtWidgets.QLineEdit()
        self.shortcut.setPlaceholderText("thanks")
        self.shortcut.setMaxLength(40)
        self.shortcut.setToolTip("Typed after / in the composer: letters, digits, - and _")
        self.title = QtWidgets.QLineEdit()
        self.title.setPlaceholderText("Thank you")
        self.title.setMaxLength(120)
        self.body = QtWidgets.QPlainTextEdit()
        self.body.setPlaceholderText("Thanks {first_name}! We'll get back to you shortly. — {business}")
        self.body.setTabChangesFocus(True)
        self.body.setMinimumHeight(110)
        self.hint = _label(
            "Variables: " + "  ".join(f"{{{name}}}" for name in VARIABLES) + ". Write {{ and }} for literal braces.",
            "hint",
        )
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.warning = _label("", "error")
        self.warning.setTextFormat(Qt.TextFormat.PlainText)
        self.warning.hide()
        self.preview = _label("", "muted")
        self.preview.setTextFormat(Qt.TextFormat.PlainText)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = _label("", "error")
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.hide()
        self.status = _label("", "muted")

        self.new_button = QtWidgets.QPushButton("New")
        self.save_button = QtWidgets.QPushButton("Save")
        self.save_button.setObjectName("primary")
        self.delete_button = QtWidgets.QPushButton("Delete")

        form = QtWidgets.QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Shortcut", self.shortcut)
        form.addRow("Title", self.title)
        form.addRow("Text", self.body)
        form.addRow("", self.hint)
        form.addRow("", self.warning)
        form.addRow("Preview", self.preview)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.save_button)
        editor = QtWidgets.QVBoxLayout()
        editor.setContentsMargins(0, 0, 0, 0)
        editor.addLayout(form)
        editor.addWidget(self.error)
        editor.addWidget(self.status)
        editor.addStretch(1)
        editor.addLayout(buttons)
        side = QtWidgets.QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.list, 1)
        side.addWidget(self.empty)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addLayout(side)
        layout.addLayout(editor, 1)

        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.body.textChanged.connect(self.update_preview)
        self.new_button.clicked.connect(self.new_reply)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.watch = StaleWhenHidden(self, ctx.changes, frozenset({"quick_replies", "orgs"}), self._changed)
        self._fill(None)
        self.reload()

    # ---- the list ----------------------------------------------------------------------------------------------
    def reload(self) -> None:
        self._seq += 1
        seq, store = self._seq, self.ctx.store

        def read() -> list[QuickReply]:
            return sorted(store.quick_replies.find_all(), key=lambda r: (r.shortcut.lower().lstrip("/"), r.title))

        def show(replies: list[QuickReply]) -> None:
            if seq == self._seq:
                self._show(replies)

        self.ctx.tasks.start("Loading quick replies", read, show, self._show_error, owner=self)

    def _show(self, replies: list[QuickReply]) -> None:
        self.replies = replies
        self.list.blockSignals(True)
        self.list.clear()
        for reply in replies:
            text = _shown_shortcut(reply) + (f"  —  {reply.title}" if reply.title else "")
            item = QtWidgets.QListWidgetItem(text)
            item.setData(IdRole, reply.id)
            item.setToolTip(reply.body)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.empty.setVisible(not replies)
        if self.current_id is not None and self.reply(self.current_id) is None:
            self._fill(None)  # deleted elsewhere (another device, a restore)
        self._select_current()
        self.loaded.emit()

    def _select_current(self) -> None:
        self.list.blockSignals(True)
        self.list.clearSelection()
        for row in range(self.list.count()):
            item = self.list.item(row)
            if self.current_id is not None and item.data(IdRole) == self.current_id:
                self.list.setCurrentItem(item)
                item.setSelected(True)
        self.list.blockSignals(False)

    def reply(self, reply_id: str) -> QuickReply | None:
        return next((r for r in self.replies if r.id == reply_id), None)

    def select(self, reply_id: str) -> None:
        """Open reply ``reply_id`` in the editor (as clicking it in the list does)."""
        reply = self.reply(reply_id)
        if reply is not None:
            self._fill(reply)
            self._select_current()

    def _selection_changed(self) -> None:
        items = self.list.selectedItems()
        if items and items[0].data(IdRole) != self.current_id:
            self.select(str(items[0].data(IdRole)))

    # ---- the editor --------------------------------------------------------------------------------------------
    def _fill(self, reply: QuickReply | None) -> None:
        self.current_id = reply.id if reply is not None else None
        self.shortcut.setText(reply.shortcut.strip().lstrip("/") if reply is not None else "")
        self.title.setText(reply.title if reply is not None else "")
        self.body.setPlainText(reply.body if reply is not None else "")
        self.error.hide()
        self.status.clear()
        self.update_preview()
        self._sync_buttons()

    def new_reply(self) -> None:
        self._fill(None)
        self._select_current()
        self.shortcut.setFocus()

    def update_preview(self) -> None:
        body = self.body.toPlainText()
        variables = contact_variables(SAMPLE_NAME, SAMPLE_PHONE, self.ctx.business_name)
        self.preview.setText(render(body, variables) if body.strip() else "—")
        unknown = unknown_variables(body)
        if unknown:
            names = ", ".join(f"{{{name}}}" for name in unknown)
            plural = "s" if len(unknown) > 1 else ""
            self.warning.setText(f"Unknown variable{plural} {names}: sent as written, not filled in.")
        self.warning.setVisible(bool(unknown))

    def _sync_buttons(self) -> None:
        self.save_button.setEnabled(not self.busy)
        self.new_button.setEnabled(not self.busy)
        self.delete_button.setEnabled(not self.busy and self.current_id is not None)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._sync_buttons()

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    # ---- writing -----------------------------------------------------------------------------------------------
    def save(self) -> None:
        if self.busy:
            return
        store = self.ctx.store
        reply_id, shortcut, title, body = (
            self.current_id,
            self.shortcut.text(),
            self.title.text(),
            self.body.toPlainText(),
        )

        def write() -> QuickReply:
            return save_quick_reply(store, id=reply_id, shortcut=shortcut, title=title, body=body).value

        self.error.hide()
        self.status.clear()
        self._set_busy(True)
        self.ctx.tasks.start("Saving the quick reply", write, self._saved, self._failed, owner=self)

    def _saved(self, reply: QuickReply) -> None:
        self._set_busy(False)
        self._fill(reply)
        self._select_current()
        self.status.setText(f"Saved {_shown_shortcut(reply)}.")
        self.saved.emit(reply)

    def delete(self) -> None:
        reply = self.reply(self.current_id) if self.current_id is not None else None
        if self.busy or reply is None or not self.confirm(reply):
            return
        store, reply_id = self.ctx.store, reply.id

        def write() -> Done[None]:
            return delete_quick_reply(store, reply_id)

        def done(_: Done[None]) -> None:
            self._set_busy(False)
            if self.current_id == reply_id:
                self._fill(None)
                self._select_current()
            self.status.setText(f"Deleted {_shown_shortcut(reply)}.")
            self.deleted.emit(reply_id)

        self.error.hide()
        self.status.clear()
        self._set_busy(True)
        self.ctx.tasks.start("Deleting the quick reply", write, done, self._failed, owner=self)

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self._show_error(message)

    def ask_delete(self, reply: QuickReply) -> bool:
        name = _shown_shortcut(reply) + (f" “{reply.title}”" if reply.title else "")
        answer = QtWidgets.QMessageBox.question(
            self,
            "Delete quick reply",
            f"Delete the quick reply {name}? It disappears from the composer on every device.",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.Cancel,
            QtWidgets.QMessageBox.StandardButton.Cancel,
        )
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def _changed(self, tables: frozenset[str]) -> None:
        if "quick_replies" in tables:
            self.reload()
        if "orgs" in tables:
            self.update_preview()  # the business name may have changed
