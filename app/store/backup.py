"""Encrypted backups that can be restored on another machine.

A backup is one file: a magic line, a JSON header line (format, org, schema version, Argon2id parameters, key
verifier) and then a SQLCipher database encrypted under a key derived from the backup passphrase. It does not
depend on this machine's keyring, so a lost laptop does not mean a lost backup.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import BackupError, DatabaseTooNew, WrongPassphrase
from app.core.ids import utc_now
from app.store import keys, migrations, sqlcipher
from app.store.keys import DEFAULT_KDF, KdfParams, KeyProtection
from app.store.store import Store

MAGIC = b"PARLEY-BACKUP\n"
BACKUP_FORMAT = 1
_CHUNK = 1 << 20


class BackupInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int = BACKUP_FORMAT
    org_id: str
    workspace_name: str
    schema_version: int
    created_at: datetime
    key: KeyProtection


def create_backup(
    store: Store, dest: Path, passphrase: str, *, workspace_name: str, kdf: KdfParams = DEFAULT_KDF
) -> BackupInfo:
    key, protection = keys.passphrase_protection(passphrase, kdf)
    info = BackupInfo(
        org_id=store.org_id,
        workspace_name=workspace_name,
        schema_version=migrations.LATEST_VERSION,
        created_at=utc_now(),
        key=protection,
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".backup-") as tmp:
        snapshot = Path(tmp) / "snapshot.db"
        store.db.export_encrypted(snapshot, key)
        partial = Path(tmp) / "backup.partial"
        with open(partial, "wb") as out, open(snapshot, "rb") as src:
            out.write(MAGIC)
            out.write(info.model_dump_json().encode("utf-8") + b"\n")
            while chunk := src.read(_CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, dest)
    return info


def read_info(path: Path) -> BackupInfo:
    try:
        with open(path, "rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                raise BackupError(f"{path.name} is not a Parley backup.")
            line = fh.readline(64 * 1024)
    except FileNotFoundError:
        raise BackupError(f"No backup file at {path}.") from None
    try:
        info = BackupInfo.model_validate_json(line)
    except ValidationError as exc:
        raise BackupError(f"The header of backup {path.name} is damaged.") from exc
    if info.format > BACKUP_FORMAT:
        raise DatabaseTooNew("This backup was made by a newer version of Parley.")
    return info


def extract(path: Path, passphrase: str, dest: Path, adopt: Callable[[sqlcipher.Connection], None]) -> BackupInfo:
    """Check the backup and write its database to ``dest``, re-encrypted by ``adopt`` under the workspace key.

    Raises ``WrongPassphrase``, ``BackupError`` (damaged) or ``DatabaseTooNew`` before ``dest`` exists.
    """
    info = read_info(path)
    assert info.key.kdf is not None
    key = keys.derive_key(passphrase, info.key.kdf)
    if not keys.matches(key, info.key):
        raise WrongPassphrase("That passphrase does not open this backup.")
    if info.schema_version > migrations.LATEST_VERSION:
        raise DatabaseTooNew(
            f"This backup holds schema {info.schema_version}; this version of Parley understands up to "
            f"{migrations.LATEST_VERSION}."
        )
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".restore-") as tmp:
        staged = Path(tmp) / "restored.db"
        with open(path, "rb") as src, open(staged, "wb") as out:
            src.read(len(MAGIC))
            src.readline(64 * 1024)
            while chunk := src.read(_CHUNK):
                out.write(chunk)
        conn = sqlcipher.connect(staged, key)
        try:
            try:
                sqlcipher.verify_readable(conn)
                problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
            except sqlcipher.DatabaseError as exc:
                raise BackupError(f"Backup {path.name} is damaged: {exc}.") from exc
            if problems != ["ok"]:
                raise BackupError(f"Backup {path.name} is damaged: {problems[0]}.")
            migrations.check_not_newer(conn)
            adopt(conn)
        finally:
            conn.close()
        os.replace(staged, dest)
    return info
