"""Provider API keys in the OS keyring, and nowhere else.

A key is stored under service ``parley-ai`` with the provider entry's id as the user name. It never goes into the
database, the settings, a log line or an exception message: callers get it only to hand it to the HTTP client.
Like workspace keys, AI keys are refused on a keyring that would keep them in a plain file (see ``keyring_vault``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from keyring import errors as keyring_errors
from keyring.backend import KeyringBackend

from app.core.errors import InvalidInput, KeyringLocked, KeyringUnavailable
from app.store.keyring_vault import backend_name, is_secure

SERVICE = "parley-ai"


def mask(key: str) -> str:
    """What the UI may show of a key: its first three and last four characters ("sk-…a1b2")."""
    key = key.strip()
    if len(key) <= 8:
        return "…" + key[-2:] if len(key) > 2 else "…"
    return f"{key[:3]}…{key[-4:]}"


class ProviderKeys:
    """set / get / delete / has for provider keys, keyed by provider entry id."""

    def __init__(self, backend: KeyringBackend, service: str = SERVICE) -> None:
        self._backend = backend
        self.service = service

    @property
    def secure(self) -> bool:
        return is_secure(self._backend)

    def set(self, entry_id: str, key: str) -> None:
        key = key.strip()
        if not key:
            raise InvalidInput("The key is empty.")
        if not self.secure:
            raise KeyringUnavailable(
                f"No secure keyring is available (the keyring in use is {backend_name(self._backend)}), "
                "so Parley will not keep the provider key there."
            )
        with _translated("save the provider key to"):
            self._backend.set_password(self.service, entry_id, key)

    def get(self, entry_id: str) -> str | None:
        if not self.secure:
            return None
        with _translated("read the provider key from"):
            value = self._backend.get_password(self.service, entry_id)
        return value or None

    def has(self, entry_id: str) -> bool:
        return self.get(entry_id) is not None

    def masked(self, entry_id: str) -> str | None:
        key = self.get(entry_id)
        return None if key is None else mask(key)

    def delete(self, entry_id: str) -> None:
        with _translated("remove the provider key from"), contextlib.suppress(keyring_errors.PasswordDeleteError):
            self._backend.delete_password(self.service, entry_id)


@contextlib.contextmanager
def _translated(doing: str) -> Iterator[None]:
    try:
        yield
    except keyring_errors.KeyringLocked:
        raise KeyringLocked(f"Could not {doing} the system keyring: it is locked.") from None
    except (keyring_errors.KeyringError, RuntimeError, OSError, EOFError) as exc:
        # ``from None``: a backend's exception could quote what it was given; only its type is kept.
        raise KeyringUnavailable(f"Could not {doing} the system keyring ({type(exc).__name__}).") from None
