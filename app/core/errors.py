"""Typed errors with messages a user can act on, and the one way to turn any exception into text for people.

Every error Parley raises for people is a ``ParleyError`` whose ``str()`` is fit to show in the UI; ``hint`` says
what to do next. None of them leaves a partially modified database behind.

``describe`` is the only translator from an exception to what a person reads (task runner, sync actions, dialogs,
pages, start-up, WhatsApp's status): a ``ParleyError`` gives its sentence and hint and is logged as one line; any
other exception is a bug or an accident whose text may carry customer content, SQL or paths, so the person reads
"Something went wrong" with where the log is, and the log gets the traceback (qutebrowser's ``KnownError`` versus
``BugError``).
"""

from __future__ import annotations

import logging
import os

_log = logging.getLogger(__name__)


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
    hint = "The file was not modified. Restore the latest backup (Settings › Backup › Restore)."


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


class InvalidInput(ParleyError, ValueError):
    """A value a person typed or chose is refused; the sentence says what is wrong with it.

    Also a ``ValueError``, so a pydantic validator may raise it and code that validates with ``except ValueError``
    keeps working.
    """


SOMETHING_WENT_WRONG = "Something went wrong; the details are in the log."


def log_file() -> str | None:
    """The path of the log file the root logger writes to, when there is one (the workspace's ``parley.log``)."""
    for handler in reversed(logging.getLogger().handlers):  # the latest: the open workspace's
        if isinstance(handler, logging.FileHandler) and handler.baseFilename != os.devnull:
            return handler.baseFilename
    return None


def describe(exc: BaseException, *, doing: str = "an action", logger: logging.Logger | None = None) -> str:
    """What a person reads about ``exc``; logs it too (``doing`` names the work in the log line).

    A ``ParleyError`` was expected: its sentence and hint, and one log line with its type (not its text, which may
    name a customer). Anything else: never its text; "Something went wrong" and the log's path, with the traceback
    in the log.
    """
    logger = logger or _log
    if isinstance(exc, ParleyError):
        logger.info("%s failed: %s", doing, type(exc).__name__)
        return f"{exc} {exc.hint}".strip()
    logger.error("%s failed unexpectedly", doing, exc_info=exc)
    where = log_file()
    return f"Something went wrong; the details are in the log ({where})." if where else SOMETHING_WENT_WRONG
