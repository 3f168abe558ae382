"""Typed errors with messages a user can act on.

Every error the store or key handling raises is a ``ParleyError`` whose ``str()`` is fit to show in the UI;
``hint`` says what to do next. None of them leaves a partially modified database behind.
"""

from __future__ import annotations


class ParleyError(Exception):
    """Base of every error Parley raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class WorkspaceNotFound(ParleyError):
    hint = "Create a workspace first, or point --home / PARLEY_HOME at the folder that holds it."


class WorkspaceExists(ParleyError):
    hint = "Open the existing workspace instead, or choose another folder."


class WorkspaceIncomplete(ParleyError):
    """The workspace's folder exists but the transaction that fills it (org, owner, pipeline) never committed."""

    hint = "It holds no data yet. Delete its folder and create the workspace again."


class WrongPassphrase(ParleyError):
    hint = "Check the passphrase and try again. Nothing was changed."


class KeyMismatch(ParleyError):
    """The key we obtained (keyring entry or backup passphrase) does not belong to this database."""

    hint = "The workspace was not modified. Restore the right key or open a backup."


class KeyChangeUnfinished(WrongPassphrase):
    """A passphrase change was cut off before the file was re-encrypted: the previous passphrase still opens it."""

    hint = (
        "Nothing was lost. Parley will finish by undoing the unfinished change; then change the passphrase again "
        "in Settings."
    )


class PassphraseTooWeak(ParleyError):
    hint = "Use at least 8 characters; a few unrelated words work well."


class PassphraseRequired(ParleyError):
    hint = "This workspace is protected by a passphrase."


class CorruptDatabase(ParleyError):
    hint = "The file was not modified. Restore the latest backup (Settings → Security → Restore)."


class HeaderDamaged(CorruptDatabase):
    """``workspace.json`` (which says how the key is protected) cannot be read or parsed; the database may be fine."""

    hint = (
        "Put workspace.json back from a copy of this folder (e.g. your computer's backup), or restore a Parley "
        "backup as a new workspace. The database was not modified."
    )


class DatabaseTooNew(ParleyError):
    hint = "Update Parley to open this workspace. The file was not modified."


class KeyringUnavailable(ParleyError):
    hint = "Use a passphrase instead, or install and unlock your system's keyring."


class KeyringLocked(ParleyError):
    hint = "Unlock your system keyring (e.g. log in to your desktop session) and try again."


class KeyringKeyMissing(ParleyError):
    hint = "The key may have been removed from the keyring. Restore it, or restore a backup into a new workspace."


class KeyringBackendChanged(ParleyError):
    hint = (
        "Parley did not create a new key, so nothing was lost. Switch back to the keyring that holds the key, "
        "or restore a backup."
    )


class BackupError(ParleyError):
    hint = "Check the file and its passphrase. The workspace was not modified."


class NotFound(ParleyError):
    """A row that does not exist (or was deleted) was asked for."""
