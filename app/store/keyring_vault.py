"""The OS keyring as the home of workspace keys (Signal Desktop's model).

Only a keyring that really protects secrets counts. The fail and null backends hold nothing, and everything in
``keyrings.alt`` either writes the secret to a file in plain text (``PlaintextKeyring`` – which ``keyring`` picks
on a headless Linux when that package is installed) or prompts on a terminal (``EncryptedKeyring``, which would
hang a GUI app). With any of those Parley uses a passphrase instead, so a key never lands on disk in plaintext.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
from collections.abc import Iterator

from keyring import errors as keyring_errors
from keyring.backend import KeyringBackend

from app.core.errors import KeyringLocked, KeyringUnavailable

log = logging.getLogger(__name__)

SERVICE = "parley"
_INSECURE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def backend_name(backend: KeyringBackend) -> str:
    """The backend's class path, recorded in a workspace header and logged; never shown in a sentence (see
    ``keyring_label``)."""
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def is_secure(backend: KeyringBackend) -> bool:
    """True when ``backend`` keeps secrets encrypted by the OS and never in a plain file."""
    children = getattr(backend, "backends", None)
    if type(backend).__module__ == "keyring.backends.chainer":
        # A chain writes to its first working member: every member must be safe, and there must be one.
        members = list(children or [])
        return bool(members) and all(is_secure(m) for m in members)
    return not type(backend).__module__.startswith(_INSECURE_MODULES)


# Module prefixes of keyring backends, and what a person calls them.
_LABELS = (
    ("keyring.backends.SecretService", "Secret Service"),
    ("keyring.backends.libsecret", "Secret Service"),
    ("keyring.backends.kwallet", "KWallet"),
    ("keyring.backends.macOS", "macOS Keychain"),
    ("keyring.backends.Windows", "Windows Credential Manager"),
    ("keyring.backends.chainer", "a chain of keyrings"),
)
# Why an insecure backend cannot keep a secret, in a few words for a sentence.
_INSECURE_REASONS = (
    ("keyring.backends.fail", "no keyring service was found on this computer"),
    ("keyring.backends.null", "the keyring is turned off"),
    ("keyrings.alt.file.EncryptedKeyring", "the only keyring found asks for its password on a terminal"),
    ("keyrings.alt", "the only keyring found keeps secrets in a plain file"),
)


def keyring_label(name: str) -> str:
    """What to call the keyring with class path ``name`` in a sentence: "Secret Service", "KWallet"... never the
    class path itself ("keyring.backends.fail.Keyring" means nothing to a person)."""
    label = next((label for prefix, label in _LABELS if name.startswith(prefix)), None)
    if label is not None:
        return label
    if any(name.startswith(prefix) for prefix, _ in _INSECURE_REASONS):
        return "no usable keyring"
    return name.rpartition(".")[2] or "an unknown keyring"  # a third-party backend: its own short name


def insecure_reason(backend: KeyringBackend | str) -> str:
    """Why ``backend`` (or the backend with that class path) is not a secure keyring, in a few words for a sentence
    (no class names)."""
    name = backend if isinstance(backend, str) else backend_name(backend)
    reason = next((reason for prefix, reason in _INSECURE_REASONS if name.startswith(prefix)), None)
    if reason is None and name.startswith("keyring.backends.chainer"):
        reason = "one of the keyrings found keeps secrets in a plain file"
    return reason or "the keyring found does not protect secrets"


class KeyringVault:
    """Stores 32-byte workspace keys under service ``parley``, one entry per workspace."""

    def __init__(self, backend: KeyringBackend, service: str = SERVICE) -> None:
        self._backend = backend
        self.service = service

    @property
    def name(self) -> str:
        return backend_name(self._backend)

    @property
    def secure(self) -> bool:
        return is_secure(self._backend)

    @property
    def backend(self) -> KeyringBackend:
        """The keyring itself, for other secrets kept under their own service (AI provider keys)."""
        return self._backend

    def store(self, username: str, key: bytes) -> None:
        self._require_secure()
        with translated_errors("save the workspace key to"):
            self._backend.set_password(self.service, username, base64.b64encode(key).decode("ascii"))

    def load(self, username: str) -> bytes | None:
        self._require_secure()
        with translated_errors("read the workspace key from"):
            value = self._backend.get_password(self.service, username)
        if value is None:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            log.warning("keyring entry for workspace %s is not a Parley key", username)
            return None

    def delete(self, username: str) -> None:
        with (
            translated_errors("remove the workspace key from"),
            contextlib.suppress(keyring_errors.PasswordDeleteError),
        ):
            self._backend.delete_password(self.service, username)

    def _require_secure(self) -> None:
        if not self.secure:
            raise KeyringUnavailable(
                f"No secure keyring is available ({insecure_reason(self._backend)}), "
                "so Parley will not keep the workspace key there."
            )


@contextlib.contextmanager
def translated_errors(doing: str) -> Iterator[None]:
    """The many ways a keyring can fail, as Parley's two typed errors. ``from None``: a backend's exception could
    quote what it was given (a secret); only its type is kept, in the sentence."""
    try:
        yield
    except keyring_errors.KeyringLocked:
        raise KeyringLocked(f"Could not {doing} the system keyring: it is locked.") from None
    except (keyring_errors.KeyringError, RuntimeError, OSError, EOFError) as exc:
        log.info("the system keyring failed to %s: %s", doing, type(exc).__name__)
        raise KeyringUnavailable(f"Could not {doing} the system keyring: it did not answer or refused.") from None
