"""Where a workspace's sync account lives: the refresh token where the workspace keeps its secrets, the access
token in memory, and the rest (server address, device, member, e-mail, org name, role, cursor) in ``workspace_meta``
under ``sync.*``.

The refresh token is the one long-lived secret (it signs the device in for 60 days), so it goes where provider keys
go (``app.store.secrets``): the OS keyring when it really protects secrets (the same rule as ``KeyringVault``),
under service ``parley-sync`` and the workspace id; on a computer without one, inside the workspace's encrypted
database (``local_secrets``, never synced). The access token lives 15 minutes and is never written anywhere.
Nothing secret is put in ``workspace_meta``, a log line or an exception.

A keyring can refuse to store (locked, missing, broken). Every flow that asks the server for a session first checks
that the keyring keeps an entry (``check_keyring``), so a refusal costs nothing on the server. If the keyring still
refuses the real save, the session is held in memory (``SignInNotSaved``), ``save_unsaved`` tries again, and
``discard_unsaved`` hands it back so the caller can sign that device out: a device whose token only lived in memory
must not stay listed as active. A rotated refresh token that could not be saved also marks the workspace
(``sync.unsaved``): the keyring's token is dead, and presenting it would look like a stolen token to the server.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass

from keyring.backend import KeyringBackend

from app.core.errors import KeyringLocked, KeyringUnavailable, ParleyError
from app.store.secrets import Secrets
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
UNSAVED = "sync.unsaved"  # "1" while a rotated refresh token is only in memory (the keyring's one is dead)
WHAT = "the sync sign-in"


class SignInNotSaved(ParleyError):
    """The server signed this computer in, but the keyring refused the refresh token; the session is held in memory.

    ``reason`` says why in a few words ("it is locked"), for the caller's own sentence."""

    hint = "Unlock your system keyring, then try again."

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


def refusal_reason(exc: BaseException) -> str:
    """Why a keyring refused, in a few words for a sentence (never the keyring's own text)."""
    if isinstance(exc, KeyringLocked):
        return "it is locked"
    if isinstance(exc, KeyringUnavailable) and "secure" in str(exc):
        return "no secure keyring is available"
    found = re.search(r"\((\w+)\)\.?$", str(exc))
    return f"it refused ({found.group(1)})" if found else "it refused"


def check_keyring(backend: KeyringBackend, username: str) -> None:
    """Raise ``KeyringUnavailable``/``KeyringLocked`` unless ``backend`` keeps a sync sign-in: write a throwaway entry
    next to the real one, read it back, remove it. Called before asking the server for a session."""
    Secrets(backend).check(SERVICE, username, what=WHAT)


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
        self.secrets = Secrets(backend, store)
        self._lock = threading.Lock()
        self._access: str | None = None
        self._access_expires = 0.0  # time.monotonic() deadline
        self._unsaved: Session | None = None  # a session the keyring refused, until saved or discarded

    # ---- tokens --------------------------------------------------------------------------------------------------
    def access_token(self) -> str | None:
        """The current access token, or ``None`` when there is none or it is (nearly) past its time."""
        with self._lock:
            if self._access is None or time.monotonic() >= self._access_expires:
                return None
            return self._access

    def refresh_token(self) -> str | None:
        with self._lock:
            if self._unsaved is not None:
                return self._unsaved.refresh_token
        if self.store.meta(UNSAVED) is not None:
            self.secrets.ensure_available(WHAT)  # a keyring that is gone says so first
            return None  # the keyring's token was rotated away: only signing in again helps
        return self.secrets.get(SERVICE, self.workspace_id, what=WHAT)

    def where(self) -> str:
        """Where the sign-in is kept, for a sentence ("in this computer's keyring (KWallet)")."""
        return self.secrets.where()

    def check_storable(self) -> None:
        """Raise a keyring error unless this workspace's sign-in would be kept (before asking the server); the
        encrypted workspace always keeps it."""
        self.secrets.check(SERVICE, self.workspace_id, what=WHAT)

    def save_session(self, session: Session) -> None:
        """Keep a new session: the access token (and, until saved, the refresh token) in memory, the refresh token
        in the keyring (or the encrypted workspace), then the account's details in the workspace.

        Raises ``SignInNotSaved`` when the keyring refuses; the session stays usable in memory (``save_unsaved``
        tries again). For a rotation of the signed-in device the workspace is marked, since the keyring's token is
        dead; a new sign-in writes no account details until saved, so the workspace does not look signed in."""
        with self._lock:
            self._access = session.access_token
            # Treat it as expired a little early, so a request never leaves with a token about to lapse.
            margin = min(30.0, session.access_expires_in / 4)
            self._access_expires = time.monotonic() + session.access_expires_in - margin
            self._unsaved = session
        try:
            self.secrets.set(SERVICE, self.workspace_id, session.refresh_token, what=WHAT)
        except (KeyringUnavailable, KeyringLocked) as exc:
            reason = refusal_reason(exc)
            log.warning("the keyring refused the sync sign-in of workspace %s (%s)", self.workspace_id, reason)
            if self.store.meta(DEVICE_ID) == session.device_id:
                self.store.set_meta(UNSAVED, "1")
            raise SignInNotSaved(f"Parley could not save the sync sign-in ({reason}).", reason=reason) from exc
        with self._lock:
            if self._unsaved is session:
                self._unsaved = None
        with self.store.db.transaction() as conn:
            self.store.set_meta(DEVICE_ID, session.device_id)
            self.store.set_meta(MEMBER_ID, session.user.id)
            self.store.set_meta(EMAIL, session.user.email)
            self.store.set_meta(ORG_NAME, session.org.name)
            self.store.set_meta(ROLE, session.user.role)
            conn.execute("DELETE FROM workspace_meta WHERE key = ?", (UNSAVED,))

    def unsaved(self) -> bool:
        """Whether a session is held in memory because the keyring refused it."""
        with self._lock:
            return self._unsaved is not None

    def save_unsaved(self) -> None:
        """Try the keyring again with the held session (``SignInNotSaved`` if it still refuses)."""
        with self._lock:
            session = self._unsaved
        if session is not None:
            self.save_session(session)

    def discard_unsaved(self) -> Session | None:
        """Let go of the held session and its tokens; returns it, so the caller can sign that device out."""
        with self._lock:
            session, self._unsaved = self._unsaved, None
            if session is not None:
                self._access = None
                self._access_expires = 0.0
        return session

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
        with self._lock:
            self._unsaved = None
        try:
            self.secrets.delete(SERVICE, self.workspace_id, what=WHAT)
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
