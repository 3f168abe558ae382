"""The customer panel beside a chat never loses what was typed into it (issue 16.3), on a real workspace.

Seen under Xvfb: tags typed into the panel, then another chat clicked without pressing Save, and the tags were gone
without a word. Now Save is enabled only while something differs from the stored contact; switching chats saves
first (and says so), a save the store refuses keeps the panel on that customer and asks; hiding the panel (another
section, the window closing) saves too; a teammate's change fills only the fields nobody is editing. With no chat
selected the panel shows how to get a customer, not a blank form.
"""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.core.models import Chat
from app.qt import QtWidgets
from app.store.store import Store
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from app.ui.widgets.contact_panel import EMPTY_TEXT, ContactPanel
from tests.support.graph import AT
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, select


def seed_chat(store: Store, name: str, n: int, *, phone: str | None = None) -> Chat:
    contact = store.contacts.create(name=name, phone=phone or f"+3460000{n:04d}")
    chat = store.chats.create(contact_id=contact.id)
    store.messages.create(chat_id=chat.id, direction="in", body=f"hello from {name}", sent_at=AT + timedelta(minutes=n))
    return chat


def two_chats(qtbot: QtBot, ctx: AppContext) -> tuple[InboxPage, Chat, Chat]:
    ana = seed_chat(ctx.store, "Ana Souza", 1)
    ben = seed_chat(ctx.store, "Ben Okafor", 2)
    page = make_page(qtbot, ctx)
    select(page, ana.id)
    wait_idle(qtbot, ctx)  # marking the chat read
    return page, ana, ben


def question(page: InboxPage) -> QtWidgets.QMessageBox:
    box = page.panel.question
    assert box is not None, "the panel did not ask"
    return box


def answer(qtbot: QtBot, page: InboxPage, text: str) -> None:
    box = question(page)
    qtbot.waitUntil(box.isVisible)
    [button] = [b for b in box.buttons() if b.text() == text]
    button.click()


def test_save_is_enabled_only_while_something_differs(qtbot: QtBot, ctx: AppContext) -> None:
    page, _ana, _ben = two_chats(qtbot, ctx)
    panel = page.panel
    assert not panel.save_button.isEnabled(), "nothing typed: nothing to save"
    panel.tags.setText("vip")
    assert panel.save_button.isEnabled()
    assert panel.dirty() == {"tags"}
    panel.tags.setText("")
    assert not panel.save_button.isEnabled(), "typed back to what is stored"
    panel.score.setValue(40)
    assert panel.dirty() == {"lead_score"}
    panel.save_button.click()
    assert not panel.save_button.isEnabled(), "one save at a time"
    wait_idle(qtbot, ctx)
    assert not panel.save_button.isEnabled(), "saved: the form is the stored contact again"
    assert panel.status.text() == "Saved"


def test_switching_chats_saves_the_edits_first(qtbot: QtBot, ctx: AppContext) -> None:
    page, ana, ben = two_chats(qtbot, ctx)
    page.panel.tags.setText("vip, wholesale")
    page.panel.fields.add_field("size", "M")
    select(page, ben.id)
    qtbot.waitUntil(lambda: page.chat_id == ben.id)
    saved = ctx.store.contacts.get(ana.contact_id or "")
    assert (saved.tags, saved.custom_fields) == (["vip", "wholesale"], {"size": "M"})
    assert page.panel.name.text() == "Ben Okafor"
    assert page.panel.status.text() == "Saved changes to Ana Souza"
    assert page.list.currentIndex().row() == page.model.index_of(ben.id).row()
    assert not page.panel.save_button.isEnabled()


def test_an_edit_that_cannot_be_saved_keeps_the_customer_and_asks(qtbot: QtBot, ctx: AppContext) -> None:
    page, ana, ben = two_chats(qtbot, ctx)
    page.panel.email.setText("ana@")
    select(page, ben.id)
    assert page.chat_id == ana.id, "the chat did not switch under the unsaved customer"
    assert page.list.currentIndex().row() == page.model.index_of(ana.id).row(), "the list stays on it too"
    assert page.panel.email.text() == "ana@"
    assert "does not look like an e-mail" in page.panel.error.text()
    box = question(page)
    assert "Ana Souza" in box.text()
    assert [b.text() for b in box.buttons() if b.text() == "Save"] == [], "the same value would be refused again"

    answer(qtbot, page, "Keep editing")
    assert page.panel.question is None
    assert page.chat_id == ana.id
    assert page.panel.email.text() == "ana@"
    assert page.panel.email.hasFocus()

    select(page, ben.id)
    answer(qtbot, page, "Discard changes")
    assert page.chat_id == ben.id
    assert ctx.store.contacts.get(ana.contact_id or "").email is None
    select(page, ana.id)
    assert page.panel.email.text() == ""


