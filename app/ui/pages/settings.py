"""Settings: a form rendered from the declared schema (``app.core.settings.SETTINGS``), plus workspace and security.

Every declared setting gets one editor chosen by its kind, with its help text underneath, and is saved the moment it
changes; a value the schema refuses is shown next to the field and not saved. Adding a setting to the schema adds
it here with no UI code. The Workspace and Security sections hold what is not a preference: the business name (the
org row), where the data lives, how the key is protected, and backup, restore and passphrase changes. The Quick
replies card, after the Inbox settings, manages the canned responses the composer offers after ``/``; the AI
providers card (``ai_settings.py``), after the AI settings, holds the provider chain and its keys, and the Team AI
card (``team_ai.py``) after it the team server's keys, limits and use for a signed-in team's owner and admins.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.core.errors import describe
from app.core.settings import SECTIONS, SETTINGS, Appearance, Setting
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.ui import kit, theme
from app.ui.context import AppContext, StaleWhenHidden
from app.ui.dialogs.backup_dialogs import BackupDialog, RestoreDialog, human_size
from app.ui.dialogs.change_passphrase import ChangePassphraseDialog, protection_text
from app.ui.dialogs.tracker import DialogTracker
from app.ui.pages.ai_settings import AiProvidersCard
from app.ui.pages.sync_settings import SyncSettingsCard
from app.ui.pages.team_ai import TeamAiCard
from app.ui.widgets.quick_replies_editor import QuickRepliesEditor

_INT = re.compile(r"[+-]?\d+")
_INT_LIMIT = 2**31 - 1


class IntBox(QtWidgets.QSpinBox):
    """A spin box that lets an out-of-range number be typed and reports it (``refused``) instead of clamping it.

    The value itself stays within range: on Enter or focus-out the typed number is reported and the box returns to
    its previous value, so the page can say why.
    """

    refused = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        _wheel_when_focused(self, event, super().wheelEvent)

    def validate(self, text: str, pos: int) -> tuple[QtGui.QValidator.State, str, int]:
        state, text, pos = super().validate(text, pos)
        if state == QtGui.QValidator.State.Invalid and _INT.fullmatch(text.strip()):
            state = QtGui.QValidator.State.Intermediate  # keep the keystroke; fixup() reports it
        return state, text, pos

    def fixup(self, text: str) -> str:
        value = text.strip()
        if _INT.fullmatch(value) and not self.minimum() <= int(value) <= self.maximum():
            self.refused.emit(int(value))
        return super().fixup(text)


class ChoiceBox(QtWidgets.QComboBox):
    """A combo box that leaves the mouse wheel to the scrolling page unless it has focus."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event: QtGui.QWheelEvent) -> None:
        _wheel_when_focused(self, event, super().wheelEvent)


def _wheel_when_focused(
    widget: QtWidgets.QWidget, event: QtGui.QWheelEvent, handle: Callable[[QtGui.QWheelEvent], None]
) -> None:
    """Scrolling the page over a field must not change the setting (a theme flipping mid-scroll, say)."""
    if widget.hasFocus():
        handle(event)
    else:
        event.ignore()  # passes on to the scroll area


