"""The side panel of a chat: who the customer is, editable, with their deals, value and notes.

It follows the store: a note added here or by a teammate, a deal moved, a rename synced in all show up while the
panel is on screen (or when it is shown again). The form is tracked field by field against the stored contact: Save
is enabled only while something differs, a teammate's change fills the fields the person has not touched and leaves
the ones they have. Edits are never dropped on the way out: switching chats saves them first (``leave``), hiding
the panel (another section, closing the window) or quitting saves them too, and a save the store refuses keeps the
panel on that customer and asks whether to save, discard or stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.errors import describe
from app.core.models import Contact
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.contacts_csv import LIFECYCLES
from app.store.ops import Done
from app.store.ops.contacts import check_contact, update_contact
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.format import display_name, money, phone
from app.ui.kit import note
from app.ui.widgets.contact_fields import CustomFieldsTable, changed_fields
from app.ui.widgets.label_picker import LabelPicker

# The contact row, its deals (and their stages' names), its notes; lifetime value follows sales.
SHOWN_TABLES = frozenset({"contacts", "deals", "pipeline_stages", "notes", "sales"})
EMPTY_TEXT = "Select a chat to see the customer"
STATUS_MS = 6000  # how long "Saved changes to …" stays


def _name_of(contact: Contact) -> str:
    return display_name(contact.name, phone(contact.phone), "Unnamed contact")


class ContactPanel(QtWidgets.QFrame):
    saved = Signal(str)  # contact id

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("panel")
        self.setMinimumWidth(270)
        self.contact: Contact | None = None
        self._filling = False  # the form is being filled from the store: not the person's edits
        self._saving = False
        self._save_again = False  # more was typed (and the panel hidden) while a save was in flight
        self._leaving: Callable[[], None] | None = None  # what runs once the edits being saved are saved
        self.question: QtWidgets.QMessageBox | None = None  # "Your changes … are not saved" while it is open

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
        self.tags = LabelPicker(ctx)  # managed labels as chips (issue 16), not free text
        self.value = QtWidgets.QLabel("—")
        form = QtWidgets.QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("E-mail", self.email)
        form.addRow("Stage", self.lifecycle)
        form.addRow("Lead score", self.score)
        form.addRow("Labels", self.tags)
        form.addRow("Lifetime value", self.value)

        self.fields = CustomFieldsTable()
        self.fields.setMaximumHeight(120)
        add_field = QtWidgets.QPushButton("Add field")
        add_field.clicked.connect(lambda: self.fields.add_field())
        self.save_button = QtWidgets.QPushButton("Save")
        self.save_button.setObjectName("primary")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save)
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self._status_timer = QtCore.QTimer(self, singleShot=True, interval=STATUS_MS)
        self._status_timer.timeout.connect(self.status.clear)
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

        # No customer: a sentence saying how to get one, not a blank form that takes typing and saves nowhere.
        self.empty = QtWidgets.QWidget()
        empty = QtWidgets.QVBoxLayout(self.empty)
        empty.setContentsMargins(0, 0, 0, 0)
        self.empty_title = QtWidgets.QLabel("No chat selected")
        self.empty_title.setObjectName("emptyTitle")
        self.empty_text = note(EMPTY_TEXT)
        empty.addWidget(self.empty_title)
        empty.addWidget(self.empty_text)
        empty.addStretch(1)

        self.card = QtWidgets.QWidget()
        card = QtWidgets.QVBoxLayout(self.card)
        card.setContentsMargins(0, 0, 0, 0)
        card.addWidget(self.heading)
        card.addWidget(self.phone)
        card.addWidget(self.body, 1)
        self.pages = QtWidgets.QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.card)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(14, 14, 14, 14)
        layout.addWidget(self.pages)

        for line in (self.name, self.email):
            line.textChanged.connect(self._edited_now)
        self.tags.edited.connect(self._edited_now)
        self.lifecycle.currentIndexChanged.connect(self._edited_now)
        self.score.valueChanged.connect(self._edited_now)
        self.fields.itemChanged.connect(self._edited_now)
        self.fields.model().rowsInserted.connect(self._edited_now)
        self.fields.model().rowsRemoved.connect(self._edited_now)
        self.watch = StaleWhenHidden(self, ctx.changes, SHOWN_TABLES, self._changed)
        app = QtCore.QCoreApplication.instance()
        if app is not None:  # Quit (Ctrl+Q, SIGTERM) ends the loop without closing the window: save before that
            app.aboutToQuit.connect(self._save_quietly)

    # ---- showing ---------------------------------------------------------------------------------------------
    def show_contact(self, contact_id: str | None) -> None:
        """Show this contact (None: nobody). The same contact again is a refresh that keeps what is typed; edits
        to another contact still unsaved here are saved on the way (``leave`` is the way that can ask first)."""
        if self.contact is not None and contact_id == self.contact.id:
            self._changed(SHOWN_TABLES)
            return
        self._save_quietly()
        store = self.ctx.store
        self.contact = store.contacts.find(contact_id) if contact_id else None
        c = self.contact
        self.status.clear()
        self.show_error("")
        if c is None:
            self.empty_title.setText("No customer" if contact_id else "No chat selected")
            self.empty_text.setText(
                "The customer of this chat was removed." if contact_id else EMPTY_TEXT,
            )
            self.pages.setCurrentWidget(self.empty)
            self._update_save()
            return
        self.pages.setCurrentWidget(self.card)
        self._fill_form(c)
        self._fill_facts(c)

    def _fill_form(self, c: Contact, keep: frozenset[str] = frozenset()) -> None:
        """Fill the form from ``c``, except the fields in ``keep`` (the ones the person has edited)."""
        self._filling = True
        try:
            if "name" not in keep:
                self.name.setText(c.name)
            if "email" not in keep:
                self.email.setText(c.email or "")
            if "lifecycle" not in keep:
                self.lifecycle.setCurrentIndex(LIFECYCLES.index(c.lifecycle))
            if "lead_score" not in keep:
                self.score.setValue(c.lead_score)
            if "tags" not in keep:
                self.tags.set_labels(c.tags)
            if "custom_fields" not in keep:
                self.fields.load(c.custom_fields)
        finally:
            self._filling = False
        self._update_save()

    def _fill_facts(self, c: Contact) -> None:
        """What is shown but not edited here: heading, phone, value, deals and notes."""
        store = self.ctx.store
        self.heading.setText(_name_of(c))
        self.phone.setText(" · ".join(x for x in (phone(c.phone), c.lid) if x))
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
        for note_ in store.notes.find_all({"contact_id": c.id}, order_by="created_at", descending=True, limit=20):
            self.notes.addItem(f"{note_.created_at.astimezone():%d %b %H:%M} — {note_.body}")

    def _changed(self, tables: frozenset[str]) -> None:
        """The store changed (here, or a teammate's edit synced in): re-read the contact and fill the fields the
        person has not touched; the touched ones stay as typed (they are theirs until saved or discarded)."""
        if self.contact is None:
            return
        fresh = self.ctx.store.contacts.find(self.contact.id)
        if fresh is None:  # erased or merged away
            self.show_contact(None)
            return
        if fresh == self.contact and not tables - {"contacts"}:
            return  # another customer changed (each message received touches its contact): nothing to re-read
        keep = self.dirty()
        self.contact = fresh
        self._fill_form(fresh, keep)
        self._fill_facts(fresh)

    # ---- what is edited --------------------------------------------------------------------------------------
    def _form(self) -> dict[str, Any]:
        """The form's fields as the contact would hold them, not checked yet."""
        return {
            "name": self.name.text().strip(),
            "email": self.email.text().strip() or None,
            "lifecycle": LIFECYCLES[self.lifecycle.currentIndex()],
            "lead_score": self.score.value(),
            "tags": self.tags.labels(),
            "custom_fields": self.fields.values(),
        }

    def dirty(self) -> frozenset[str]:
        """The fields whose shown value differs from the stored contact (typed and not saved yet)."""
        if self.contact is None:
            return frozenset()
        return frozenset(changed_fields(self.contact, self._form()))

    def _edited(self) -> bool:
        return bool(self.dirty())

    def _edited_now(self, *_: object) -> None:
        if not self._filling:
            self._update_save()

    def _update_save(self) -> None:
        self.save_button.setEnabled(self.contact is not None and not self._saving and self._edited())

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def changes(self) -> dict[str, Any]:
        """The validated fields that differ from the stored contact; raises ValueError with a readable message."""
        assert self.contact is not None
        fields = self._form()
        check_contact(fields["name"], self.contact.phone, fields["email"])
        return changed_fields(self.contact, fields)

    # ---- saving ----------------------------------------------------------------------------------------------
    def save(self) -> None:
        if self.contact is None or self._saving:
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
        self._write(changes)

    def _write(self, changes: dict[str, Any]) -> None:
        """Save ``changes`` to the shown contact off the UI thread. When it is done, whatever waits to leave goes
        on (the chat it was switching to) and the status says what was saved. A refusal is shown in the panel,
        and asked about when the panel was on its way to another chat."""
        assert self.contact is not None
        contact_id, store = self.contact.id, self.ctx.store
        self._saving = True
        self._update_save()

        def done(result: Done[Contact]) -> None:
            updated = result.value
            self._saving = False
            if self.contact is not None and self.contact.id == updated.id:  # still showing it
                self.contact = updated
                self.fields.stored = dict(updated.custom_fields)
            self._update_save()
            self.saved.emit(contact_id)
            go, self._leaving = self._leaving, None
            if go is not None:
                go()  # shows the next customer (clearing the status), so the status is said after it
            showing = self.contact is not None and self.contact.id == updated.id
            self._say(f"Saved changes to {_name_of(updated)}" if go is not None or not showing else "Saved")
            if self._save_again:
                self._save_again = False
                self._save_quietly()

        def failed(message: str) -> None:
            self._saving = False
            self._update_save()
            self.show_error(message)
            go, self._leaving = self._leaving, None
            if go is not None:
                self._ask(message, go, can_save=True)

        self.ctx.tasks.start(
            "Saving the contact", lambda: update_contact(store, contact_id, changes), done, failed, owner=self
        )

    def _say(self, message: str) -> None:
        self.status.setText(message)
        self._status_timer.start()

    def _save_quietly(self) -> None:
        """Save what is typed without asking (the panel is hidden or moves on without ``leave``). What cannot be
        saved as typed stays in the form with its reason, to be seen when the panel is shown again."""
        if self._saving:
            self._save_again = True  # once the save in flight is done: it may not hold what was typed since
            return
        if self.contact is None or not self._edited():
            return
        try:
            changes = self.changes()
        except ValueError as exc:
            self.show_error(describe(exc))
            return
        self.show_error("")
        self._write(changes)

    def leave(self, then: Callable[[], None]) -> bool:
        """Before the inbox shows another chat. True: nothing typed is unsaved, go on now. False: not yet; the
        edits are being saved and ``then`` runs once they are, or they could not be saved and the person is asked
        (Save, Discard, or stay on this customer: ``then`` runs unless they stay)."""
        if self.question is not None:
            return False  # asked already: the answer decides
        if self._saving:
            self._leaving = then  # the latest place to go, once the save in flight is done
            return False
        if self.contact is None or not self._edited():
            return True
        try:
            changes = self.changes()
        except ValueError as exc:
            message = describe(exc)
            self.show_error(message)
            self._ask(message, then, can_save=False)
            return False
        self.show_error("")
        self._leaving = then
        self._write(changes)
        return False

    def _ask(self, message: str, then: Callable[[], None], *, can_save: bool) -> None:
        """The edits could not be saved: keep this customer on screen and let the person choose. "Save" (try
        again) is offered when the store refused, not when the typed value itself cannot be saved."""
        assert self.contact is not None
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Warning,
            "Unsaved changes",
            f"Your changes to {_name_of(self.contact)} are not saved.",
            parent=self,
        )
        box.setInformativeText(message)
        save = box.addButton("Save", QtWidgets.QMessageBox.ButtonRole.AcceptRole) if can_save else None
        discard = box.addButton("Discard changes", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        stay = box.addButton("Keep editing", QtWidgets.QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered(button: QtWidgets.QAbstractButton) -> None:
            self.question = None
            box.deleteLater()
            if button is discard:
                if self.contact is not None:
                    self._fill_form(self.contact)
                self.show_error("")
                then()
            elif save is not None and button is save:
                if self.leave(then):
                    then()
            else:
                self._focus_edited()

        box.buttonClicked.connect(answered)
        self.question = box
        box.open()

    def _focus_edited(self) -> None:
        order: list[tuple[str, QtWidgets.QWidget]] = [
            ("name", self.name),
            ("email", self.email),
            ("lifecycle", self.lifecycle),
            ("lead_score", self.score),
            ("tags", self.tags),
            ("custom_fields", self.fields),
        ]
        dirty = self.dirty()
        for key, widget in order:
            if key in dirty:
                widget.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    def hideEvent(self, event: QtGui.QHideEvent) -> None:
        """Another section, or the window closing: what is typed is saved, not left to be lost. (A minimised
        window is a spontaneous hide: the form is still there.)"""
        super().hideEvent(event)
        if not event.spontaneous():
            self._save_quietly()
