"""The inbox's conversation states and labels as a person uses them: views with counts, the chat menu, the header's
Resolve button, a snooze that runs out on its own, mark as unread, and the label filter and chips."""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.core.ids import utc_now
from app.qt import Qt, QtWidgets
from app.store.ops import chats as chat_ops
from app.store.ops import labels as label_ops
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from tests.support.inbox import make_page, seed_chat, select


def listed(page: InboxPage) -> list[str]:
    return [page.model.row(i).display_name for i in range(page.model.rowCount())]


def tab_texts(page: InboxPage) -> list[str]:
    box = page.filter_bar.views
    return [box.itemText(i) for i in range(box.count())]


def action(menu: QtWidgets.QMenu, text: str) -> QtWidgets.QAction:  # type: ignore[name-defined]
    for act in menu.actions():
        if act.text() == text:
            return act
        if act.menu() is not None:
            for sub in act.menu().actions():
                if sub.text() == text:
                    return sub
    raise AssertionError(f"no {text!r} in {[a.text() for a in menu.actions()]}")


def test_the_inbox_opens_on_open_chats_and_resolving_moves_one_to_resolved(qtbot: QtBot, ctx: AppContext) -> None:
    ana = seed_chat(ctx.store, "Ana", ["q"], start=0)
    seed_chat(ctx.store, "Ben", ["q"], start=10)
    page = make_page(qtbot, ctx)
    assert page.filter_bar.view() == "open"
    qtbot.waitUntil(lambda: tab_texts(page)[0] == "Open · 2")
    menu = page.chat_menu(ana.id)
    assert menu is not None
    action(menu, "Resolve").trigger()
    qtbot.waitUntil(lambda: listed(page) == ["Ben"])
    qtbot.waitUntil(lambda: tab_texts(page)[:3] == ["Open · 1", "Pending", "Resolved · 1"])
    page.filter_bar.set_view("resolved")
    qtbot.waitUntil(lambda: listed(page) == ["Ana"])


def test_the_header_button_resolves_and_reopens_the_open_chat(qtbot: QtBot, ctx: AppContext) -> None:
    ana = seed_chat(ctx.store, "Ana", ["q"])
    page = make_page(qtbot, ctx)
    select(page, ana.id)
    qtbot.waitUntil(lambda: page.chat_id == ana.id)
    assert page.resolve.text() == "Resolve"
    qtbot.mouseClick(page.resolve, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ctx.store.chats.get(ana.id).status == "resolved")
    qtbot.waitUntil(lambda: page.resolve.text() == "Reopen")
    assert "Resolved" in page.header_sub.text()
    qtbot.mouseClick(page.resolve, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ctx.store.chats.get(ana.id).status == "open")


def test_a_snooze_that_runs_out_brings_the_chat_back_without_anything_else_changing(
    qtbot: QtBot, ctx: AppContext
) -> None:
    ana = seed_chat(ctx.store, "Ana", ["q"])
    seed_chat(ctx.store, "Ben", ["q"], start=10)
    page = make_page(qtbot, ctx)
    chat_ops.snooze(ctx.store, ana.id, utc_now() + timedelta(seconds=2))
    qtbot.waitUntil(lambda: listed(page) == ["Ben"])
    qtbot.waitUntil(lambda: "Snoozed · 1" in tab_texts(page))
    qtbot.waitUntil(lambda: sorted(listed(page)) == ["Ana", "Ben"], timeout=15_000)


def test_archive_mute_pin_and_mark_unread_from_the_menu(qtbot: QtBot, ctx: AppContext) -> None:
    ana = seed_chat(ctx.store, "Ana", ["q", "a"])  # answered: nothing unread
    ben = seed_chat(ctx.store, "Ben", ["q", "a"], start=10)
    page = make_page(qtbot, ctx)
    menu = page.chat_menu(ana.id)
    assert menu is not None
    action(menu, "Mark as unread").trigger()
    qtbot.waitUntil(lambda: page.model.row(page.model.index_of(ana.id).row()).marked_unread)
    action(page.chat_menu(ana.id), "Pin to top").trigger()  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: listed(page) == ["Ana", "Ben"])
    action(page.chat_menu(ben.id), "For 8 hours").trigger()  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: page.model.row(page.model.index_of(ben.id).row()).muted)
    assert "Unmute notifications" in [a.text() for a in page.chat_menu(ben.id).actions()]  # type: ignore[union-attr]
    action(page.chat_menu(ben.id), "Archive").trigger()  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: listed(page) == ["Ana"])
    page.filter_bar.set_view("archived")
    qtbot.waitUntil(lambda: listed(page) == ["Ben"])
    # Opening the chat marked unread reads it.
    page.filter_bar.set_view("open")
    qtbot.waitUntil(lambda: listed(page) == ["Ana"])
    select(page, ana.id)
    qtbot.waitUntil(lambda: not ctx.store.chats.get(ana.id).marked_unread)


