"""The Settings page: a form from the declared schema, workspace details, key changes, backup and restore.

Everything runs against a real SQLCipher workspace; key changes are checked by reopening the workspace from disk.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.core.errors import PassphraseRequired, WrongPassphrase
from app.core.settings import BY_KEY, SETTINGS
from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.store.keyring_vault import KeyringVault
from app.ui import theme
from app.ui.context import AppContext
from app.ui.dialogs.backup_dialogs import BackupDialog, RestoreDialog, default_backup_path
from app.ui.dialogs.change_passphrase import ChangePassphraseDialog
from app.ui.pages.settings import IntBox, SettingsPage
from tests.support.gui import wait_idle
from tests.support.keyrings import InMemoryKeyring

NEW_PASS = "correct horse battery"
BACKUP_PASS = "backup passphrase one"
EDITOR_KINDS = {"bool": QtWidgets.QCheckBox, "int": IntBox, "choice": QtWidgets.QComboBox, "str": QtWidgets.QLineEdit}


@pytest.fixture
def page(qtbot: QtBot, ctx: AppContext) -> SettingsPage:
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.resize(900, 700)
    page.show()
    qtbot.waitExposed(page)
    return page


def shown(label: QtWidgets.QLabel) -> bool:
    return not label.isHidden()


# ---- the declared settings ---------------------------------------------------------------------------------------
def test_one_editor_per_declared_setting_with_its_help(page: SettingsPage) -> None:
    assert set(page.editors) == {s.key for s in SETTINGS}
    texts = {label.text() for label in page.findChildren(QtWidgets.QLabel)}
    for setting in SETTINGS:
        assert isinstance(page.editors[setting.key], EDITOR_KINDS[setting.kind])
        assert setting.help in texts
        assert setting.section in texts
    combo = page.editors["appearance.theme"]
    assert isinstance(combo, QtWidgets.QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == [
        label for _, label in BY_KEY["appearance.theme"].choices
    ]
    spin = page.editors["inbox.history_page"]
    assert isinstance(spin, IntBox)
    assert (spin.minimum(), spin.maximum(), spin.value()) == (20, 500, 60)


def test_toggling_a_bool_persists(page: SettingsPage, ctx: AppContext) -> None:
    box = page.editors["notifications.desktop"]
    assert isinstance(box, QtWidgets.QCheckBox)
    assert box.isChecked()
    assert not page.resets["notifications.desktop"].isEnabled()
    box.click()
    assert ctx.settings.notifications.desktop is False
    assert page.resets["notifications.desktop"].isEnabled()
    page.resets["notifications.desktop"].click()
    assert ctx.settings.notifications.desktop is True
    assert box.isChecked()


def type_into(qtbot: QtBot, spin: IntBox, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_out_of_range_number_is_refused_inline(qtbot: QtBot, page: SettingsPage, ctx: AppContext) -> None:
    spin = page.editors["inbox.history_page"]
    assert isinstance(spin, IntBox)
    error = page.errors["inbox.history_page"]
    type_into(qtbot, spin, "900")
    assert shown(error)
    assert "at most 500" in error.text()
    assert ctx.settings.inbox.history_page == 60
    assert spin.value() == 60
    type_into(qtbot, spin, "5")
    assert "at least 20" in error.text()
    assert ctx.settings.inbox.history_page == 60
    type_into(qtbot, spin, "250")
    assert ctx.settings.inbox.history_page == 250
    assert not shown(error)


def test_reset_a_whole_section(page: SettingsPage, ctx: AppContext) -> None:
    ctx.settings.notifications.desktop = False
    page.save(BY_KEY["notifications.show_preview"], True)
    page.section_resets["Notifications"].click()
    assert ctx.settings.notifications.desktop is True
    assert ctx.settings.notifications.show_preview is False
    box = page.editors["notifications.show_preview"]
    assert isinstance(box, QtWidgets.QCheckBox)
    assert not box.isChecked()


def window_colour() -> str:
    app = QtWidgets.QApplication.instance()
    assert isinstance(app, QtWidgets.QApplication)
    return app.palette().color(QtGui.QPalette.ColorRole.Window).name()


def test_theme_change_restyles_the_whole_app(page: SettingsPage, ctx: AppContext) -> None:
    combo = page.editors["appearance.theme"]
    assert isinstance(combo, QtWidgets.QComboBox)
    assert window_colour() == theme.LIGHT.window
    combo.setCurrentIndex(combo.findData("dark"))
    assert ctx.settings.appearance.theme == "dark"
    assert window_colour() == theme.DARK.window
    assert theme.colors() is theme.DARK
    combo.setCurrentIndex(combo.findData("light"))
    assert window_colour() == theme.LIGHT.window
    page.resets["appearance.theme"].click()
    assert ctx.settings.appearance.theme == "system"
    assert combo.currentData() == "system"


def test_scrolling_over_an_unfocused_field_leaves_it_alone(page: SettingsPage, ctx: AppContext) -> None:
    for key in ("appearance.theme", "inbox.history_page"):
        editor = page.editors[key]
        assert not editor.hasFocus()
        local = QtCore.QPointF(5, 5)
        wheel = QtGui.QWheelEvent(
            local,
            QtCore.QPointF(editor.mapToGlobal(local.toPoint())),
            QtCore.QPoint(0, 0),
            QtCore.QPoint(0, -120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QtWidgets.QApplication.sendEvent(editor, wheel)
        assert ctx.settings.value(BY_KEY[key]) == BY_KEY[key].default


# ---- workspace ---------------------------------------------------------------------------------------------------
def test_workspace_details_and_business_name(page: SettingsPage, ctx: AppContext) -> None:
    paths = ctx.workspaces.paths(ctx.workspace.workspace_id)
    assert page.folder.text() == str(paths.root)
    assert page.org_id.text() == ctx.store.org_id
    assert page.db_size.text().endswith(("KB", "MB"))
    assert page.business.text() == "Acme Boutique"
    page.business.setText("  Acme Atelier ")
    page.business.editingFinished.emit()
    assert ctx.store.orgs.get(ctx.store.org_id).name == "Acme Atelier"
    page.business.setText("   ")
    page.business.editingFinished.emit()
    assert shown(page.business_error)
    assert page.business.text() == "Acme Atelier"
    assert ctx.store.orgs.get(ctx.store.org_id).name == "Acme Atelier"


# ---- key protection ----------------------------------------------------------------------------------------------
def change(qtbot: QtBot, ctx: AppContext, dialog: ChangePassphraseDialog, *, current: str | None, new: str) -> None:
    if current is not None:
        qtbot.keyClicks(dialog.current, current)
    qtbot.keyClicks(dialog.new, new)
    qtbot.keyClicks(dialog.confirm, new)
    dialog.action.click()
    wait_idle(qtbot, ctx)


def test_keyring_to_passphrase(
    qtbot: QtBot, page: SettingsPage, ctx: AppContext, keyring_backend: InMemoryKeyring
) -> None:
    workspace_id = ctx.workspace.workspace_id
    assert page.protection.text() == "System keyring (InMemoryKeyring)"  # a name, never the class path
    assert keyring_backend.entries
    dialog = page.open_change_passphrase()
    assert dialog.current.isHidden()
    assert dialog.use_keyring.isHidden(), "already in the keyring"
    dialog.new.setText("short")
    dialog.confirm.setText("short")
    dialog.action.click()
    assert "at least 8" in dialog.error.text()
    dialog.new.clear()
    dialog.confirm.clear()
    change(qtbot, ctx, dialog, current=None, new=NEW_PASS)
    assert shown(dialog.message)
    assert "new passphrase" in dialog.message.text()
    assert page.protection.text() == "Passphrase (Argon2id)"
    assert ctx.workspace.header.key.mode == "passphrase"
    assert not keyring_backend.entries, "the old key left the keyring"
    ctx.store.contacts.create(name="Still writable")

    with pytest.raises(PassphraseRequired):
        ctx.workspaces.open(workspace_id)
    with pytest.raises(WrongPassphrase):
        ctx.workspaces.open(workspace_id, passphrase="not the passphrase")
    reopened = ctx.workspaces.open(workspace_id, passphrase=NEW_PASS)
    try:
        assert [c.name for c in reopened.contacts.find_all()] == ["Still writable"]
    finally:
        reopened.close()
    dialog.close_button.click()


def test_wrong_current_passphrase_changes_nothing(qtbot: QtBot, ctx: AppContext) -> None:
    workspace_id = ctx.workspace.workspace_id
    ctx.workspaces.change_protection(ctx.store, workspace_id, new_passphrase=NEW_PASS)
    before = ctx.workspaces.header(workspace_id)
    dialog = ChangePassphraseDialog(ctx)
    qtbot.addWidget(dialog)
    assert not dialog.current.isHidden()
    dialog.action.click()
    assert dialog.error.text() == "Enter the current passphrase."
    change(qtbot, ctx, dialog, current="definitely wrong", new="another passphrase")
    assert "current passphrase is not right" in dialog.error.text()
    assert dialog.message.isHidden()
    assert dialog.action.isEnabled()
    assert ctx.workspaces.header(workspace_id) == before
    reopened = ctx.workspaces.open(workspace_id, passphrase=NEW_PASS)
    reopened.close()


def test_passphrase_back_to_keyring(qtbot: QtBot, ctx: AppContext, keyring_backend: InMemoryKeyring) -> None:
    workspace_id = ctx.workspace.workspace_id
    ctx.workspaces.change_protection(ctx.store, workspace_id, new_passphrase=NEW_PASS)
    dialog = ChangePassphraseDialog(ctx)
    qtbot.addWidget(dialog)
    assert not dialog.use_keyring.isHidden()
    dialog.use_keyring.setChecked(True)
    assert not dialog.new.isEnabled()
    qtbot.keyClicks(dialog.current, NEW_PASS)
    dialog.action.click()
    wait_idle(qtbot, ctx)
    assert "keyring" in dialog.message.text()
    assert ctx.workspaces.header(workspace_id).key.mode == "keyring"
    ctx.workspaces.open(workspace_id).close()


def test_keyring_option_only_with_a_secure_keyring(
    qtbot: QtBot, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx.workspaces.change_protection(ctx.store, ctx.workspace.workspace_id, new_passphrase=NEW_PASS)
    monkeypatch.setattr(KeyringVault, "secure", property(lambda self: False))
    dialog = ChangePassphraseDialog(ctx)
    qtbot.addWidget(dialog)
    assert dialog.use_keyring.isHidden()


# ---- backup and restore ------------------------------------------------------------------------------------------
def test_backup_then_restore_round_trip(qtbot: QtBot, page: SettingsPage, ctx: AppContext, tmp_path: Path) -> None:
    kept = ctx.store.contacts.create(name="Before the backup")
    target = tmp_path / "backups" / "acme.parleybackup"
    backup = BackupDialog(ctx, dest=target)
    qtbot.addWidget(backup)
    qtbot.keyClicks(backup.passphrase, BACKUP_PASS)
    qtbot.keyClicks(backup.confirm, BACKUP_PASS + "x")
    backup.action.click()
    assert backup.error.text() == "The two passphrases differ."
    backup.confirm.setText(BACKUP_PASS)
    backup.action.click()
    wait_idle(qtbot, ctx)
    assert target.exists()
    assert shown(backup.message)
    assert str(target) in backup.message.text()

    ctx.store.contacts.update(kept.id, name="Renamed after the backup")
    ctx.store.contacts.create(name="Added after the backup")
    restore = RestoreDialog(ctx, source=target)
    qtbot.addWidget(restore)
    assert "Acme Boutique" in restore.about.text()
    assert "parley.db.before-restore" in " ".join(label.text() for label in restore.findChildren(QtWidgets.QLabel))
    assert not restore.action.isEnabled(), "nothing is replaced without the confirmation"
    qtbot.keyClicks(restore.passphrase, "wrong passphrase")
    restore.confirm.setChecked(True)
    restore.action.click()
    wait_idle(qtbot, ctx)
    assert "passphrase" in restore.error.text()
    assert ctx.store.contacts.count() == 2

    restore.passphrase.setText(BACKUP_PASS)
    everything = {"contacts", "chats", "messages", "deals"}
    with qtbot.waitSignal(ctx.changes.changed, check_params_cb=lambda tables: everything <= tables):
        restore.action.click()
        wait_idle(qtbot, ctx)
    assert shown(restore.message)
    assert [c.name for c in ctx.store.contacts.find_all()] == ["Before the backup"]
    assert (ctx.workspaces.paths(ctx.workspace.workspace_id).root / "parley.db.before-restore").exists()


def test_backup_from_the_page_goes_to_the_backups_folder(qtbot: QtBot, page: SettingsPage, ctx: AppContext) -> None:
    assert page.last_backup.text() == "Never"
    expected = default_backup_path(ctx)
    assert expected.parent == ctx.workspaces.paths(ctx.workspace.workspace_id).backups
    assert expected.name.startswith("Acme-Boutique-")
    assert expected.suffix == ".parleybackup"
    dialog = page.open_backup()
    assert dialog.dest.text() == str(expected)
    dialog.passphrase.setText(BACKUP_PASS)
    dialog.confirm.setText(BACKUP_PASS)
    dialog.action.click()
    wait_idle(qtbot, ctx)
    assert expected.exists()
    assert page.last_backup.text() != "Never"
    assert default_backup_path(ctx).name == expected.stem + "-2.parleybackup"
    assert page.dialog is dialog
    dialog.close_button.click()
    assert page.dialog is None, "the page forgets the dialog Qt deletes on close"


def test_restore_refuses_a_file_that_is_not_a_backup(qtbot: QtBot, ctx: AppContext, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    dialog = RestoreDialog(ctx, source=junk)
    qtbot.addWidget(dialog)
    assert "not a Parley backup" in dialog.about.text()
    dialog.passphrase.setText(BACKUP_PASS)
    dialog.confirm.setChecked(True)
    dialog.action.click()
    wait_idle(qtbot, ctx)
    assert "not a Parley backup" in dialog.error.text()