class SettingsPage(QtWidgets.QWidget):
    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.editors: dict[str, QtWidgets.QWidget] = {}
        self.errors: dict[str, QtWidgets.QLabel] = {}
        self.resets: dict[str, QtWidgets.QToolButton] = {}
        self.section_resets: dict[str, QtWidgets.QPushButton] = {}
        self._dialogs = DialogTracker[QtWidgets.QDialog]()

        column = QtWidgets.QWidget()
        column.setMaximumWidth(820)
        self.column = QtWidgets.QVBoxLayout(column)
        self.column.setContentsMargins(24, 20, 24, 28)
        self.column.setSpacing(16)
        self.column.addWidget(kit.page_title("Settings"))
        self._workspace_card()
        self.team_sync: SyncSettingsCard | None = None
        self.team_ai: TeamAiCard | None = None
        if ctx.sync is not None:  # Team sync, after the workspace it would share
            self.team_sync = SyncSettingsCard(ctx, ctx.sync)
            self.column.addWidget(self.team_sync)
        sections = list(SECTIONS) + sorted({s.section for s in SETTINGS} - set(SECTIONS))
        self.quick_replies = QuickRepliesEditor(ctx)
        for section in sections:
            settings = [s for s in SETTINGS if s.section == section]
            if settings or section == "Security":
                self._schema_card(section, settings)
            if section == "Inbox":  # canned responses sit with the inbox preferences
                self._quick_replies_card()
            if section == "AI":  # the provider chain and its keys, after the AI preferences
                self.ai_providers = AiProvidersCard(ctx, ctx.ai)
                self.column.addWidget(self.ai_providers)
                if ctx.sync is not None:  # the team server's keys and limits, shown to its owner and admins
                    self.team_ai = TeamAiCard(ctx, ctx.sync)
                    self.column.addWidget(self.team_ai)
        if "Inbox" not in sections:
            self._quick_replies_card()
        self.column.addStretch(1)

        holder = QtWidgets.QWidget()
        centred = QtWidgets.QHBoxLayout(holder)
        centred.setContentsMargins(0, 0, 0, 0)
        centred.addStretch(1)
        centred.addWidget(column, 100)
        centred.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        self.scroll_area = scroll
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        for setting in SETTINGS:
            self._load(setting)
        self.watch = StaleWhenHidden(self, ctx.changes, frozenset({"settings", "orgs"}), self._changed)

    def _changed(self, tables: frozenset[str]) -> None:
        """Settings or the business name changed (here, in another view, or by a teammate): show the stored values,
        except in the field being edited."""
        if "settings" in tables:
            for setting in SETTINGS:
                if not self.editors[setting.key].hasFocus():
                    self._load(setting)
        if "orgs" in tables:
            self.refresh_workspace()

    def reveal_team_sync(self, *, conflicts: bool = False) -> None:
        """Scroll to the Team sync card (the status bar's sync indicator leads here), or to its conflicts list."""
        card = self.team_sync
        if card is None:
            return
        if conflicts:
            card.show_conflicts()
        target: QtWidgets.QWidget = card.signed_in.conflicts if conflicts and card.signed_in.isVisible() else card

        def scroll() -> None:  # after the layout has placed the card
            holder = self.scroll_area.widget()
            if holder is None:
                return
            top = target.mapTo(holder, QtCore.QPoint(0, 0)).y()
            self.scroll_area.verticalScrollBar().setValue(max(0, top - 16))

        QtCore.QTimer.singleShot(0, scroll)

    # ---- the declared settings ---------------------------------------------------------------------------------
    def _schema_card(self, section: str, settings: list[Setting[Any]]) -> None:
        card = kit.Card(section)
        if section == "Security":
            self._security_block(card.body)
        if settings:
            reset = QtWidgets.QPushButton("Reset section")
            reset.setToolTip(f"Put every {section} setting back to its default")
            reset.clicked.connect(lambda _=False, s=settings: self.reset_all(s))
            card.add_to_top(reset)
            self.section_resets[section] = reset
        for setting in settings:
            card.body.addWidget(self._row(setting))
        self.column.addWidget(card)

    def _row(self, setting: Setting[Any]) -> QtWidgets.QWidget:
        row = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(row)
        grid.setContentsMargins(0, 6, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(0, 1)
        editor = self._editor(setting)
        # Free text (a brand voice, say) gets the row's whole width under its label; short values sit beside it.
        wide = setting.kind == "str" and setting.check is None
        below = 1 if wide else 0
        if setting.kind == "bool":
            grid.addWidget(editor, 0, 0)
        else:
            label = QtWidgets.QLabel(setting.label)
            label.setBuddy(editor)
            grid.addWidget(label, 0, 0)
            if wide:
                grid.addWidget(editor, 1, 0, 1, 2)
            else:
                grid.addWidget(editor, 0, 1)
        reset = QtWidgets.QToolButton()
        reset.setText("Reset")
        reset.setToolTip(f"Reset to default ({self._shown(setting, setting.default)})")
        reset.clicked.connect(lambda _=False, s=setting: self.reset(s))
        grid.addWidget(reset, 0, 2)
        grid.addWidget(kit.note(setting.help), 1 + below, 0, 1, 2)
        error = kit.note(kind="error")
        error.hide()
        grid.addWidget(error, 2 + below, 0, 1, 3)
        self.editors[setting.key] = editor
        self.errors[setting.key] = error
        self.resets[setting.key] = reset
        return row

    def _editor(self, setting: Setting[Any]) -> QtWidgets.QWidget:
        if setting.kind == "bool":
            box = QtWidgets.QCheckBox(setting.label)
            box.toggled.connect(lambda checked, s=setting: self.save(s, checked))
            return box
        if setting.kind == "int":
            spin = IntBox()
            spin.setRange(
                -_INT_LIMIT if setting.minimum is None else setting.minimum,
                _INT_LIMIT if setting.maximum is None else setting.maximum,
            )
            spin.setKeyboardTracking(False)  # save on Enter, focus-out or the arrows, not on every digit
            spin.setMinimumWidth(110)
            spin.valueChanged.connect(lambda value, s=setting: self.save(s, value))
            spin.refused.connect(lambda value, s=setting: self.save(s, value))
            return spin
        if setting.kind == "choice":
            combo = ChoiceBox()
            for value, label in setting.choices:
                combo.addItem(label, value)
            combo.currentIndexChanged.connect(lambda i, s=setting, c=combo: self.save(s, c.itemData(i)))
            return combo
        edit = QtWidgets.QLineEdit()
        edit.editingFinished.connect(lambda s=setting, e=edit: self.save(s, e.text()))
        return edit

    @staticmethod
    def _shown(setting: Setting[Any], value: Any) -> str:
        if setting.kind == "bool":
            return "on" if value else "off"
        if setting.kind == "choice":
            return dict(setting.choices).get(value, str(value))
        return str(value) if value != "" else "empty"

    def _load(self, setting: Setting[Any]) -> None:
        """Show the stored value without saving it again."""
        value = self.ctx.settings.value(setting)
        editor = self.editors[setting.key]
        blocker = QtCore.QSignalBlocker(editor)
        if isinstance(editor, QtWidgets.QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, IntBox):
            editor.setValue(int(value))
        elif isinstance(editor, QtWidgets.QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(value)))
        elif isinstance(editor, QtWidgets.QLineEdit):
            editor.setText(str(value))
        blocker.unblock()
        self.resets[setting.key].setEnabled(value != setting.default)

    def save(self, setting: Setting[Any], value: Any) -> bool:
        """Validate and store ``value``; a refused value is explained under the field and the stored one shown."""
        try:
            self.ctx.settings.set(setting, value)
        except ValueError as exc:
            self.errors[setting.key].setText(describe(exc, doing=f"saving the setting {setting.key}"))
            self.errors[setting.key].show()
            self._load(setting)
            return False
        self.errors[setting.key].hide()
        self._applied(setting)
        return True

    def reset(self, setting: Setting[Any]) -> None:
        self.ctx.settings.reset(setting)
        self.errors[setting.key].hide()
        self._applied(setting)

    def reset_all(self, settings: list[Setting[Any]]) -> None:
        for setting in settings:
            self.reset(setting)

    def _applied(self, setting: Setting[Any]) -> None:
        self._load(setting)
        if setting is Appearance.theme:
            app = QtWidgets.QApplication.instance()
            if isinstance(app, QtWidgets.QApplication):
                theme.apply(app, self.ctx.settings.appearance.theme)

    # ---- quick replies -------------------------------------------------------------------------------------------
    def _quick_replies_card(self) -> None:
        card = kit.Card("Quick replies")
        card.body.addWidget(kit.note("Canned responses for the inbox: type / in the composer and pick one."))
        card.body.addWidget(self.quick_replies)
        self.column.addWidget(card)

    # ---- workspace -----------------------------------------------------------------------------------------------
    def _workspace_card(self) -> None:
        card = kit.Card("Workspace")
        paths = self.ctx.workspaces.paths(self.ctx.workspace.workspace_id)
        self.business = QtWidgets.QLineEdit(self.ctx.business_name)
        self.business.setMaxLength(120)
        self.business.editingFinished.connect(self.save_business_name)
        self.business_error = kit.note(kind="error")
        self.business_error.hide()
        self.folder = self._selectable(str(paths.root))
        open_folder = QtWidgets.QPushButton("Open folder")
        open_folder.clicked.connect(lambda: QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(paths.root))))
        folder_row = QtWidgets.QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(open_folder)
        self.org_id = self._selectable(self.ctx.store.org_id)
        self.db_size = QtWidgets.QLabel()
        form = QtWidgets.QFormLayout()
        form.addRow("Business name", self.business)
        form.addRow("", self.business_error)
        form.addRow("Folder", folder_row)
        form.addRow("Organisation id", self.org_id)
        form.addRow("Database size", self.db_size)
        card.body.addLayout(form)
        self.column.addWidget(card)
        self.refresh_workspace()

    @staticmethod
    def _selectable(text: str) -> QtWidgets.QLineEdit:
        """Read-only text that can be selected and copied whole, however long (paths, ids)."""
        field = QtWidgets.QLineEdit(text)
        field.setReadOnly(True)
        field.setFrame(False)
        field.setCursorPosition(0)
        return field

    def refresh_workspace(self) -> None:
        paths = self.ctx.workspaces.paths(self.ctx.workspace.workspace_id)
        total = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                total += (paths.root / f"{paths.database.name}{suffix}").stat().st_size
        self.db_size.setText(human_size(total))
        if not self.business.hasFocus():
            self.business.setText(self.ctx.business_name)

    def save_business_name(self) -> None:
        name = self.business.text().strip()
        current = self.ctx.business_name
        if not name:
            self.business_error.setText("The business name cannot be empty.")
            self.business_error.show()
            self.business.setText(current)
            return
        self.business_error.hide()
        if name != current:
            self.ctx.workspace.header = self.ctx.workspaces.rename(
                self.ctx.store, self.ctx.workspace.workspace_id, name
            )

    # ---- security ------------------------------------------------------------------------------------------------
    def _security_block(self, layout: QtWidgets.QVBoxLayout) -> None:
        self.protection = QtWidgets.QLabel()
        self.last_backup = QtWidgets.QLabel()
        form = QtWidgets.QFormLayout()
        form.addRow("Key protection", self.protection)
        form.addRow("Last backup", self.last_backup)
        layout.addLayout(form)
        self.change_button = QtWidgets.QPushButton("Change passphrase…")
        self.backup_button = QtWidgets.QPushButton("Back up now…")
        self.restore_button = QtWidgets.QPushButton("Restore…")
        layout.addLayout(kit.button_row(self.change_button, self.backup_button, self.restore_button, align="left"))
        self.change_button.clicked.connect(self.open_change_passphrase)
        self.backup_button.clicked.connect(self.open_backup)
        self.restore_button.clicked.connect(self.open_restore)
        self.refresh_security()

    def refresh_security(self) -> None:
        header = self.ctx.workspaces.header(self.ctx.workspace.workspace_id)
        self.protection.setText(protection_text(header))
        stamp = self.ctx.store.meta("last_backup_at")
        when = "Never"
        if stamp:
            try:
                when = datetime.fromisoformat(stamp).astimezone().strftime("%d %b %Y, %H:%M")
            except ValueError:
                when = stamp
        self.last_backup.setText(when)

    def _present(self, dialog: QtWidgets.QDialog) -> None:
        self._dialogs.show(dialog)

    @property
    def dialog(self) -> QtWidgets.QDialog | None:
        """The backup, restore or passphrase dialog open now, if any (forgotten once it closes)."""
        return self._dialogs.current

    def open_change_passphrase(self) -> ChangePassphraseDialog:
        dialog = ChangePassphraseDialog(self.ctx, self)
        dialog.changed.connect(lambda _: self.refresh_security())
        self._present(dialog)
        return dialog

    def open_backup(self) -> BackupDialog:
        dialog = BackupDialog(self.ctx, parent=self)
        dialog.backed_up.connect(lambda _: self.refresh_security())
        self._present(dialog)
        return dialog

    def open_restore(self) -> RestoreDialog:
        dialog = RestoreDialog(self.ctx, parent=self)
        dialog.restored.connect(lambda _: self._after_restore())
        self._present(dialog)
        return dialog

    def _after_restore(self) -> None:
        for setting in SETTINGS:  # settings live in the database too, so the restored ones are shown
            self._load(setting)
        self._applied(Appearance.theme)
        self.refresh_workspace()
        self.refresh_security()
