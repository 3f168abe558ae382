"""Managing quick replies from Settings: create, edit and delete persist; refused saves write nothing; live preview."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.core.models import QuickReply
from app.qt import QtWidgets
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from app.ui.pages.settings import SettingsPage
from app.ui.widgets.quick_replies_editor import QuickRepliesEditor
from tests.support.gui import wait_idle


@pytest.fixture
def editor(qtbot: QtBot, ctx: AppContext) -> QuickRepliesEditor:
    widget = QuickRepliesEditor(ctx)
    qtbot.addWidget(widget)
    widget.resize(760, 420)
    widget.show()
    qtbot.waitExposed(widget)
    wait_idle(qtbot, ctx)
    return widget


def listed(editor: QuickRepliesEditor) -> list[str]:
    return [editor.list.item(row).text() for row in range(editor.list.count())]


def fill(editor: QuickRepliesEditor, shortcut: str, title: str, body: str) -> None:
    editor.shortcut.setText(shortcut)
    editor.title.setText(title)
    editor.body.setPlainText(body)


def test_create_persists_and_lists(qtbot: QtBot, ctx: AppContext, editor: QuickRepliesEditor) -> None:
    assert listed(editor) == []
    assert not editor.empty.isHidden()
    assert not editor.delete_button.isEnabled()
    editor.new_button.click()
    fill(editor, "/Thanks", "Thank you", "Thanks {first_name}!")
    with qtbot.waitSignal(editor.saved):
        editor.save_button.click()
    wait_idle(qtbot, ctx)
    [stored] = ctx.store.quick_replies.find_all()
    assert (stored.shortcut, stored.title, stored.body) == ("thanks", "Thank you", "Thanks {first_name}!")
    assert listed(editor) == ["/thanks  —  Thank you"]
    assert editor.current_id == stored.id
    assert editor.list.currentItem() is not None
    assert editor.list.currentItem().isSelected()
    assert editor.shortcut.text() == "thanks"
    assert editor.delete_button.isEnabled()
    assert editor.error.isHidden()
    assert editor.status.text() == "Saved /thanks."
    assert editor.empty.isHidden()


def test_edit_persists(qtbot: QtBot, ctx: AppContext, editor: QuickRepliesEditor) -> None:
    hours = ctx.store.quick_replies.create(shortcut="hours", title="Hours", body="10–8")
    ctx.store.quick_replies.create(shortcut="ahoy", title="Greeting", body="Ahoy!")
    qtbot.waitUntil(lambda: listed(editor) == ["/ahoy  —  Greeting", "/hours  —  Hours"])
    editor.list.setCurrentRow(1)
    assert editor.current_id == hours.id
    assert (editor.shortcut.text(), editor.title.text(), editor.body.toPlainText()) == ("hours", "Hours", "10–8")
    fill(editor, "opening", "Opening hours", "We open 10am–8pm, {first_name}.")
    editor.save_button.click()
    wait_idle(qtbot, ctx)
    stored = ctx.store.quick_replies.get(hours.id)
    assert (stored.shortcut, stored.title, stored.body) == (
        "opening",
        "Opening hours",
        "We open 10am–8pm, {first_name}.",
    )
    assert ctx.store.quick_replies.count() == 2
    assert listed(editor) == ["/ahoy  —  Greeting", "/opening  —  Opening hours"]
    assert editor.list.currentItem().text() == "/opening  —  Opening hours"


def test_delete_asks_then_tombstones(qtbot: QtBot, ctx: AppContext, editor: QuickRepliesEditor) -> None:
    reply = ctx.store.quick_replies.create(shortcut="bye", title="", body="Goodbye!")
    editor.reload()
    wait_idle(qtbot, ctx)
    editor.select(reply.id)
    asked: list[QuickReply] = []

    def refuse(r: QuickReply) -> bool:
        asked.append(r)
        return False

    editor.confirm = refuse
    editor.delete_button.click()
    wait_idle(qtbot, ctx)
    assert [r.id for r in asked] == [reply.id]
    assert ctx.store.quick_replies.find(reply.id) is not None

    editor.confirm = lambda r: True
    with qtbot.waitSignal(editor.deleted):
        editor.delete_button.click()
    wait_idle(qtbot, ctx)
    assert ctx.store.quick_replies.find(reply.id) is None
    assert ctx.store.quick_replies.get(reply.id, include_deleted=True).deleted_at is not None
    assert listed(editor) == []
    assert editor.current_id is None
    assert editor.shortcut.text() == ""
    assert editor.body.toPlainText() == ""
    assert not editor.delete_button.isEnabled()
    assert editor.status.text() == "Deleted /bye."


def test_duplicate_shortcut_shows_the_error_and_writes_nothing(
    qtbot: QtBot, ctx: AppContext, editor: QuickRepliesEditor
) -> None:
    existing = ctx.store.quick_replies.create(shortcut="/hi", title="Greeting", body="Hello!")
    editor.reload()
    wait_idle(qtbot, ctx)
    before = ctx.store.quick_replies.find_all(include_deleted=True)
    editor.new_button.click()
    fill(editor, "HI", "Another", "Hey there")
    editor.save_button.click()
    wait_idle(qtbot, ctx)
    assert not editor.error.isHidden()
    assert "/hi is already used by “Greeting”" in editor.error.text()
    assert ctx.store.quick_replies.find_all(include_deleted=True) == before
    assert editor.current_id is None
    assert editor.body.toPlainText() == "Hey there"  # the draft is kept for fixing
    assert editor.save_button.isEnabled()

    fill(editor, "hey", "Another", "Hey there")  # fixed: saves, and the error goes away
    editor.save_button.click()
    wait_idle(qtbot, ctx)
    assert editor.error.isHidden()
    assert sorted(r.shortcut for r in ctx.store.quick_replies.find_all()) == ["/hi", "hey"]
    assert ctx.store.quick_replies.get(existing.id).body == "Hello!"


def test_invalid_input_is_explained_inline(qtbot: QtBot, ctx: AppContext, editor: QuickRepliesEditor) -> None:
    fill(editor, "two words", "", "Hello")
    editor.save_button.click()
    wait_idle(qtbot, ctx)
    assert "only contain" in editor.error.text()
    assert not editor.error.isHidden()
    fill(editor, "ok", "", "   ")
    editor.save_button.click()
    wait_idle(qtbot, ctx)
    assert "Write the reply" in editor.error.text()
    assert ctx.store.quick_replies.count() == 0


def test_preview_renders_variables_and_warns_about_unknown_ones(ctx: AppContext, editor: QuickRepliesEditor) -> None:
    for name in ("{name}", "{first_name}", "{phone}", "{business}"):
        assert name in editor.hint.text()
    editor.body.setPlainText("Hi {first_name} ({name}, {phone}) — {business} {{literal}}")
    assert editor.preview.text() == f"Hi Maria (Maria Lopez, +34600111222) — {ctx.business_name} {{literal}}"
    assert ctx.business_name == "Acme Boutique"
    assert editor.warning.isHidden()
    editor.body.setPlainText("Your order {order_id} for {frist_name}")
    assert editor.preview.text() == "Your order {order_id} for {frist_name}"
    assert not editor.warning.isHidden()
    assert "{order_id}" in editor.warning.text()
    assert "{frist_name}" in editor.warning.text()
    editor.body.setPlainText("")
    assert editor.warning.isHidden()


def test_unknown_variables_do_not_block_saving(qtbot: QtBot, ctx: AppContext, editor: QuickRepliesEditor) -> None:
    fill(editor, "order", "", "Order {order_id} shipped")
    editor.save_button.click()
    wait_idle(qtbot, ctx)
    assert [r.body for r in ctx.store.quick_replies.find_all()] == ["Order {order_id} shipped"]


def test_a_reply_deleted_elsewhere_leaves_the_editor(qtbot: QtBot, ctx: AppContext, editor: QuickRepliesEditor) -> None:
    reply = ctx.store.quick_replies.create(shortcut="gone", title="", body="Soon gone")
    editor.reload()
    wait_idle(qtbot, ctx)
    editor.select(reply.id)
    ctx.store.quick_replies.delete(reply.id)
    qtbot.waitUntil(lambda: editor.current_id is None)
    assert listed(editor) == []


def test_the_composer_picks_up_saved_replies(qtbot: QtBot, ctx: AppContext, editor: QuickRepliesEditor) -> None:
    inbox = InboxPage(ctx)
    qtbot.addWidget(inbox)
    inbox.show()  # a hidden page refreshes when shown, not on every change
    qtbot.waitExposed(inbox)
    wait_idle(qtbot, ctx)
    assert inbox.composer.replies == []
    fill(editor, "thanks", "Thank you", "Thanks!")
    editor.save_button.click()
    qtbot.waitUntil(lambda: [r.shortcut for r in inbox.composer.replies] == ["thanks"])


def test_settings_page_has_the_quick_replies_card(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.store.quick_replies.create(shortcut="hi", title="Greeting", body="Hello!")
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.resize(900, 700)
    page.show()
    qtbot.waitExposed(page)
    wait_idle(qtbot, ctx)
    assert "Quick replies" in {label.text() for label in page.findChildren(QtWidgets.QLabel)}
    assert isinstance(page.quick_replies, QuickRepliesEditor)
    assert listed(page.quick_replies) == ["/hi  —  Greeting"]
