"""First run and unlocking, through the real dialogs and the real workspace code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.store.workspaces import Workspaces
from app.ui.dialogs.create_workspace import CreateWorkspaceDialog
from app.ui.dialogs.unlock import UnlockDialog
from app.ui.dialogs.unusable_workspaces import UnusableWorkspacesDialog
from app.ui.startup import OpenWorkspace, StartupFlow
from app.ui.tasks import TaskRunner
from tests.support import store_child

PASS = "tangerine submarine 42"


def start(workspaces: Workspaces) -> tuple[StartupFlow, list[OpenWorkspace]]:
    flow = StartupFlow(workspaces, TaskRunner())
    opened: list[OpenWorkspace] = []
    flow.opened.connect(opened.append)
    flow.start()
    return flow, opened


def fill_create(dialog: CreateWorkspaceDialog, qtbot: QtBot, passphrase: str | None) -> None:
    qtbot.keyClicks(dialog.business, "Lumen Boutique")
    qtbot.keyClicks(dialog.owner, "Ana")
    if passphrase is not None:
        dialog.use_passphrase.setChecked(True)
        qtbot.keyClicks(dialog.passphrase, passphrase)
        qtbot.keyClicks(dialog.confirm, passphrase)
    dialog.create_button.click()


def test_first_run_creates_a_keyring_workspace(qtbot: QtBot, workspaces: Workspaces) -> None:
    flow, opened = start(workspaces)
    dialog = flow.dialog
    assert isinstance(dialog, CreateWorkspaceDialog)
    qtbot.addWidget(dialog)
    assert dialog.use_keyring.isEnabled()
    assert dialog.use_keyring.isChecked()
    fill_create(dialog, qtbot, None)
    qtbot.waitUntil(lambda: bool(opened), timeout=15000)
    [workspace] = opened
    assert workspace.header.name == "Lumen Boutique"
    assert workspace.header.key.mode == "keyring"
    assert [u.name for u in workspace.store.users.find_all()] == ["Ana"]
    workspace.store.close()


def test_first_run_validates_before_creating(qtbot: QtBot, workspaces: Workspaces) -> None:
    flow, opened = start(workspaces)
    dialog = flow.dialog
    assert isinstance(dialog, CreateWorkspaceDialog)
    qtbot.addWidget(dialog)
    dialog.create_button.click()
    assert "business" in dialog.error.text()
    qtbot.keyClicks(dialog.business, "X")
    qtbot.keyClicks(dialog.owner, "Y")
    dialog.use_passphrase.setChecked(True)
    qtbot.keyClicks(dialog.passphrase, "short")
    dialog.create_button.click()
    assert "at least 8" in dialog.error.text()
    qtbot.keyClicks(dialog.passphrase, "-and-longer")
    qtbot.keyClicks(dialog.confirm, "something else")
    dialog.create_button.click()
    assert "differ" in dialog.error.text()
    assert workspaces.available() == []
    assert opened == []


def test_unlock_wrong_then_right_passphrase(qtbot: QtBot, workspaces: Workspaces) -> None:
    store = workspaces.create("Lumen Boutique", "Ana", passphrase=PASS)
    store.contacts.create(name="Kept safe")
    store.close()
    flow, opened = start(workspaces)
    dialog = flow.dialog
    assert isinstance(dialog, UnlockDialog)
    qtbot.addWidget(dialog)
    assert dialog.name.text() == "Lumen Boutique"
    qtbot.keyClicks(dialog.passphrase, "tangerine submarine 43")
    dialog.unlock_button.click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=15000)
    assert "not right" in dialog.error.text()
    assert dialog.unlock_button.isEnabled()
    assert opened == []
    dialog.passphrase.clear()
    qtbot.keyClicks(dialog.passphrase, PASS)
    dialog.unlock_button.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=15000)
    assert [c.name for c in opened[0].store.contacts.find_all()] == ["Kept safe"]
    opened[0].store.close()


def test_keyring_workspace_opens_without_a_prompt(qtbot: QtBot, workspaces: Workspaces) -> None:
    workspaces.create("Lumen Boutique", "Ana").close()
    flow, opened = start(workspaces)
    assert flow.dialog is None
    qtbot.waitUntil(lambda: bool(opened), timeout=15000)
    opened[0].store.close()


def break_header(workspaces: Workspaces, workspace_id: str, damage: str) -> None:
    header = workspaces.paths(workspace_id).header
    if damage == "damaged":
        header.write_bytes(header.read_bytes()[:30])
    elif damage == "newer":
        data = json.loads(header.read_text())
        header.write_text(json.dumps({**data, "format": 2, "added_later": True}))
    else:
        header.unlink()
        header.mkdir()


@pytest.mark.parametrize(
    ("damage", "says"), [("damaged", "damaged"), ("newer", "Update Parley"), ("unreadable", "read")]
)
def test_only_workspace_unusable_is_shown_not_replaced(
    qtbot: QtBot, workspaces: Workspaces, damage: str, says: str
) -> None:
    store = workspaces.create("Lumen Boutique", "Ana")
    workspace_id = store.meta("workspace_id") or ""
    store.close()
    break_header(workspaces, workspace_id, damage)
    flow, opened = start(workspaces)
    dialog = flow.dialog
    assert isinstance(dialog, UnusableWorkspacesDialog), "no create dialog as if there were no workspace"
    qtbot.addWidget(dialog)
    [reason] = dialog.reasons
    assert says in reason.text()
    assert str(workspaces.paths(workspace_id).root) in reason.text()
    # Creating another one is a choice the user makes here, not a silent default.
    assert dialog.primary.text().startswith("Create")
    dialog.primary.click()
    create = flow.dialog
    assert isinstance(create, CreateWorkspaceDialog)
    qtbot.addWidget(create)
    assert workspaces.paths(workspace_id).root.exists(), "the unusable workspace is left as it was"
    assert opened == []


def test_unusable_workspace_is_shown_beside_the_ones_that_open(qtbot: QtBot, workspaces: Workspaces) -> None:
    broken = workspaces.create("Broken Shop", "Ana")
    broken_id = broken.meta("workspace_id") or ""
    broken.close()
    workspaces.create("Lumen Boutique", "Ana").close()
    break_header(workspaces, broken_id, "newer")
    flow, opened = start(workspaces)
    dialog = flow.dialog
    assert isinstance(dialog, UnusableWorkspacesDialog)
    qtbot.addWidget(dialog)
    assert "newer version" in dialog.reasons[0].text()
    cancelled: list[bool] = []
    flow.cancelled.connect(lambda: cancelled.append(True))
    dialog.primary.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=15000)
    assert opened[0].header.name == "Lumen Boutique"
    assert cancelled == []
    opened[0].store.close()


def test_start_removes_a_creation_that_a_crash_cut_off(
    qtbot: QtBot, workspaces: Workspaces, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PARLEY_TEST_KEYRING", str(keyring_file))
    store_child.run("create", workspaces.home, "Lumen", PASS, keyring_file=keyring_file, die_at="create.filled")
    assert any((workspaces.home / "workspaces").iterdir())
    flow, _opened = start(workspaces)
    assert isinstance(flow.dialog, CreateWorkspaceDialog), "a half-made workspace is neither opened nor shown"
    qtbot.addWidget(flow.dialog)
    assert list((workspaces.home / "workspaces").iterdir()) == []


def test_enter_in_the_passphrase_unlocks_and_opens_nothing_else(qtbot: QtBot, workspaces: Workspaces) -> None:
    """Seen under Xvfb: Enter with a wrong passphrase opened "Join a team": submitting disabled the field, focus
    moved to the Join button, and the dialog gave the same Return key to that (auto-default) button."""
    from app.qt import QtCore, QtWidgets
    from app.ui.dialogs.join_team import JoinTeamDialog

    workspaces.create("Lumen Boutique", "Ana", passphrase=PASS).close()
    flow, opened = start(workspaces)
    dialog = flow.dialog
    assert isinstance(dialog, UnlockDialog)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    dialog.passphrase.setFocus()
    defaults = [b.text() for b in dialog.findChildren(QtWidgets.QPushButton) if b.isDefault()]
    assert defaults == ["Unlock"], "only the action takes Enter"
    submitted: list[str] = []
    dialog.submitted.connect(lambda _id, _passphrase: submitted.append(_id))
    qtbot.keyClicks(dialog.passphrase, "tangerine submarine 43")
    qtbot.keyClick(dialog.passphrase, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=15000)
    assert len(submitted) == 1, "one Enter, one unlock"
    joins = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, JoinTeamDialog) and w.isVisible()]
    assert joins == []
    assert getattr(flow, "join_dialog", None) is None
    assert dialog.passphrase.hasFocus()
    assert dialog.passphrase.hasSelectedText()
    assert dialog.passphrase.selectionLength() == len("tangerine submarine 43")
    qtbot.keyClicks(dialog.passphrase, PASS)  # the wrong one is selected: typing replaces it
    qtbot.keyClick(dialog.passphrase, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(opened), timeout=15000)
    assert getattr(flow, "join_dialog", None) is None
    opened[0].store.close()


def test_unlock_opens_in_the_passphrase_with_a_list_of_workspaces(qtbot: QtBot, workspaces: Workspaces) -> None:
    """With two passphrase workspaces the list of them comes first in the dialog, and Qt focused it: typing the
    passphrase went into the list's type-ahead. The cursor starts in the passphrase."""
    workspaces.create("Lumen Boutique", "Ana", passphrase=PASS).close()
    workspaces.create("Atelier Sul", "Ana", passphrase=PASS).close()
    flow, _opened = start(workspaces)
    dialog = flow.dialog
    assert isinstance(dialog, UnlockDialog)
    qtbot.addWidget(dialog)
    qtbot.waitExposed(dialog)
    assert dialog.workspace.isVisible()
    qtbot.waitUntil(lambda: dialog.focusWidget() is not None, timeout=5000)
    assert dialog.focusWidget() is dialog.passphrase


def test_an_empty_passphrase_and_enter_says_so_once(qtbot: QtBot, workspaces: Workspaces) -> None:
    """Enter reached Unlock's check twice: the field's returnPressed ran it, then the same key press went on to
    the default button. Enter now means the Unlock button and only it."""
    from app.qt import QtCore

    workspaces.create("Lumen Boutique", "Ana", passphrase=PASS).close()
    flow, _opened = start(workspaces)
    dialog = flow.dialog
    assert isinstance(dialog, UnlockDialog)
    qtbot.addWidget(dialog)
    qtbot.waitExposed(dialog)
    clicks: list[bool] = []
    dialog.unlock_button.clicked.connect(lambda: clicks.append(True))
    qtbot.keyClick(dialog.passphrase, QtCore.Qt.Key.Key_Return)
    assert dialog.error.text() == "Enter the passphrase."
    assert clicks == [True], "Enter pressed Unlock, once, and was not handled a second way"
    assert dialog.focusWidget() is dialog.passphrase
