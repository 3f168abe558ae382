"""Keyboard shortcuts (issue 16, "Keyboard"), pressed as real key events on the real main window."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.bootstrap import open_main_window
from app.qt import Qt, QtCore, QtWidgets
from app.ui.context import AppContext
from app.ui.main_window import MainWindow
from app.ui.pages.inbox import InboxPage


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
