"""Backing up and restoring the workspace from Settings › Backup.

A backup is encrypted under its own passphrase (not the workspace key), so it can be restored on another computer
even when this one's keyring is gone. Restoring replaces the whole workspace, so the dialog says so plainly, keeps
the current data as ``parley.db.before-restore`` and wants an explicit confirmation. Both jobs run on a worker;
the dialogs take their file paths as arguments so they work without a native file dialog (tests, scripts).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from app.core.errors import ParleyError, describe
from app.qt import QtWidgets, Signal
from app.store import backup as backup_mod
from app.store.keys import MIN_PASSPHRASE
from app.store.secrets import Secrets
from app.ui.context import AppContext
from app.ui.dialogs.form_dialog import FormDialog
from app.ui.kit import note, password_field, secondary_button

SUFFIX = ".parleybackup"


class TaskDialog(FormDialog):
    """A dialog that runs one slow job through ``ctx.tasks``: a busy bar, errors inline, then the outcome.

    Subclasses fill ``form`` and implement ``problem`` (checks before starting), ``job`` (the callable to run on
    the worker) and ``succeeded`` (runs on the main thread with the job's result and returns the message shown).
    The dialog owns the task: its callbacks are skipped once the dialog is deleted, so whatever must happen even
    then (announcing changes, updating the open workspace) belongs in ``job``.
    """

    task_name = "Working"

    def __init__(self, ctx: AppContext, title: str, action: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(title, title, action, parent, cancel="Cancel")
        self.ctx = ctx
        self.busy = False
        self.form = QtWidgets.QWidget()
        self.form.setMinimumWidth(460)
        self.body.addWidget(self.form)
        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        self.status.addWidget(self.message)
        self.action = self.primary
        self.close_button = self.cancel_button
        self.action.clicked.connect(self.submit)

    def problem(self) -> str | None:
        return None

    def job(self) -> Callable[[], Any]:
        raise NotImplementedError

    def succeeded(self, result: Any) -> str:
        raise NotImplementedError

    def submit(self) -> None:
        problem = self.problem()
        if problem:
            self.show_error(problem)
            return
        try:
            job = self.job()
        except (ParleyError, ValueError, OSError) as exc:
            self.show_error(describe(exc, doing=self.task_name))
            return
        self.error.hide()
        self.set_busy(True)
        self.ctx.tasks.start(self.task_name, job, self._done, self.show_error, owner=self)

    def _done(self, result: Any) -> None:
        self.set_busy(False)
        self.message.setText(self.succeeded(result))
        self.message.show()
        self.form.hide()
        self.action.hide()
        self.close_button.setText("Close")
        self.close_button.setDefault(True)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        super().set_busy(busy)
        self.form.setEnabled(not busy)
        self.close_button.setEnabled(not busy)

    def reject(self) -> None:
        if not self.busy:  # the job is already running and will finish either way; the dialog stays until it does
            super().reject()


def human_size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def default_backup_path(ctx: AppContext, today: date | None = None) -> Path:
    """``<backups folder>/<business>-<date>.parleybackup``, numbered when that name is taken."""
    folder = ctx.workspaces.paths(ctx.workspace.workspace_id).backups
    slug = re.sub(r"[^\w]+", "-", ctx.business_name).strip("-_") or "parley"
    stem = f"{slug}-{(today or date.today()).isoformat()}"
    candidate = folder / f"{stem}{SUFFIX}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}{SUFFIX}"
        n += 1
    return candidate


def _file_row(field: QtWidgets.QLineEdit, choose: Callable[[], None]) -> QtWidgets.QHBoxLayout:
    row = QtWidgets.QHBoxLayout()
    row.addWidget(field, 1)
    button = secondary_button("Choose…")
    button.clicked.connect(choose)
    row.addWidget(button)
    return row


# Provider keys kept inside the workspace (no secure keyring, ``app.store.secrets``) are in the database it copies.
_KEYS_INSIDE = " It includes the AI provider keys kept inside this workspace."


class BackupDialog(TaskDialog):
    """Write an encrypted backup file; ``dest`` pre-fills the destination (default: the workspace's backups)."""

    task_name = "Backing up"
    backed_up = Signal(object)  # BackupInfo

    def __init__(self, ctx: AppContext, dest: Path | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, "Back up the workspace", "Back up", parent)
        self.dest = QtWidgets.QLineEdit(str(dest or default_backup_path(ctx)))
        self.passphrase = password_field(f"At least {MIN_PASSPHRASE} characters")
        self.first_field = self.passphrase  # the destination is filled in already
        self.confirm = password_field("Type it again")
        form = QtWidgets.QFormLayout(self.form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Save to", _file_row(self.dest, self._choose))
        form.addRow("Backup passphrase", self.passphrase)
        form.addRow("Confirm", self.confirm)
        form.addRow(
            "",
            note(
                "The backup is encrypted with this passphrase, not with the workspace key, so it can be restored "
                "on another computer. Without the passphrase nobody can open it, you included."
                + _KEYS_INSIDE
                * (Secrets(ctx.workspaces.vault.backend, ctx.store).home() == "workspace"),
                "hint",
            ),
        )

    def _choose(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save the backup as", self.dest.text(), f"Parley backups (*{SUFFIX})"
        )
        if path:
            self.dest.setText(path)

    def target(self) -> Path:
        path = Path(self.dest.text().strip()).expanduser()
        return path if path.suffix == SUFFIX else path.with_name(path.name + SUFFIX)

    def problem(self) -> str | None:
        if not self.dest.text().strip():
            return "Choose where to save the backup."
        if self.target().is_dir():
            return "Choose a file name, not a folder."
        if len(self.passphrase.text()) < MIN_PASSPHRASE:
            return f"The backup passphrase must be at least {MIN_PASSPHRASE} characters long."
        if self.passphrase.text() != self.confirm.text():
            return "The two passphrases differ."
        return None

    def job(self) -> Callable[[], backup_mod.BackupInfo]:
        ctx, dest, passphrase = self.ctx, self.target(), self.passphrase.text()
        workspace_id = ctx.workspace.workspace_id

        def run() -> backup_mod.BackupInfo:
            return ctx.workspaces.backup(ctx.store, workspace_id, dest, passphrase)

        return run

    def succeeded(self, result: Any) -> str:
        self.backed_up.emit(result)
        dest = self.target()
        size = human_size(dest.stat().st_size) if dest.exists() else "size unknown"
        return f"Backup saved to {dest} ({size}). Keep the passphrase somewhere safe, apart from the file."


class RestoreDialog(TaskDialog):
    """Replace this workspace's data with a backup of the same organisation; ``source`` pre-fills the file."""

    task_name = "Restoring the backup"
    restored = Signal(object)  # BackupInfo

    def __init__(self, ctx: AppContext, source: Path | None = None, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(ctx, "Restore a backup", "Restore", parent)
        self.source = QtWidgets.QLineEdit(str(source) if source else "")
        self.source.setPlaceholderText(f"A {SUFFIX} file")
        self.about = note()
        self.passphrase = password_field("The passphrase chosen when the backup was made")
        warning = note(
            "Restoring replaces everything in this workspace (chats, messages, contacts, deals, products, sales "
            "and notes) with the contents of the backup; whatever changed since it was made is lost. The current "
            "data is kept in the workspace folder as parley.db.before-restore until the next restore.",
            kind="error",
        )
        self.confirm = QtWidgets.QCheckBox("I understand that the current data will be replaced")
        form = QtWidgets.QFormLayout(self.form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Backup file", _file_row(self.source, self._choose))
        form.addRow("", self.about)
        form.addRow("Passphrase", self.passphrase)
        form.addRow(warning)
        form.addRow(self.confirm)
        self.source.editingFinished.connect(self._describe_source)
        self.confirm.toggled.connect(self._sync)
        self.source.textChanged.connect(self._sync)
        self._describe_source()
        self._sync()

    def _choose(self) -> None:
        folder = str(self.ctx.workspaces.paths(self.ctx.workspace.workspace_id).backups)
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Choose a backup", self.source.text() or folder, f"Parley backups (*{SUFFIX});;All files (*)"
        )
        if path:
            self.source.setText(path)
            self._describe_source()

    def _sync(self) -> None:
        self.action.setEnabled(self.confirm.isChecked() and bool(self.source.text().strip()) and not self.busy)

    def set_busy(self, busy: bool) -> None:
        super().set_busy(busy)
        self._sync()

    def _describe_source(self) -> None:
        """Show whose backup the file is and when it was made (the header is read, nothing is decrypted)."""
        text = self.source.text().strip()
        if not text:
            self.about.hide()
            return
        try:
            info = backup_mod.read_info(Path(text).expanduser())
        except ParleyError as exc:
            self.about.setText(describe(exc, doing="reading a backup's header"))
        else:
            made = info.created_at.astimezone().strftime("%d %b %Y, %H:%M")
            self.about.setText(f"Backup of “{info.workspace_name}”, made {made}.")
        self.about.show()

    def problem(self) -> str | None:
        if not self.source.text().strip():
            return "Choose the backup file."
        if not self.passphrase.text():
            return "Enter the backup's passphrase."
        if not self.confirm.isChecked():
            return "Confirm that the current data will be replaced."
        return None

    def job(self) -> Callable[[], backup_mod.BackupInfo]:
        ctx, source, passphrase = self.ctx, Path(self.source.text().strip()).expanduser(), self.passphrase.text()
        workspace_id = ctx.workspace.workspace_id

        def run() -> backup_mod.BackupInfo:
            # The store reports every table as changed once the restored file is in place (origin "restore").
            return ctx.workspaces.restore_into(ctx.store, workspace_id, source, passphrase)

        return run

    def succeeded(self, result: Any) -> str:
        self.restored.emit(result)
        made = result.created_at.astimezone().strftime("%d %b %Y, %H:%M")
        return (
            f"Restored the backup made {made}. The data it replaced is kept in the workspace folder as "
            "parley.db.before-restore."
        )
