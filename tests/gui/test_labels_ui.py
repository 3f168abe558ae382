"""Managed labels in the UI (issue 16, Labels): the customer panel's picker and the Labels manager, on a real workspace.

The panel had a free-text "Tags" field ("vip", "VIP" and "v.i.p" became three tags). Now it shows the contact's
labels as coloured chips picked from the org's labels, creates one from typed text, and the manager renames, merges,
recolours and deletes labels everywhere they are carried, saying in a sentence what it refuses.
"""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.core.models import Chat
from app.qt import Qt, QtWidgets
from app.store.labels import all_labels, by_name
from app.store.ops.labels import create_label, delete_label, rename_label
from app.ui.context import AppContext
from app.ui.dialogs.labels_dialog import LabelsDialog, open_labels_dialog
from app.ui.pages.inbox import InboxPage
from app.ui.widgets.label_picker import LabelPicker, text_color
from tests.support.gui import wait_idle
from tests.support.inbox import make_page, seed_chat, select

# The picker's list and the manager's menus are popups, which grab the keyboard: the offscreen plugin cannot.
pytestmark = pytest.mark.qt_log_ignore("^This plugin does not support grabbing the keyboard", extend=True)


def one_chat(qtbot: QtBot, ctx: AppContext) -> tuple[InboxPage, Chat]:
    chat = seed_chat(ctx.store, "Ana Souza", ["hello"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    wait_idle(qtbot, ctx)
    return page, chat


def popup_rows(picker: LabelPicker) -> list[str]:
    return [item.text() for item in picker.popup.items()]


def open_popup(qtbot: QtBot, picker: LabelPicker) -> None:
    picker.add_button.setFocus()
    qtbot.waitUntil(picker.add_button.hasFocus)
    qtbot.keyClick(picker.add_button, Qt.Key.Key_Return)
    qtbot.waitUntil(picker.popup.isVisible)


def test_picking_an_existing_label_saves_it_spelled_as_the_label(qtbot: QtBot, ctx: AppContext) -> None:
    create_label(ctx.store, "VIP", "#2e86de")
    create_label(ctx.store, "Wholesale")
    page, chat = one_chat(qtbot, ctx)
    picker = page.panel.tags
    assert isinstance(picker, LabelPicker)
    open_popup(qtbot, picker)
    assert popup_rows(picker) == ["VIP", "Wholesale", "Manage labels…"]
    qtbot.keyClicks(picker.popup.search, "vi")  # type to filter
    assert popup_rows(picker) == ["VIP", "Create label “vi”", "Manage labels…"]
    qtbot.keyClick(picker.popup.search, Qt.Key.Key_Return)  # Enter picks the first match
    assert picker.labels() == ["VIP"]
    assert [chip.name for chip in picker.chips] == ["VIP"]
    assert picker.popup.items()[0].checkState() == Qt.CheckState.Checked
    qtbot.keyClick(picker.popup.search, Qt.Key.Key_Escape)
    assert not picker.popup.isVisible()
    assert page.panel.save_button.isEnabled()
    page.panel.save_button.click()
    wait_idle(qtbot, ctx)
    assert ctx.store.contacts.get(chat.contact_id or "").tags == ["VIP"]
    assert not page.panel.save_button.isEnabled()


def test_a_chip_shows_the_labels_colour_with_readable_text(qtbot: QtBot, ctx: AppContext) -> None:
    create_label(ctx.store, "VIP", "#ff9f43")
    page, _chat = one_chat(qtbot, ctx)
    page.panel.tags.set_labels(["VIP"])
    [chip] = page.panel.tags.chips
    assert "#ff9f43" in chip.styleSheet()
    assert text_color("#ff9f43") == "#1d2433"  # a light colour takes dark text
    assert text_color("#576574") == "#ffffff"  # a dark one takes white


def test_typed_text_that_matches_no_label_creates_one(qtbot: QtBot, ctx: AppContext) -> None:
    create_label(ctx.store, "VIP")
    page, chat = one_chat(qtbot, ctx)
    picker = page.panel.tags
    open_popup(qtbot, picker)
    qtbot.keyClicks(picker.popup.search, "Lisbon  market")
    assert popup_rows(picker) == ["Create label “Lisbon market”", "Manage labels…"]
    qtbot.keyClick(picker.popup.search, Qt.Key.Key_Return)
    assert picker.labels() == ["Lisbon market"]
    wait_idle(qtbot, ctx)
    label = by_name(ctx.store, "lisbon market")
    assert label is not None, "created at once, with its colour"
    assert label.name == "Lisbon market"
    qtbot.waitUntil(lambda: label.color in picker.chips[0].styleSheet())
    qtbot.keyClicks(picker.popup.search, "vip")
    assert popup_rows(picker) == ["VIP", "Manage labels…"], "a label that exists (any case) is not offered again"
    picker.popup.hide()
    page.panel.save_button.click()
    wait_idle(qtbot, ctx)
    assert ctx.store.contacts.get(chat.contact_id or "").tags == ["Lisbon market"]


def test_a_name_a_label_cannot_have_is_said_not_offered(qtbot: QtBot, ctx: AppContext) -> None:
    page, _chat = one_chat(qtbot, ctx)
    picker = page.panel.tags
    open_popup(qtbot, picker)
    qtbot.keyClicks(picker.popup.search, "a, b")
    assert popup_rows(picker) == ["A label name cannot contain a comma.", "Manage labels…"]
    qtbot.keyClick(picker.popup.search, Qt.Key.Key_Return)
    assert picker.labels() == []


def test_removing_a_chip_takes_the_label_off(qtbot: QtBot, ctx: AppContext) -> None:
    create_label(ctx.store, "VIP")
    create_label(ctx.store, "Wholesale")
    chat = seed_chat(ctx.store, "Ana Souza", ["hello"])
    ctx.store.contacts.update(chat.contact_id or "", tags=["VIP", "Wholesale"])
    page = make_page(qtbot, ctx)
    select(page, chat.id)
    wait_idle(qtbot, ctx)
    picker = page.panel.tags
    assert [chip.name for chip in picker.chips] == ["VIP", "Wholesale"]
    assert not page.panel.save_button.isEnabled()
    picker.chips[0].remove.click()
    assert picker.labels() == ["Wholesale"]
    assert page.panel.dirty() == {"tags"}
    page.panel.save_button.click()
    wait_idle(qtbot, ctx)
    assert ctx.store.contacts.get(chat.contact_id or "").tags == ["Wholesale"]


def test_manage_labels_opens_the_manager_from_the_picker(qtbot: QtBot, ctx: AppContext) -> None:
    page, _chat = one_chat(qtbot, ctx)
    picker = page.panel.tags
    open_popup(qtbot, picker)
    qtbot.keyClicks(picker.popup.search, "man")
    for _ in range(3):
        qtbot.keyClick(picker.popup.search, Qt.Key.Key_Down)
    assert picker.popup.list.currentItem().text() == "Manage labels…"
    qtbot.keyClick(picker.popup.search, Qt.Key.Key_Return)
    dialogs = page.window().findChildren(LabelsDialog)
    assert len(dialogs) == 1
    qtbot.waitUntil(dialogs[0].isVisible)
    dialogs[0].reject()


def test_a_pick_not_saved_yet_follows_a_rename_in_the_manager(qtbot: QtBot, ctx: AppContext) -> None:
    """Manage labels… is opened from the picker with picks not saved: renaming a picked label there must not leave
    the old name in the panel, which the save would turn back into a label."""
    create_label(ctx.store, "VIP")
    gone = create_label(ctx.store, "Gone").value
    page, chat = one_chat(qtbot, ctx)
    picker = page.panel.tags
    picker.set_labels(["VIP", "Gone", "Brand new"])
    vip = by_name(ctx.store, "VIP")
    assert vip is not None
    rename_label(ctx.store, vip.id, "Top buyer")
    delete_label(ctx.store, gone.id)
    qtbot.waitUntil(lambda: picker.labels() == ["Top buyer", "Brand new"])
    assert [chip.name for chip in picker.chips] == ["Top buyer", "Brand new"]
    page.panel.save_button.click()
    wait_idle(qtbot, ctx)
    assert ctx.store.contacts.get(chat.contact_id or "").tags == ["Top buyer", "Brand new"]
    assert by_name(ctx.store, "VIP") is None, "the old name did not come back as a label"
    assert by_name(ctx.store, "Gone") is None


# ---- the manager ----------------------------------------------------------------------------------------------
def manager(qtbot: QtBot, ctx: AppContext) -> LabelsDialog:
    dialog = LabelsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def rows(dialog: LabelsDialog) -> list[tuple[str, str]]:
    tree = dialog.tree
    return [(tree.topLevelItem(i).text(0), tree.topLevelItem(i).text(1)) for i in range(tree.topLevelItemCount())]


def choose(dialog: LabelsDialog, name: str) -> None:
    item = dialog.item_of(name)
    assert item is not None, name
    dialog.tree.setCurrentItem(item)


def carried(qtbot: QtBot, ctx: AppContext) -> tuple[list[str], list[str]]:
    """Ana's tags, and Ben's chat's tags."""
    store = ctx.store
    [ana] = [c for c in store.contacts.find_all() if c.name == "Ana Souza"]
    [ben] = [c for c in store.contacts.find_all() if c.name == "Ben Okafor"]
    [chat] = store.chats.find_all({"contact_id": ben.id})
    return ana.tags, chat.tags


def seed_labelled(ctx: AppContext) -> None:
    store = ctx.store
    create_label(store, "VIP")
    create_label(store, "Gold")
    create_label(store, "Wholesale")
    store.contacts.create(name="Ana Souza", phone="+351911111111", tags=["VIP", "Wholesale"])
    ben = store.contacts.create(name="Ben Okafor", phone="+351922222222")
    store.chats.create(contact_id=ben.id, tags=["VIP"])


def test_the_manager_lists_labels_with_how_many_carry_them(qtbot: QtBot, ctx: AppContext) -> None:
    seed_labelled(ctx)
    dialog = manager(qtbot, ctx)
    expected = [("Gold", "none"), ("VIP", "2 contacts and chats"), ("Wholesale", "1 contact or chat")]
    qtbot.waitUntil(lambda: rows(dialog) == expected)
    qtbot.keyClicks(dialog.name, "Lisbon")
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)  # Enter presses "Create label"
    # The list may show the new label (a table change) a moment before the create's own answer clears the name:
    # wait for both, not one and then assert the other (a loaded run caught it in between).
    qtbot.waitUntil(lambda: dialog.item_of("Lisbon") is not None and dialog.name.text() == "")
    assert by_name(ctx.store, "lisbon") is not None


def test_renaming_rewrites_every_contact_and_chat(qtbot: QtBot, ctx: AppContext) -> None:
    seed_labelled(ctx)
    dialog = manager(qtbot, ctx)
    choose(dialog, "VIP")
    dialog.rename_button.click()
    qtbot.waitUntil(lambda: dialog.tree.state() == QtWidgets.QAbstractItemView.State.EditingState)
    editor = dialog.tree.viewport().findChild(QtWidgets.QLineEdit)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "Top buyer")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # commits the rename; does not press "Create label"
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: carried(qtbot, ctx) == (["Top buyer", "Wholesale"], ["Top buyer"]))
    assert [t.name for t in all_labels(ctx.store)] == ["Gold", "Top buyer", "Wholesale"]
    assert not dialog.error.isVisible()
    qtbot.waitUntil(lambda: ("Top buyer", "2 contacts and chats") in rows(dialog))  # re-read after the change


