"""Parts of ``bench/media_flow_bench.py``: the photos it sends, the processes it watches, what it records from the
WhatsApp service (the humanizer's plans, the media sink's timings, the store's bus and the supervisor's status) and
the records of its results. Bench instrumentation only: nothing here changes what the service does.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.core.events import MessageQueued, MessageReceived, MessageStatusChanged, TablesChanged
from app.core.media import MediaState
from app.qt import QtCore, QtGui
from app.store.store import Store
from app.whatsapp.humanizer import Humanizer, TypingPace, TypingPlan
from app.whatsapp.media import MediaSink
from app.whatsapp.status import ConnectionState, WhatsAppStatus

ROOT = Path(__file__).resolve().parent.parent
KB, MB = 1024, 1024 * 1024
WIDTH, HEIGHT = 1600, 1200  # WhatsApp's usual long side for a sent photo
JPEG_QUALITY = 80


# ---- photos -----------------------------------------------------------------------------------------------------


class PhotoMaker:
    """Distinct 1600×1200 JPEGs of 200–500 KB: a smooth colour field per photo plus a shifted noise field whose
    strength sets the size (calibrated once). Made in memory with numpy and Qt's JPEG writer."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.noise = self.rng.standard_normal((HEIGHT, WIDTH, 3), dtype=np.float32)
        y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        self.fx, self.fy, self.wave = x / WIDTH, y / HEIGHT, np.sin(x / 37.0 + y / 53.0)
        self.table = [(self.encode(sigma)[1], sigma) for sigma in (3.0, 6.0, 10.0, 15.0, 22.0)]

    def encode(self, sigma: float) -> tuple[bytes, int]:
        a, b = self.rng.uniform(30, 220, size=(2, 3)).astype(np.float32)
        base = a * self.fx[..., None] + b * (1 - self.fy[..., None]) * 0.8 + 25 * self.wave[..., None]
        shift = tuple(int(v) for v in self.rng.integers(0, [HEIGHT, WIDTH]))
        noisy = base + sigma * np.roll(self.noise, shift, axis=(0, 1))
        pixels = np.ascontiguousarray(np.clip(noisy, 0, 255).astype(np.uint8))
        image = QtGui.QImage(pixels.tobytes(), WIDTH, HEIGHT, WIDTH * 3, QtGui.QImage.Format.Format_RGB888)
        buffer = QtCore.QBuffer()
        buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "JPEG", JPEG_QUALITY)  # type: ignore[call-overload]
        data = bytes(buffer.data().data())
        return data, len(data)

    def sigma_for(self, size: float) -> float:
        sizes = [s for s, _ in self.table]
        sigmas = [g for _, g in self.table]
        return float(np.interp(size, sizes, sigmas))

    def photo(self, low: int = 200 * KB, high: int = 500 * KB) -> bytes:
        target = float(self.rng.uniform(low + 10 * KB, high - 10 * KB))
        sigma = self.sigma_for(target)
        for _ in range(4):
            data, size = self.encode(sigma)
            if low <= size <= high:
                return data
            sigma *= target / size
        raise RuntimeError(f"could not make a photo of {low}–{high} bytes (last {size})")


# ---- processes, memory, CPU -------------------------------------------------------------------------------------


@contextmanager
def imitation_process() -> Iterator[tuple[str, int]]:
    """The imitation server in a process of its own (as WhatsApp is not in ours): its URL and pid while it runs."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    argv = [sys.executable, "-m", "tests.whatsapp.imitation_server", "--port", str(port)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "imitation at" not in line:
            raise RuntimeError(f"the imitation server did not start (exit {proc.poll()}): {line!r}")
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tree_cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (Linux /proc)."""
    if pid is None:
        return 0.0
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            text = Path(f"/proc/{name}/stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        stats[int(name)] = fields
        children.setdefault(int(fields[1]), []).append(int(name))
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, ()))
        found = stats.get(current)
        if found is not None:
            total += (int(found[11]) + int(found[12])) / tick
    return total


def store_bytes(store: Store) -> int:
    """The workspace database file and its WAL, as they are on disk now."""
    path = Path(store.db.path)
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


# ---- what the service does, seen from outside ----------------------------------------------------------------------


class RecordingHumanizer(Humanizer):
    """The supervisor's humanizer (same settings, same random stream), remembering every delay it planned, so the
    bench can subtract what was meant to take time from what did."""

    def __init__(self, settings: TypingPace, rng: random.Random) -> None:
        super().__init__(settings, rng)
        self._lock = threading.Lock()
        self._planned: list[tuple[str, float]] = []

    def typing_plan(self, text: str) -> TypingPlan:
        plan = super().typing_plan(text)
        with self._lock:
            self._planned.append(("typing", plan.seconds))
        return plan

    def reading_seconds(self, incoming: str) -> float:
        seconds = super().reading_seconds(incoming)
        with self._lock:
            self._planned.append(("reading", seconds))
        return seconds

    def take(self) -> list[tuple[str, float]]:
        """What was planned since the last call (the gap between contacts is drawn after each send but only waited
        for automated messages to another contact: not counted)."""
        with self._lock:
            planned, self._planned = self._planned, []
        return planned


