"""The inbox under a stream of incoming messages: how long the UI thread stalls while 50 messages a second arrive.

Run: ``.venv/bin/python bench/inbox_stall_bench.py [--rate 50] [--chats-active 20] [--seconds 20] [--block 5]``
(``--xcb`` runs on the X server in ``DISPLAY`` instead of ``QT_QPA_PLATFORM=offscreen``; ``--profile FILE`` writes a
cProfile of the UI thread during the load blocks; the profiler inflates the figures, so they are not the result).

What runs is the app's own wiring: a keyring-mode SQLCipher workspace made by ``Workspaces.create`` (the test file
keyring stands in for the desktop one, as in ``startup_bench.py``) and seeded by the seed generator (``--chats``,
``--messages``); opened again with ``Workspaces.open``; the ``AppContext`` of ``bootstrap.build_context`` with the
task runner and service loop the app starts; the real main window from ``bootstrap.open_main_window`` (inbox, tray);
the analysis of incoming messages and team sync (signed out) started as after the first paint. A chat is open (the
busiest one), so the conversation, its header and the customer panel refresh too.

Messages arrive as WhatsApp intake records them: ``record_messages`` (``app.store.intake``), one call per message
from a thread that is not the UI thread (the driver's worker), at ``--rate`` messages/s spread at random over
``--chats-active`` chats, the open one included. The UI reacts through the spine only: the store's change report
(``TablesChanged``) → ``Changes`` on the main thread → the pages' refreshes.

What is measured: a 5 ms heartbeat ``QTimer`` (precise) on the UI thread; a stall is how late a beat came (the gap
since the previous beat minus 5 ms): the longest time input would have waited. For each second the longest stall is
kept; the figures are the p50 / p95 / max / mean of those per-second maxima, and the count of stalls over 50 ms.
To tell the app's work from the machine's, each beat also records the UI thread's CPU time (``time.thread_time``)
and its time spent ready to run without a free core (``/proc/thread-self/schedstat``): the table shows the stalls
less that wait, and the UI thread's own CPU in each gap; what is left is waiting for the GIL (our other threads,
e.g. a full garbage collection on one of them, which the bench lists). The baseline, in the same run and
interleaved block by block, is the same measurement with nothing arriving. A load block is measured until the UI
has caught up with its last message. At the end the bench checks that the list shows every chat as the store has
it, the active chats' unread counts and last messages, and that the open chat shows its newest messages with every
one it was sent among them (exit 1 if not). Nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import pstats
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BEAT_MS = 5
STALL_MS = 50  # the target: the longest stall per second, p95 ≤ 50 ms
TARGET_P95_MS = 50.0
CATCH_UP_LIMIT_S = 30.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chats", type=int, default=200, help="chats in the seeded workspace")
    parser.add_argument("--messages", type=int, default=4000, help="messages in the seeded workspace")
    parser.add_argument("--rate", type=float, default=50.0, help="incoming messages per second")
    parser.add_argument("--chats-active", type=int, default=20, help="chats the messages go to (the open one too)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of load (and as many of baseline)")
    parser.add_argument("--block", type=float, default=5.0, help="load and baseline alternate in blocks this long")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--xcb", action="store_true", help="use the X server in DISPLAY (e.g. Xvfb)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile the UI thread during load blocks into FILE")
    return parser.parse_args()


# ---- the measurement -----------------------------------------------------------------------------------------
@dataclass
class Phase:
    kind: str  # "idle" or "load"
    started: float
    ended: float = 0.0
    # (wall clock, UI thread's CPU time, its time waiting for a core), in seconds
    beats: list[tuple[float, float, float]] = field(default_factory=list)
    caught_up_after: float = 0.0  # load: last message committed → UI idle again (s)
    counts: dict[str, int] = field(default_factory=dict)  # what the UI did (change reports, refreshes, reloads)

    def stalls(self) -> list[tuple[float, float]]:
        """(time, ms): how late each beat came, the gap since the previous one beyond the timer's interval."""
        return [(b[0], max(0.0, (b[0] - a[0]) * 1000 - BEAT_MS)) for a, b in pairwise(self.beats)]

    def work(self) -> list[tuple[float, float]]:
        """(time, ms): the UI thread's own CPU time between beats beyond a beat's cost: what of a stall was our
        work, the rest being the thread waiting for a core (other processes) or for the GIL (our other threads)."""
        return [(b[0], max(0.0, (b[1] - a[1]) * 1000 - 0.05)) for a, b in pairwise(self.beats)]

    def without_queue(self) -> list[tuple[float, float]]:
        """(time, ms): each stall less the time the UI thread was ready to run but had no core (Linux schedstat):
        roughly the stall on a machine with a core to spare. Equal to ``stalls`` where schedstat is missing."""
        return [(b[0], max(0.0, (b[0] - a[0] - (b[2] - a[2])) * 1000 - BEAT_MS)) for a, b in pairwise(self.beats)]

    def queued(self) -> float:
        """Seconds the UI thread waited for a core during the phase's stalls over ``STALL_MS``."""
        return sum(b[2] - a[2] for a, b in pairwise(self.beats) if (b[0] - a[0]) * 1000 - BEAT_MS > STALL_MS)

    def per_second(self, values: list[tuple[float, float]]) -> list[float]:
        """The largest value in each whole or partial second of the phase (0 for a second without one)."""
        seconds = max(1, int((self.ended - self.started) + 0.999))
        worst = [0.0] * seconds
        for at, value in values:
            i = min(seconds - 1, max(0, int(at - self.started)))
            worst[i] = max(worst[i], value)
        return worst


