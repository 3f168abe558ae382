"""Where one workspace keeps its secrets (AI provider keys, the team sync sign-in): in the OS keyring when this
computer has a secure one, else inside the workspace's encrypted database. Never in a plain file.

A computer without a keyring that really protects secrets (a headless or minimal Linux, some KDE setups) can only
hold passphrase workspaces (``keyring_vault``); their secrets then go to the ``local_secrets`` table, which SQLCipher
encrypts with the rest of the file, which is never synced, and which travels with an encrypted backup.

The home is an explicit, recorded choice: the first secret saved records it in ``workspace_meta`` (``secrets.home``)
and Settings says it (``where``). It never changes by itself afterwards. If a workspace keeps its secrets in the
keyring and that keyring is gone later, every read and write says so (``KeyringUnavailable``) instead of quietly
keeping new secrets elsewhere and losing sight of the old ones; ``keep_in_workspace`` moves the home when the person
asks (the keyring's secrets cannot be read, so they are entered again). A workspace with nothing recorded uses the
keyring when a secure one exists (a keyring-mode workspace always has one: its own key is there), else itself.
"""

from __future__ import annotations

import contextlib
import secrets as random_tokens
from dataclasses import dataclass
from typing import Literal

from keyring import errors as keyring_errors
from keyring.backend import KeyringBackend

from app.core.errors import KeyringUnavailable
from app.core.ids import utc_now
from app.store.keyring_vault import backend_name, insecure_reason, is_secure, keyring_label, translated_errors
from app.store.store import Store

Home = Literal["keyring", "workspace"]
HOME = "secrets.home"  # workspace_meta: where this workspace keeps its secrets, once one was saved

_UPSERT_TAIL = "ON CONFLICT (service, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
IN_WORKSPACE = "inside this workspace's encrypted database"
MISSING_HINT = (
    "Start or unlock this computer's keyring and restart Parley, or choose “Keep keys inside this workspace” in "
    "Settings and enter them again."
)


