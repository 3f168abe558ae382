"""A chat the acquisition agent hands to a person reaches that person: ``ChatHandedOff`` (logged and published after
its commit) is shown by the tray as a notification with the event's sentence, which carries no customer text."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.core.events import ChatHandedOff
from app.qt import QtWidgets
from app.ui.context import AppContext
from app.ui.tray import Tray


def test_a_hand_off_is_shown_as_a_notification(qtbot: QtBot, ctx: AppContext) -> None:
    window = QtWidgets.QMainWindow()
    qtbot.addWidget(window)
    tray = Tray(ctx, window)
    sentence = "The AI handed a chat to Bia (the customer asked for a person)."
    ctx.store.emit(
        ChatHandedOff(org_id=ctx.store.org_id, chat_id="c1", user_id="u1", reason="handoff_words", sentence=sentence)
    )
    qtbot.waitUntil(lambda: ("Chat handed to a person", sentence) in tray.notified, timeout=10_000)
