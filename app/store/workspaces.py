"""Creating, opening and re-keying workspaces: where the key comes from and what can go wrong on the way.

Each failure is reported as its own typed error, and none of them writes to the database file: the key is
checked against the header's verifier and the first page is authenticated before anything is configured or
migrated.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import (
    BackupError,
    CorruptDatabase,
    HeaderDamaged,
    InvalidInput,
    KeyChangeUnfinished,
    KeyMismatch,
    KeyringBackendChanged,
    KeyringKeyMissing,
    ParleyError,
    PassphraseRequired,
    WorkspaceExists,
    WorkspaceIncomplete,
    WrongPassphrase,
)
from app.core.events import EventBus
from app.core.ids import new_id, utc_now
from app.core.zones import local_zone_name
from app.store import backup as backup_mod
from app.store import crashpoints, keys, secrets, sqlcipher
from app.store.database import Database
from app.store.header import WorkspaceHeader, read_header, write_header
from app.store.keyring_vault import KeyringVault, keyring_label
from app.store.keys import DEFAULT_KDF, KdfParams, KeyProtection
from app.store.media import Thumbnailer
from app.store.paths import WorkspacePaths, fsync_dir
from app.store.store import Store

log = logging.getLogger(__name__)

CREATING = ".creating-"  # a workspace folder being built; renamed to its id when whole (see ``_build``)
BEFORE_RESTORE = "parley.db.before-restore"


@dataclass(frozen=True)
class UnusableWorkspace:
    """A workspace folder that cannot be offered for opening, and why (``error``: a sentence and a hint)."""

    folder: Path
    error: ParleyError


class Workspaces:
    """The workspaces under one home folder."""

    def __init__(
        self,
        home: Path,
        vault: KeyringVault,
        *,
        kdf: KdfParams = DEFAULT_KDF,
        thumbnailer: Thumbnailer | None = None,
    ) -> None:
        self.home = home
        self.vault = vault
        self.kdf = kdf
        self.thumbnailer = thumbnailer  # passed to every Store opened (media thumbnails; Qt's, from bootstrap)

    def paths(self, workspace_id: str) -> WorkspacePaths:
        return WorkspacePaths(self.home / "workspaces" / workspace_id)

    def available(self) -> list[WorkspaceHeader]:
        """The workspaces that can be offered for opening (see ``unusable`` for the ones that cannot)."""
        return self._scan()[0]

    def unusable(self) -> list[UnusableWorkspace]:
        """Workspace folders whose header cannot be used: damaged, missing, unreadable or from a newer Parley.

        Start-up shows these with their reason instead of acting as if there were no workspace, so the user is
        never led to create a new one over (or beside) data they cannot see.
        """
        return self._scan()[1]

    def _scan(self) -> tuple[list[WorkspaceHeader], list[UnusableWorkspace]]:
        folder = self.home / "workspaces"
        headers: list[WorkspaceHeader] = []
        unusable: list[UnusableWorkspace] = []
        try:
            entries = sorted(folder.iterdir()) if folder.is_dir() else []
        except OSError as exc:
            log.warning("cannot list the workspaces folder: %s", exc)
            unusable.append(UnusableWorkspace(folder, HeaderDamaged(f"Parley cannot read the folder {folder}.")))
            return headers, unusable
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue  # a creation in progress or unfinished (``_build``), or not a workspace at all
            paths = WorkspacePaths(entry)
            if not paths.header.exists():
                if paths.database.exists():
                    missing = HeaderDamaged(f"The header (workspace.json) of workspace {entry.name} is missing.")
                    unusable.append(UnusableWorkspace(entry, missing))
                continue
            try:
                headers.append(read_header(paths.header))
            except ParleyError as exc:
                log.warning("workspace folder %s cannot be used: %s", entry.name, exc)
                unusable.append(UnusableWorkspace(entry, exc))
        return headers, unusable

    def header(self, workspace_id: str) -> WorkspaceHeader:
        return read_header(self.paths(workspace_id).header)

    def needs_passphrase(self, workspace_id: str) -> bool:
        return needs_passphrase(self.header(workspace_id))

    # ---- create ----------------------------------------------------------------------------------------------
    def create(
        self,
        business_name: str,
        owner_name: str,
        *,
        owner_email: str | None = None,
        passphrase: str | None = None,
        bus: EventBus | None = None,
    ) -> Store:
        """A new workspace: one org from its first minute, its owner, and a key in the keyring or a passphrase.

        Without a passphrase the key goes to the keyring, which must be a secure one (``KeyringUnavailable``
        otherwise: the caller then asks for a passphrase).
        """
        workspace_id, org_id = new_id(), new_id()

        def fill(paths: WorkspacePaths, key: bytes, protection: KeyProtection) -> str:
            header = WorkspaceHeader(
                workspace_id=workspace_id, org_id=org_id, name=business_name, created_at=utc_now(), key=protection
            )
            write_header(paths.header, header)
            crashpoints.reached("create.header")
            db = Database.open(paths.database, key)
            try:
                crashpoints.reached("create.database")
                store = Store(db, org_id, bus=bus, thumbnailer=self.thumbnailer)
                with db.transaction():
                    store.orgs.create(id=org_id, name=business_name, timezone=local_zone_name())
                    owner = store.users.create(name=owner_name, email=owner_email, role="owner")
                    store.set_meta("org_id", org_id)
                    store.set_meta("workspace_id", workspace_id)
                    store.set_meta("user_id", owner.id)
                    _default_pipeline(store)
            finally:
                db.close()
            return org_id

        store = self._build(workspace_id, passphrase, fill, bus)
        log.info("created workspace %s (%s mode)", workspace_id, "passphrase" if passphrase else "keyring")
        return store

    def create_joined(
        self,
        business_name: str,
        org_id: str,
        user_id: str,
        *,
        passphrase: str | None = None,
        bus: EventBus | None = None,
    ) -> tuple[str, Store]:
        """An empty workspace for a member joining an existing org (team sync): the org's id, no seed rows.

        Unlike ``create`` there is no org row, owner or default pipeline: those already exist in the org and
        arrive with the first download, and seeding them here would push duplicates of the org's own rows.
        """
        workspace_id = new_id()

        def fill(paths: WorkspacePaths, key: bytes, protection: KeyProtection) -> str:
            header = WorkspaceHeader(
                workspace_id=workspace_id, org_id=org_id, name=business_name, created_at=utc_now(), key=protection
            )
            write_header(paths.header, header)
            db = Database.open(paths.database, key)
            try:
                store = Store(db, org_id, bus=bus, thumbnailer=self.thumbnailer)
                with db.transaction():
                    store.set_meta("org_id", org_id)
                    store.set_meta("workspace_id", workspace_id)
                    store.set_meta("user_id", user_id)
            finally:
                db.close()
            return org_id

        store = self._build(workspace_id, passphrase, fill, bus)
        log.info("created joined workspace %s (%s mode)", workspace_id, "passphrase" if passphrase else "keyring")
        return workspace_id, store

    def _build(
        self,
        workspace_id: str,
        passphrase: str | None,
        fill: Callable[[WorkspacePaths, bytes, KeyProtection], str],
        bus: EventBus | None,
    ) -> Store:
        """Make a workspace in a hidden staging folder, then move it into place with one rename.

        ``fill`` writes the header and the database into the staging folder and returns the org id. A crash at any
        step before the rename leaves only ``.creating-<id>``, which no listing shows and ``sweep`` removes (with
        its keyring entry): a workspace is either whole or absent, never one without its org, owner or pipeline.
        """
        final = self.paths(workspace_id)
        if final.root.exists():
            raise WorkspaceExists(f"A workspace already exists at {final.root}.")
        staging = WorkspacePaths(final.root.with_name(CREATING + workspace_id))
        staging.create_dirs()
        crashpoints.reached("create.folder")
        try:
            key, _protection = self._new_protection(workspace_id, passphrase)
            crashpoints.reached("create.key")
            org_id = fill(staging, key, _protection)
            crashpoints.reached("create.filled")
            os.replace(staging.root, final.root)
            fsync_dir(final.root.parent)
        except BaseException:
            shutil.rmtree(staging.root, ignore_errors=True)
            if passphrase is None:
                self._drop_keyring_entry(workspace_id)
            raise
        return Store(Database.open(final.database, key), org_id, bus=bus, thumbnailer=self.thumbnailer)

    def _drop_keyring_entry(self, entry: str) -> None:
        try:
            self.vault.delete(entry)
        except Exception:  # noqa: BLE001 — tidying a keyring entry (any backend error) must not fail the sweep
            log.warning("could not remove the key of an unfinished workspace from the keyring")

    def sweep(self) -> None:
        """Remove what a crash left behind: workspaces whose creation did not finish, backup and restore scratch.

        Run at start, before anything is open (one Parley per home folder).
        """
        folder = self.home / "workspaces"
        if not folder.is_dir():
            return
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(CREATING) and entry.is_dir():
                log.warning("removing a workspace whose creation did not finish")
                shutil.rmtree(entry, ignore_errors=True)
                self._drop_keyring_entry(entry.name[len(CREATING) :])
            elif entry.is_dir():
                try:
                    self._recover(WorkspacePaths(entry))
                except OSError as exc:  # one unreadable folder must not stop the others (or start-up)
                    log.warning("could not clean up workspace folder %s: %s", entry.name, exc)

    def _recover(self, paths: WorkspacePaths) -> None:
        """Finish or undo what a restore or backup of this workspace left half-done."""
        previous = paths.root / BEFORE_RESTORE
        if not paths.database.exists() and previous.exists() and paths.header.exists():
            # A restore stopped between moving the current file aside and moving the backup in: put it back.
            log.warning("a restore was interrupted; putting the previous database back")
            os.replace(previous, paths.database)
            fsync_dir(paths.root)
        backup_mod.sweep(paths.tmp)

    def _new_protection(self, workspace_id: str, passphrase: str | None) -> tuple[bytes, KeyProtection]:
        """A fresh key: random and kept in the keyring, or derived from ``passphrase``."""
        if passphrase is None:
            key = keys.random_key()
            self.vault.store(workspace_id, key)
            return key, keys.keyring_protection(key, self.vault.name, workspace_id)
        return keys.passphrase_protection(passphrase, self.kdf)

    # ---- open ------------------------------------------------------------------------------------------------
    def open(self, workspace_id: str, *, passphrase: str | None = None, bus: EventBus | None = None) -> Store:
        paths = self.paths(workspace_id)
        header = read_header(paths.header)
        self._recover(paths)
        if not paths.database.exists():
            raise CorruptDatabase(f"The database of workspace {header.name!r} is missing from {paths.root}.")
        candidates = self._candidate_keys(header, passphrase)
        last_error: Exception | None = None
        for key, protection in candidates:
            try:
                db = Database.open(paths.database, key)
            except sqlcipher.DatabaseError as exc:
                if not sqlcipher.is_not_a_database(exc):
                    raise
                last_error = exc
                continue
            if header.pending_key is not None:
                if protection is header.pending_key:
                    self._finish_pending(paths, header, header.pending_key)
                else:
                    self._abandon_pending(paths, header, header.pending_key)
            store = Store(db, header.org_id, bus=bus, thumbnailer=self.thumbnailer)
            if store.meta("org_id") is None:
                # Made by a Parley that created workspaces in place, and stopped before the creating transaction.
                store.close()
                raise WorkspaceIncomplete(f"The creation of workspace {header.name!r} did not finish.")
            if store.meta("workspace_id") != workspace_id:
                # The database belongs to the folder it is in (a restored backup carries its origin's id).
                store.set_meta("workspace_id", workspace_id)
            return store
        raise self._unopened(header, passphrase, [p for _, p in candidates]) from last_error

    def _unopened(self, header: WorkspaceHeader, passphrase: str | None, tried: list[KeyProtection]) -> ParleyError:
        """Why no key that passed its verifier opened the file, said truthfully.

        During a key change the file is under exactly one of the two keys. If only one of them could be tried,
        the file is under the other one: a passphrase change cut off before (or after) re-encrypting, not damage.
        Only when every key the header names was tried and none opened the file is it damaged.
        """
        current, pending = header.key, header.pending_key
        if pending is not None and all(p is not current for p in tried):
            # Only the new key was tried: the change stopped before the file was re-encrypted under it.
            if current.mode == "passphrase":
                return KeyChangeUnfinished(
                    f"The change of passphrase of workspace {header.name!r} did not finish: "
                    "enter the previous passphrase."
                )
            return self._key_error(header, current, passphrase)
        if pending is not None and all(p is not pending for p in tried):
            # Only the current key was tried: the file was re-encrypted for the new key, which we were not given.
            if pending.mode == "passphrase":
                message = (
                    f"The passphrase of workspace {header.name!r} was being changed when Parley stopped. "
                    "Enter the new passphrase."
                )
                return WrongPassphrase(message) if passphrase is not None else PassphraseRequired(message)
            return self._key_error(header, pending, passphrase)
        return CorruptDatabase(
            f"The database of workspace {header.name!r} cannot be read although its key is right: the file is damaged."
        )

    def _key_error(self, header: WorkspaceHeader, protection: KeyProtection, passphrase: str | None) -> ParleyError:
        """The error that getting ``protection``'s key gave (it did not pass its verifier)."""
        try:
            self._key_for(header, protection, passphrase)
        except ParleyError as exc:
            return exc
        return CorruptDatabase(  # the key is there after all: the file is damaged
            f"The database of workspace {header.name!r} cannot be read although its key is right: the file is damaged."
        )

    def _candidate_keys(self, header: WorkspaceHeader, passphrase: str | None) -> list[tuple[bytes, KeyProtection]]:
        """Keys that pass their verifier: the current one first, then one from an interrupted rekey."""
        found: list[tuple[bytes, KeyProtection]] = []
        errors: list[Exception] = []
        for protection in [p for p in (header.key, header.pending_key) if p is not None]:
            try:
                key = self._key_for(header, protection, passphrase)
            except (WrongPassphrase, KeyMismatch, KeyringKeyMissing, KeyringBackendChanged, PassphraseRequired) as exc:
                errors.append(exc)
                continue
            found.append((key, protection))
        if not found:
            # During a key change one keyring key may be gone on purpose (the old one once the file is re-keyed, the
            # new one before it is stored): what the user can act on then is the passphrase.
            asks_passphrase = [e for e in errors if isinstance(e, (WrongPassphrase, PassphraseRequired))]
            raise asks_passphrase[0] if header.pending_key is not None and asks_passphrase else errors[0]
        return found

    def _key_for(self, header: WorkspaceHeader, protection: KeyProtection, passphrase: str | None) -> bytes:
        if protection.mode == "passphrase":
            if passphrase is None:
                raise PassphraseRequired(f"Enter the passphrase of workspace {header.name!r}.")
            assert protection.kdf is not None
            key = keys.derive_key(passphrase, protection.kdf)
            if not keys.matches(key, protection):
                raise WrongPassphrase("That passphrase is not right for this workspace.")
            return key
        entry = protection.keyring_entry or header.workspace_id
        stored_key = self.vault.load(entry)
        if stored_key is None:
            if protection.keyring_backend != self.vault.name:
                raise KeyringBackendChanged(
                    f"The key of workspace {header.name!r} was saved in "
                    f"{keyring_label(protection.keyring_backend or '')}, but the keyring in use now is "
                    f"{keyring_label(self.vault.name)}, which does not have it."
                )
            raise KeyringKeyMissing(f"The key of workspace {header.name!r} is not in the system keyring.")
        if not keys.matches(stored_key, protection):
            raise KeyMismatch(f"The key in the system keyring does not belong to workspace {header.name!r}.")
        return stored_key

    def _abandon_pending(self, paths: WorkspacePaths, header: WorkspaceHeader, pending: KeyProtection) -> None:
        """The current key still opens the file: a key change stopped before re-encrypting. Forget the new key."""
        log.warning("discarding an unfinished key change for workspace %s", header.workspace_id)
        # The unused key goes first: a crash in between leaves a header still naming it, so it is not lost track of.
        self._forget_old_key(header.workspace_id, pending, header.key)
        write_header(paths.header, header.model_copy(update={"pending_key": None}))

    def _finish_pending(self, paths: WorkspacePaths, header: WorkspaceHeader, pending: KeyProtection) -> None:
        log.warning("completing an interrupted key change for workspace %s", header.workspace_id)
        old = header.key
        self._forget_old_key(header.workspace_id, old, pending)  # before the header stops naming it (see above)
        write_header(paths.header, header.model_copy(update={"key": pending, "pending_key": None}))

    def rename(self, store: Store, workspace_id: str, name: str) -> WorkspaceHeader:
        """Rename the business: the org row (which syncs) and the header (unlock screen, backups) together."""
        name = name.strip()
        if not name:
            raise InvalidInput("The business name cannot be empty.")
        paths = self.paths(workspace_id)
        header = read_header(paths.header)
        store.orgs.update(store.org_id, name=name)
        renamed = header.model_copy(update={"name": name})
        write_header(paths.header, renamed)
        return renamed

    # ---- change the key --------------------------------------------------------------------------------------
    def change_protection(self, store: Store, workspace_id: str, *, new_passphrase: str | None) -> None:
        """Re-encrypt the workspace under a new key: a new passphrase, or (``None``) a fresh key in the keyring.

        The new protection is recorded as pending before the database is rekeyed and promoted afterwards, so a
        crash at any point leaves a workspace that opens.
        """
        paths = self.paths(workspace_id)
        header = read_header(paths.header)
        if new_passphrase is None:
            new_key = keys.random_key()
            new = keys.keyring_protection(new_key, self.vault.name, f"{workspace_id}.{new_id()[-12:]}")
        else:
            new_key, new = keys.passphrase_protection(new_passphrase, self.kdf)
        # Pending first, then the keyring entry: a crash in between leaves no key in the keyring that no header names.
        write_header(paths.header, header.model_copy(update={"pending_key": new}))
        crashpoints.reached("rekey.pending")
        try:
            if new.keyring_entry is not None:
                self.vault.store(new.keyring_entry, new_key)
                crashpoints.reached("rekey.key_stored")
            store.db.rekey(new_key)
        except BaseException:
            write_header(paths.header, header)
            self._forget_old_key(workspace_id, new, header.key)
            raise
        crashpoints.reached("rekey.checkpointed")
        # The old keyring key opens nothing any more. It is removed while the header still names it, so a crash
        # here leaves no key in the keyring that no header mentions.
        self._forget_old_key(workspace_id, header.key, new)
        crashpoints.reached("rekey.old_key_removed")
        write_header(paths.header, header.model_copy(update={"key": new, "pending_key": None}))
        crashpoints.reached("rekey.promoted")
        log.info("workspace %s re-keyed (%s mode)", workspace_id, new.mode)

    def _forget_old_key(self, workspace_id: str, old: KeyProtection, new: KeyProtection) -> None:
        if old.mode == "keyring" and old.keyring_entry and old.keyring_entry != new.keyring_entry:
            try:
                self.vault.delete(old.keyring_entry)
            except Exception:  # noqa: BLE001 — the new key is in place; a stale entry (any backend error) is logged
                log.warning("could not remove the old key of workspace %s from the keyring", workspace_id)

    # ---- backup and restore ----------------------------------------------------------------------------------
    def backup(self, store: Store, workspace_id: str, dest: Path, passphrase: str) -> backup_mod.BackupInfo:
        """Write an encrypted backup of the workspace to ``dest`` and remember when (the backup reminder reads it)."""
        header = self.header(workspace_id)
        with _as_backup_error(f"Parley could not write the backup {dest.name}.", _WRITE_HINT):
            info = backup_mod.create_backup(
                store, dest, passphrase, workspace_name=header.name, scratch=self.paths(workspace_id).tmp, kdf=self.kdf
            )
        store.set_meta("last_backup_at", info.created_at.isoformat())
        return info

    def restore_into(self, store: Store, workspace_id: str, source: Path, passphrase: str) -> backup_mod.BackupInfo:
        """Replace this workspace's data with a backup of the same organisation.

        The current database is kept beside it as ``parley.db.before-restore`` until the next restore.
        """
        paths = self.paths(workspace_id)
        header = read_header(paths.header)
        with _as_backup_error(f"Parley could not restore the backup {source.name}.", _RESTORE_HINT):
            info = backup_mod.read_info(source)
            if info.org_id != header.org_id:
                raise BackupError(
                    f"This backup belongs to another organisation ({info.workspace_name!r}); "
                    "restore it as a new workspace instead."
                )
            # This workspace's own provider keys and sign-in, not the backup's; read before the extraction, which
            # holds the database for the swap (a read after it waited for a reader: 30 s, then an error).
            kept = secrets.carry_over(store)
            staged = paths.tmp / "parley.db.restoring"
            staged.unlink(missing_ok=True)
            backup_mod.extract(source, passphrase, staged, store.db.adopt, scratch=paths.tmp)
            crashpoints.reached("restore.extracted")
            store.db.replace_file(staged, paths.root / BEFORE_RESTORE)
        secrets.put_back(store, kept)
        store.set_meta("workspace_id", workspace_id)
        log.info("workspace %s restored from a backup of %s", workspace_id, info.created_at.isoformat())
        return info

    def restore_as_new(
        self,
        source: Path,
        backup_passphrase: str,
        *,
        passphrase: str | None = None,
        bus: EventBus | None = None,
    ) -> tuple[str, Store]:
        """A new workspace (same organisation) from a backup, e.g. on a new computer."""
        with _as_backup_error(f"Parley could not restore the backup {source.name}.", _RESTORE_HINT):
            info = backup_mod.read_info(source)
        workspace_id = new_id()

        def fill(paths: WorkspacePaths, key: bytes, protection: KeyProtection) -> str:
            with _as_backup_error(f"Parley could not restore the backup {source.name}.", _RESTORE_HINT):
                backup_mod.extract(
                    source,
                    backup_passphrase,
                    paths.database,
                    lambda conn: sqlcipher.rekey(conn, key),
                    scratch=paths.tmp,
                )
            header = WorkspaceHeader(
                workspace_id=workspace_id,
                org_id=info.org_id,
                name=info.workspace_name,
                created_at=utc_now(),
                key=protection,
            )
            write_header(paths.header, header)
            db = Database.open(paths.database, key)
            try:
                Store(db, info.org_id).set_meta("workspace_id", workspace_id)
            finally:
                db.close()
            return info.org_id

        return workspace_id, self._build(workspace_id, passphrase, fill, bus)

    def delete(self, workspace_id: str) -> None:
        header = self.header(workspace_id)
        for protection in (header.key, header.pending_key):
            if protection is not None and protection.mode == "keyring" and protection.keyring_entry:
                self.vault.delete(protection.keyring_entry)
        shutil.rmtree(self.paths(workspace_id).root)