def test_renaming_to_a_name_another_label_has_says_to_merge(qtbot: QtBot, ctx: AppContext) -> None:
    seed_labelled(ctx)
    dialog = manager(qtbot, ctx)
    vip = by_name(ctx.store, "VIP")
    assert vip is not None
    dialog.rename(vip.id, "gold")
    wait_idle(qtbot, ctx)
    assert dialog.error.isVisible()
    assert dialog.error.text() == "There is already a label named 'gold': merge 'VIP' into it instead."
    assert carried(qtbot, ctx) == (["VIP", "Wholesale"], ["VIP"])
    assert dialog.item_of("VIP") is not None, "the row shows the name the label still has"


def test_merging_relabels_everything_and_asks_first(qtbot: QtBot, ctx: AppContext) -> None:
    seed_labelled(ctx)
    dialog = manager(qtbot, ctx)
    choose(dialog, "VIP")
    dialog.merge_button.click()
    menu = dialog.menu
    assert menu is not None
    assert [a.text() for a in menu.actions()] == ["Gold", "Wholesale"]
    [wholesale] = [a for a in menu.actions() if a.text() == "Wholesale"]
    wholesale.trigger()
    menu.close()
    box = dialog.question
    assert box is not None
    assert box.text() == "Everything labelled “VIP” becomes “Wholesale” (2 contacts and chats)."
    [merge] = [b for b in box.buttons() if b.text() == "Merge"]
    merge.click()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: carried(qtbot, ctx) == (["Wholesale"], ["Wholesale"]))
    assert [t.name for t in all_labels(ctx.store)] == ["Gold", "Wholesale"]
    qtbot.waitUntil(lambda: rows(dialog) == [("Gold", "none"), ("Wholesale", "2 contacts and chats")])


