"""Logging set-up: a rotating file per workspace and stderr, with a filter that masks anything key-shaped.

Secrets are never passed to log calls by construction; the filter is the second line of defence (a raw key
literal, 64 hex digits, or a bearer token is masked if it ever appears).
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

_SECRET = re.compile(r"(x'[0-9a-fA-F]{64}'|\b[0-9a-fA-F]{64}\b|Bearer\s+[A-Za-z0-9._~+/=-]{8,}|sk-[A-Za-z0-9_-]{8,})")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _SECRET.sub("[redacted]", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(h, logging.StreamHandler) and getattr(h, "parley", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.parley = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(RedactSecrets())
        root.addHandler(handler)


def log_to(folder: Path) -> None:
    """Add the workspace's log file (rotated at 2 MB, 5 kept)."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(folder / "parley.log", maxBytes=2_000_000, backupCount=5)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactSecrets())
    logging.getLogger().addHandler(handler)
