"""Provider API keys: in the OS keyring, or inside the workspace's encrypted database when this computer has no
secure keyring (``app.store.secrets`` decides, and says where). Never in a plain file.

A key is stored under service ``parley-ai`` with the provider entry's id as its name. It never goes into the
settings, a log line or an exception message: callers get it only to hand it to the HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keyring.backend import KeyringBackend

from app.core.errors import InvalidInput
from app.store.keyring_vault import is_secure
from app.store.secrets import Secrets

if TYPE_CHECKING:
    from app.store.store import Store
    from app.store.workspaces import Workspaces

SERVICE = "parley-ai"
WHAT = "the provider key"


def mask(key: str) -> str:
    """What the UI may show of a key: its first three and last four characters ("sk-…a1b2")."""
    key = key.strip()
    if len(key) <= 8:
        return "…" + key[-2:] if len(key) > 2 else "…"
    return f"{key[:3]}…{key[-4:]}"


class ProviderKeys:
    """set / get / delete / has for provider keys, keyed by provider entry id.

    Given a bare keyring backend (tests, tools) the keyring is the only home, and an insecure one is refused."""

    def __init__(self, secrets: Secrets | KeyringBackend, service: str = SERVICE) -> None:
        self.secrets = secrets if isinstance(secrets, Secrets) else Secrets(secrets)
        self.service = service

    @property
    def secure(self) -> bool:
        """Whether a key saved now is kept safely (a secure keyring, or the encrypted workspace)."""
        return self.secrets.home() == "workspace" or is_secure(self.secrets.backend)

    def where(self) -> str:
        """Where keys are kept, for a sentence ("inside this workspace's encrypted database")."""
        return self.secrets.where()

    def set(self, entry_id: str, key: str) -> None:
        key = key.strip()
        if not key:
            raise InvalidInput("The key is empty.")
        self.secrets.set(self.service, entry_id, key, what=WHAT)

    def get(self, entry_id: str) -> str | None:
        if self.secrets.store is None and not self.secure:
            return None  # keyring only, and no secure one: nothing was ever saved there
        return self.secrets.get(self.service, entry_id, what=WHAT)

    def has(self, entry_id: str) -> bool:
        return self.get(entry_id) is not None

    def masked(self, entry_id: str) -> str | None:
        key = self.get(entry_id)
        return None if key is None else mask(key)

    def delete(self, entry_id: str) -> None:
        self.secrets.delete(self.service, entry_id, what=WHAT)


def provider_keys(workspaces: Workspaces, store: Store) -> ProviderKeys:
    """The provider keys of the open workspace: in this computer's keyring, or inside the workspace."""
    return ProviderKeys(Secrets(workspaces.vault.backend, store))
