"""Creating and editing one contact, and merging two that turn out to be the same person.

Input is checked in the dialog (phone to E.164-ish digits, a plausible e-mail) so mistakes are explained where
they were typed; the write is ``app.store.ops.contacts.save_contact`` on a worker, which checks again, looks for a
duplicate and publishes ``ContactCreated``. A phone number another contact already has is the usual sign of a
duplicate, so the editor offers to open that contact instead of silently creating a second one.
"""

from __future__ import annotations

from typing import Any, Literal

from app.core.errors import describe
from app.core.models import Contact
from app.qt import QtWidgets, Signal
from app.store.contacts_csv import LIFECYCLES
from app.store.merge import MergeReport
from app.store.ops import Done
from app.store.ops import contacts as contact_ops
from app.ui.context import AppContext
from app.ui.dialogs.form_dialog import FormDialog, secondary_button
from app.ui.format import display_name, money
from app.ui.widgets.contact_fields import CustomFieldsTable
from app.ui.widgets.label_picker import LabelPicker

Answer = Literal["open", "save", "cancel"]


class ContactEditorDialog(FormDialog):
    saved = Signal(str)  # contact id

    def __init__(self, ctx: AppContext, contact_id: str | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("New contact", "New contact", "Save", parent, cancel="Cancel")
        self.ctx = ctx
        self.contact: Contact | None = None
        self.setMinimumWidth(460)

        self.name = QtWidgets.QLineEdit(placeholderText="Full name")
        self.phone = QtWidgets.QLineEdit(placeholderText="+49 176 1234567")
        self.email = QtWidgets.QLineEdit(placeholderText="Optional")
        self.company = QtWidgets.QLineEdit(placeholderText="Optional; created if new")
        self.lifecycle = QtWidgets.QComboBox()
        for stage in LIFECYCLES:
            self.lifecycle.addItem(stage.capitalize(), stage)
        self.score = QtWidgets.QSpinBox(maximum=100)
        self.tags = LabelPicker(ctx)  # managed labels, not free text (issue 16)
        form = QtWidgets.QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Phone", self.phone)
        form.addRow("E-mail", self.email)
        form.addRow("Company", self.company)
        form.addRow("Stage", self.lifecycle)
        form.addRow("Lead score", self.score)
        form.addRow("Labels", self.tags)

        self.fields = CustomFieldsTable()
        self.fields.setMaximumHeight(140)
        add_field = secondary_button("Add field")
        add_field.clicked.connect(lambda: self.fields.add_field())
        remove_field = secondary_button("Remove field")
        remove_field.clicked.connect(self.fields.remove_current)
        field_buttons = QtWidgets.QHBoxLayout()
        field_buttons.addWidget(add_field)
        field_buttons.addWidget(remove_field)
        field_buttons.addStretch(1)

        self.save_button = self.primary
        self.save_button.clicked.connect(lambda: self.save())
        self.body.addLayout(form)
        self.body.addWidget(QtWidgets.QLabel("Custom fields"))
        self.body.addWidget(self.fields)
        self.body.addLayout(field_buttons)
        self.load(contact_id)

    def load(self, contact_id: str | None) -> None:
        store = self.ctx.store
        self.contact = c = store.contacts.get(contact_id) if contact_id else None
        self.setWindowTitle("Edit contact" if c else "New contact")
        self.heading.setText(display_name(c.name, c.phone, "Unnamed contact") if c else "New contact")
        company = store.companies.find(c.company_id, include_deleted=True) if c and c.company_id else None
        self.name.setText(c.name if c else "")
        self.phone.setText(c.phone or "" if c else "")
        self.email.setText(c.email or "" if c else "")
        self.company.setText(company.name if company else "")
        self.lifecycle.setCurrentIndex(LIFECYCLES.index(c.lifecycle) if c else 0)
        self.score.setValue(c.lead_score if c else 0)
        self.tags.set_labels(c.tags if c else [])
        self.fields.load(c.custom_fields if c else {})
        self.show_error("")

    def add_field(self, key: str, value: str) -> None:
        self.fields.add_field(key, value)

    def show_error(self, message: str) -> None:
        if message:
            super().show_error(message)
        else:
            self.set_busy(False)
            self.clear_error()

    def changes(self) -> dict[str, Any]:
        """The validated fields to write; raises InvalidInput with a message for the person typing."""
        return contact_ops.contact_fields(
            name=self.name.text(),
            phone=self.phone.text(),
            email=self.email.text(),
            lifecycle=str(self.lifecycle.currentData()),
            lead_score=self.score.value(),
            tags=self.tags.labels(),
            custom_fields=self.fields.values(),
        )

    def ask_duplicate(self, other: Contact) -> Answer:
        """Another contact has this phone: open it instead, save anyway, or go back (replaceable in tests)."""
        box = QtWidgets.QMessageBox(self)
        box.setIcon(QtWidgets.QMessageBox.Icon.Question)
        box.setWindowTitle("Possible duplicate")
        box.setText(f"{other.name or 'Another contact'} already has the phone number {other.phone}.")
        box.setInformativeText("Open that contact instead, or save this one anyway?")
        open_button = box.addButton("Open existing", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        save_button = box.addButton("Save anyway", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        answer: Answer = "open" if clicked is open_button else "save" if clicked is save_button else "cancel"
        box.deleteLater()
        return answer

    def save(self, *, allow_duplicate: bool = False) -> None:
        try:
            fields = self.changes()
        except ValueError as exc:
            self.show_error(describe(exc))
            return
        self.show_error("")
        self.set_busy(True)
        store, contact_id, company = self.ctx.store, self.contact.id if self.contact else None, self.company.text()
        self.ctx.tasks.start(
            "Saving the contact",
            lambda: contact_ops.save_contact(
                store, fields, contact_id=contact_id, company=company.strip(), allow_duplicate=allow_duplicate
            ),
            self._written,
            self.show_error,
            owner=self,
        )

    def _written(self, result: Done[contact_ops.ContactSaved]) -> None:
        outcome = result.value
        if outcome.duplicate is not None:
            self.set_busy(False)
            answer = self.ask_duplicate(outcome.duplicate)
            if answer == "open":
                self.load(outcome.duplicate.id)
            elif answer == "save":
                self.save(allow_duplicate=True)
            return
        assert outcome.contact is not None
        self.saved.emit(outcome.contact.id)
        self.accept()


class MergeContactsDialog(FormDialog):
    """Two contacts side by side; the one kept receives everything of the other, which is then removed."""

    merged = Signal(str)  # the kept contact's id

    ROWS = ("Name", "Phone", "E-mail", "Company", "Stage", "Tags", "Lead score", "Lifetime value", "Added")

    def __init__(self, ctx: AppContext, a: Contact, b: Contact, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Merge contacts", "Merge two contacts", "Merge", parent, cancel="Cancel")
        self.ctx = ctx
        self.contacts = (a, b)
        self.report: MergeReport | None = None
        self.setMinimumWidth(560)
        intro = QtWidgets.QLabel(
            "Choose the contact to keep. The other one's chats, notes, deals and sales move to it, its details fill "
            "the kept contact's empty fields, tags are combined, and it is then removed."
        )
        intro.setObjectName("muted")
        intro.setWordWrap(True)

        self.keep_a = QtWidgets.QRadioButton("Keep this one")
        self.keep_b = QtWidgets.QRadioButton("Keep this one")
        (self.keep_a if a.created_at <= b.created_at else self.keep_b).setChecked(True)
        grid = QtWidgets.QGridLayout()
        grid.addWidget(self.keep_a, 0, 1)
        grid.addWidget(self.keep_b, 0, 2)
        for column, contact in ((1, a), (2, b)):
            for row, text in enumerate(self._values(contact), start=1):
                label = QtWidgets.QLabel(text)
                label.setWordWrap(True)
                grid.addWidget(label, row, column)
        for row, title in enumerate(self.ROWS, start=1):
            label = QtWidgets.QLabel(title)
            label.setObjectName("muted")
            grid.addWidget(label, row, 0)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)

        self.merge_button = self.primary
        self.merge_button.clicked.connect(self.merge)
        self.body.addWidget(intro)
        self.body.addLayout(grid)

    def _values(self, c: Contact) -> list[str]:
        company = self.ctx.store.companies.find(c.company_id) if c.company_id else None
        return [
            c.name or "—",
            c.phone or "—",
            c.email or "—",
            company.name if company else "—",
            c.lifecycle.capitalize(),
            ", ".join(c.tags) or "—",
            str(c.lead_score),
            money(c.lifetime_value_minor, c.currency),
            f"{c.created_at.astimezone():%d %b %Y}",
        ]

    @property
    def keep_and_merge(self) -> tuple[Contact, Contact]:
        a, b = self.contacts
        return (a, b) if self.keep_a.isChecked() else (b, a)

    def merge(self) -> None:
        keep, gone = self.keep_and_merge
        store = self.ctx.store
        self.clear_error()
        self.set_busy(True)
        self.ctx.tasks.start(
            "Merging contacts",
            lambda: contact_ops.merge(store, keep.id, gone.id),
            self._done,
            self.show_error,
            owner=self,
        )

    def _done(self, result: Done[MergeReport]) -> None:
        self.report = report = result.value
        self.merged.emit(report.keep_id)
        self.accept()