def queue_wait() -> float:
    """Seconds this thread has waited, ready to run, for a core (Linux ``schedstat``; 0 elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class Meter:
    """A heartbeat on the UI thread, recorded into the current phase (none: not recorded), and counts of what the
    UI did in it."""

    def __init__(self, qt: Any) -> None:
        self.phase: Phase | None = None
        self.timer = qt.QtCore.QTimer()
        self.timer.setTimerType(qt.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(BEAT_MS)
        self.timer.timeout.connect(self._beat)
        self.timer.start()
        # Python's full collections (generation 2), on whichever thread: they hold the GIL, so every thread waits.
        self.full_collections: list[tuple[float, float, str]] = []  # (start, end, thread name)
        self._gc_started: dict[int, float] = {}
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        now = time.perf_counter()
        if phase == "start":
            self._gc_started[threading.get_ident()] = now
        else:
            started = self._gc_started.pop(threading.get_ident(), now)
            self.full_collections.append((started, now, threading.current_thread().name))

    def _beat(self) -> None:
        if self.phase is not None:
            self.phase.beats.append((time.perf_counter(), time.thread_time(), queue_wait()))

    def count(self, what: str) -> None:
        if self.phase is not None:
            self.phase.counts[what] = self.phase.counts.get(what, 0) + 1


# ---- the incoming messages -----------------------------------------------------------------------------------
class Intake(threading.Thread):
    """WhatsApp intake's write path at a steady rate, off the UI thread: one ``record_messages`` per message."""

    def __init__(self, store: Any, jids: list[str], rate: float, seconds: float, rng: random.Random, start_n: int):
        super().__init__(name="bench-whatsapp-intake", daemon=True)
        self.store, self.jids, self.rate, self.seconds = store, jids, rate, seconds
        self.plan = [rng.choice(jids) for _ in range(int(rate * seconds))]
        self.start_n = start_n
        self.sent: list[tuple[str, str, str]] = []  # (chat jid, message id, body)
        self.behind_max = 0.0  # the most the writes fell behind their schedule (s)
        self.cpu = 0.0  # this thread's CPU time in the writes (s)
        self.finished_at = 0.0
        self.error: BaseException | None = None

    def run(self) -> None:
        from app.store.intake import CapturedMessage, record_messages

        try:
            t0 = time.perf_counter()
            for i, jid in enumerate(self.plan):
                due = t0 + i / self.rate
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)  # pacing the producer, not waiting for a result
                else:
                    self.behind_max = max(self.behind_max, -wait)
                n = self.start_n + i
                body = f"Bench message {n}: is the linen shirt still available in size M?"
                captured = CapturedMessage(
                    wa_id=f"3ABENCH{n:014X}", chat_jid=jid, from_me=False, body=body, timestamp=datetime.now(UTC)
                )
                cpu = time.thread_time()
                (result,) = record_messages(self.store, [captured])
                self.cpu += time.thread_time() - cpu
                self.sent.append((jid, result.message.id, body))
        except Exception as exc:  # noqa: BLE001 - reported by the script, which exits non-zero
            self.error = exc
        finally:
            self.finished_at = time.perf_counter()


