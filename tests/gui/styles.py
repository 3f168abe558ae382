"""Styles for GUI tests that need a platform behaviour the offscreen Fusion style does not have."""

from __future__ import annotations

from app.qt import QtWidgets


class SingleClickStyle(QtWidgets.QProxyStyle):
    """Activates items on a single click, as some platforms and desktop settings do."""

    def styleHint(
        self,
        hint: QtWidgets.QStyle.StyleHint,
        option: QtWidgets.QStyleOption | None = None,
        widget: QtWidgets.QWidget | None = None,
        returnData: QtWidgets.QStyleHintReturn | None = None,
    ) -> int:
        if hint == QtWidgets.QStyle.StyleHint.SH_ItemView_ActivateItemOnSingleClick:
            return 1
        return super().styleHint(hint, option, widget, returnData)


def activate_on_single_click(view: QtWidgets.QAbstractItemView) -> None:
    """Give ``view`` a style that activates on a single click (the style lives as long as the view)."""
    style = SingleClickStyle()
    style.setParent(view)
    view.setStyle(style)
