"""Read-only list tables as the pages show them (products, sales, knowledge articles and passages)."""

from __future__ import annotations

from app.qt import Qt, QtWidgets


def read_only_table(headers: list[str], stretch: int) -> QtWidgets.QTableWidget:
    """Whole-row single selection, alternating rows, no editing; column ``stretch`` takes the spare width."""
    table = QtWidgets.QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QtWidgets.QHeaderView.ResizeMode.Stretch)
    return table


def cell(text: str, *, right: bool = False, tip: str | None = None) -> QtWidgets.QTableWidgetItem:
    """A table cell; ``right`` for figures, ``tip`` for the full text of a shortened one."""
    item = QtWidgets.QTableWidgetItem(text)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if tip:
        item.setToolTip(tip)
    return item
