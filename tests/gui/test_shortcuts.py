"""Keyboard shortcuts (issue 16, "Keyboard"), pressed as real key events on the real main window."""

from __future__ import annotations

from datetime import timedelta

from pytestqt.qtbot import QtBot

from app.bootstrap import open_main_window
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.inbox import InboxPage
from app.ui.quick_switcher import QuickSwitcher
from app.ui.shortcuts import SHORTCUTS, ShortcutsSheet
from tests.support.graph import AT
from tests.support.isolated import in_own_process


def window_for(qtbot: QtBot, ctx: AppContext) -> MainWindow:
    window = open_main_window(ctx, qtbot_app())
    qtbot.addWidget(window)
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


def qtbot_app() -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    return app


def inbox_of(window: MainWindow) -> InboxPage:
    inbox = window.page("inbox")
    assert isinstance(inbox, InboxPage)
    return inbox


@in_own_process  # a key press that ends the event loop leaves no window of this process able to activate
def test_ctrl_q_ends_the_event_loop_and_the_customer_panel_saves(
    qtbot: QtBot, ctx: AppContext, qapp: QtWidgets.QApplication
) -> None:
    """Ctrl+Q quits as the tray's Quit and SIGTERM do: the event loop ends (``run_desktop`` then runs the one ordered
    shutdown) and ``aboutToQuit`` reaches the customer panel, which saves what was typed."""
    contact = ctx.store.contacts.create(name="Ana Lima", phone="+351911111111")
    chat = ctx.store.chats.create(contact_id=contact.id)
    window = window_for(qtbot, ctx)
    inbox = inbox_of(window)
    inbox.open_chat(chat.id)
    inbox.panel.tags.setText("vip")
    inbox.composer.edit.setFocus()
    qtbot.waitUntil(inbox.composer.edit.hasFocus)
    about_to_quit: list[bool] = []
    qapp.aboutToQuit.connect(lambda: about_to_quit.append(True))
    guard: list[bool] = []

    def give_up() -> None:  # only if Ctrl+Q did nothing: end the loop so the test fails instead of hanging
        guard.append(True)
        qapp.quit()

    QtCore.QTimer.singleShot(
        0, lambda: qtbot.keyClick(inbox.composer.edit, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    )
    fallback = QtCore.QTimer(singleShot=True, interval=10_000)
    fallback.timeout.connect(give_up)
    fallback.start()
    qapp.exec()  # what ``run_desktop`` runs; ``shutdown.run()`` follows it there
    fallback.stop()
    assert guard == [], "Ctrl+Q did not end the event loop"
    assert about_to_quit == [True]
    qtbot.waitUntil(lambda: ctx.store.contacts.get(contact.id).tags == ["vip"])


def seed_chat(ctx: AppContext, name: str, bodies: list[str], start: int) -> str:
    """A chat whose messages alternate in/out from ``start`` minutes on; one body: unread."""
    contact = ctx.store.contacts.create(name=name, phone=f"+3460000{start:04d}")
    chat = ctx.store.chats.create(contact_id=contact.id)
    for i, body in enumerate(bodies):
        ctx.store.messages.create(
            chat_id=chat.id,
            direction="in" if i % 2 == 0 else "out",
            body=body,
            sent_at=AT + timedelta(minutes=start + i),
        )
    return chat.id


def listed(inbox: InboxPage) -> list[str]:
    return [inbox.model.row(i).chat_id for i in range(inbox.model.rowCount())]


def test_alt_arrows_and_ctrl_tab_open_the_next_and_previous_chat(qtbot: QtBot, ctx: AppContext) -> None:
    for i, name in enumerate(("Ana", "Ben", "Cai")):
        seed_chat(ctx, name, ["q", "a"], start=i * 10)
    window = window_for(qtbot, ctx)
    inbox = inbox_of(window)
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    order = listed(inbox)
    inbox.open_chat(order[0])
    inbox.composer.edit.setFocus()
    qtbot.waitUntil(inbox.composer.edit.hasFocus)
    steps = [
        (Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier, order[1]),
        (Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier, order[2]),
        (Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier, order[2]),  # the last one stays
        (Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier, order[1]),
        (Qt.Key.Key_Backtab, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier, order[0]),
    ]
    for key, modifiers, expected in steps:
        focused = QtWidgets.QApplication.focusWidget()
        assert focused is not None
        qtbot.keyClick(focused, key, modifiers)
        qtbot.waitUntil(lambda expected=expected: inbox.chat_id == expected)  # type: ignore[misc]
    assert inbox.list.currentIndex().row() == 0


def test_ctrl_shift_u_opens_the_next_unread_chat(qtbot: QtBot, ctx: AppContext) -> None:
    waiting = seed_chat(ctx, "Waiting", ["q"], start=0)  # the oldest: last in the list
    seed_chat(ctx, "Ben", ["q", "a"], start=10)
    seed_chat(ctx, "Cai", ["q", "a"], start=20)
    window = window_for(qtbot, ctx)
    inbox = inbox_of(window)
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 3)
    order = listed(inbox)
    assert order[2] == waiting
    inbox.open_chat(order[0])
    inbox.composer.edit.setFocus()
    qtbot.waitUntil(inbox.composer.edit.hasFocus)
    qtbot.keyClick(
        inbox.composer.edit, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: inbox.chat_id == waiting)