_WRITE_HINT = "Check that the folder exists, can be written to and has free space. The workspace was not modified."
_RESTORE_HINT = "The workspace was not modified. The details are in the log."


@contextmanager
def _as_backup_error(message: str, hint: str) -> Iterator[None]:
    """A file or database error on the backup path becomes one sentence for the person; the details are logged."""
    try:
        yield
    except (OSError, sqlcipher.DatabaseError) as exc:
        log.warning("%s (%s: %s)", message, type(exc).__name__, exc)
        raise BackupError(message, hint=hint) from exc


def needs_passphrase(header: WorkspaceHeader) -> bool:
    """Whether opening may need a passphrase: passphrase mode, or a change to one that was interrupted."""
    pending = header.pending_key
    return header.key.mode == "passphrase" or (pending is not None and pending.mode == "passphrase")


def _default_pipeline(store: Store) -> None:
    pipeline = store.pipelines.create(name="Sales", is_default=True)
    for position, (name, probability, kind) in enumerate(
        [
            ("New lead", 10, "open"),
            ("Qualified", 30, "open"),
            ("Proposal", 60, "open"),
            ("Negotiation", 80, "open"),
            ("Won", 100, "won"),
            ("Lost", 0, "lost"),
        ]
    ):
        store.pipeline_stages.create(
            pipeline_id=pipeline.id, name=name, position=position, probability=probability, stage_kind=kind
        )
