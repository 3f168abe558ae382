"""The probe's ``where``: a script's real click (xdotool) needs where a widget is on screen, found by what a user
sees (a button's text, a tab, a field's placeholder, a table row); a row's words are answered only as yes or no."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.probe import _spot
from app.qt import QtWidgets


def test_where_finds_a_button_a_tab_a_field_and_a_row_without_telling_the_row(qtbot: QtBot) -> None:
    box = QtWidgets.QWidget()
    qtbot.addWidget(box)
    button = QtWidgets.QPushButton("Cancel job", box)
    field = QtWidgets.QLineEdit(box, placeholderText="Description, e.g. Delivery")
    tabs = QtWidgets.QTabBar(box)
    tabs.addTab("Agents")
    tabs.addTab("Jobs")
    table = QtWidgets.QTableWidget(2, 2, box)
    table.setObjectName("jobsList")
    table.setItem(1, 0, QtWidgets.QTableWidgetItem("Follow-up after a sale · Ana Lima"))

    found = _spot(button, {"text": "Cancel job"})
    assert found is not None
    assert found[0] == button.rect().center()
    assert _spot(button, {"text": "Record sale"}) is None
    assert _spot(field, {"placeholder": "Description"}) is not None
    tab = _spot(tabs, {"tab": "Jobs"})
    assert tab is not None
    assert tab[0] == tabs.tabRect(1).center()
    row = _spot(table, {"name": "jobsList", "row": 1, "contains": "Ana Lima"})
    assert row is not None
    assert row[1] == {"rows": 2, "contains": True}
    assert "Ana" not in str(row), "the answer never carries the row's text"
    other = _spot(table, {"name": "jobsList", "row": 0, "contains": "Ana Lima"})
    assert other is not None
    assert other[1]["contains"] is False
    assert _spot(table, {"name": "jobsList", "row": 2}) is None  # past the last row
