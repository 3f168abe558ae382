"""The side panel of a chat: who the customer is, editable, with their deals, value and notes.

It follows the store: a note added here or by a teammate, a deal moved, a rename synced in all show up while the
panel is on screen (or when it is shown again). Fields being edited are left as typed; the rest is re-read.
"""

from __future__ import annotations

from typing import Any

from app.core.errors import describe
from app.core.models import Contact
from app.qt import Qt, QtWidgets, Signal
from app.store.contacts_csv import LIFECYCLES, split_tags
from app.store.ops import Done
from app.store.ops.contacts import check_contact, update_contact
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.format import display_name, money
from app.ui.widgets.contact_fields import CustomFieldsTable, changed_fields

# The contact row, its deals (and their stages' names), its notes; lifetime value follows sales.
SHOWN_TABLES = frozenset({"contacts", "deals", "pipeline_stages", "notes", "sales"})


class ContactPanel(QtWidgets.QFrame):
    saved = Signal(str)  # contact id

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("panel")
        self.setMinimumWidth(270)
        self.contact: Contact | None = None

        self.heading = QtWidgets.QLabel("No chat selected")
        self.heading.setObjectName("pageTitle")
        self.heading.setWordWrap(True)
        self.phone = QtWidgets.QLabel()
        self.phone.setObjectName("muted")
        self.phone.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name = QtWidgets.QLineEdit()
        self.email = QtWidgets.QLineEdit()
        self.lifecycle = QtWidgets.QComboBox()
        self.lifecycle.addItems([s.capitalize() for s in LIFECYCLES])
        self.score = QtWidgets.QSpinBox(maximum=100)
        self.tags = QtWidgets.QLineEdit(placeholderText="comma, separated")
        self.value = QtWidgets.QLabel("—")
        form = QtWidgets.QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("E-mail", self.email)
        form.addRow("Stage", self.lifecycle)
        form.addRow("Lead score", self.score)
        form.addRow("Tags", self.tags)
        form.addRow("Lifetime value", self.value)

        self.fields = CustomFieldsTable()
        self.fields.setMaximumHeight(120)
        add_field = QtWidgets.QPushButton("Add field")
        add_field.clicked.connect(lambda: self.fields.add_field())
        self.save_button = QtWidgets.QPushButton("Save")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("hint")
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()

        self.deals = QtWidgets.QListWidget()
        self.deals.setMaximumHeight(90)
        self.deals.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.deals.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.notes = QtWidgets.QListWidget()
        self.notes.setWordWrap(True)
        self.notes.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.body = QtWidgets.QWidget()
        inner = QtWidgets.QVBoxLayout(self.body)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addLayout(form)
        inner.addWidget(QtWidgets.QLabel("Custom fields"))
        inner.addWidget(self.fields)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(add_field)
        row.addStretch(1)
        row.addWidget(self.save_button)
        inner.addLayout(row)
        inner.addWidget(self.error)
        inner.addWidget(self.status)
        inner.addWidget(QtWidgets.QLabel("Deals"))
        inner.addWidget(self.deals)
        inner.addWidget(QtWidgets.QLabel("Notes"))
        inner.addWidget(self.notes, 1)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(14, 14, 14, 14)
        layout.addWidget(self.heading)
        layout.addWidget(self.phone)
        layout.addWidget(self.body, 1)
        self.body.setEnabled(False)
        self.watch = StaleWhenHidden(self, ctx.changes, SHOWN_TABLES, self._changed)

    def show_contact(self, contact_id: str | None) -> None:
        store = self.ctx.store
        self.contact = store.contacts.find(contact_id) if contact_id else None
        c = self.contact
        self.body.setEnabled(c is not None)
        self.status.clear()
        self.show_error("")
        if c is None:
            self.heading.setText("No contact")
            self.phone.clear()
            return
        self._fill_form(c)
        self._fill_facts(c)

    def _fill_form(self, c: Contact) -> None:
        self.name.setText(c.name)
        self.email.setText(c.email or "")
        self.lifecycle.setCurrentIndex(LIFECYCLES.index(c.lifecycle))
        self.score.setValue(c.lead_score)
        self.tags.setText(", ".join(c.tags))
        self.fields.load(c.custom_fields)

    def _fill_facts(self, c: Contact) -> None:
        """What is shown but not edited here: heading, phone, value, deals and notes."""
        store = self.ctx.store
        self.heading.setText(display_name(c.name, c.phone, "Unnamed contact"))
        self.phone.setText(" · ".join(x for x in (c.phone, c.lid) if x))
        self.value.setText(money(c.lifetime_value_minor, c.currency))
        self.deals.clear()
        stages = {s.id: s.name for s in store.pipeline_stages.find_all()}
        for deal in store.deals.find_all({"contact_id": c.id}):
            self.deals.addItem(
                f"{deal.title} — {stages.get(deal.stage_id, '?')} — {money(deal.value_minor, deal.currency)}"
            )
        if not self.deals.count():
            self.deals.addItem("No deals yet")
        self.notes.clear()
        for note in store.notes.find_all({"contact_id": c.id}, order_by="created_at", descending=True, limit=20):
            self.notes.addItem(f"{note.created_at.astimezone():%d %b %H:%M} — {note.body}")

    def _edited(self) -> bool:
        """Whether the form holds something the stored contact does not (typed and not saved yet)."""
        try:
            return bool(self.changes())
        except ValueError:
            return True  # half-typed (an invalid e-mail, say): still the user's

    def _changed(self, tables: frozenset[str]) -> None:
        if self.contact is None:
            return
        fresh = self.ctx.store.contacts.find(self.contact.id)
        if fresh is None:  # erased or merged away
            self.show_contact(None)
            return
        edited = self._edited()
        self.contact = fresh
        if not edited:
            self._fill_form(fresh)
        self._fill_facts(fresh)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def changes(self) -> dict[str, Any]:
        """The validated fields that differ from the stored contact; raises ValueError with a readable message."""
        assert self.contact is not None
        name = self.name.text().strip()
        email = self.email.text().strip() or None
        check_contact(name, self.contact.phone, email)
        fields = {
            "name": name,
            "email": email,
            "lifecycle": LIFECYCLES[self.lifecycle.currentIndex()],
            "lead_score": self.score.value(),
            "tags": split_tags(self.tags.text()),
            "custom_fields": self.fields.values(),
        }
        return changed_fields(self.contact, fields)

    def save(self) -> None:
        if self.contact is None:
            return
        try:
            changes = self.changes()
        except ValueError as exc:
            self.status.clear()
            self.show_error(describe(exc))
            return
        self.show_error("")
        if not changes:
            self.status.setText("No changes to save")
            return
        contact_id, store = self.contact.id, self.ctx.store
        self.save_button.setEnabled(False)

        def done(result: Done[Contact]) -> None:
            updated = result.value
            self.save_button.setEnabled(True)
            if self.contact is not None and self.contact.id == updated.id:  # still showing it
                self.contact = updated
                self.fields.stored = dict(updated.custom_fields)
                self.status.setText("Saved")
            self.saved.emit(contact_id)

        def failed(message: str) -> None:
            self.save_button.setEnabled(True)
            self.show_error(message)

        self.ctx.tasks.start(
            "Saving the contact", lambda: update_contact(store, contact_id, changes), done, failed, owner=self
        )
