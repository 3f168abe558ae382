"""End-to-end tests drive a real process (house rule 9), in the style of qutebrowser's ``testprocess``.

A ``Process`` starts a program with its output on pipes; one reader thread per pipe collects every line as it comes
(parsed as a Parley log record when it is one). ``wait_for`` waits on those lines with a deadline that holds even
when the program prints nothing at all: the reader threads do the blocking reads, the test only ever waits on a
condition with a timeout. It also fails at once, with everything the program said, when the program exits first.

At teardown (the ``processes`` and ``parley_app`` fixtures) every process is stopped and its output checked: an
``ERROR`` or ``CRITICAL`` log record, a Python traceback or a fatal error that the test neither waited for nor
allowed fails the test. A test allows what it provokes: ``parley_app(..., allow=[r"regex"])`` or
``proc.allow(r"regex")`` (matched against the whole record: its log line and the traceback below it).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[2]

# app/logs.py FORMAT: "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) (?P<logger>\S+?): "
    r"(?P<message>.*)$"
)
BAD_LEVELS = frozenset({"ERROR", "CRITICAL"})
# Lines that mean a crash whatever record they sit in (the interpreter's own, not the logger's).
CRASH = re.compile(r"Traceback \(most recent call last\):|^Fatal Python error:|^Segmentation fault")
STOP_SECONDS = 15.0


@dataclass
class Line:
    """One line of output; ``level``/``logger``/``message`` are set when it starts a log record."""

    stream: str
    text: str
    at: float
    level: str | None = None
    logger: str | None = None
    message: str | None = None
    waited: bool = False  # matched by a wait_for: expected, whatever its level

    def __str__(self) -> str:
        return self.text


@dataclass
class Record:
    """A log record with the lines printed under it (a traceback), or stray lines before the first record."""

    lines: list[Line] = field(default_factory=list)

    @property
    def head(self) -> Line:
        return self.lines[0]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class ProcessExited(AssertionError):
    """The process exited while a test still waited on it."""


class Process:
    """A program under test, its output collected line by line on reader threads."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        name: str | None = None,
        allow: Iterable[str] = (),
    ) -> None:
        self.argv = list(argv)
        self.env = env
        self.cwd = cwd
        self.name = name or Path(self.argv[0]).name
        self._allowed = [re.compile(pattern) for pattern in allow]
        self._lines: list[Line] = []
        self._changed = threading.Condition()
        self._open_streams = 0
        self._readers: list[threading.Thread] = []
        self.proc: subprocess.Popen[str] | None = None

    # ---- running ------------------------------------------------------------------------------------------------

    def start(self) -> Process:
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        for stream_name, stream in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            assert stream is not None
            self._open_streams += 1
            reader = threading.Thread(
                target=self._read, args=(stream_name, stream), name=f"{self.name}-{stream_name}", daemon=True
            )
            reader.start()
            self._readers.append(reader)
        return self

    def _read(self, stream_name: str, stream: IO[str]) -> None:
        try:
            for raw in stream:
                line = Line(stream_name, raw.rstrip("\r\n"), time.monotonic())
                match = LOG_LINE.match(line.text)
                if match:
                    line.level, line.logger, line.message = match["level"], match["logger"], match["message"]
                with self._changed:
                    self._lines.append(line)
                    self._changed.notify_all()
        finally:
            stream.close()
            with self._changed:
                self._open_streams -= 1
                self._changed.notify_all()

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the process was not started"
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, signum: int) -> None:
        assert self.proc is not None, "the process was not started"
        self.proc.send_signal(signum)

    def stop(self, timeout: float = STOP_SECONDS) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; waits for the output to be read to its end. Returns the exit code
        (negative: the signal that ended it), or None when it was never started."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        for reader in self._readers:
            reader.join(timeout)
        return self.proc.returncode

    def wait_exit(self, timeout: float) -> int:
        """Wait for the process to exit by itself (and its output to be read); fail with its output after ``timeout``
        seconds."""
        assert self.proc is not None, "the process was not started"
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit within {timeout:g} s; it said:\n{self.output()}") from None
        for reader in self._readers:
            reader.join(timeout)
        return code

    # ---- reading ------------------------------------------------------------------------------------------------

    @property
    def lines(self) -> list[Line]:
        with self._changed:
            return list(self._lines)

    def output(self, last: int = 200) -> str:
        return "\n".join(f"[{line.stream}] {line.text}" for line in self.lines[-last:])

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float = 60.0, *, level: str | None = None) -> Line:
        """The first line not yet waited for that ``pattern`` searches (and, with ``level``, logged at that level).

        Marks it as waited for (so it counts as expected even at ERROR level, and a second wait_for finds the next
        one). Fails after ``timeout`` seconds, silent program or not, and at once when the program exits first.
        """
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self._lines:
                    if not line.waited and regex.search(line.text) and (level is None or line.level == level):
                        line.waited = True
                        return line
                if self._open_streams == 0:
                    code = self.proc.poll() if self.proc is not None else None
                    raise ProcessExited(
                        f"{self.name} exited (code {code}) before printing {regex.pattern!r}; it said:\n"
                        f"{self._output_locked()}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{self.name} printed no line matching {regex.pattern!r} within {timeout:g} s; it said:\n"
                        f"{self._output_locked()}"
                    )
                self._changed.wait(left)

    def _output_locked(self, last: int = 200) -> str:
        return "\n".join(f"[{line.stream}] {line.text}" for line in self._lines[-last:]) or "(nothing)"

    def ensure_not_logged(self, pattern: str | re.Pattern[str]) -> None:
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        found = [line.text for line in self.lines if regex.search(line.text)]
        assert not found, f"{self.name} printed what it should not ({regex.pattern!r}):\n" + "\n".join(found)

    # ---- checking -----------------------------------------------------------------------------------------------

    def allow(self, pattern: str) -> None:
        """Allow records that ``pattern`` searches (their log line plus any traceback printed under it)."""
        self._allowed.append(re.compile(pattern))

    def records(self) -> list[Record]:
        """The output as log records: each log line with the non-log lines after it on the same stream."""
        records: list[Record] = []
        current: dict[str, Record] = {}
        for line in self.lines:
            if line.level is not None or line.stream not in current:
                current[line.stream] = Record([line])
                records.append(current[line.stream])
            else:
                current[line.stream].lines.append(line)
        return records

    def unexpected(self) -> list[Record]:
        """Records that fail a test: ERROR/CRITICAL or a crash, neither waited for nor allowed."""
        found = []
        for record in self.records():
            bad = record.head.level in BAD_LEVELS or any(CRASH.search(line.text) for line in record.lines)
            if not bad or any(line.waited for line in record.lines):
                continue
            if any(pattern.search(record.text) for pattern in self._allowed):
                continue
            found.append(record)
        return found

    def check(self) -> None:
        """Fail with every unexpected record (and the whole output for context)."""
        found = self.unexpected()
        if found:
            listed = "\n---\n".join(record.text for record in found)
            raise AssertionError(
                f"{self.name} logged {len(found)} unexpected error(s) or traceback(s):\n{listed}\n\n"
                f"whole output:\n{self.output()}"
            )


