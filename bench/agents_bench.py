"""Issue 18's agents figures: the orchestrator's overhead per event (target: p95 ≤ 5 ms, the model excluded), and
message received → draft shown against the instant local endpoint (target: p95 ≤ 300 ms; ``bench/agents_draft.py``).

    .venv/bin/python -m bench.agents_bench [--rounds 400] [--batch 200] [--drafts 60] [--warmup 3] [--only PART]

**Overhead per event.**
A workspace SQLCipher file, the orchestrator on a service loop (``LoopThread``) and agents that do nothing (the
model excluded, as the target says). Measured, alternating with the baseline so machine noise hits both alike:

- **baseline: the bare event append** — ``Store.emit`` of one event (the write transaction every event already costs);
- **a loop trip** — an empty coroutine submitted to the service loop and waited for from here (what any work on the
  loop costs before it does anything);
- **one event, an agent outside conversations** (``replies`` False, like finance): the event logged (not timed),
  then ``drain`` timed from here — read the batch after the cursor, build the event, run the no-op agent, write its
  execution row and the cursor in one transaction, through the loop and its worker threads;
- **one customer message, an agent that answers customers** in a chat on AI autopilot (debounce 0): the same plus
  the conversation gates (a later message of the burst? who owns the chat — the chat, the acquisition config, the
  latest human message; the cooldown's executions probe; the rate cap's claim and release);
- **a backlog**: ``--batch`` events logged, then drained at once (what a start after a closed day costs per event).

**Message received → draft shown** (``--drafts`` messages in as many chats, ``--warmup`` more first, not counted):
the real path from the WhatsApp intake write to the draft painted in the AI panel, with the acquisition agent in
*AI drafts* and its debounce set to 0 (default 20 s), against ``tests/ai/openai_server.py``; the baseline is the
model call alone through the same provider. See ``bench/agents_draft.py``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from app.agents import configs
from app.agents.context import AgentContext, Outcome
from app.agents.orchestrator import Orchestrator
from app.core.events import ContactCreated, Event, MessageReceived
from app.core.ids import utc_now
from app.core.loops import LoopThread
from app.store import intake, keys
from app.store.database import Database
from app.store.intake import CapturedMessage
from app.store.store import Store

_ids = itertools.count(1)


class Quiet:
    """Does nothing (the model excluded)."""

    replies = False

    def __init__(self, name: str, wants: str, *, replies: bool = False) -> None:
        self.name = name
        self.wants = frozenset({wants})
        self.replies = replies

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        return Outcome.skip("noop")


def ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def customer_message(store: Store, phone: str) -> None:
    captured = CapturedMessage(
        wa_id=f"in-{next(_ids)}", chat_jid=f"{phone}@c.us", from_me=False, body="hello", timestamp=utc_now()
    )
    intake.record_message(store, captured)


def loads() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=400, help="overhead: events timed per figure")
    parser.add_argument("--batch", type=int, default=200, help="overhead: events in the backlog")
    parser.add_argument("--drafts", type=int, default=60, help="message → draft: messages timed (one chat each)")
    parser.add_argument("--warmup", type=int, default=3, help="message → draft: messages first, not counted")
    parser.add_argument("--only", choices=("overhead", "draft"), default=None, help="run one part only")
    args = parser.parse_args()
    print(f"command: python -m bench.agents_bench {' '.join(sys.argv[1:])}".rstrip())
    print(f"load average at start (1/5/15 min): {loads()}")
    if args.only in (None, "overhead"):
        with tempfile.TemporaryDirectory() as tmp:
            run(Path(tmp), args.rounds, args.batch)
        print(f"load average after the overhead part: {loads()}")
    if args.only in (None, "draft") and args.drafts > 0:
        root = str(Path(__file__).resolve().parent.parent)
        if root not in sys.path:
            sys.path.insert(0, root)  # ``python bench/agents_bench.py`` as well as ``-m bench.agents_bench``
        from bench import agents_draft

        with tempfile.TemporaryDirectory(prefix="parley-agents-draft-") as tmp:
            agents_draft.run(Path(tmp), args.drafts, args.warmup)
    print(f"load average at end (1/5/15 min): {loads()}")


def run(tmp: Path, rounds: int, batch: int) -> None:
    store = Store(Database.open(tmp / "bench.db", keys.random_key()), "bench-org")
    configs.save(
        store,
        "acquisition",
        enabled=True,
        mode="autopilot",
        config={"debounce_seconds": 0, "cooldown_seconds": 30, "rate_per_minute": 60},
    )
    plain = Quiet("plain", ContactCreated.name)
    chatty = Quiet("acquisition", MessageReceived.name, replies=True)
    loop = LoopThread("parley-service")
    orchestrator = Orchestrator(store, [plain, chatty], loop=loop)
    loop.run(orchestrator.run_pending())  # the cursors exist from here
    org = store.org_id

    async def nothing() -> None:
        return None

    def emit() -> None:
        store.emit(ContactCreated(org_id=org, contact_id=f"c{next(_ids)}"))

    samples: dict[str, list[float]] = {k: [] for k in ("append", "trip", "plain", "chatty")}
    for i in range(rounds):
        samples["append"].append(timed(emit))  # the baseline (also the event the plain agent drains next)
        samples["trip"].append(timed(lambda: loop.run(nothing())))
        samples["plain"].append(timed(lambda: loop.run(orchestrator.drain(plain))))
        customer_message(store, f"3460{i % 50:07d}")  # 50 chats, a message each round (not timed)
        samples["chatty"].append(timed(lambda: loop.run(orchestrator.drain(chatty))))
    runs = orchestrator.runs
    for _ in range(batch):
        emit()
    backlog = timed(lambda: loop.run(orchestrator.drain(plain)))
    assert orchestrator.runs - runs == batch, "the backlog was not drained"

    print(f"{rounds} rounds; {store.agent_executions.count()} executions written")
    print("| figure | median (ms) | p95 (ms) |")
    print("|---|---:|---:|")
    rows = (
        ("bare event append, `Store.emit` (baseline)", "append"),
        ("loop trip, empty coroutine", "trip"),
        ("one event → no-op agent (`replies` False): execution + cursor", "plain"),
        ("one customer message → no-op agent answering customers (autopilot gates)", "chatty"),
    )
    for label, key in rows:
        median, p95 = ms(samples[key])
        print(f"| {label} | {median:.3f} | {p95:.3f} |")
    print(f"| backlog of {batch} events drained, per event | {backlog / batch * 1000:.3f} | — |")
    base_median, base_p95 = ms(samples["append"])
    for key in ("plain", "chatty"):
        median, p95 = ms(samples[key])
        print(f"{key}: overhead over the bare append: median ×{median / base_median:.1f}, p95 ×{p95 / base_p95:.1f}")
    loop.close()
    store.close()


if __name__ == "__main__":
    main()