def test_a_save_the_store_refuses_keeps_the_customer_and_asks(qtbot: QtBot, ctx: AppContext) -> None:
    """The form saw a phone number and let the name be cleared; a teammate had removed the phone meanwhile, so the
    store refuses ("Enter a name or a phone number."): the panel stays on Ana with the cleared name and asks."""
    page, ana, ben = two_chats(qtbot, ctx)
    contact_id = ana.contact_id or ""
    page.panel.name.setText("")
    ctx.store.contacts.update(contact_id, phone=None)  # the panel hears of it only after this turn of the loop
    select(page, ben.id)
    qtbot.waitUntil(lambda: page.panel.question is not None)
    box = question(page)
    assert page.chat_id == ana.id
    assert page.panel.name.text() == ""
    assert page.panel.error.text() == "Enter a name or a phone number."
    assert ctx.store.contacts.get(contact_id).name == "Ana Souza"

    answer(qtbot, page, "Save")  # again: the same refusal, asked again (now by the form itself)
    assert page.panel.question is not None
    assert page.panel.question is not box
    assert page.chat_id == ana.id
    answer(qtbot, page, "Keep editing")
    page.panel.name.setText("Ana Lima")
    select(page, ben.id)
    qtbot.waitUntil(lambda: page.chat_id == ben.id)
    assert ctx.store.contacts.get(contact_id).name == "Ana Lima"


def test_a_teammates_change_fills_only_the_untouched_fields(qtbot: QtBot, ctx: AppContext) -> None:
    page, ana, _ben = two_chats(qtbot, ctx)
    contact_id = ana.contact_id or ""
    page.panel.tags.setText("vip")
    ctx.store.contacts.update(contact_id, name="Ana Lima", email="ana@lima.example", tags=["theirs"])
    qtbot.waitUntil(lambda: page.panel.heading.text() == "Ana Lima")
    assert page.panel.name.text() == "Ana Lima", "an untouched field follows the store"
    assert page.panel.email.text() == "ana@lima.example"
    assert page.panel.tags.text() == "vip", "the field being edited stays as typed"
    assert page.panel.dirty() == {"tags"}
    page.panel.save_button.click()
    wait_idle(qtbot, ctx)
    saved = ctx.store.contacts.get(contact_id)
    assert (saved.name, saved.email, saved.tags) == ("Ana Lima", "ana@lima.example", ["vip"]), (
        "saving the tags did not write the old name back over the teammate's"
    )


def test_leaving_the_section_or_closing_the_window_saves(qtbot: QtBot, ctx: AppContext) -> None:
    ana = seed_chat(ctx.store, "Ana Souza", 1)
    window = QtWidgets.QStackedWidget()
    qtbot.addWidget(window)
    page = InboxPage(ctx)
    other = QtWidgets.QLabel("Contacts")
    window.addWidget(page)
    window.addWidget(other)
    window.resize(1200, 700)
    window.show()
    qtbot.waitExposed(window)
    select(page, ana.id)
    wait_idle(qtbot, ctx)
    contact_id = ana.contact_id or ""

    page.panel.tags.setText("vip")
    window.setCurrentWidget(other)  # another section
    qtbot.waitUntil(lambda: ctx.store.contacts.get(contact_id).tags == ["vip"])

    window.setCurrentWidget(page)
    page.panel.score.setValue(70)
    window.close()  # the window closing
    qtbot.waitUntil(lambda: ctx.store.contacts.get(contact_id).lead_score == 70)


def test_no_chat_selected_shows_no_form(qtbot: QtBot, ctx: AppContext) -> None:
    seed_chat(ctx.store, "Ana Souza", 1)
    page = make_page(qtbot, ctx)
    panel = page.panel
    editable = (QtWidgets.QLineEdit, QtWidgets.QComboBox, QtWidgets.QSpinBox, QtWidgets.QTableWidget)
    shown = [w for w in panel.findChildren(QtWidgets.QWidget) if isinstance(w, editable) and w.isVisible()]
    assert shown == [], "a blank form that takes typing and saves nowhere"
    texts = [label.text() for label in panel.findChildren(QtWidgets.QLabel) if label.isVisible()]
    assert EMPTY_TEXT in texts
    assert not panel.save_button.isVisible()


def test_a_customer_removed_while_shown_leaves_no_form(qtbot: QtBot, ctx: AppContext) -> None:
    panel = ContactPanel(ctx)
    qtbot.addWidget(panel)
    contact = ctx.store.contacts.create(name="Gone Soon", phone="+34600009999")
    panel.show()
    panel.show_contact(contact.id)
    assert panel.name.isVisible()
    ctx.store.contacts.delete(contact.id)
    qtbot.waitUntil(lambda: not panel.name.isVisible())
    assert panel.contact is None


def test_quitting_saves(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> None:
    """Quit (Ctrl+Q, SIGTERM) ends the event loop without closing the window: the edits are saved on the way."""
    page, ana, _ben = two_chats(qtbot, ctx)
    page.panel.tags.setText("vip")
    qapp.aboutToQuit.emit()
    qtbot.waitUntil(lambda: ctx.store.contacts.get(ana.contact_id or "").tags == ["vip"])