class TimingSink:
    """Wraps the driver's media sink (bench instrumentation, on the fetcher's worker thread): when each photo's
    ``attach`` (thumbnail + encrypted write) started and ended, so the fetch cycle can be split into the page's part
    (grab, base64 over CDP, decode) and the store's."""

    def __init__(self, inner: MediaSink) -> None:
        self.inner = inner
        self.attaches: list[tuple[float, float]] = []  # perf_counter start, end
        self.marks: list[str] = []

    def attach(self, message_id: str, data: bytes, mime: str) -> None:
        started = time.perf_counter()
        self.inner.attach(message_id, data, mime)
        self.attaches.append((started, time.perf_counter()))

    def mark(self, message_id: str, state: MediaState) -> None:
        self.marks.append(state)
        self.inner.mark(message_id, state)


class Watch:
    """Times from the store's bus (handlers run on the committing thread right after COMMIT) and the supervisor's
    status (its own thread); a condition the bench waits on between checks, never a sleep."""

    def __init__(self, store: Store) -> None:
        self.cond = threading.Condition()
        self.received: dict[str, float] = {}  # store message id -> time.time() of its MessageReceived
        self.status: dict[tuple[str, str], float] = {}  # (message id, status) -> first time
        self.sending: dict[str, float] = {}  # message id -> when the supervisor said it was sending it
        self.settled: dict[str, float] = {}  # message id -> when the supervisor stopped sending it
        self.state = ConnectionState.stopped
        self.restarts = 0
        self.on_queued: Callable[[], None] = lambda: None
        self._sending_id: str | None = None
        self.generation = 0  # bumped on every notification
        store.bus.subscribe(MessageReceived, self._received)
        store.bus.subscribe(MessageStatusChanged, self._status)
        store.bus.subscribe(TablesChanged, self._tables)
        store.bus.subscribe(MessageQueued, lambda _event: self.on_queued())

    def _received(self, event: MessageReceived) -> None:
        now = time.time()
        with self.cond:
            self.received.setdefault(event.message_id, now)
            self.generation += 1
            self.cond.notify_all()

    def _status(self, event: MessageStatusChanged) -> None:
        now = time.time()
        with self.cond:
            self.status.setdefault((event.message_id, event.status), now)
            self.generation += 1
            self.cond.notify_all()

    def _tables(self, event: TablesChanged) -> None:
        if "messages" in event.tables:
            with self.cond:
                self.generation += 1
                self.cond.notify_all()

    def on_status(self, status: WhatsAppStatus) -> None:
        now = time.time()
        with self.cond:
            self.state = status.state
            self.restarts = status.restarts
            current = status.queue.sending_id
            if current != self._sending_id:
                if self._sending_id is not None:
                    self.settled.setdefault(self._sending_id, now)
                if current is not None:
                    self.sending.setdefault(current, now)
                self._sending_id = current
            self.generation += 1
            self.cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Until ``predicate()`` holds, checked after each notification (not under the lock: the writer's handlers
        must never wait for a query of the bench)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.cond:
                seen = self.generation
            if predicate():
                return
            with self.cond:
                while self.generation == seen:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError(f"{what}: not within {timeout:g} s")
                    self.cond.wait(min(left, 1.0))


# ---- results ----------------------------------------------------------------------------------------------------


@dataclass
class Burst:
    kind: str  # "text" or "photo"
    count: int
    first_post: float
    last_post: float
    captured: float  # the last MessageReceived
    done: float  # the last photo stored (photos) / the last message committed (text)
    per_item: list[float]  # POST → stored / committed, seconds
    photo_bytes: int = 0
    growth: int = 0  # DB + WAL as left, bytes
    growth_checkpointed: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    browser_memory: tuple[int, int] = (0, 0)  # PSS before, after
    attaches: list[tuple[float, float]] = field(default_factory=list)  # the sink's attach (start, end)

    @property
    def seconds(self) -> float:
        return self.done - self.first_post

    @property
    def rate(self) -> float:
        return self.count / self.seconds


@dataclass
class Sent:
    kind: str  # "photo" or "text"
    chars: int
    queue_op: float  # the queue operation itself (thumbnail and encrypted write for a photo)
    # From the start of the queue operation (the person's "send"):
    to_typing: float  # → status typing (the queue op, the supervisor's wake-up, pick, limits)
    to_sent: float  # → status sent in the store
    to_settled: float  # → the supervisor done with it (a photo waits for the tick)
    planned: float  # typing plan + reading time the humanizer drew

    @property
    def overhead(self) -> float:
        return self.to_sent - self.planned

    @property
    def overhead_settled(self) -> float:
        return self.to_settled - self.planned


@dataclass
class Queued:
    kind: str
    body: str
    message_id: str
    started: float
    queued: float


@dataclass
class Baseline:
    thumb_ms: list[float] = field(default_factory=list)
    attach_ms: list[float] = field(default_factory=list)  # attach_received: thumbnail + encrypted write
    growth: int = 0
    photo_bytes: int = 0

    @property
    def rate(self) -> float:
        return 1000 / statistics.mean(self.attach_ms)