def test_deleting_asks_with_the_count_and_takes_the_label_off(qtbot: QtBot, ctx: AppContext) -> None:
    seed_labelled(ctx)
    dialog = manager(qtbot, ctx)
    choose(dialog, "VIP")
    dialog.delete_button.click()
    box = dialog.question
    assert box is not None
    assert box.text() == "Take “VIP” off 2 contacts and chats?"
    [cancel] = [b for b in box.buttons() if b.text() != "Delete"]
    cancel.click()
    assert by_name(ctx.store, "VIP") is not None
    dialog.tree.setFocus()
    qtbot.keyClick(dialog.tree, Qt.Key.Key_Delete)  # the Delete key asks the same
    box = dialog.question
    assert box is not None
    [delete] = [b for b in box.buttons() if b.text() == "Delete"]
    delete.click()
    wait_idle(qtbot, ctx)
    qtbot.waitUntil(lambda: carried(qtbot, ctx) == (["Wholesale"], []))
    assert by_name(ctx.store, "VIP") is None
    qtbot.waitUntil(lambda: [name for name, _ in rows(dialog)] == ["Gold", "Wholesale"])


def test_recolouring_and_a_teammates_change_refresh_the_list(qtbot: QtBot, ctx: AppContext) -> None:
    seed_labelled(ctx)
    dialog = manager(qtbot, ctx)
    choose(dialog, "Gold")
    dialog.color_button.click()
    menu = dialog.menu
    assert menu is not None
    [red] = [a for a in menu.actions() if a.text() == "Red"]
    red.trigger()
    menu.close()
    wait_idle(qtbot, ctx)
    gold = by_name(ctx.store, "Gold")
    assert gold is not None
    assert gold.color == "#ee5253"
    create_label(ctx.store, "Returning")  # elsewhere (the picker, a teammate's sync)
    qtbot.waitUntil(lambda: dialog.item_of("Returning") is not None)


def test_open_labels_dialog_raises_the_open_one(qtbot: QtBot, ctx: AppContext) -> None:
    parent = QtWidgets.QWidget()
    qtbot.addWidget(parent)
    parent.show()
    first = open_labels_dialog(ctx, parent)
    qtbot.waitUntil(first.isVisible)
    assert open_labels_dialog(ctx, parent) is first
    first.reject()
