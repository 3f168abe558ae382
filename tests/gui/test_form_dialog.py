"""The form dialogs' frame grows to show a long error whole: seen under Xvfb, the unlock dialog kept its size after
"The change of passphrase … did not finish: enter the previous passphrase …", squashing the passphrase field to a
sliver and cutting the sentence after two lines."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.core.errors import KeyChangeUnfinished
from app.qt import QtWidgets
from app.store.header import WorkspaceHeader
from app.ui import theme
from app.ui.dialogs.unlock import UnlockDialog

LONG = (
    "The change of passphrase of workspace 'Lumen Boutique' did not finish: enter the previous passphrase. "
    + KeyChangeUnfinished.hint
)


def _header() -> WorkspaceHeader:
    return WorkspaceHeader.model_validate(
        {
            "format": 1,
            "workspace_id": "01a2502f-e23c-729b-b5d5-9b2a0dbb7ae5",
            "org_id": "01a2502f-e23c-729b-b5d5-9b2b8cd39ff4",
            "name": "Lumen Boutique",
            "created_at": "2026-12-07T11:07:25.812000Z",
            "key": {"mode": "passphrase", "verifier": "00" * 32},
        }
    )


@pytest.mark.parametrize("message", ["Enter the passphrase.", LONG, LONG + " " + LONG])
def test_an_error_is_shown_whole_without_squashing_the_fields(
    qtbot: QtBot, qapp: QtWidgets.QApplication, message: str
) -> None:
    theme.apply(qapp, "light")
    dialog = UnlockDialog([_header()])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    height = dialog.height()

    dialog.show_error(message)

    label = dialog.error
    qtbot.waitUntil(lambda: label.isVisible() and label.height() >= label.heightForWidth(label.width()), timeout=5000)
    assert dialog.height() > height, "the dialog grew with its error"
    for field in (dialog.passphrase, dialog.primary, dialog.cancel_button):
        assert field.height() >= field.sizeHint().height(), f"{field} squashed"
    assert dialog.name.height() >= dialog.name.heightForWidth(dialog.name.width())


def test_trying_again_does_not_grow_the_dialog_each_time(qtbot: QtBot, qapp: QtWidgets.QApplication) -> None:
    """Unlock hides its error while it tries again; the next wrong passphrase shows it in the room it had."""
    theme.apply(qapp, "light")
    dialog = UnlockDialog([_header()])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.show_error(LONG)
    grown = dialog.height()
    for _ in range(3):
        dialog.error.hide()  # as ``_submit`` does
        dialog.set_busy(True)
        dialog.show_error(LONG)
    assert dialog.height() == grown
    label = dialog.error
    assert label.height() >= label.heightForWidth(label.width())


def test_a_failed_try_leaves_no_gap_where_the_busy_bar_was(qtbot: QtBot, qapp: QtWidgets.QApplication) -> None:
    """Seen under Xvfb: after a wrong passphrase the dialog kept the busy bar's room as well as the error's,
    spread as gaps between the heading, the name and the field."""
    theme.apply(qapp, "light")
    heights = []
    for busy_first in (False, True):
        dialog = UnlockDialog([_header()])
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        if busy_first:
            dialog.set_busy(True)
        dialog.show_error(LONG)
        heights.append(dialog.height())
        for field in (dialog.passphrase, dialog.primary):
            assert field.height() >= field.sizeHint().height()
    assert heights[1] == heights[0]
