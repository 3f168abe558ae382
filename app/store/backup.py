"""Encrypted backups that can be restored on another machine.

A backup is one file: a magic line, a JSON header line (format, org, schema version, Argon2id parameters, key
verifier) and then a SQLCipher database encrypted under a key derived from the backup passphrase. It does not
depend on this machine's keyring, so a lost laptop does not mean a lost backup.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import BackupError, DatabaseTooNew, WrongPassphrase
from app.core.ids import utc_now
from app.store import crashpoints, keys, migrations, sqlcipher
from app.store.keys import DEFAULT_KDF, KdfParams, KeyProtection
from app.store.paths import atomic_write
from app.store.store import Store

MAGIC = b"PARLEY-BACKUP\n"
PARTIAL_SUFFIX = ".parley-partial"
NOTE_SUFFIX = ".partial-note"
BACKUP_FORMAT = 1
_CHUNK = 1 << 20

log = logging.getLogger(__name__)


class BackupInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int = BACKUP_FORMAT
    org_id: str
    workspace_name: str
    schema_version: int
    created_at: datetime
    key: KeyProtection


def create_backup(
    store: Store, dest: Path, passphrase: str, *, workspace_name: str, scratch: Path, kdf: KdfParams = DEFAULT_KDF
) -> BackupInfo:
    """Write a backup of ``store`` to ``dest``; nothing is left in ``dest``'s folder if this stops half-way.

    The encrypted snapshot is made in ``scratch`` (the workspace's ``tmp`` folder, emptied at start). The backup
    itself must be written in ``dest``'s folder to be renamed into place atomically; a note in ``scratch`` names
    that partial file first, so the sweep at the next start removes it if the process dies before the rename.
    """
    key, protection = keys.passphrase_protection(passphrase, kdf)
    info = BackupInfo(
        org_id=store.org_id,
        workspace_name=workspace_name,
        schema_version=migrations.LATEST_VERSION,
        created_at=utc_now(),
        key=protection,
    )
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="backup-") as tmp:
        snapshot = Path(tmp) / "snapshot.db"
        store.db.export_encrypted(snapshot, key)
        crashpoints.reached("backup.snapshot")
        partial = dest.with_name(f".{dest.name}{PARTIAL_SUFFIX}")
        note = Path(tmp).with_suffix(NOTE_SUFFIX)
        atomic_write(note, str(partial).encode("utf-8"))
        try:
            with open(partial, "wb") as out, open(snapshot, "rb") as src:
                out.write(MAGIC)
                out.write(info.model_dump_json().encode("utf-8") + b"\n")
                while chunk := src.read(_CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            crashpoints.reached("backup.written")
            os.replace(partial, dest)
        finally:
            partial.unlink(missing_ok=True)
            note.unlink(missing_ok=True)
    return info


def sweep(scratch: Path) -> None:
    """Remove what a backup or restore that died left behind: its scratch files and its partial backup file."""
    if not scratch.is_dir():
        return
    for note in scratch.glob(f"*{NOTE_SUFFIX}"):
        try:
            partial = Path(note.read_text("utf-8"))
        except (OSError, ValueError):
            partial = None
        # Only ever a file this module named: a damaged note must not make the sweep delete anything else.
        if partial is not None and partial.name.startswith(".") and partial.name.endswith(PARTIAL_SUFFIX):
            try:
                partial.unlink(missing_ok=True)
            except OSError:
                log.warning("could not remove a partial backup left by a crash")
                continue  # keep the note and try again next time (a USB stick that is not plugged in)
        note.unlink(missing_ok=True)
    for entry in scratch.iterdir():
        if entry.suffix == NOTE_SUFFIX:
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def read_info(path: Path) -> BackupInfo:
    try:
        with open(path, "rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                raise BackupError(f"{path.name} is not a Parley backup.")
            line = fh.readline(64 * 1024)
    except FileNotFoundError:
        raise BackupError(f"There is no backup file at {path}.") from None
    except OSError as exc:
        log.warning("cannot read the backup file: %s", exc)
        raise BackupError(f"Parley cannot read the file {path.name}.") from exc
    try:
        info = BackupInfo.model_validate_json(line)
    except ValidationError as exc:
        raise BackupError(f"The header of backup {path.name} is damaged.") from exc
    if info.format > BACKUP_FORMAT:
        raise DatabaseTooNew("This backup was made by a newer version of Parley.")
    return info


def extract(
    path: Path, passphrase: str, dest: Path, adopt: Callable[[sqlcipher.Connection], None], *, scratch: Path
) -> BackupInfo:
    """Check the backup and write its database to ``dest``, re-encrypted by ``adopt`` under the workspace key.

    The copy is staged in ``scratch`` (the workspace's ``tmp`` folder, emptied at start; on ``dest``'s file
    system). Raises ``WrongPassphrase``, ``BackupError`` (damaged) or ``DatabaseTooNew`` before ``dest`` exists.
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
    scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="restore-") as tmp:
        staged = Path(tmp) / "restored.db"
        try:
            with open(path, "rb") as src, open(staged, "wb") as out:
                src.read(len(MAGIC))
                src.readline(64 * 1024)
                while chunk := src.read(_CHUNK):
                    out.write(chunk)
        except OSError as exc:
            log.warning("cannot copy the backup out of its file: %s", exc)
            raise BackupError(f"Parley cannot read the file {path.name}.") from exc
        crashpoints.reached("restore.staged")
        conn = sqlcipher.connect(staged, key)
        try:
            # Checking sorts in temporary storage: keep it in memory, so nothing decrypted is written to disk.
            conn.execute("PRAGMA temp_store = MEMORY")
            try:
                sqlcipher.verify_readable(conn)
                problems = [r[0] for r in conn.execute("PRAGMA quick_check")]
                # An empty or foreign database passes the check: it must be this organisation's workspace.
                row = conn.execute("SELECT value FROM workspace_meta WHERE key = 'org_id'").fetchone()
            except sqlcipher.DatabaseError as exc:
                log.warning("backup %s fails to read: %s", path.name, exc)
                raise _damaged(path) from exc
            if problems != ["ok"]:
                # Up to 100 lines of SQLite's findings: for the log, not for the person restoring.
                log.warning("backup %s fails its integrity check:\n%s", path.name, "\n".join(problems))
                raise _damaged(path)
            if row is None or row[0] != info.org_id:
                log.warning("backup %s does not hold the organisation its header names", path.name)
                raise _damaged(path)
            migrations.check_not_newer(conn)
            adopt(conn)
        finally:
            conn.close()
        crashpoints.reached("restore.adopted")
        os.replace(staged, dest)
    return info


def _damaged(path: Path) -> BackupError:
    return BackupError(
        f"Backup {path.name} is damaged.",
        hint="Try another backup; the workspace was not modified. The details are in the log.",
    )