class Secrets:
    """get / set / delete / check of secrets by (service, name), in the keyring or the workspace (see above).

    ``store`` is ``None`` only for keyring-only use (tests, tools): then the keyring is the one home."""

    def __init__(self, backend: KeyringBackend, store: Store | None = None) -> None:
        self._backend = backend
        self._store = store

    @property
    def backend(self) -> KeyringBackend:
        return self._backend

    @property
    def store(self) -> Store | None:
        return self._store

    # ---- where ---------------------------------------------------------------------------------------------------
    def recorded_home(self) -> Home | None:
        value = None if self._store is None else self._store.meta(HOME)
        return value if value in ("keyring", "workspace") else None  # type: ignore[return-value]

    def home(self) -> Home:
        """Where secrets are kept now: the recorded home, else the keyring if a secure one exists."""
        if self._store is None:
            return "keyring"
        recorded = self.recorded_home()
        if recorded is not None:
            return recorded
        return "keyring" if is_secure(self._backend) else "workspace"

    def keyring_missing(self) -> bool:
        """Whether this workspace keeps its secrets in the keyring but no secure keyring is available now."""
        return self.home() == "keyring" and not is_secure(self._backend)

    def where(self) -> str:
        """Where the secrets are, for a sentence: "in this computer's keyring (Secret Service)"."""
        if self.home() == "workspace":
            return IN_WORKSPACE
        if not is_secure(self._backend):
            return f"in this computer's keyring, which is not available now ({insecure_reason(self._backend)})"
        return f"in this computer's keyring ({keyring_label(backend_name(self._backend))})"

    def keep_in_workspace(self) -> None:
        """From now on keep this workspace's secrets inside it (asked for when its keyring is gone)."""
        if self._store is None:
            raise ValueError("no workspace to keep secrets in")
        self._store.set_meta(HOME, "workspace")

    # ---- the secrets -----------------------------------------------------------------------------------------------
    def get(self, service: str, name: str, *, what: str) -> str | None:
        if self.home() == "workspace":
            assert self._store is not None
            with self._store.db.read() as conn:
                row = conn.execute(
                    "SELECT value FROM local_secrets WHERE service = ? AND name = ?", (service, name)
                ).fetchone()
            return None if row is None else str(row[0])
        self._require_keyring(what)
        with translated_errors(f"read {what} from"):
            return self._backend.get_password(service, name) or None

    def set(self, service: str, name: str, value: str, *, what: str) -> None:
        home = self.home()
        if home == "workspace":
            assert self._store is not None
            with self._store.db.transaction() as conn:
                conn.execute(
                    "INSERT INTO local_secrets (service, name, value, updated_at) VALUES (?, ?, ?, ?) " + _UPSERT_TAIL,
                    (service, name, value, int(utc_now().timestamp() * 1000)),
                )
                self._record(home)
            return
        self._require_keyring(what)
        with translated_errors(f"save {what} to"):
            self._backend.set_password(service, name, value)
        self._record(home)

    def delete(self, service: str, name: str, *, what: str) -> None:
        if self.home() == "workspace":
            assert self._store is not None
            with self._store.db.transaction() as conn:
                conn.execute("DELETE FROM local_secrets WHERE service = ? AND name = ?", (service, name))
            return
        with translated_errors(f"remove {what} from"), contextlib.suppress(keyring_errors.PasswordDeleteError):
            self._backend.delete_password(service, name)

    def check(self, service: str, name: str, *, what: str) -> None:
        """Raise ``KeyringUnavailable``/``KeyringLocked`` unless a secret saved now would be kept: in the keyring,
        write a throwaway entry beside ``name``, read it back and remove it. The workspace always keeps it."""
        if self.home() == "workspace":
            return
        self._require_keyring(what)
        probe, value = f"{name}.check", random_tokens.token_urlsafe(16)
        with translated_errors(f"save {what} to"):
            self._backend.set_password(service, probe, value)
            kept = self._backend.get_password(service, probe)
            with contextlib.suppress(keyring_errors.PasswordDeleteError):
                self._backend.delete_password(service, probe)
        if kept != value:
            raise KeyringUnavailable(f"The system keyring did not keep {what}.")

    def _record(self, home: Home) -> None:
        if self._store is not None and self.recorded_home() is None:
            self._store.set_meta(HOME, home)

    def ensure_available(self, what: str) -> None:
        """Raise ``KeyringUnavailable`` when the secrets are in a keyring that is not available now."""
        if self.home() == "keyring":
            self._require_keyring(what)

    def _require_keyring(self, what: str) -> None:
        if is_secure(self._backend):
            return
        reason = insecure_reason(self._backend)
        if self._store is None:
            raise KeyringUnavailable(
                f"No secure keyring is available ({reason}), so Parley will not keep {what} there."
            )
        raise KeyringUnavailable(
            f"This workspace keeps {what} in this computer's keyring, but no secure keyring is available now "
            f"({reason}). Parley does not move it elsewhere by itself.",
            hint=MISSING_HINT,
        )


@dataclass(frozen=True)
class Kept:
    """A workspace's own secrets and their recorded home, taken before its file is replaced (``carry_over``)."""

    rows: list[tuple[str, str, str, int]]
    home: str | None


def carry_over(store: Store) -> Kept:
    """The workspace's own secrets, to put back with ``put_back`` after its file is replaced by a restored backup.
    A restore brings back data, not an older sign-in (a rotated refresh token would look stolen to the server) nor
    another computer's idea of where secrets live; a provider key only the backup has is kept as well."""
    with store.db.read() as conn:
        rows = conn.execute("SELECT service, name, value, updated_at FROM local_secrets").fetchall()
        home = conn.execute("SELECT value FROM workspace_meta WHERE key = ?", (HOME,)).fetchone()
    return Kept([(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows], None if home is None else str(home[0]))


def put_back(store: Store, kept: Kept) -> None:
    """Write what ``carry_over`` took into the restored workspace: the current secrets win over the backup's."""
    with store.db.transaction() as conn:
        conn.executemany(
            "INSERT INTO local_secrets (service, name, value, updated_at) VALUES (?, ?, ?, ?) " + _UPSERT_TAIL,
            kept.rows,
        )
        if kept.home is None:
            conn.execute("DELETE FROM workspace_meta WHERE key = ?", (HOME,))
        else:
            conn.execute(
                "INSERT INTO workspace_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (HOME, kept.home),
            )
