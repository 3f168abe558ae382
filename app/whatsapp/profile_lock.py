"""One Parley process per WhatsApp profile: an exclusive OS lock on ``<profile dir>/parley.lock``.

Two browsers on one Chromium profile corrupt it, and two Parley windows driving one WhatsApp number would send
twice. The lock is an OS file lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows), not a pid file: when the
holder dies, even by SIGKILL or a power cut, the OS drops the lock and the next ``acquire()`` succeeds; there is
nothing stale to clean up. The file's content (the holder's pid and start time) only feeds the error message.

The lock file is never deleted: removing a locked file lets a second process create and lock a new one while the
first still holds the old inode.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from types import TracebackType

from app.core.errors import ParleyError

LOCK_NAME = "parley.lock"
# Windows locks are mandatory: a locked byte cannot be read by others. Lock one byte far past the holder's note so
# the note stays readable for the error message.
_WINDOWS_LOCK_OFFSET = 1 << 20


class ProfileInUse(ParleyError):
    """Another Parley process (or another ``ProfileLock`` in this one) holds the profile."""

    hint = "Close the other Parley window using this WhatsApp number"

    def __init__(self, message: str, *, pid: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.pid = pid


class ProfileLock:
    """An exclusive, non-blocking lock on a profile directory, held until ``release()`` or process exit."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_file = self.path / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise ``ProfileInUse`` naming the holder's pid. Never waits."""
        if self._fd is not None:
            raise RuntimeError(f"{self.lock_file} is already held by this ProfileLock")
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        # os.open's descriptors are not inherited by child processes (PEP 446): the browser we launch must not keep
        # the lock alive after we die.
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            locked = _try_lock(fd)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            note = _read_note(fd)
            os.close(fd)
            raise _in_use(self.path, note)
        try:
            _write_note(fd, {"pid": os.getpid(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        except BaseException:
            _unlock(fd)
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Drop the lock. Safe to call twice, or when it was never taken."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)  # no stale note for the next holder's readers
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def __enter__(self) -> ProfileLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"ProfileLock({str(self.path)!r}, held={self.held})"


def _in_use(profile: Path, note: dict[str, object]) -> ProfileInUse:
    raw_pid = note.get("pid")
    pid = raw_pid if isinstance(raw_pid, int) and not isinstance(raw_pid, bool) else None
    started = note.get("started")
    who = f"process {pid}" if pid is not None else "another process"
    if pid == os.getpid():
        who = f"this process ({pid})"
    since = f", since {started}" if isinstance(started, str) and started else ""
    return ProfileInUse(f"The WhatsApp profile {profile} is already open in {who}{since}.", pid=pid)


def _read_note(fd: int) -> dict[str, object]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 4096)
        parsed = json.loads(data.split(b"\n", 1)[0].decode("utf-8"))
    except (OSError, ValueError):
        return {}  # the holder may not have written its note yet
    return parsed if isinstance(parsed, dict) else {}


def _write_note(fd: int, note: dict[str, object]) -> None:
    data = (json.dumps(note) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)


if sys.platform == "win32":

    def _try_lock(fd: int) -> bool:
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:

    def _try_lock(fd: int) -> bool:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)
