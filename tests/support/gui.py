"""Helpers for the GUI tests (pytest-qt): waits are on conditions (``qtbot.waitUntil``), never sleeps."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.ui.context import AppContext


def wait_idle(qtbot: QtBot, ctx: AppContext, timeout: int = 15000) -> None:
    """Wait until every task started so far has delivered its result on the main thread."""
    qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=timeout)
