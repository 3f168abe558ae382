"""Logging set-up: a rotating file per workspace and stderr, masking anything secret-shaped or customer-typed.

Secrets are never passed to log calls by construction; the formatter is the second line of defence. It masks the
whole formatted record, tracebacks included: raw key literals and 64-hex strings, base64 32-byte keys (the form
kept in the keyring), bearer tokens and provider keys, and the ``input_value=`` that pydantic puts in validation
errors (customer data). The log file is plaintext, so nothing of a customer's words belongs in it.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

_PATTERNS = [
    re.compile(r"x'[0-9a-fA-F]{64}'"),
    re.compile(r"\b[0-9a-fA-F]{64}\b"),
    re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=(?![A-Za-z0-9+/=])"),
    re.compile(r"Bearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
]
_PYDANTIC_INPUT = re.compile(r"input_value=.*?(?=, input_type=|\]$|$)", re.MULTILINE)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub("[redacted]", text)
    return _PYDANTIC_INPUT.sub("input_value=[redacted]", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def setup(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "parley", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.parley = True  # type: ignore[attr-defined]
        handler.setFormatter(RedactingFormatter(FORMAT))
        root.addHandler(handler)


def log_to(folder: Path) -> None:
    """Add the workspace's log file (rotated at 2 MB, 5 kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(folder / "parley.log", maxBytes=2_000_000, backupCount=5)
    handler.setFormatter(RedactingFormatter(FORMAT))
    logging.getLogger().addHandler(handler)
