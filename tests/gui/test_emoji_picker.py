"""The composer's emoji picker: searched by name, Enter inserts at the cursor, the ones used lately come first (kept
in the workspace's per-device settings), Esc closes."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.qt import Qt, QtGui
from app.ui.context import AppContext
from app.ui.widgets.composer import Composer
from app.ui.widgets.emoji_picker import EMOJI, emoji_name, search

# The picker is a popup (a click elsewhere closes it); the offscreen platform cannot grab the keyboard for one.
pytestmark = pytest.mark.qt_log_ignore("^This plugin does not support grabbing the keyboard")


def make_composer(qtbot: QtBot, ctx: AppContext) -> Composer:
    composer = Composer(lambda reply: reply.body, settings=ctx.settings)
    qtbot.addWidget(composer)
    composer.resize(700, 140)
    composer.show()
    qtbot.waitExposed(composer)
    return composer


def test_curated_emoji_all_have_names() -> None:
    assert len(EMOJI) >= 300
    assert all(emoji_name(e) for e in EMOJI)
    assert search("thumbs up") == ["👍"]
    assert search("red heart", recent=["📦"])[0] == "❤️"
    assert search("", recent=["📦"])[0] == "📦"


def test_search_then_enter_inserts_at_the_cursor(qtbot: QtBot, ctx: AppContext) -> None:
    composer = make_composer(qtbot, ctx)
    composer.edit.setPlainText("Thanks !")
    cursor = composer.edit.textCursor()
    cursor.setPosition(len("Thanks "))
    composer.edit.setTextCursor(cursor)
    qtbot.mouseClick(composer.emoji_button, Qt.MouseButton.LeftButton)
    picker = composer.emoji_picker
    qtbot.waitUntil(picker.isVisible)
    qtbot.keyClicks(picker.search, "folded hands")
    assert picker.shown() == ["🙏"]
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert not picker.isVisible()
    assert composer.edit.toPlainText() == "Thanks 🙏!"
    assert ctx.settings.internal.recent_emoji == ["🙏"]


def test_recent_first_arrows_move_and_escape_closes(qtbot: QtBot, ctx: AppContext) -> None:
    ctx.settings.internal.recent_emoji = ["📦", "🚚"]
    composer = make_composer(qtbot, ctx)
    picker = composer.emoji_picker
    picker.open_at(composer.emoji_button)
    qtbot.waitUntil(picker.isVisible)
    assert picker.shown()[:2] == ["📦", "🚚"]
    qtbot.keyClick(picker.search, Qt.Key.Key_Right)
    assert picker.grid.currentRow() == 1
    qtbot.keyClick(picker.search, Qt.Key.Key_Down)
    assert picker.grid.currentRow() > 1
    qtbot.keyClick(picker.search, Qt.Key.Key_Up)
    assert picker.grid.currentRow() == 1
    qtbot.keyClick(picker.search, Qt.Key.Key_Return)
    assert composer.edit.toPlainText() == "🚚"
    assert ctx.settings.internal.recent_emoji == ["🚚", "📦"]
    picker.open_at(composer.emoji_button)
    qtbot.waitUntil(picker.isVisible)
    qtbot.keyClicks(picker.search, "no such emoji name")
    assert picker.shown() == []
    assert not picker.empty.isHidden()
    qtbot.keyClick(picker.search, Qt.Key.Key_Escape)
    assert not picker.isVisible()
    assert composer.edit.toPlainText() == "🚚"
    assert isinstance(composer.edit.textCursor(), QtGui.QTextCursor)