def test_ctrl_shift_r_resolves_the_open_chat(qtbot: QtBot, ctx: AppContext) -> None:
    ana = seed_chat(ctx.store, "Ana", ["q"])
    page = make_page(qtbot, ctx)
    select(page, ana.id)
    qtbot.waitUntil(lambda: page.chat_id == ana.id)
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    page.composer.edit.setFocus()
    qtbot.keyClick(
        page.composer.edit, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: ctx.store.chats.get(ana.id).status == "resolved")


def test_the_label_filter_offers_labels_in_use_and_rows_carry_their_colours(qtbot: QtBot, ctx: AppContext) -> None:
    ana = seed_chat(ctx.store, "Ana", ["q"])
    seed_chat(ctx.store, "Ben", ["q"], start=10)
    label_ops.create_label(ctx.store, "Unused", "#123456")
    vip = label_ops.create_label(ctx.store, "VIP", "#aa0000").value
    page = make_page(qtbot, ctx)
    box = page.filter_bar.label
    assert [box.itemText(i) for i in range(box.count())] == ["All labels", "", "Manage labels…"]
    contact = ana.contact_id
    assert contact is not None
    from app.store.ops.contacts import update_contact

    update_contact(ctx.store, contact, {"tags": ["vip"]})
    qtbot.waitUntil(lambda: box.findText("VIP") > 0)
    assert box.findText("Unused") < 0  # on no chat: not offered
    qtbot.waitUntil(lambda: page.model.row(page.model.index_of(ana.id).row()).tags == ["VIP"])
    assert page.list_delegate.label_colors["vip"] == vip.color
    box.setCurrentIndex(box.findText("VIP"))
    qtbot.waitUntil(lambda: listed(page) == ["Ana"])
    # Renamed in the manager: the filter follows and keeps the chats shown.
    label_ops.rename_label(ctx.store, vip.id, "Gold")
    qtbot.waitUntil(lambda: box.currentText() == "Gold")
    qtbot.waitUntil(lambda: listed(page) == ["Ana"])
    assert page.model.row(0).tags == ["Gold"]


def test_manage_labels_in_the_filter_opens_the_label_manager(qtbot: QtBot, ctx: AppContext) -> None:
    page = make_page(qtbot, ctx)
    box = page.filter_bar.label
    with qtbot.waitSignal(page.filter_bar.manage_labels):
        box.setCurrentIndex(box.findData("__manage__"))
    assert box.currentIndex() == 0  # the filter itself did not change
    from app.ui.dialogs.labels_dialog import LabelsDialog

    qtbot.waitUntil(lambda: any(d.isVisible() for d in page.findChildren(LabelsDialog)))


def test_a_right_click_opens_the_menu_not_the_chat(qtbot: QtBot, ctx: AppContext) -> None:
    ana = seed_chat(ctx.store, "Ana", ["q"])
    ben = seed_chat(ctx.store, "Ben", ["q"], start=10)
    page = make_page(qtbot, ctx)
    select(page, ana.id)
    qtbot.waitUntil(lambda: page.chat_id == ana.id)
    rect = page.list.visualRect(page.model.index_of(ben.id))
    qtbot.mouseClick(page.list.viewport(), Qt.MouseButton.RightButton, pos=rect.center())
    qtbot.wait(50)
    assert page.chat_id == ana.id  # Ben is not opened (nor marked read) by a right click
    assert ctx.store.chats.get(ben.id).last_read_at is None