# ---- the run, as a script the Qt event loop drives -----------------------------------------------------------
Wait = float | Callable[[], bool]


class Script:
    """Runs a generator on the UI thread: it yields seconds to wait or a condition to wait for (polled every
    20 ms by a timer, so the event loop runs freely in between and nothing else is added to it)."""

    def __init__(self, qt: Any, gen: Generator[Wait, None, None], done: Callable[[], None]) -> None:
        self.qt, self.gen, self.done = qt, gen, done
        self.error: BaseException | None = None
        qt.QtCore.QTimer.singleShot(0, self._step)

    def _step(self) -> None:
        try:
            wait = next(self.gen)
        except StopIteration:
            self.done()
            return
        except Exception as exc:  # noqa: BLE001 - re-raised after the event loop ends
            self.error = exc
            self.done()
            return
        if callable(wait):
            self._poll(wait, time.perf_counter() + 120)
        else:
            self.qt.QtCore.QTimer.singleShot(int(wait * 1000), self._step)

    def _poll(self, condition: Callable[[], bool], deadline: float) -> None:
        if condition():
            self._step()
        elif time.perf_counter() > deadline:
            self.error = TimeoutError("a condition of the bench did not hold within 120 s")
            self.done()
        else:
            self.qt.QtCore.QTimer.singleShot(20, lambda: self._poll(condition, deadline))


def pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summary(values: list[float]) -> str:
    return f"{pct(values, 50):.1f} / {pct(values, 95):.1f} / {max(values):.1f} / {statistics.mean(values):.1f}"


def build_workspace(base: Path, chats: int, messages: int, seed: int) -> tuple[Any, str]:
    from app.store.keyring_vault import KeyringVault
    from app.store.seed import populate
    from app.store.workspaces import Workspaces
    from tests.support.file_keyring import FileKeyring

    os.environ["PARLEY_TEST_KEYRING"] = str(base / "bench-keyring.json")
    workspaces = Workspaces(base / "home", KeyringVault(FileKeyring()))
    store = workspaces.create("Bench Boutique", "Bench Owner")
    workspace_id = store.meta("workspace_id") or ""
    started = time.perf_counter()
    report = populate(store, chats=chats, messages=messages, seed=seed)
    store.close()
    print(f"seeded {report.chats:,} chats / {report.messages:,} messages in {time.perf_counter() - started:.1f} s")
    return workspaces, workspace_id


