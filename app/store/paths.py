"""Where workspaces live: the OS's user data dir, unless ``--home`` or ``PARLEY_HOME`` says otherwise."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Parley"


def resolve_home(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("PARLEY_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class WorkspacePaths:
    """The folder of one workspace: its database, key header, browser profiles, logs and backups."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "parley.db"

    @property
    def header(self) -> Path:
        return self.root / "workspace.json"

    @property
    def browser_profiles(self) -> Path:
        return self.root / "browser"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def tmp(self) -> Path:
        """Scratch files of a backup or restore (encrypted copies only). Emptied at start: a crash leaves none."""
        return self.root / "tmp"

    def create_dirs(self) -> None:
        for folder in (self.root, self.browser_profiles, self.logs, self.backups):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds either the old or the new content, even after a crash."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (POSIX; Windows has no directory handles to flush)."""
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
