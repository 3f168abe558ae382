"""Helpers to prove that a failed operation left the database file untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def all_bytes(path: Path) -> bytes:
    """The database file plus its write-ahead log: everything on disk that could hold a row."""
    data = path.read_bytes()
    for suffix in ("-wal", "-shm", "-journal"):
        extra = Path(str(path) + suffix)
        if extra.exists():
            data += extra.read_bytes()
    return data