# ---- fixtures ---------------------------------------------------------------------------------------------------


class Processes:
    """Starts processes for one test; at teardown stops them all, then fails on what any of them logged."""

    def __init__(self) -> None:
        self.started: list[Process] = []

    def start(self, process: Process) -> Process:
        self.started.append(process)
        return process.start()

    def finish(self) -> None:
        for process in self.started:
            process.stop()
        problems = []
        for process in self.started:
            try:
                process.check()
            except AssertionError as error:
                problems.append(str(error))
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.finish()


def parley_env(keyring_file: Path, **extra: str) -> dict[str, str]:
    """The app's environment: offscreen Qt, the file keyring a test can share with the app, this checkout first."""
    return dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="tests.support.file_keyring.FileKeyring",
        PARLEY_TEST_KEYRING=str(keyring_file),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        **extra,
    )


StartParley = Callable[..., Process]


@pytest.fixture
def parley_app(processes: Processes) -> StartParley:
    """Start the real app: ``parley_app(home, keyring_file, *args, allow=[...], env={...})``; checked at teardown."""

    def start(
        home: Path, keyring_file: Path, *args: str, allow: Iterable[str] = (), env: dict[str, str] | None = None
    ) -> Process:
        argv = [sys.executable, "-m", "app", "--home", str(home), *args]
        return processes.start(Process(argv, env=parley_env(keyring_file, **(env or {})), name="parley", allow=allow))

    return start
