"""The ordered provider list and the entry form shared by Settings › AI's own providers and the team server's
(Team AI): the same list, buttons and fields, so the two cards look and behave alike."""

from __future__ import annotations

from dataclasses import dataclass

from app.ai.config import KIND_LABELS
from app.qt import QtWidgets


@dataclass
class ProviderList:
    widget: QtWidgets.QWidget  # the row of buttons
    list: QtWidgets.QListWidget
    add_button: QtWidgets.QPushButton
    remove_button: QtWidgets.QPushButton
    up_button: QtWidgets.QPushButton
    down_button: QtWidgets.QPushButton


def provider_list() -> ProviderList:
    entries = QtWidgets.QListWidget()
    add, remove = QtWidgets.QPushButton("Add provider"), QtWidgets.QPushButton("Remove")
    up, down = QtWidgets.QPushButton("Move up"), QtWidgets.QPushButton("Move down")
    row = QtWidgets.QWidget()
    buttons = QtWidgets.QHBoxLayout(row)
    buttons.setContentsMargins(0, 0, 0, 0)
    for button in (add, remove, up, down):
        buttons.addWidget(button)
    buttons.addStretch(1)
    return ProviderList(row, entries, add, remove, up, down)


@dataclass
class ProviderFields:
    editor: QtWidgets.QWidget
    form: QtWidgets.QFormLayout
    kind: QtWidgets.QComboBox
    model: QtWidgets.QLineEdit
    base_url: QtWidgets.QLineEdit
    embedding: QtWidgets.QLineEdit
    key: QtWidgets.QLineEdit  # masked


def provider_fields(base_url_hint: str) -> ProviderFields:
    """The entry's widgets, not yet in rows: each card lays them out with its own extras (key state, test)."""
    editor = QtWidgets.QWidget()
    form = QtWidgets.QFormLayout(editor)
    form.setContentsMargins(0, 4, 0, 0)
    kind = QtWidgets.QComboBox()
    for value, label in KIND_LABELS.items():
        kind.addItem(label, value)
    base_url = QtWidgets.QLineEdit()
    base_url.setPlaceholderText(base_url_hint)
    embedding = QtWidgets.QLineEdit()
    embedding.setPlaceholderText("Optional, e.g. text-embedding-3-small")
    key = QtWidgets.QLineEdit()
    key.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
    return ProviderFields(editor, form, kind, QtWidgets.QLineEdit(), base_url, embedding, key)
