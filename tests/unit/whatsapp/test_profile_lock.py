"""ProfileLock: one holder per profile, across processes, and a dead holder never leaves a stale lock."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import ParleyError
from app.whatsapp.profile_lock import LOCK_NAME, ProfileInUse, ProfileLock

REPO = Path(__file__).resolve().parents[3]
HOLDER = """
import sys
from pathlib import Path
from app.whatsapp.profile_lock import ProfileLock

lock = ProfileLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
sys.stdin.read()  # hold until the parent closes stdin or kills us
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock on ``tmp_path / "profile"``."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "profile")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def test_acquire_release_and_reacquire(tmp_path: Path) -> None:
    lock = ProfileLock(tmp_path / "profile")
    lock.acquire()
    assert lock.held
    assert (tmp_path / "profile" / LOCK_NAME).exists()
    lock.release()
    assert not lock.held
    lock.release()  # idempotent
    with ProfileLock(tmp_path / "profile") as again:
        assert again.held
    assert not again.held


def test_same_process_twice_is_refused_naming_the_pid(tmp_path: Path) -> None:
    with ProfileLock(tmp_path / "profile"), pytest.raises(ProfileInUse) as caught:
        ProfileLock(tmp_path / "profile").acquire()
    error = caught.value
    assert isinstance(error, ParleyError)
    assert error.pid == os.getpid()
    assert str(os.getpid()) in str(error)
    assert error.hint == "Close the other Parley window using this WhatsApp number"
    # After the holder let go, the refused path works.
    with ProfileLock(tmp_path / "profile"):
        pass


def test_acquiring_a_held_lock_object_again_is_a_bug(tmp_path: Path) -> None:
    with ProfileLock(tmp_path / "profile") as lock, pytest.raises(RuntimeError):
        lock.acquire()


def test_other_process_holding_it_is_refused(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(ProfileInUse) as caught:
        ProfileLock(tmp_path / "profile").acquire()
    assert caught.value.pid == holder.pid
    assert f"process {holder.pid}" in str(caught.value)
    assert "since" in str(caught.value)


def test_holder_that_exits_normally_frees_it(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    assert holder.wait(timeout=10) == 0
    with ProfileLock(tmp_path / "profile"):
        pass


def test_sigkilled_holder_leaves_no_stale_lock(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(ProfileInUse):
        ProfileLock(tmp_path / "profile").acquire()
    holder.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no cleanup code runs
    holder.wait(timeout=10)
    # The file is still there with the dead holder's note; only the OS lock is gone.
    assert str(holder.pid) in (tmp_path / "profile" / LOCK_NAME).read_text(encoding="utf-8")
    with ProfileLock(tmp_path / "profile") as lock:
        assert lock.held


def test_unreadable_note_still_refuses(tmp_path: Path) -> None:
    with ProfileLock(tmp_path / "profile") as lock:
        assert lock.lock_file.read_text(encoding="utf-8").startswith("{")
        os.truncate(lock.lock_file, 0)  # holder not yet written its note
        with pytest.raises(ProfileInUse, match="another process") as caught:
            ProfileLock(tmp_path / "profile").acquire()
        assert caught.value.pid is None
