"""Opening SQLCipher connections with a raw key, and telling a wrong key from a damaged file.

The key is applied as a raw 32-byte key (``PRAGMA key = "x'…'"``): no PBKDF2 on every open, because the key is
already random (keyring mode) or already stretched by Argon2id (passphrase mode). The literal is built from hex
digits only, never from user text, since PRAGMA takes no bound parameters.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import sqlcipher3.dbapi2 as sqlcipher

Connection = sqlcipher.Connection
DatabaseError = sqlcipher.DatabaseError
IntegrityError = sqlcipher.IntegrityError
OperationalError = sqlcipher.OperationalError
SQLITE_VERSION: str = sqlcipher.sqlite_version

KEY_BYTES = 32
# 64 MiB page cache per connection: the inbox and FTS queries touch a few thousand pages, and a cold
# SQLCipher page costs a decrypt + HMAC, so a cache that holds the hot set matters more than for plain SQLite.
CACHE_KIB = 64 * 1024
_HEX = re.compile(r"[0-9a-f]{64}")


def key_literal(key: bytes) -> str:
    if len(key) != KEY_BYTES:
        raise ValueError("a SQLCipher raw key is exactly 32 bytes")
    hexkey = key.hex()
    assert _HEX.fullmatch(hexkey)
    return f"\"x'{hexkey}'\""


def connect(path: Path, key: bytes | None, *, read_only: bool = False) -> Connection:
    """Open ``path`` and apply ``key`` (``None`` only for the plain-SQLite baseline in benchmarks).

    Nothing is read or written here; call :func:`verify_readable` before trusting the connection.
    """
    # Percent-encoded: a '#', '?' or '%' in a folder name would otherwise end the path or be decoded away.
    uri = f"file:{quote(path.as_posix(), safe='/')}{'?mode=ro' if read_only else ''}"
    conn: Connection = sqlcipher.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        # SQLCipher prints "hmac check failed" to stderr on a wrong key; the caller reports it properly instead.
        conn.execute("PRAGMA cipher_log_level = NONE")
        if key is not None:
            conn.execute(f"PRAGMA key = {key_literal(key)}")
    except BaseException:
        conn.close()
        raise
    return conn


def verify_readable(conn: Connection) -> None:
    """Force the first page to be read and authenticated.

    A wrong key is not detected by ``PRAGMA key``; the first read fails with "file is not a database". The same
    error comes from a damaged file, so callers decide which it is (see ``keys.KeyHeader.verifier``).
    """
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def configure(conn: Connection, *, writer: bool) -> None:
    """Per-connection settings once the key is known to be right."""
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA busy_timeout = 5000")
    # Freed pages are zeroed so erased data (GDPR) does not linger, even encrypted.
    conn.execute("PRAGMA secure_delete = ON")
    if writer:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")


def user_version(conn: Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def rekey(conn: Connection, new_key: bytes) -> None:
    conn.execute(f"PRAGMA rekey = {key_literal(new_key)}")


def is_not_a_database(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, DatabaseError) and ("not a database" in text or "malformed" in text)
