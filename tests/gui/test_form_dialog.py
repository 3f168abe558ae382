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
    field_height = dialog.passphrase.height()

    dialog.show_error(message)

    def fits() -> bool:
        label = dialog.error
        return label.isVisible() and label.height() >= label.heightForWidth(label.width())

    qtbot.waitUntil(fits, timeout=5000)
    assert dialog.passphrase.height() >= field_height
    assert dialog.passphrase.height() >= dialog.passphrase.minimumSizeHint().height()