def main() -> int:
    args = parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="parley-inbox-stall-")
    base = Path(tmp.name)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(base / var.lower())  # no saved window state, nothing in the user's folders
    if args.xcb:
        if not os.environ.get("DISPLAY"):
            print("--xcb needs DISPLAY (e.g. xvfb-run -a -s '-screen 0 1600x1000x24' …)", file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "xcb"
    else:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    print(f"command: python bench/inbox_stall_bench.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    from app import qt
    from app.bootstrap import build_context, open_main_window, start_ai, start_sync
    from app.core.loops import SERVICE_THREAD, LoopThread
    from app.qt import QtCore, QtWidgets
    from app.ui.pages.inbox import InboxPage
    from app.ui.shutdown import Shutdown, Stage
    from app.ui.startup import OpenWorkspace
    from app.ui.tasks import TaskRunner

    workspaces, workspace_id = build_workspace(base, args.chats, args.messages, args.seed)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    assert isinstance(app, QtWidgets.QApplication)
    app.setApplicationName("Parley")
    app.setOrganizationName("Parley")
    tasks = TaskRunner(loop=LoopThread(SERVICE_THREAD))
    shutdown = Shutdown(tasks)
    store = workspaces.open(workspace_id)  # as the start-up flow opens it (keyring mode: no prompt)
    ctx = build_context(workspaces, tasks, OpenWorkspace(workspace_id, workspaces.header(workspace_id), store))
    shutdown.add(Stage.STORE, "the workspace", store.close)
    window = open_main_window(ctx, app)
    gc.freeze()  # as bootstrap.run_desktop does once the window is up
    start_ai(ctx, app, shutdown)
    start_sync(ctx, app, shutdown)
    inbox = window.pages["inbox"]
    assert isinstance(inbox, InboxPage)

    rng = random.Random(args.seed)
    visible = store.inbox(limit=100_000)
    busiest = max(visible, key=lambda r: r.message_count)
    others = rng.sample(
        [r for r in visible if r.chat_id != busiest.chat_id], k=min(len(visible) - 1, args.chats_active - 1)
    )
    active = [busiest, *others]
    jid_of = {r.chat_id: store.chats.get(r.chat_id).wa_chat_id or "" for r in active}
    chat_of = {jid: chat_id for chat_id, jid in jid_of.items()}
    open_id = busiest.chat_id
    print(
        f"platform {app.platformName()}; "
        f"open chat: {busiest.message_count} messages; "
        f"{len(active)} active chats, list rows at their start: "
        f"{sorted(i for i, r in enumerate(visible) if r.chat_id in jid_of)}"
    )

    changes = ctx.changes

    def quiet() -> bool:
        """Nothing left to do on the UI side: no task out, no list refresh due or running, no change undelivered."""
        timer = getattr(inbox, "_refresh_timer", None)
        return (
            tasks.idle
            and not (timer is not None and timer.isActive())
            and not getattr(inbox, "_refreshing", False)
            and not getattr(changes, "_pending", None)
        )

    meter = Meter(qt)
    changes.changed.connect(lambda _tables: meter.count("change reports"))
    tasks.started.connect(lambda name: meter.count("list refreshes") if name == "Refreshing the chat list" else None)
    inbox.chat_model.modelReset.connect(lambda: meter.count("open chat reloads"))
    phases: list[Phase] = []
    intakes: list[Intake] = []
    before: dict[str, int] = {}
    profiler = cProfile.Profile() if args.profile else None
    blocks = max(1, round(args.seconds / args.block))
    kinds = ["idle", "load"]

    def run() -> Generator[Wait, None, None]:
        yield quiet
        window.activateWindow()  # the seller is looking at Parley (no desktop notification per message)
        inbox.open_chat(open_id)  # as a click on its row does
        yield lambda: inbox.chat_id == open_id and quiet()
        yield 1.0  # warm-up: first paints, fonts, caches
        yield quiet
        before.update({r.chat_id: r.unread_count for r in store.inbox(limit=100_000)})
        print(f"window active: {window.isActiveWindow()}")
        sent = 0
        for b in range(blocks):
            for kind in kinds[b % len(kinds) :] + kinds[: b % len(kinds)]:  # each kind goes first in turn
                yield quiet
                yield 0.5
                phase = Phase(kind, time.perf_counter())
                meter.phase = phase
                if kind == "idle":
                    yield args.block
                else:
                    intake = Intake(store, list(jid_of.values()), args.rate, args.block, rng, sent)
                    sent += len(intake.plan)
                    intakes.append(intake)
                    if profiler:
                        profiler.enable()
                    intake.start()
                    yield lambda i=intake: not i.is_alive()
                    yield quiet
                    if profiler:
                        profiler.disable()
                    phase.caught_up_after = time.perf_counter() - intake.finished_at
                    if intake.error is not None:
                        raise intake.error
                phase.ended = time.perf_counter()
                meter.phase = None
                phases.append(phase)
        yield quiet

    script = Script(qt, run(), app.quit)
    app.exec()
    meter.timer.stop()
    if script.error is not None:
        raise script.error

    # ---- figures ---------------------------------------------------------------------------------------------
    def figures(kind: str) -> dict[str, Any]:
        ps = [p for p in phases if p.kind == kind]
        counts: dict[str, int] = {}
        for p in ps:
            for what, n in p.counts.items():
                counts[what] = counts.get(what, 0) + n
        return {
            "seconds": sum(p.ended - p.started for p in ps),
            "stall": [w for p in ps for w in p.per_second(p.stalls())],
            "work": [w for p in ps for w in p.per_second(p.work())],
            "unqueued": [w for p in ps for w in p.per_second(p.without_queue())],
            "over": sum(1 for p in ps for _, v in p.stalls() if v > STALL_MS),
            "over_time": sum(v for p in ps for _, v in p.stalls() if v > STALL_MS) / 1000,
            "queued": sum(p.queued() for p in ps),
            "beats": sum(len(p.beats) for p in ps),
            "caught_up": [p.caught_up_after for p in ps],
            "ui_cpu": sum(p.beats[-1][1] - p.beats[0][1] for p in ps if p.beats),
            "counts": counts,
        }

    idle, load = figures("idle"), figures("load")
    columns = [idle, load]
    messages = sum(len(i.sent) for i in intakes)
    reports = load["counts"].get("change reports", 0)
    print()
    print(
        f"load: {messages} messages into {len(active)} chats, {load['seconds']:.1f} s measured "
        f"({args.rate:g}/s planned; the writes fell behind their schedule by at most "
        f"{max(i.behind_max for i in intakes) * 1000:.0f} ms; the UI had caught up "
        f"{max(load['caught_up']) * 1000:.0f} ms after a block's last message at worst)"
    )
    print(f"baseline: nothing arriving, {idle['seconds']:.1f} s measured; blocks of {args.block:g} s interleaved")
    print(f"what the UI did under load: {', '.join(f'{what} {n}' for what, n in sorted(load['counts'].items()))}")
    print(
        f"CPU: the UI thread {load['ui_cpu'] / load['seconds'] * 100:.0f} % of a core under load "
        f"({load['ui_cpu'] * 1000 / max(1, reports):.1f} ms per change report), "
        f"{idle['ui_cpu'] / idle['seconds'] * 100:.1f} % idle; the intake thread "
        f"{sum(i.cpu for i in intakes) * 1000 / max(1, messages):.1f} ms per message"
    )
    print()
    print(f"| figure (ms) | idle (baseline) | {args.rate:g} msg/s | ratio |")
    print("|---|---:|---:|---:|")
    for label, key in (
        ("longest stall per second", "stall"),
        ("same, less the wait for a free core", "unqueued"),
        ("UI thread's CPU in that gap, per second", "work"),
    ):
        for stat, get in (
            ("p50", lambda v: pct(v, 50)),
            ("p95", lambda v: pct(v, 95)),
            ("max", max),
            ("mean", statistics.mean),
        ):
            a, b = (get(c[key]) for c in columns)
            print(f"| {label}, {stat} | {a:.1f} | {b:.1f} | {b / a if a else float('nan'):.1f}x |")
    print(f"| stalls over {STALL_MS} ms (count) | {idle['over']} | {load['over']} | |")
    print(f"| heartbeats ({BEAT_MS} ms timer) | {idle['beats']} | {load['beats']} | |")
    full = [(a, b, who) for a, b, who in meter.full_collections if any(p.started <= a <= p.ended for p in phases)]
    long_stalls = [(at, ms) for p in phases if p.kind == "load" for at, ms in p.stalls() if ms > STALL_MS]
    in_gc = sum(1 for at, ms in long_stalls if any(a < at and b > at - (ms + BEAT_MS) / 1000 for a, b, _ in full))
    print(
        f"Python's full garbage collections while measuring: {len(full)} "
        f"({', '.join(f'{(b - a) * 1000:.0f} ms on {who}' for a, b, who in full) or 'none'}); "
        f"{in_gc} of the {len(long_stalls)} stalls over {STALL_MS} ms under load overlap one"
    )
    if load["over_time"]:
        print(
            f"in the stalls over {STALL_MS} ms under load ({load['over_time'] * 1000:.0f} ms in all) the UI thread "
            f"waited {load['queued'] * 1000:.0f} ms ({load['queued'] / load['over_time'] * 100:.0f} %) ready to run "
            "for a free core (/proc schedstat): the machine's other work"
        )
    print()
    print("longest stall per second under load (ms):", " ".join(f"{v:.0f}" for v in load["stall"]))
    print("longest stall per second, baseline (ms): ", " ".join(f"{v:.0f}" for v in idle["stall"]))
    p95 = pct(load["stall"], 95)
    verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
    print(f"target: longest stall per second p95 ≤ {TARGET_P95_MS:.0f} ms under load: {verdict} ({p95:.1f} ms)")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    # ---- correctness -----------------------------------------------------------------------------------------
    problems: list[str] = []
    per_chat: dict[str, list[tuple[str, str]]] = {}
    for intake in intakes:
        for jid, message_id, body in intake.sent:
            per_chat.setdefault(chat_of[jid], []).append((message_id, body))
    model = inbox.model
    while model.canFetchMore(QtCore.QModelIndex()):
        model.fetchMore(QtCore.QModelIndex())
    shown = [model.row(i) for i in range(model.rowCount())]
    fresh = store.inbox(limit=100_000)
    if [r.chat_id for r in shown] != [r.chat_id for r in fresh]:
        problems.append(f"the list shows {len(shown)} chats, the store has {len(fresh)} (or in another order)")
    elif shown != fresh:
        stale = sum(1 for a, b in zip(shown, fresh, strict=True) if a != b)
        problems.append(f"{stale} rows of the list differ from the store (unread, last message, …)")
    by_id = {r.chat_id: r for r in shown}
    for chat_id, got in per_chat.items():
        row = by_id.get(chat_id)
        if row is None:
            problems.append(f"active chat {chat_id} is not in the list")
            continue
        expected = before.get(chat_id, 0) + len(got)
        if row.unread_count != expected:
            problems.append(f"chat {chat_id}: unread {row.unread_count} shown, {expected} expected")
        if row.last_message_body != got[-1][1]:
            problems.append(f"chat {chat_id}: last message shown is not the last one received")
    # The open chat holds its newest page (earlier ones load on scrolling up): it must be the store's newest
    # messages in the store's order, with every message it was sent that falls within that page.
    in_view = [inbox.chat_model.item(i) for i in range(inbox.chat_model.rowCount())]
    view_ids = [item.id for item in in_view if item.kind == "message"]
    newest = [m.id for m in store.messages.for_chat(open_id, limit=len(view_ids))]
    if view_ids != newest:
        problems.append("the open chat does not show its newest messages in the store's order")
    sent_open = [m for m, _ in per_chat.get(open_id, [])]
    due = sent_open[-len(view_ids) :] if view_ids else sent_open
    missing = [m for m in due if m not in set(view_ids)]
    if missing or not sent_open or view_ids[-1:] != sent_open[-1:]:
        problems.append(f"the open chat lacks {len(missing)} of the last {len(due)} messages it was sent")
    if not inbox.conversation.at_bottom():
        problems.append("the open chat is not showing its newest message (not at the bottom)")
    print()
    print(
        f"check: the list shows {len(shown)} chats (the store {len(fresh)}); {len(per_chat)} active chats' unread "
        f"counts and last messages; the open chat was sent {len(sent_open)}, shows its newest {len(view_ids)} "
        f"messages with {len(due) - len(missing)} of the {len(due)} sent ones due in them, at the bottom: "
        f"{inbox.conversation.at_bottom()}"
    )
    for problem in problems:
        print("WRONG:", problem)
    print("check:", "ok" if not problems else f"{len(problems)} problem(s)")

    if profiler is not None:
        profiler.dump_stats(args.profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        print(f"profile of the UI thread during load: {args.profile}")

    window.close()
    shutdown.run()
    tmp.cleanup()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
