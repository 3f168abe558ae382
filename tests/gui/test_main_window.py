"""The main window as bootstrap builds it: every section opens, Ctrl+K works everywhere, state persists."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.bootstrap import open_main_window
from app.qt import Qt, QtWidgets
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.inbox import InboxPage
from app.ui.quick_switcher import QuickSwitcher
from app.ui.sections import SECTIONS
from app.ui.widgets.empty_state import EmptyState
from tests.support.graph import AT


def window_for(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> MainWindow:
    window = open_main_window(ctx, qapp)
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


def test_every_section_opens(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> None:
    window = window_for(qtbot, ctx, qapp)
    assert window.current_section() == "inbox"
    assert set(window.pages) == {"inbox"}, "other pages are built on first visit"
    for section in SECTIONS:
        page = window.show_section(section.key)
        assert window.stack.currentWidget() is page
        assert page.objectName() == f"page-{section.key}"
    for later in ("dashboard",):
        page = window.pages[later]
        assert isinstance(page, EmptyState)
        assert page.body.text(), "an honest empty state says what the section will hold"


def test_ctrl_number_switches_sections(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> None:
    window = window_for(qtbot, ctx, qapp)
    qtbot.keyClick(window.nav, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_section() == SECTIONS[2].key


def test_ctrl_comma_opens_settings(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> None:
    window = window_for(qtbot, ctx, qapp)
    qtbot.keyClick(window.nav, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert window.current_section() == "settings"


def test_ctrl_k_from_a_text_field_opens_the_switcher_and_jumps(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    contact = ctx.store.contacts.create(name="Zanele Mokoena", phone="+27821234567")
    chat = ctx.store.chats.create(contact_id=contact.id)
    ctx.store.messages.create(chat_id=chat.id, direction="in", body="Sawubona", sent_at=AT)
    window = window_for(qtbot, ctx, qapp)
    window.show_section("settings")
    inbox = window.pages["inbox"]
    assert isinstance(inbox, InboxPage)
    switcher = window.findChild(QuickSwitcher)
    assert switcher is not None
    window.show_section("inbox")
    inbox.search.setFocus()
    qtbot.waitUntil(inbox.search.hasFocus)
    qtbot.keyClick(inbox.search, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(switcher.isVisible)
    window.show_section("settings")
    qtbot.keyClicks(switcher.edit, "Zanele")
    with qtbot.waitSignal(switcher.activated, timeout=5000):
        qtbot.keyClick(switcher.edit, Qt.Key.Key_Return)
    assert window.current_section() == "inbox"
    assert inbox.chat_id == chat.id


def test_geometry_and_splitter_persist(qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication) -> None:
    window = window_for(qtbot, ctx, qapp)
    window.resize(900, 666)  # the offscreen screen is 800 px wide, so only the height can differ from the minimum
    inbox = window.pages["inbox"]
    assert isinstance(inbox, InboxPage)
    inbox.splitter.setSizes([400, 500, 211])
    sizes = inbox.splitter.sizes()
    qapp.aboutToQuit.emit()  # Ctrl+Q, Quit in the tray, or the last window closed: saved in the workspace
    again = window_for(qtbot, ctx, qapp)
    assert again.height() == 666
    second = again.pages["inbox"]
    assert isinstance(second, InboxPage)
    assert second.splitter.sizes() == sizes
