"""Keyring backends for tests: an in-memory one (a secure keyring's behaviour, without D-Bus) and broken ones."""

from __future__ import annotations

from keyring import errors
from keyring.backend import KeyringBackend


class InMemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise errors.PasswordDeleteError(username)
        del self.entries[(service, username)]


class OtherMemoryKeyring(InMemoryKeyring):
    """A different secure backend (e.g. the user moved from KWallet to Secret Service)."""


class LockedKeyring(InMemoryKeyring):
    """What Secret Service does while the login keyring is locked."""

    def get_password(self, service: str, username: str) -> str | None:
        raise errors.KeyringLocked("collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise errors.KeyringLocked("collection is locked")
