"""What the contact editor and the inbox's contact panel share: the custom-fields table and reading it back.

Custom field values arrive from imports and integrations as numbers, booleans or text, and the table shows them
as text. Reading the table back must not turn a number nobody touched into a string (a changed row, an outbox
entry, another type on every other device), so a value left as shown keeps its stored value and type; an edited
value of a field that held a number stays a number while it still reads as one; anything else is text.
The checks on a contact's details live with the operations that save it (``app.store.ops.contacts``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from app.core.models import Contact
from app.qt import QtWidgets

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def shown(value: Any) -> str:
    """A custom field value as the table shows it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def typed_value(text: str, stored: dict[str, Any], key: str) -> Any:
    """The value to save for ``key`` typed as ``text``, given the contact's ``stored`` custom fields."""
    if key in stored and shown(stored[key]) == text:
        return stored[key]  # unchanged: keeps its type
    if key in stored and _is_number(stored[key]):
        cleaned = text.strip()
        if _INT.fullmatch(cleaned):
            return int(cleaned)
        if _FLOAT.fullmatch(cleaned):
            number = float(cleaned)
            if math.isfinite(number):
                return number
    return text


def changed_fields(contact: Contact, fields: dict[str, Any]) -> dict[str, Any]:
    """Only the entries of ``fields`` that differ from ``contact`` (an unchanged save writes nothing)."""
    return {key: value for key, value in fields.items() if getattr(contact, key) != value}


class CustomFieldsTable(QtWidgets.QTableWidget):
    """Field/value rows for a contact's ``custom_fields``; ``values()`` reads them back with their types kept."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Field", "Value"])
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().hide()
        self.stored: dict[str, Any] = {}

    def load(self, fields: dict[str, Any]) -> None:
        self.stored = dict(fields)
        self.setRowCount(0)
        for key, value in fields.items():
            self.add_field(key, shown(value))

    def add_field(self, key: str = "", value: str = "") -> None:
        row = self.rowCount()
        self.insertRow(row)
        self.setItem(row, 0, QtWidgets.QTableWidgetItem(key))
        self.setItem(row, 1, QtWidgets.QTableWidgetItem(value))

    def remove_current(self) -> None:
        if self.currentRow() >= 0:
            self.removeRow(self.currentRow())

    def values(self) -> dict[str, Any]:
        """Rows with a field name, in table order; a value typed into a row without a name is dropped."""
        values: dict[str, Any] = {}
        for r in range(self.rowCount()):
            key_item, value_item = self.item(r, 0), self.item(r, 1)
            key = key_item.text().strip() if key_item else ""
            if key:
                values[key] = typed_value(value_item.text() if value_item else "", self.stored, key)
        return values
