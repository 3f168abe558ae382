"""Creating and editing a deal, plus the contact picker the sale dialog reuses.

The picker is an editable combo with a contains-completer so a name can be typed rather than scrolled to; the
contact list is read on a worker when the picker is first shown, not when the page is built. Saving happens on a
worker too, and a failure stays in the dialog so nothing typed is lost.
"""

from __future__ import annotations

from datetime import datetime

from app.core.errors import InvalidInput, describe
from app.core.models import Contact, Deal, PipelineStage
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.ops import Done
from app.store.ops.deals import check_currency, save_deal
from app.ui.context import AppContext
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.format import display_name, parse_money

CURRENCIES = ["USD", "EUR", "GBP", "BRL", "INR", "MXN", "IDR", "TRY"]


def contact_label(contact: Contact) -> str:
    name = display_name(contact.name, contact.phone, "Unnamed contact")
    return f"{name} · {contact.phone}" if contact.name and contact.phone else name


class ContactPicker(QtWidgets.QComboBox):
    """Pick a contact by typing part of a name or number; empty means no contact."""

    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setEditable(True)
        line = self.lineEdit()
        assert line is not None
        line.setPlaceholderText("No contact (type to search)")
        self.setInsertPolicy(QtWidgets.QComboBox.InsertPolicy.NoInsert)
        self.setMinimumContentsLength(24)
        completer = QtWidgets.QCompleter(self.model(), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QtWidgets.QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self.addItem("", None)
        self.is_loaded = False
        self._loading = False
        self._names: dict[str, list[str]] = {}

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        self.load()

    def load(self) -> None:
        if self.is_loaded or self._loading:
            return
        self._loading = True
        store = self.ctx.store
        self.ctx.tasks.start(
            "Loading contacts", lambda: store.contacts.find_all(order_by="name"), self._fill, owner=self
        )

    def _fill(self, contacts: list[Contact]) -> None:
        chosen, text = self.currentData(), self.currentText()
        self.blockSignals(True)
        self.clear()
        self.addItem("", None)
        self._names = {}
        for contact in contacts:
            self.addItem(contact_label(contact), contact.id)
            self._names.setdefault(display_name(contact.name, contact.phone, "").lower(), []).append(contact.id)
        index = self.findData(chosen) if chosen else -1
        if index >= 0:
            self.setCurrentIndex(index)
        else:
            self.setCurrentIndex(0)
            self.setEditText(text)
        self.blockSignals(False)
        self.is_loaded, self._loading = True, False
        self.loaded.emit()

    def set_contact(self, contact_id: str | None, label: str = "") -> None:
        """Preselect a contact (before or after the list has loaded)."""
        if contact_id is None:
            self.setCurrentIndex(0)
            return
        index = self.findData(contact_id)
        if index < 0:
            self.addItem(label or contact_id, contact_id)
            index = self.count() - 1
        self.setCurrentIndex(index)

    def select_text(self, text: str) -> None:
        """Choose the first contact whose label contains ``text`` (what picking from the completer does)."""
        index = self.findText(text, Qt.MatchFlag.MatchContains)
        self.setCurrentIndex(max(0, index))

    def contact_id(self) -> str | None:
        """The chosen contact; raises ValueError when the typed text names none."""
        text = self.currentText().strip()
        if not text:
            return None
        index = self.currentIndex()
        if index >= 0 and self.itemText(index) == text:
            data = self.itemData(index)
            return str(data) if data else None
        index = self.findText(text, Qt.MatchFlag.MatchFixedString)
        if index >= 0:
            return str(self.itemData(index))
        matches = self._names.get(text.lower(), [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise InvalidInput(f"Several contacts are called {text!r}; pick one from the list.")
        raise InvalidInput(f"No contact called {text!r}; pick one from the list or leave it empty.")


def date_field() -> tuple[QtWidgets.QCheckBox, QtWidgets.QDateEdit, QtWidgets.QWidget]:
    """An optional date: a checkbox enabling a calendar date edit."""
    check = QtWidgets.QCheckBox()
    edit = QtWidgets.QDateEdit(QtCore.QDate.currentDate().addDays(30))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("d MMM yyyy")
    edit.setEnabled(False)
    check.toggled.connect(edit.setEnabled)
    box = QtWidgets.QWidget()
    row = QtWidgets.QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(check)
    row.addWidget(edit, 1)
    return check, edit, box


class DealEditorDialog(FormDialog):
    saved = Signal(str)  # deal id

    def __init__(
        self,
        ctx: AppContext,
        stages: list[PipelineStage],
        *,
        deal: Deal | None = None,
        stage_id: str | None = None,
        currency: str = "USD",
        contact_name: str = "",
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        title = "Edit deal" if deal else "New deal"
        super().__init__(title, title, "Save", parent, cancel="Cancel")
        self.ctx = ctx
        self.deal = deal
        self.setMinimumWidth(440)

        self.title = QtWidgets.QLineEdit(placeholderText="e.g. 20 linen shirts for the hotel")
        self.contact = ContactPicker(ctx)
        self.value = QtWidgets.QLineEdit(placeholderText="0.00")
        self.currency = QtWidgets.QComboBox()
        self.currency.setEditable(True)
        self.currency.addItems(sorted({currency, *CURRENCIES}))
        self.stage = QtWidgets.QComboBox()
        for stage in stages:
            self.stage.addItem(stage.name, stage.id)
        self.close_check, self.close_date, close_box = date_field()

        value_row = QtWidgets.QHBoxLayout()
        value_row.addWidget(self.value, 1)
        value_row.addWidget(self.currency)
        form = QtWidgets.QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Contact", self.contact)
        form.addRow("Value", value_row)
        form.addRow("Stage", self.stage)
        form.addRow("Expected close", close_box)
        self.body.addLayout(form)
        self.save_button = self.primary
        self.save_button.clicked.connect(self.save)

        chosen_stage = deal.stage_id if deal else stage_id
        self.stage.setCurrentIndex(max(0, self.stage.findData(chosen_stage)))
        self.currency.setCurrentText(deal.currency if deal else currency)
        if deal is not None:
            self.title.setText(deal.title)
            self.contact.set_contact(deal.contact_id, contact_name)
            self.value.setText(f"{deal.value_minor / 100:.2f}")
            if deal.expected_close_at is not None:
                local = deal.expected_close_at.astimezone()
                self.close_check.setChecked(True)
                self.close_date.setDate(QtCore.QDate(local.year, local.month, local.day))

    def save(self) -> None:
        title = self.title.text().strip()
        try:
            if not title:
                raise InvalidInput("Give the deal a title.")
            contact_id = self.contact.contact_id()
            value = parse_money(self.value.text() or "0")
            currency = check_currency(self.currency.currentText())
        except ValueError as exc:
            self.show_error(describe(exc))
            return
        stage_id = str(self.stage.currentData())
        expected: datetime | None = None
        if self.close_check.isChecked():
            d = self.close_date.date()
            expected = datetime(d.year(), d.month(), d.day()).astimezone()  # local midnight
        store, deal_id = self.ctx.store, self.deal.id if self.deal else None
        self.clear_error()
        self.set_busy(True)
        self.ctx.tasks.start(
            "Saving the deal",
            lambda: save_deal(
                store,
                deal_id=deal_id,
                stage_id=stage_id,
                title=title,
                contact_id=contact_id,
                value_minor=value,
                currency=currency,
                expected_close_at=expected,
            ),
            self._saved,
            self.show_error,
            owner=self,
        )

    def _saved(self, result: Done[Deal]) -> None:
        self.saved.emit(result.value.id)
        self.accept()
