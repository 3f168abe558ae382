"""Pacing benchmark: the scheduler's overhead per automated send beyond what was planned (issue 19: ≤ 50 ms p95).

The WhatsApp service as the app wires it (``WhatsAppHost`` → ``Supervisor`` on its own loop thread, the real driver
and ``Sender``) in headless Chromium against the imitation (a process of its own), on a passphrase-mode SQLCipher
workspace — the set-up of ``bench/media_flow_bench.py``, imported from it (store, humanizer that remembers its
plan, the store-bus watcher, the driver settling). N automated messages (``sent_by_agent``, alternating retention
and autopilot as the agents queue them) to N contacts are queued at once under a fast pace (gaps of 0.5–1.0 s, a
3 s pause after every 10), and a person's reply is queued halfway.

Per automated send: the moment it became due — the later of the previous send's end and the ``not_before`` of the
budget's last ``waiting`` answer in between (the gap or the batch pause) — to the moment ``send_next`` returned it
sent, minus the reading and typing time the humanizer planned for it. That is the supervisor's wake-up after the
wait, the pick (limits, budget, history query), marking it typing, opening the chat and waiting for the row. Also:
the pick alone (``Sender._pick``, on the worker thread), and the person's reply from queued to sent beyond its own
plan (it may wait for the automated message being typed when it arrives, never for a gap or a pause).

Instrumentation: ``Sender.send_next`` and ``Sender._pick`` are wrapped in this process to time them (nothing else
changes). Figures are printed, never asserted; a message not sent, or sent out of order, makes the exit status
non-zero.

    python -m bench.pacing_bench [--quick] [--messages 40] [--seed 17]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # nothing touches the user's keyring

from app.store.intake import CapturedChat, record_chat  # noqa: E402
from app.store.ops.agent_send import AutomatedSend, send_automated  # noqa: E402
from app.store.ops.messages import queue_message  # noqa: E402
from app.whatsapp.config import service_config  # noqa: E402
from app.whatsapp.host import WhatsAppHost  # noqa: E402
from app.whatsapp.pacing import Pace  # noqa: E402
from app.whatsapp.profile import load_profile  # noqa: E402
from app.whatsapp.sender import Sender, SendOutcome  # noqa: E402
from app.whatsapp.status import ConnectionState  # noqa: E402
from app.whatsapp.supervisor import Supervisor  # noqa: E402
from bench.media_flow_bench import BENCH_LIMITS, FAST, MediaFlowBench  # noqa: E402
from bench.media_flow_parts import Watch, imitation_process  # noqa: E402
from bench.whatsapp_bench import chromium_version, load_average, pct  # noqa: E402
from tests.whatsapp.imitation_server import ImitationControl  # noqa: E402

CONNECT_TIMEOUT = 60.0
PACE = Pace(
    gap_min_seconds=0.5,
    gap_max_seconds=1.0,
    per_hour=10_000,
    per_day=10_000,
    warmup=(),
    windows=(),
    batch_size=10,
    batch_pause_seconds=3.0,
)


@dataclasses.dataclass
class Call:
    started: float
    ended: float
    outcome: SendOutcome
    planned: float  # reading + typing the humanizer drew during this call


class Recorder:
    """Wraps ``Sender.send_next`` and ``Sender._pick`` (class attributes, this process only) to time each call."""

    def __init__(self, take_planned: Callable[[], float]) -> None:
        self.calls: list[Call] = []
        self.picks: list[float] = []
        self.lock = threading.Lock()
        self._take = take_planned
        send_next, pick = Sender.send_next, Sender._pick
        recorder = self

        async def timed_send_next(sender: Sender) -> SendOutcome:
            started = time.time()
            outcome = await send_next(sender)
            with recorder.lock:
                recorder.calls.append(Call(started, time.time(), outcome, recorder._take()))
            return outcome

        def timed_pick(sender: Sender, queue: list[Any]) -> Any:
            started = time.perf_counter()
            try:
                return pick(sender, queue)
            finally:
                with recorder.lock:
                    recorder.picks.append(time.perf_counter() - started)

        Sender.send_next = timed_send_next  # type: ignore[method-assign]
        Sender._pick = timed_pick  # type: ignore[method-assign]
        # Where the supervisor's wake-up goes: how late its timed pause ends, and its status publishing.
        self.pause_late: list[float] = []
        self.publishes: list[float] = []
        pause, publish = Supervisor._pause, Supervisor.publish

        async def timed_pause(supervisor: Supervisor, delay: float | None) -> None:
            started = time.perf_counter()
            await pause(supervisor, delay)
            if delay is not None and delay > 0:
                late = time.perf_counter() - started - delay
                if late >= 0:  # timed out (not woken early by a change)
                    with recorder.lock:
                        recorder.pause_late.append(late)

        def timed_publish(supervisor: Supervisor) -> None:
            started = time.perf_counter()
            publish(supervisor)
            with recorder.lock:
                recorder.publishes.append(time.perf_counter() - started)

        self.memory_checks: list[float] = []
        memory = Supervisor._memory_exceeded

        def timed_memory(supervisor: Supervisor) -> bool:
            started = time.perf_counter()
            try:
                return memory(supervisor)
            finally:
                with recorder.lock:
                    recorder.memory_checks.append(time.perf_counter() - started)

        Supervisor._memory_exceeded = timed_memory  # type: ignore[method-assign]
        Supervisor._pause = timed_pause  # type: ignore[method-assign]
        Supervisor.publish = timed_publish  # type: ignore[method-assign]


def overheads(
    calls: list[Call], automated: set[str], typing_at: dict[str, float]
) -> tuple[list[float], list[float], list[float], list[str]]:
    """Per automated send: due → typing (the scheduler: wake-up, queue read, pick, mark typing), due → sent beyond
    the plan (the scheduler and the page work); and the order messages went out in."""
    result: list[float] = []
    scheduler: list[float] = []
    wake: list[float] = []  # due → send_next called (the supervisor's part of the scheduler)
    order: list[str] = []
    previous_end: float | None = None
    due_wait: float | None = None
    for call in calls:
        o = call.outcome
        if o.kind == "waiting" and o.not_before is not None:
            due_wait = o.not_before.timestamp()
            continue
        if o.kind != "sent" or o.message_id is None:
            continue
        order.append(o.message_id)
        if o.message_id in automated and previous_end is not None:
            due = max(previous_end, due_wait or 0.0)
            result.append(call.ended - due - call.planned)
            scheduler.append(typing_at[o.message_id] - due)
            wake.append(call.started - due)
        previous_end, due_wait = call.ended, None
    return result, scheduler, wake, order


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="15 automated messages")
    parser.add_argument("--messages", type=int, default=None, help="automated messages queued at once (40)")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    n = args.messages or (15 if args.quick else 40)
    print(f"pacing bench: {n} automated messages, gaps 0.5–1.0 s, 3 s after every 10; load {load_average()}")
    print(f"chromium: {chromium_version()}")
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="parley-pacing-bench-") as tmp:
        work = Path(tmp)
        parts = MediaFlowBench(argparse.Namespace(seed=args.seed), work)  # its store and driver helpers
        store = parts.open_store("home")
        watch = Watch(store)
        parts.store, parts.watch = store, watch
        try:
            with imitation_process() as (url, _pid):
                control = ImitationControl(url)
                phones = [f"6595{i:06d}" for i in range(n + 1)]
                for i, phone in enumerate(phones):
                    control.add_chat(phone, f"Customer {i + 1}")
                control.scan()
                base = service_config(store.settings, seed=args.seed)
                config = dataclasses.replace(base, url=url + "/", limits=BENCH_LIMITS, typing=FAST, pacing=PACE)
                host = WhatsAppHost(store, load_profile(None), work / "wa-profile", config, watch.on_status)
                parts.host = host
                watch.on_queued = host.queue_changed
                host.start()
                try:
                    humanizer = parts.install_humanizer(host)
                    recorder = Recorder(lambda: sum(seconds for _what, seconds in humanizer.take()))
                    host.connect()
                    watch.wait(lambda: watch.state is ConnectionState.connected, CONNECT_TIMEOUT, "connect")
                    parts.settle_driver()
                    chats = [
                        record_chat(store, CapturedChat(chat_jid=f"{p}@c.us", title=f"Customer {i + 1}"))
                        for i, p in enumerate(phones)
                    ]
                    automated: list[str] = []
                    for i, chat in enumerate(chats[:n]):
                        agent = "retention" if i % 2 == 0 else "autopilot"
                        body = f"Hello Customer {i + 1}, a note from the shop ({agent}) #{i + 1:02d}"
                        send = AutomatedSend(
                            chat_id=chat.id, bodies=[body], agent=agent, execution_id=f"bench-{i}", answering=None
                        )
                        queued = send_automated(store, send, recheck=lambda: None, holds=lambda _s: True).value
                        automated.extend(m.id for m in queued.queued)
                    host.queue_changed()
                    half = automated[n // 2]
                    watch.wait(lambda: (half, "sent") in watch.status, 600, "half of the automated messages")
                    reply_started = time.time()
                    reply = queue_message(store, chats[n].id, "Thanks! I'll bring it by myself tomorrow").value
                    everything = [*automated, reply.id]
                    watch.wait(lambda: all((m, "sent") in watch.status for m in everything), 600, "all sent")
                finally:
                    host.close()
        finally:
            store.close()
    with recorder.lock:
        calls = list(recorder.calls)
        picks = list(recorder.picks)
    typing_at = {mid: at for (mid, status), at in watch.status.items() if status == "typing"}
    beyond, scheduler, wake, order = overheads(calls, set(automated), typing_at)
    if [m for m in order if m in automated] != automated:
        failures.append("automated messages went out of order")
    if sorted(order) != sorted(everything):
        failures.append(f"{len(order)} sends for {len(everything)} queued")
    reply_call = next(c for c in calls if c.outcome.message_id == reply.id and c.outcome.kind == "sent")
    reply_beyond = reply_call.ended - reply_started - reply_call.planned
    waits = [c.outcome.reason for c in calls if c.outcome.kind == "waiting"]
    ms = [x * 1000 for x in beyond]
    sched_ms = [x * 1000 for x in scheduler]
    print(f"automated sends measured: {len(ms)} (the first is due at once and not counted)")
    print(
        f"the scheduler per automated send, due → typing: p50 {statistics.median(sched_ms):.1f} ms, "
        f"p95 {pct(sched_ms, 95):.1f} ms, max {max(sched_ms):.1f} ms  (target p95 ≤ 50 ms)"
    )
    print(
        f"beyond plan per automated send: p50 {statistics.median(ms):.1f} ms, p95 {pct(ms, 95):.1f} ms, "
        f"max {max(ms):.1f} ms  (scheduler + opening the chat + the row)"
    )
    wake_ms = [x * 1000 for x in wake]
    print(
        f"  of which due → send_next called (the supervisor waking): p50 {statistics.median(wake_ms):.1f} ms, "
        f"p95 {pct(wake_ms, 95):.1f} ms"
    )
    late_ms = [x * 1000 for x in recorder.pause_late]
    pub_ms = [x * 1000 for x in recorder.publishes]
    print(
        f"  the supervisor's timed pause ends late by p50 {statistics.median(late_ms):.1f} / p95 "
        f"{pct(late_ms, 95):.1f} ms; its status publish (on its loop, two a send) p50 "
        f"{statistics.median(pub_ms):.1f} / p95 {pct(pub_ms, 95):.1f} ms"
    )
    mem_ms = [x * 1000 for x in recorder.memory_checks]
    print(
        f"  its browser memory check on its loop (a sample starts in a worker thread every 5 s) p50 "
        f"{statistics.median(mem_ms):.1f} / p95 {pct(mem_ms, 95):.1f} / max {max(mem_ms):.1f} ms"
    )
    pick_ms = [x * 1000 for x in picks]
    print(
        f"the pick alone (limits, budget, history): p50 {statistics.median(pick_ms):.2f} ms, "
        f"p95 {pct(pick_ms, 95):.2f} ms over {len(pick_ms)} picks"
    )
    print(
        f"a person's reply queued halfway: sent {reply_beyond * 1000:.0f} ms beyond its own plan, "
        f"{order.index(reply.id) - order.index(half) - 1} automated sends went between (0: it went next)"
    )
    print(
        f"waits: {waits.count('pause between automated messages')} gaps, "
        f"{waits.count('pause after 10 automated messages')} batch pauses; load {load_average()}"
    )
    print(f"finished {datetime.now().isoformat(timespec='seconds')}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
