"""The Agents page in a test: opened and shown with its agents read, Roll back answered, a table's column read."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.qt import QtWidgets
from app.ui.context import AppContext
from app.ui.pages.agents import AgentEditor, AgentsPage


def make_page(qtbot: QtBot, ctx: AppContext) -> AgentsPage:
    page = AgentsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: bool(page.states))
    return page


def accept_roll_back(qtbot: QtBot, editor: AgentEditor) -> None:
    """Roll back asks first, naming what changes: answer "Roll back"."""
    qtbot.waitUntil(lambda: editor.confirm_box is not None and editor.confirm_box.isVisible())
    box = editor.confirm_box
    assert box is not None
    [button] = [b for b in box.buttons() if b.text() == "Roll back"]
    button.click()


def column(table: QtWidgets.QTableWidget, col: int) -> list[str]:
    return [table.item(r, col).text() for r in range(table.rowCount())]
