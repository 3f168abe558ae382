"""Opening a list item once per gesture: a single click, Enter, or a double-click, whatever the platform.

``QListWidget`` reports a click (``itemClicked``) and an activation (``itemActivated``: Enter, a double-click, or
a single click where the style says so, ``SH_ItemView_ActivateItemOnSingleClick``). Connecting both to one slot
opens the item twice on those platforms, and twice on a double-click everywhere else; ``connect_activation``
calls the slot exactly once for each.
"""

from __future__ import annotations

from collections.abc import Callable

from app.qt import QtCore, QtWidgets

ItemSlot = Callable[[QtWidgets.QListWidgetItem], None]


def activates_on_single_click(view: QtWidgets.QAbstractItemView) -> bool:
    style = view.style()
    return bool(style.styleHint(QtWidgets.QStyle.StyleHint.SH_ItemView_ActivateItemOnSingleClick, None, view))


class _Activation(QtCore.QObject):
    def __init__(self, view: QtWidgets.QListWidget, slot: ItemSlot) -> None:
        super().__init__(view)
        self.view = view
        self.slot = slot
        self._double_click = False
        view.itemPressed.connect(self._pressed)
        view.itemClicked.connect(self._clicked)
        view.doubleClicked.connect(self._double_clicked)
        view.itemActivated.connect(self._activated)

    def _pressed(self, _item: QtWidgets.QListWidgetItem) -> None:
        self._double_click = False

    def _clicked(self, item: QtWidgets.QListWidgetItem) -> None:
        if not activates_on_single_click(self.view):  # else itemActivated follows this click
            self.slot(item)

    def _double_clicked(self, _index: QtCore.QModelIndex) -> None:
        # Emitted just before the activation a double-click causes; its first click already opened the item.
        self._double_click = not activates_on_single_click(self.view)

    def _activated(self, item: QtWidgets.QListWidgetItem) -> None:
        if self._double_click:
            self._double_click = False
            return
        self.slot(item)


def connect_activation(view: QtWidgets.QListWidget, slot: ItemSlot) -> None:
    """Call ``slot(item)`` once when an item of ``view`` is clicked, double-clicked or activated with Enter."""
    _Activation(view, slot)
