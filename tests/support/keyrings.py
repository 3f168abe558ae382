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


class RefusingKeyring(InMemoryKeyring):
    """A secure keyring that refuses to store while locked, as Secret Service does for a locked collection's writes;
    reads and removals keep working. ``lock(after=n)`` lets ``n`` more writes through first: a keyring that locks
    between Parley's check and its real save."""

    def __init__(self) -> None:
        super().__init__()
        self.writes_left: int | None = None  # None: unlocked

    def lock(self, *, after: int = 0) -> None:
        self.writes_left = after

    def unlock(self) -> None:
        self.writes_left = None

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.writes_left is not None:
            if self.writes_left <= 0:
                raise errors.KeyringLocked("collection is locked")
            self.writes_left -= 1
        super().set_password(service, username, password)