def test_esc_in_the_search_box_clears_it_and_shows_the_list(qtbot: QtBot, ctx: AppContext) -> None:
    seed_chat(ctx, "Ana", ["Is the blue shirt in stock?", "a"], start=0)
    window = window_for(qtbot, ctx)
    inbox = inbox_of(window)
    qtbot.keyClick(inbox.composer.edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(inbox.search.hasFocus)
    with qtbot.waitSignal(inbox.search_finished):
        qtbot.keyClicks(inbox.search, "shirt")
    assert inbox.left_stack.currentWidget() is inbox.results
    qtbot.keyClick(inbox.search, Qt.Key.Key_Escape)
    assert inbox.search.text() == ""
    assert inbox.left_stack.currentWidget() is inbox.list


def test_esc_closes_the_quick_switcher(qtbot: QtBot, ctx: AppContext) -> None:
    window = window_for(qtbot, ctx)
    switcher = window.findChild(QuickSwitcher)
    assert switcher is not None
    qtbot.keyClick(window.nav, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(switcher.edit.hasFocus)
    qtbot.keyClick(switcher.edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not switcher.isVisible())


def test_a_chat_picked_with_ctrl_k_puts_the_cursor_in_the_composer(qtbot: QtBot, ctx: AppContext) -> None:
    chat = seed_chat(ctx, "Zanele", ["hello", "a"], start=0)
    seed_chat(ctx, "Ben", ["q", "a"], start=10)
    window = window_for(qtbot, ctx)
    inbox = inbox_of(window)
    switcher = window.findChild(QuickSwitcher)
    assert switcher is not None
    inbox.search.setFocus()
    qtbot.waitUntil(inbox.search.hasFocus)
    qtbot.keyClick(inbox.search, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(switcher.edit.hasFocus)
    qtbot.keyClicks(switcher.edit, "Zanele")
    qtbot.keyClick(switcher.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: inbox.chat_id == chat)
    qtbot.waitUntil(lambda: window.focusWidget() is inbox.composer.edit)
    window.activateWindow()  # the offscreen platform does not give the window back its activation by itself
    qtbot.waitUntil(inbox.composer.edit.hasFocus)


def test_ctrl_slash_shows_every_declared_shortcut(qtbot: QtBot, ctx: AppContext) -> None:
    window = window_for(qtbot, ctx)
    inbox = inbox_of(window)
    qtbot.keyClick(inbox.composer.edit, Qt.Key.Key_Slash, Qt.KeyboardModifier.ControlModifier)
    sheet = window.findChild(ShortcutsSheet)
    assert sheet is not None
    qtbot.waitUntil(sheet.isVisible)
    assert sheet.rows == [(s.shown(), s.description) for s in SHORTCUTS]
    shown = {label.text() for label in sheet.findChildren(QtWidgets.QLabel) if label.isVisible()}
    assert {s.shown() for s in SHORTCUTS} <= shown
    assert {s.description for s in SHORTCUTS} <= shown
    # Every key the window answers to is in the one declaration the sheet lists.
    declared = {QtGui.QKeySequence(key).toString() for s in SHORTCUTS for key in s.keys}
    bound = {shortcut.key().toString() for shortcut in window.findChildren(QtGui.QShortcut)}
    assert bound <= declared, f"shortcuts missing from app/ui/shortcuts.py: {sorted(bound - declared)}"
    qtbot.keyClick(sheet, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not sheet.isVisible())
