"""Bubble geometry: the time and ticks never paint over the message text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.qt import QtGui, QtWidgets
from app.ui.models.chat_model import ChatItem
from app.ui.widgets.bubble_delegate import MAX_RATIO, PAD, BubbleDelegate, meta_text

WIDTH = 800
AT = datetime(2026, 11, 22, 4, 18, tzinfo=UTC)


def item(text: str) -> ChatItem:
    return ChatItem("message", AT, text, id="m1", direction="out", status="read")


@pytest.mark.parametrize("fill", [0.5, 0.8, 0.95, 0.99])
def test_meta_never_overlaps_a_one_line_text(qapp: QtWidgets.QApplication, fill: float) -> None:
    font = QtGui.QFont(qapp.font())
    fm = QtGui.QFontMetrics(font)
    room = int(WIDTH * MAX_RATIO) - 2 * PAD
    text = "Yes, size M is in stock."
    while fm.horizontalAdvance(text + " x") < room * fill:
        text += " x"
    chat_item = item(text)
    meta = meta_text(chat_item)
    layout = BubbleDelegate()._layout(chat_item, WIDTH, font, meta)
    meta_left = layout.bubble.right() - PAD - fm.horizontalAdvance(meta)
    text_right = layout.text.left() + fm.horizontalAdvance(text)
    two_lines = layout.bubble.height() >= 2 * fm.height() + 2 * PAD - 2
    assert two_lines or text_right < meta_left, "the time and ticks would paint over the text"
    assert layout.text.width() >= fm.horizontalAdvance(text) or two_lines
