"""The Ctrl+K switcher: typing finds chats by contact name and deals by title, Enter opens, Esc closes."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.qt import Qt, QtGui, QtWidgets
from app.store.switcher import SwitchTarget
from app.ui.context import AppContext
from app.ui.quick_switcher import QuickSwitcher, install_quick_switcher
from tests.gui.styles import activate_on_single_click
from tests.support.graph import AT, build_graph


def open_switcher(qtbot: QtBot, ctx: AppContext) -> QuickSwitcher:
    switcher = QuickSwitcher(ctx)
    qtbot.addWidget(switcher)
    switcher.open_switcher()
    qtbot.waitExposed(switcher)
    return switcher


def shown(switcher: QuickSwitcher) -> list[tuple[str, str]]:
    return [(t.kind, t.title) for t in switcher.targets()]


def test_opens_with_recent_chats(qtbot: QtBot, ctx: AppContext) -> None:
    g = build_graph(ctx.store)
    ctx.store.messages.create(chat_id=g.chat.id, direction="in", body="Is the shirt in stock?", sent_at=AT)
    switcher = open_switcher(qtbot, ctx)
    assert shown(switcher) == [("chat", "Lena Weber")]
    assert "Is the shirt in stock?" in switcher.targets()[0].subtitle


def test_typing_a_contact_name_and_enter_opens_the_chat(qtbot: QtBot, ctx: AppContext) -> None:
    g = build_graph(ctx.store)
    other = ctx.store.contacts.create(name="Marco Rossi")
    ctx.store.chats.create(contact_id=other.id)
    switcher = open_switcher(qtbot, ctx)
    assert len(switcher.targets()) == 2
    qtbot.keyClicks(switcher.edit, "lena")
    qtbot.waitUntil(lambda: shown(switcher) == [("chat", "Lena Weber")])
    with qtbot.waitSignal(switcher.activated) as signal:
        qtbot.keyClick(switcher.edit, Qt.Key.Key_Return)
    target = signal.args[0]
    assert isinstance(target, SwitchTarget)
    assert (target.kind, target.id, target.chat_id) == ("chat", g.chat.id, g.chat.id)
    assert not switcher.isVisible()


def test_enter_right_after_typing_uses_the_new_text(qtbot: QtBot, ctx: AppContext) -> None:
    build_graph(ctx.store)
    marco = ctx.store.contacts.create(name="Marco Rossi")
    chat = ctx.store.chats.create(contact_id=marco.id)
    switcher = open_switcher(qtbot, ctx)
    qtbot.keyClicks(switcher.edit, "marco")
    with qtbot.waitSignal(switcher.activated) as signal:
        qtbot.keyClick(switcher.edit, Qt.Key.Key_Enter)  # before the debounce fires
    assert signal.args[0].chat_id == chat.id


def test_deal_found_by_title_and_arrows_select_it(qtbot: QtBot, ctx: AppContext) -> None:
    g = build_graph(ctx.store)
    ctx.store.contacts.create(name="Bulkley Farms")  # a contact matching too, listed before deals
    switcher = open_switcher(qtbot, ctx)
    qtbot.keyClicks(switcher.edit, "bulk")
    qtbot.waitUntil(lambda: ("deal", "Bulk order") in shown(switcher))
    assert shown(switcher) == [("contact", "Bulkley Farms"), ("deal", "Bulk order")]
    qtbot.keyClick(switcher.edit, Qt.Key.Key_Down)
    assert switcher.list.currentRow() == 1
    with qtbot.waitSignal(switcher.activated) as signal:
        qtbot.keyClick(switcher.edit, Qt.Key.Key_Return)
    assert (signal.args[0].kind, signal.args[0].id) == ("deal", g.deal.id)


def test_no_match_says_so(qtbot: QtBot, ctx: AppContext) -> None:
    build_graph(ctx.store)
    switcher = open_switcher(qtbot, ctx)
    qtbot.keyClicks(switcher.edit, "zzqx")
    qtbot.waitUntil(lambda: switcher.status.isVisible())
    assert switcher.targets() == []
    assert "zzqx" in switcher.status.text()


def test_escape_closes_without_activating(qtbot: QtBot, ctx: AppContext) -> None:
    build_graph(ctx.store)
    switcher = open_switcher(qtbot, ctx)
    activated: list[object] = []
    switcher.activated.connect(activated.append)
    qtbot.keyClick(switcher.edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not switcher.isVisible())
    assert activated == []


def test_ctrl_k_on_the_main_window_opens_it(qtbot: QtBot, ctx: AppContext) -> None:
    g = build_graph(ctx.store)
    window = QtWidgets.QMainWindow()
    window.setCentralWidget(QtWidgets.QWidget())
    qtbot.addWidget(window)
    opened: list[SwitchTarget] = []
    switcher = install_quick_switcher(window, ctx, opened.append)
    window.show()
    qtbot.waitExposed(window)
    [shortcut] = window.findChildren(QtGui.QShortcut)
    assert shortcut.key() == QtGui.QKeySequence("Ctrl+K")
    shortcut.activated.emit()
    qtbot.waitUntil(switcher.isVisible)
    qtbot.keyClick(switcher.edit, Qt.Key.Key_Return)
    assert [t.chat_id for t in opened] == [g.chat.id]


@pytest.mark.parametrize("single_click_style", [False, True])
def test_a_click_on_a_result_opens_it_once(qtbot: QtBot, ctx: AppContext, single_click_style: bool) -> None:
    g = build_graph(ctx.store)
    switcher = open_switcher(qtbot, ctx)
    if single_click_style:
        activate_on_single_click(switcher.list)
    activated: list[SwitchTarget] = []
    switcher.activated.connect(activated.append)
    rect = switcher.list.visualItemRect(switcher.list.item(0))
    qtbot.mouseClick(switcher.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # type: ignore[no-untyped-call]
    assert [t.chat_id for t in activated] == [g.chat.id]
    assert not switcher.isVisible()
