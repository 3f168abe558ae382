"""Contacts: every customer in a sortable, filterable table, with create, edit, merge and CSV import/export.

A workspace can hold tens of thousands of contacts, so the table never loads them all: rows arrive a page at a
time (``canFetchMore``/``fetchMore``), sorted in SQL, and each query — a page, a filter, a count — runs on a worker
through ``ctx.tasks`` (a sorted page over 10k encrypted rows costs tens of milliseconds, too much for a keystroke).
A generation counter drops results that a newer query has overtaken.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from app.core.models import Contact
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.contacts_csv import LIFECYCLES, export_csv, exported_now
from app.store.queries import MAX_MATCHES, ContactQuery, count_contacts, query_contacts
from app.ui import theme
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.dialogs.contact_editor import ContactEditorDialog, MergeContactsDialog
from app.ui.dialogs.csv_import import CsvImportDialog
from app.ui.dialogs.tracker import DialogTracker
from app.ui.format import money, phone
from app.ui.widgets.empty_state import EmptyState

PAGE = 200
ContactRole = Qt.ItemDataRole.UserRole + 1
# The rows (a rename, a new contact, one synced in) and the companies named beside them.
SHOWN_TABLES = frozenset({"contacts", "companies"})

# (header, Contact field it shows and sorts by, first click sorts descending)
COLUMNS: list[tuple[str, str, bool]] = [
    ("Name", "name", False),
    ("Phone", "phone", False),
    ("E-mail", "email", False),
    ("Stage", "lifecycle", False),
    ("Tags", "tags", False),
    ("Lead score", "lead_score", True),
    ("Lifetime value", "lifetime_value_minor", True),
    ("Last contacted", "last_contacted_at", True),
]
_NUMERIC = {"lead_score", "lifetime_value_minor"}


class ContactTableModel(QtCore.QAbstractTableModel):
    loaded = Signal()  # a reload finished (rows and total are current)
    failed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.query = ContactQuery()
        self.total = 0
        self._rows: list[Contact] = []
        self._exhausted = True
        self._loading = False
        self._generation = 0

    # ---- Qt model interface ----------------------------------------------------------------------------------
    def rowCount(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        c, field = self._rows[index.row()], COLUMNS[index.column()][1]
        if role == ContactRole:
            return c
        if role == Qt.ItemDataRole.DisplayRole:
            if field == "name" and not c.name:
                return "no name yet"
            return self._display(c, field)
        if role == Qt.ItemDataRole.ForegroundRole and field == "name" and not c.name:
            return QtGui.QColor(theme.colors().muted)
        if role == Qt.ItemDataRole.FontRole and field == "name" and not c.name:
            font = QtGui.QFont()
            font.setItalic(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and field in ("tags", "name", "email"):
            return self._display(c, field) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and field in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(c: Contact, field: str) -> str:
        if field == "lifecycle":
            return c.lifecycle.capitalize()
        if field == "tags":
            return ", ".join(c.tags)
        if field == "lead_score":
            return str(c.lead_score)
        if field == "lifetime_value_minor":
            return money(c.lifetime_value_minor, c.currency)
        if field == "phone":
            return phone(c.phone)  # grouped as its country writes it; sorted and filtered by the stored E.164
        if field == "last_contacted_at":
            return f"{c.last_contacted_at.astimezone():%d %b %Y %H:%M}" if c.last_contacted_at else ""
        return str(getattr(c, field) or "")

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.InitialSortOrderRole:
            return Qt.SortOrder.DescendingOrder if COLUMNS[section][2] else Qt.SortOrder.AscendingOrder
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if 0 <= column < len(COLUMNS):
            self.set_query(order_by=COLUMNS[column][1], descending=order == Qt.SortOrder.DescendingOrder)

    def canFetchMore(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex) -> bool:
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: QtCore.QModelIndex | QtCore.QPersistentModelIndex) -> None:
        if not self.canFetchMore(parent):
            return
        self._loading = True
        generation, q, offset, store = self._generation, self.query, len(self._rows), self.ctx.store

        def done(page: list[Contact]) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._exhausted = len(page) < PAGE
            if page:
                self.beginInsertRows(QtCore.QModelIndex(), len(self._rows), len(self._rows) + len(page) - 1)
                self._rows.extend(page)
                self.endInsertRows()

        self.ctx.tasks.start(
            "Loading contacts", lambda: query_contacts(store, q, offset, PAGE), done, self._failed, owner=self
        )

    # ---- ours ------------------------------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        return self._loading

    def contact(self, row: int) -> Contact:
        return self._rows[row]

    def row_of(self, contact_id: str) -> int:
        return next((i for i, c in enumerate(self._rows) if c.id == contact_id), -1)

    def set_query(self, **changes: Any) -> None:
        query = replace(self.query, **changes)
        if query != self.query:
            self.query = query
            self.reload(keep=0)

    def reload(self, *, keep: int | None = None, reveal: str | None = None) -> None:
        """Re-read from the top: ``keep`` rows (default: as many as are loaded), more until ``reveal`` is among them."""
        self._generation += 1
        self._loading = True
        generation, q, store = self._generation, self.query, self.ctx.store
        want = max(PAGE, len(self._rows) if keep is None else keep)

        def work() -> tuple[list[Contact], int]:
            rows = page = query_contacts(store, q, 0, want)
            while reveal and not q.text and len(page) == want and all(c.id != reveal for c in rows):
                page = query_contacts(store, q, len(rows), want)
                rows = rows + page
            return rows, len(rows) if q.text else count_contacts(store, q)

        def done(result: tuple[list[Contact], int]) -> None:
            if generation != self._generation:
                return
            rows, self.total = result
            self.beginResetModel()
            self._rows = rows
            self._exhausted = len(rows) >= self.total
            self._loading = False
            self.endResetModel()
            self.loaded.emit()

        self.ctx.tasks.start("Loading contacts", work, done, self._failed, owner=self)

    def _failed(self, message: str) -> None:
        self._loading = False
        self.failed.emit(message)


class ContactsPage(QtWidgets.QWidget):
    chat_requested = Signal(str)  # a chat id: the main window opens it in the inbox

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._editor = DialogTracker[ContactEditorDialog]()
        self._merge = DialogTracker[MergeContactsDialog]()
        self._import = DialogTracker[CsvImportDialog]()
        self._reselect: list[str] = []

        title = QtWidgets.QLabel("Contacts")
        title.setObjectName("pageTitle")
        self.count_label = QtWidgets.QLabel()
        self.count_label.setObjectName("muted")
        self.filter = QtWidgets.QLineEdit(placeholderText="Filter by name, phone, e-mail or tag")
        self.filter.setClearButtonEnabled(True)
        self.lifecycle = QtWidgets.QComboBox()
        self.lifecycle.addItem("All stages", None)
        for stage in LIFECYCLES:
            self.lifecycle.addItem(stage.capitalize(), stage)
        self.new_button = QtWidgets.QPushButton("New")
        self.new_button.setObjectName("primary")
        self.edit_button = QtWidgets.QPushButton("Edit")
        self.chat_button = QtWidgets.QPushButton("Open chat")
        self.chat_button.setToolTip("Open this contact's chat in the inbox (or double-click the row)")
        self.merge_button = QtWidgets.QPushButton("Merge…")
        self.merge_button.setToolTip("Select exactly two contacts that are the same person")
        self.import_button = QtWidgets.QPushButton("Import CSV…")
        self.export_button = QtWidgets.QPushButton("Export CSV…")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.count_label)
        top.addStretch(1)
        for button in (
            self.import_button,
            self.export_button,
            self.merge_button,
            self.edit_button,
            self.chat_button,
            self.new_button,
        ):
            top.addWidget(button)
        filters = QtWidgets.QHBoxLayout()
        filters.addWidget(self.filter, 1)
        filters.addWidget(self.lifecycle)

        self.model = ContactTableModel(ctx, self)
        self.table = QtWidgets.QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        for column, width in enumerate((200, 150, 200, 90, 160, 90, 120)):
            self.table.setColumnWidth(column, width)
        self.empty = EmptyState(
            "No contacts yet",
            "Contacts appear here as customers write to you on WhatsApp. You can also add one with New or bring "
            "your list from a spreadsheet with Import CSV.",
        )
        # A filter without a match says so and offers the way back, instead of an empty table.
        self.no_match = EmptyState("No contacts match", "", action="Clear the filter")
        self.no_match.action_triggered.connect(self.clear_filter)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.no_match)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("hint")

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 10)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.status)

        self._filter_timer = QtCore.QTimer(self, singleShot=True, interval=200)
        self._filter_timer.timeout.connect(lambda: self.model.set_query(text=self.filter.text().strip()))
        self.filter.textChanged.connect(lambda _: self._filter_timer.start())
        self.lifecycle.currentIndexChanged.connect(
            lambda _: self.model.set_query(lifecycle=self.lifecycle.currentData())
        )
        self.new_button.clicked.connect(lambda: self.open_editor(None))
        self.edit_button.clicked.connect(self.edit_selected)
        self.merge_button.clicked.connect(self.merge_selected)
        self.import_button.clicked.connect(lambda: self.import_csv())
        self.export_button.clicked.connect(lambda: self.export_csv())
        self.chat_button.clicked.connect(self.open_selected_chat)
        self.table.doubleClicked.connect(lambda index: self.open_chat(self.model.contact(index.row()).id))
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.model.loaded.connect(self._loaded)
        self.model.failed.connect(self._show_error)
        self.watch = StaleWhenHidden(self, ctx.changes, SHOWN_TABLES, self._changed)
        self._selection_changed()
        self.model.reload()

    @property
    def editor(self) -> ContactEditorDialog | None:
        return self._editor.current

    @property
    def merge_dialog(self) -> MergeContactsDialog | None:
        return self._merge.current

    @property
    def import_dialog(self) -> CsvImportDialog | None:
        return self._import.current

    # ---- listing ---------------------------------------------------------------------------------------------
    def selected_contacts(self) -> list[Contact]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.model.contact(r) for r in rows]

    def _selection_changed(self, *_: object) -> None:
        count = len(self.table.selectionModel().selectedRows())
        self.edit_button.setEnabled(count == 1)
        self.chat_button.setEnabled(count == 1)
        self.merge_button.setEnabled(count == 2)

    def _loaded(self) -> None:
        q, total = self.model.query, self.model.total
        filtered = bool(q.text or q.lifecycle)
        if q.text and total >= MAX_MATCHES:
            self.count_label.setText(f"first {MAX_MATCHES:,} matches")
        else:
            self.count_label.setText(f"{total:,} {'matching' if filtered else 'contact' if total == 1 else 'contacts'}")
        if total == 0 and filtered:
            words = [f"“{q.text}”"] if q.text else []
            if q.lifecycle:
                words.append(f"the stage {q.lifecycle.capitalize()}")
            self.no_match.title.setText(f"No contacts match {' and '.join(words)}")
            self.no_match.body.setText("Clear the filter to see every contact again.")
            self.stack.setCurrentWidget(self.no_match)
        else:
            self.stack.setCurrentWidget(self.empty if total == 0 else self.table)
        if self._reselect:
            self._select_ids(self._reselect)
            self._reselect = []

    def clear_filter(self) -> None:
        """Back to every contact: the text filter and the stage cleared, one reload."""
        self._filter_timer.stop()
        for widget in (self.filter, self.lifecycle):
            widget.blockSignals(True)
        self.filter.clear()
        self.lifecycle.setCurrentIndex(0)
        for widget in (self.filter, self.lifecycle):
            widget.blockSignals(False)
        self.model.set_query(text="", lifecycle=None)

    def _select_ids(self, ids: list[str]) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = QtCore.QItemSelectionModel.SelectionFlag.Select | QtCore.QItemSelectionModel.SelectionFlag.Rows
        for contact_id in ids:
            row = self.model.row_of(contact_id)
            if row >= 0:
                index = self.model.index(row, 0)
                selection.select(index, flags)
                selection.setCurrentIndex(index, QtCore.QItemSelectionModel.SelectionFlag.NoUpdate)
                self.table.scrollTo(index)

    def select_contact(self, contact_id: str) -> None:
        """Show and select one contact (quick switcher), clearing filters that hide it."""
        if self.model.row_of(contact_id) >= 0 and not self.model.loading:
            self._select_ids([contact_id])
            return
        contact = self.ctx.store.contacts.find(contact_id)
        if contact is None:
            self.status.setText("That contact no longer exists.")
            return
        q = self.model.query
        if q.text or q.lifecycle not in (None, contact.lifecycle):
            self._filter_timer.stop()
            for widget in (self.filter, self.lifecycle):
                widget.blockSignals(True)
            self.filter.clear()
            self.lifecycle.setCurrentIndex(0)
            for widget in (self.filter, self.lifecycle):
                widget.blockSignals(False)
            self.model.query = replace(q, text="", lifecycle=None)
        self._reselect = [contact_id]
        self.model.reload(reveal=contact_id)

    def _changed(self, tables: frozenset[str]) -> None:
        if tables & SHOWN_TABLES:
            self._reselect = self._reselect or [c.id for c in self.selected_contacts()]
            self.model.reload()

    def _show_error(self, message: str) -> None:
        self.status.setText(message)

    # ---- actions ---------------------------------------------------------------------------------------------
    def open_editor(self, contact_id: str | None) -> ContactEditorDialog:
        dialog = ContactEditorDialog(self.ctx, contact_id, parent=self)
        dialog.saved.connect(self._saved)
        return self._editor.show(dialog)

    def _saved(self, contact_id: str) -> None:
        self.status.setText("Contact saved")
        self._reselect = [contact_id]

    def open_selected_chat(self) -> None:
        selected = self.selected_contacts()
        if len(selected) == 1:
            self.open_chat(selected[0].id)

    def open_chat(self, contact_id: str) -> None:
        """Ask for the contact's newest chat in the inbox; a contact nobody has written with yet has none."""
        chats = self.ctx.store.chats.find_all({"contact_id": contact_id}, order_by="rid", descending=True, limit=1)
        if chats:
            self.chat_requested.emit(chats[0].id)
            return
        contact = self.ctx.store.contacts.find(contact_id)
        who = (contact.name or contact.phone) if contact is not None else None
        self.status.setText(
            f"There is no chat with {who or 'this contact'} yet: it appears in the inbox when they write on WhatsApp."
        )

    def edit_selected(self) -> None:
        selected = self.selected_contacts()
        if len(selected) == 1:
            self.open_editor(selected[0].id)

    def merge_selected(self) -> MergeContactsDialog | None:
        selected = self.selected_contacts()
        if len(selected) != 2:
            self.status.setText("Select exactly two contacts to merge.")
            return None
        dialog = MergeContactsDialog(self.ctx, selected[0], selected[1], parent=self)
        dialog.merged.connect(self._merged)
        return self._merge.show(dialog)

    def _merged(self, keep_id: str) -> None:
        self.status.setText("Contacts merged")
        self._reselect = [keep_id]

    def import_csv(self, path: str | Path | None = None) -> CsvImportDialog | None:
        if path is None:
            chosen, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Import contacts", str(Path.home()), "CSV files (*.csv *.txt);;All files (*)"
            )
            if not chosen:
                return None
            path = chosen
        return self._import.show(CsvImportDialog(self.ctx, path, parent=self))

    def export_csv(self, path: str | Path | None = None) -> None:
        if path is None:
            chosen, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Export contacts", str(Path.home() / exported_now()), "CSV files (*.csv)"
            )
            if not chosen:
                return
            path = chosen
        target, store = Path(path), self.ctx.store
        self.status.setText("Exporting contacts…")
        self.ctx.tasks.start(
            "Exporting contacts",
            lambda: export_csv(store, target),
            lambda n: self.status.setText(f"Exported {n:,} contact{'' if n == 1 else 's'} to {target.name}"),
            lambda message: self.status.setText(f"Export failed: {message}"),
            owner=self,
        )
