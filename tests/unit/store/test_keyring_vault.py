"""Which keyrings count as secure: never one that writes the key to a file in plain text."""

from __future__ import annotations

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from app.core.errors import KeyringUnavailable
from app.store.keyring_vault import KeyringVault, is_secure
from tests.support.keyrings import InMemoryKeyring


def _named(module: str, name: str) -> KeyringBackend:
    """A backend class that lives where keyrings.alt's do (that package is deliberately not installed)."""
    cls = type(name, (InMemoryKeyring,), {"__module__": module})
    return cls()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("backend", "secure"),
    [
        (fail.Keyring(), False),
        (null.Keyring(), False),
        (_named("keyrings.alt.file", "PlaintextKeyring"), False),
        (_named("keyrings.alt.file", "EncryptedKeyring"), False),
        (_named("keyring.backends.SecretService", "Keyring"), True),
        (_named("keyring.backends.macOS", "Keyring"), True),
        (_named("keyring.backends.Windows", "WinVaultKeyring"), True),
        (InMemoryKeyring(), True),
    ],
)
def test_classification(backend: KeyringBackend, secure: bool) -> None:
    assert is_secure(backend) is secure


def test_chain_is_secure_only_when_every_member_is(monkeypatch: pytest.MonkeyPatch) -> None:
    good, bad = _named("keyring.backends.SecretService", "Keyring"), _named("keyrings.alt.file", "PlaintextKeyring")
    chain = chainer.ChainerBackend()
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [good])
    assert is_secure(chain)
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [good, bad])
    assert not is_secure(chain)
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert not is_secure(chain)


def test_insecure_vault_refuses_to_store() -> None:
    plaintext = _named("keyrings.alt.file", "PlaintextKeyring")
    vault = KeyringVault(plaintext)
    with pytest.raises(KeyringUnavailable, match="keeps secrets in a plain file") as refused:
        vault.store("ws", b"k" * 32)
    assert "keyrings.alt" not in str(refused.value)  # said in words, not as the backend's class path
    assert plaintext.entries == {}  # type: ignore[attr-defined]


def test_round_trip_and_delete() -> None:
    vault = KeyringVault(InMemoryKeyring())
    vault.store("ws", b"\x01" * 32)
    assert vault.load("ws") == b"\x01" * 32
    vault.delete("ws")
    vault.delete("ws")  # deleting twice is fine
    assert vault.load("ws") is None
