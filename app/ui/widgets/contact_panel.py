"""The side panel of a chat: who the customer is, editable, with their deals, value and notes."""

from __future__ import annotations

from typing import Any

from app.core.models import Contact
from app.qt import Qt, QtWidgets, Signal
from app.ui.context import AppContext
from app.ui.format import money

LIFECYCLES = ["new", "lead", "qualified", "customer", "churned"]


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

        self.fields = QtWidgets.QTableWidget(0, 2)
        self.fields.setHorizontalHeaderLabels(["Field", "Value"])
        self.fields.horizontalHeader().setStretchLastSection(True)
        self.fields.verticalHeader().hide()
        self.fields.setMaximumHeight(120)
        add_field = QtWidgets.QPushButton("Add field")
        add_field.clicked.connect(lambda: self.fields.insertRow(self.fields.rowCount()))
        self.save_button = QtWidgets.QPushButton("Save")
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("hint")

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

    def show_contact(self, contact_id: str | None) -> None:
        store = self.ctx.store
        self.contact = store.contacts.find(contact_id) if contact_id else None
        c = self.contact
        self.body.setEnabled(c is not None)
        self.status.clear()
        if c is None:
            self.heading.setText("No contact")
            self.phone.clear()
            return
        self.heading.setText(c.name or c.phone or "Unnamed contact")
        self.phone.setText(" · ".join(x for x in (c.phone, c.lid) if x))
        self.name.setText(c.name)
        self.email.setText(c.email or "")
        self.lifecycle.setCurrentIndex(LIFECYCLES.index(c.lifecycle))
        self.score.setValue(c.lead_score)
        self.tags.setText(", ".join(c.tags))
        self.value.setText(money(c.lifetime_value_minor, c.currency))
        self.fields.setRowCount(0)
        for key, value in c.custom_fields.items():
            r = self.fields.rowCount()
            self.fields.insertRow(r)
            self.fields.setItem(r, 0, QtWidgets.QTableWidgetItem(key))
            self.fields.setItem(r, 1, QtWidgets.QTableWidgetItem(str(value)))
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

    def _custom_fields(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for r in range(self.fields.rowCount()):
            key_item, value_item = self.fields.item(r, 0), self.fields.item(r, 1)
            key = key_item.text().strip() if key_item else ""
            if key:
                values[key] = value_item.text() if value_item else ""
        return values

    def save(self) -> None:
        if self.contact is None:
            return
        contact_id = self.contact.id
        changes = {
            "name": self.name.text().strip(),
            "email": self.email.text().strip() or None,
            "lifecycle": LIFECYCLES[self.lifecycle.currentIndex()],
            "lead_score": self.score.value(),
            "tags": [t.strip() for t in self.tags.text().split(",") if t.strip()],
            "custom_fields": self._custom_fields(),
        }

        def done(_: object) -> None:
            self.status.setText("Saved")
            self.ctx.changes.announce("contacts", "chats")
            self.saved.emit(contact_id)

        store = self.ctx.store
        self.ctx.tasks.start(
            "Saving the contact",
            lambda: store.contacts.update(contact_id, **changes),
            done,
            lambda msg: self.status.setText(msg),
            owner=self,
        )
