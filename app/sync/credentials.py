"""Where a workspace's sync account lives: the refresh token in the OS keyring, the access token in memory, and
the rest (server address, device, member, e-mail, org name, role, cursor) in ``workspace_meta`` under ``sync.*``.

The refresh token is the one long-lived secret (it signs the device in for 60 days), so it goes where the
workspace key goes: a keyring that really protects secrets (the same rule as ``KeyringVault``), under service
``parley-sync`` and the workspace id. The access token lives 15 minutes and is never written anywhere.
Nothing secret is put in ``workspace_meta``, a log line or an exception.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from app.core.errors import KeyringUnavailable
from app.store.keyring_vault import _translated, backend_name, is_secure
from app.store.store import Store
from app.sync.protocol import Session

log = logging.getLogger(__name__)

SERVICE = "parley-sync"
PREFIX = "sync."
SERVER_URL = "sync.server_url"
DEVICE_ID = "sync.device_id"
MEMBER_ID = "sync.member_id"
EMAIL = "sync.email"
ORG_NAME = "sync.org_name"
ROLE = "sync.role"
CURSOR = "sync.cursor"
INITIAL = "sync.initial"  # "upload" after sign-up, "download" after joining: cleared by the first full pass
REFETCH = "sync.refetch"  # "1" while a full re-download (must_refetch) is under way


@dataclass(frozen=True)
class Account:
    """What the workspace knows about its sync account (no secrets)."""

    server_url: str
    device_id: str
    member_id: str
    email: str
    org_name: str
    role: str


class Credentials:
    """The tokens of one workspace's sync account. Thread-safe: the loop and the AI client both ask for tokens."""

    def __init__(self, store: Store, workspace_id: str, backend: KeyringBackend) -> None:
        self.store = store
        self.workspace_id = workspace_id
        self._backend = backend
        self._lock = threading.Lock()
        self._access: str | None = None
        self._access_expires = 0.0  # time.monotonic() deadline

    # ---- tokens --------------------------------------------------------------------------------------------------
    def access_token(self) -> str | None:
        """The current access token, or ``None`` when there is none or it is (nearly) past its time."""
        with self._lock:
            if self._access is None or time.monotonic() >= self._access_expires:
                return None
            return self._access

    def refresh_token(self) -> str | None:
        self._require_secure()
        with _translated("read the sync sign-in from"):
            return self._backend.get_password(SERVICE, self.workspace_id)

    def save_session(self, session: Session) -> None:
        """Keep a new session: the rotated refresh token in the keyring first (the old one is already dead), then
        the access token in memory and the account's details in the workspace."""
        self._require_secure()
        with _translated("save the sync sign-in to"):
            self._backend.set_password(SERVICE, self.workspace_id, session.refresh_token)
        with self._lock:
            self._access = session.access_token
            # Treat it as expired a little early, so a request never leaves with a token about to lapse.
            margin = min(30.0, session.access_expires_in / 4)
            self._access_expires = time.monotonic() + session.access_expires_in - margin
        with self.store.db.transaction():
            self.store.set_meta(DEVICE_ID, session.device_id)
            self.store.set_meta(MEMBER_ID, session.user.id)
            self.store.set_meta(EMAIL, session.user.email)
            self.store.set_meta(ORG_NAME, session.org.name)
            self.store.set_meta(ROLE, session.user.role)

    def drop_access_token(self) -> None:
        with self._lock:
            self._access = None
            self._access_expires = 0.0

    def forget(self) -> None:
        """Sign out: the tokens and every ``sync.*`` entry go; the workspace's data and outbox stay."""
        self.forget_tokens()
        with self.store.db.transaction() as conn:
            conn.execute("DELETE FROM workspace_meta WHERE substr(key, 1, length(?1)) = ?1", (PREFIX,))

    def forget_tokens(self) -> None:
        """Drop both tokens but keep the account's details (server, e-mail) so signing in again is prefilled."""
        self.drop_access_token()
        try:
            with _translated("remove the sync sign-in from"), contextlib.suppress(PasswordDeleteError):
                self._backend.delete_password(SERVICE, self.workspace_id)
        except KeyringUnavailable:
            log.warning("could not remove the sync sign-in of workspace %s from the keyring", self.workspace_id)

    # ---- account -------------------------------------------------------------------------------------------------
    def account(self) -> Account | None:
        """The signed-in account, or ``None`` when this workspace has none (or it was signed out)."""
        with self.store.db.read() as conn:
            rows = dict(
                conn.execute("SELECT key, value FROM workspace_meta WHERE substr(key, 1, length(?1)) = ?1", (PREFIX,))
            )
        if SERVER_URL not in rows or DEVICE_ID not in rows:
            return None
        return Account(
            server_url=rows[SERVER_URL],
            device_id=rows[DEVICE_ID],
            member_id=rows.get(MEMBER_ID, ""),
            email=rows.get(EMAIL, ""),
            org_name=rows.get(ORG_NAME, ""),
            role=rows.get(ROLE, ""),
        )

    def signed_in(self) -> bool:
        return self.account() is not None and self.refresh_token() is not None

    def set_server(self, server_url: str) -> None:
        self.store.set_meta(SERVER_URL, server_url.rstrip("/"))

    def cursor(self) -> int:
        return int(self.store.meta(CURSOR) or 0)

    def _require_secure(self) -> None:
        if not is_secure(self._backend):
            raise KeyringUnavailable(
                f"No secure keyring is available (the keyring in use is {backend_name(self._backend)}), "
                "so Parley will not keep the sync sign-in there."
            )
