"""WhatsApp driver benchmark: inbound latency and throughput, real typing speed, browser memory.

Runs the real ``WhatsAppDriver`` in real headless Chromium against the WhatsApp Web imitation
(``tests/whatsapp/imitation_server.py``, in a process of its own), writing into a real SQLCipher workspace
(passphrase mode), and prints, measured in one run:

1. **Inbound latency**, page → store: for each message injected through the imitation's control API, the time from
   its row being inserted in the page's DOM to the store's commit of its row, p50/p95/max, for single messages into
   the open chat, single messages into other chats (the driver must open them), and bursts. The page side is a
   ``MutationObserver`` the bench adds to the page (``Date.now()`` per new ``data-id``, taken in the observer's
   callback right after the insertion); the store side is a ``MessageReceived`` subscriber on the store's bus (it runs
   on the writing thread right after COMMIT, ``time.time()``). Both are the system clock, so the resolution is 1 ms
   (``Date.now()`` is whole milliseconds); nothing on the measured path polls: the bench paces itself with
   ``driver.wait_until`` (event-driven), which only decides when the next message is injected.
   Baselines from the same run: the bench's own observer also calls an exposed binding at once (no debounce, no
   store): page → Python for the same rows; and the intake write of the same rows into a fresh SQLCipher store next
   to a plain SQLite one (``record_messages``, one message per transaction).
   **Throughput**: messages landed in the store per second for a burst of N (first POST → last commit), with the
   rate at which the control API accepted the POSTs (the injection ceiling) alongside, and as baseline the intake
   alone writing the same kind of rows in batches of 25 (what the store could take without the browser).
2. **Outbound typing**: a few real messages sent through ``Sender`` with the default ``TypingPace`` (real
   keystrokes into the page's composer): realised chars/s per message, from the page's own key events (Backspace
   keyup that clears the composer, just before the first keystroke's delay → the Enter keydown), next to the
   humanizer's plan for that message; and the planned speed of 1,000 plans of 20–60 characters (no browser).
3. **Browser memory**: RSS of the browser and all its children (``browser_rss_bytes``) right after connecting, and
   after 1,000 inbound messages (``--quick``: 250) across several chats; next to it the same tree's USS (private
   pages only), since RSS counts every shared library page once per process.

4. **Catch-up at connect** (``bench/whatsapp_catchup.py``): 2,000 messages across 100 chats waiting while Parley was
   closed → seconds from ``driver.start()`` until all are in the store, next to the seconds a plain Playwright reader
   needs to have the page show them all (no driver, no store); ``--catch-up-only`` runs just this part.

Lost, duplicated or altered messages are counted; any of them, a send that did not go out once, or a driver error
makes the exit status non-zero. Nothing here is a test: figures are printed, never asserted.

    python -m bench.whatsapp_bench [--quick] [--catch-up-only] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import keyring  # noqa: E402

from app.core.events import MessageReceived  # noqa: E402
from app.core.ids import new_id  # noqa: E402
from app.store import keys  # noqa: E402
from app.store.database import Database  # noqa: E402
from app.store.intake import CapturedChat, CapturedMessage, record_chat, record_messages  # noqa: E402
from app.store.keyring_vault import KeyringVault  # noqa: E402
from app.store.messaging import queue_outbound  # noqa: E402
from app.store.store import Store  # noqa: E402
from app.store.workspaces import Workspaces  # noqa: E402
from app.whatsapp.browser import browser_pid, browser_rss_bytes, find_chromium  # noqa: E402
from app.whatsapp.driver import ConnectionState, WhatsAppDriver, parse_data_id  # noqa: E402
from app.whatsapp.humanizer import Humanizer, TypingPace, TypingPlan, graphemes  # noqa: E402
from app.whatsapp.limits import SendLimits  # noqa: E402
from app.whatsapp.profile import load_profile  # noqa: E402
from app.whatsapp.sender import Sender  # noqa: E402
from bench.whatsapp_catchup import CatchUp, run_catch_up  # noqa: E402
from tests.whatsapp.imitation_server import ImitationControl  # noqa: E402

CONNECT_TIMEOUT = 30.0
LAND_TIMEOUT = 15.0  # a message not in the store this long after its injection counts as lost
HOP_BINDING = "__parleyBenchHop"

# Inbound chats (phone, name) and the chats the typing part sends to (fresh: no inbound text to read first).
INBOUND_CHATS = [(f"659100000{i}", f"Customer {i}") for i in range(1, 7)]
TYPING_CHATS = [(f"659200000{i}", f"Shop Friend {i}") for i in range(1, 7)]
# Replies of 22–58 characters, ASCII (every keystroke is a real keydown / input / keyup in the page).
TYPED = (
    "Of course, size M fits",
    "Your order ships tomorrow morning.",
    "Thanks, payment received. See you soon!",
    "The blue dress is back in stock, shall I keep one?",
    "Delivery is free above 50 euros, and returns take 14 days.",
)
WORDS = [
    *("hello", "order", "dress", "size", "stock", "delivery", "thanks", "payment", "tomorrow", "morning", "shop"),
    *("price", "blue", "red", "small", "large", "parcel", "sandals", "scarf", "bag", "photo", "address", "today"),
    *("week", "return", "free", "please", "yes", "no", "maybe", "soon"),
]

# Installed in the page by the bench (init script for reloads, evaluated once for the page already open).
PROBE_SCRIPT = r"""
(() => {
  if (window.top !== window || window.__parleyBench) return;
  window.__parleyBench = true;
  const seen = (window.__benchSeen = {});
  window.__benchKeys = [];
  function look(node, fresh, now) {
    if (node.nodeType !== 1) return;
    const found = node.hasAttribute('data-id') ? [node] : [];
    for (const el of node.querySelectorAll('[data-id]')) found.push(el);
    for (const el of found) {
      const id = el.getAttribute('data-id');
      if (id && !(id in seen)) { seen[id] = now; fresh.push([id, now]); }
    }
  }
  function start() {
    new MutationObserver((records) => {
      const now = Date.now();
      const fresh = [];
      for (const record of records) for (const node of record.addedNodes) look(node, fresh, now);
      if (fresh.length && typeof window.__HOP__ === 'function') window.__HOP__(fresh).catch(() => {});
    }).observe(document.documentElement, { subtree: true, childList: true });
    look(document.documentElement, [], Date.now());
  }
  const keyLog = (ev) => {
    if (ev.target && ev.target.isContentEditable) window.__benchKeys.push([ev.type, ev.key || '', performance.now()]);
  };
  for (const type of ['keydown', 'keyup', 'input']) document.addEventListener(type, keyLog, true);
  if (document.documentElement) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
})();
""".replace("__HOP__", HOP_BINDING)


@dataclass(frozen=True)
class Workload:
    typed: int  # messages typed through the Sender
    singles_open: int  # single messages into the open chat
    singles_other: int  # single messages, each into a chat that is not open
    bursts: int  # bursts of burst_size, alternately into the open chat and another one
    burst_size: int
    big_burst: int  # one burst into the open chat, for throughput
    inbound_total: int  # the soak tops the inbound count up to this before the second RSS reading
    plans: int = 1000


FULL = Workload(typed=5, singles_open=100, singles_other=40, bursts=8, burst_size=25, big_burst=200, inbound_total=1000)
QUICK = Workload(typed=2, singles_open=20, singles_other=8, bursts=2, burst_size=20, big_burst=100, inbound_total=250)


@dataclass
class Injected:
    wa_id: str
    chat: str
    name: str
    text: str
    phase: str
    posted: float  # time.time() just before the POST


@dataclass
class Burst:
    phase: str
    size: int
    first_post: float
    last_post_done: float
    messages: list[Injected] = field(default_factory=list)


class Landing:
    """Commit times of inbound messages, from the store's bus (runs on the writing thread right after COMMIT)."""

    def __init__(self, store: Store) -> None:
        self.commits: dict[str, float] = {}  # message id -> time.time()
        self.events = 0
        self.repeats = 0  # MessageReceived twice for one message: a duplicate
        store.bus.subscribe(MessageReceived, self._on_received)

    def _on_received(self, event: MessageReceived) -> None:
        now = time.time()
        self.events += 1
        if event.message_id in self.commits:
            self.repeats += 1
        else:
            self.commits[event.message_id] = now


class PageProbe:
    """The bench's observer in the page: first DOM insertion per data-id, and the binding hop to Python."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}  # message id (from the row's data-id) -> page time (s) of first insertion
        self.hop: dict[str, float] = {}  # message id -> seconds from insertion to the binding call in Python

    async def on_hop(self, _source: Any, rows: Any) -> None:
        now = time.time()
        if isinstance(rows, list):
            for data_id, ms in rows:
                self.hop.setdefault(parse_data_id(str(data_id)).wa_id, now - float(ms) / 1000)

    async def install(self, driver: WhatsAppDriver) -> None:
        context = driver.page.context
        await context.expose_binding(HOP_BINDING, self.on_hop)
        await context.add_init_script(PROBE_SCRIPT)
        await driver.page.evaluate(PROBE_SCRIPT)

    async def collect(self, driver: WhatsAppDriver) -> None:
        shown = await driver.page.evaluate("() => window.__benchSeen || {}")
        for data_id, ms in shown.items():
            self.seen.setdefault(parse_data_id(str(data_id)).wa_id, float(ms) / 1000)


class RecordingHumanizer(Humanizer):
    """The default humanizer, remembering the plan it drew for each text (to compare with what the page saw)."""

    def __init__(self, settings: TypingPace, rng: random.Random) -> None:
        super().__init__(settings, rng)
        self.plans: dict[str, TypingPlan] = {}

    def typing_plan(self, text: str) -> TypingPlan:
        plan = super().typing_plan(text)
        self.plans[text] = plan
        return plan


# ---- small helpers --------------------------------------------------------------------------------------------


def pct(samples: Sequence[float], p: int) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1]


def load_average() -> str:
    return "{:.2f} {:.2f} {:.2f} (1/5/15 min)".format(*os.getloadavg())


def chromium_version() -> str:
    exe = find_chromium(ask_playwright=False).executable
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=30, check=False)
    return f"{done.stdout.strip() or '?'} ({exe})"


@contextmanager
def imitation_process() -> Iterator[str]:
    """The imitation server in a process of its own (as WhatsApp is not in ours): its URL while it runs."""
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
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tree_uss_bytes(pid: int) -> int:
    """Unique set size of ``pid`` and its descendants: their private pages, what quitting the browser frees (Linux).

    Unlike RSS it does not count shared libraries once per process; unlike PSS it does not depend on what else runs
    (other Chromiums on the machine share the same library pages).
    """
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        children.setdefault(int(stat[stat.rfind(")") + 2 :].split()[1]), []).append(int(name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, ()))
        try:
            lines = Path(f"/proc/{current}/smaps_rollup").read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        total += sum(
            int(line.split()[1]) * 1024 for line in lines if line.startswith(("Private_Clean:", "Private_Dirty:"))
        )
    return total


def mib(n: int) -> float:
    return n / 2**20


def planned_speed(plan: TypingPlan) -> float:
    return len(plan.keystrokes) / plan.seconds


def realised_speed(events: list[list[Any]], n: int) -> tuple[float, int] | None:
    """chars/s between the Backspace keyup that clears the composer and the Enter keydown, and the input count."""
    starts = [i for i, (kind, key, _t) in enumerate(events) if kind == "keyup" and key == "Backspace"]
    if not starts:
        return None
    start = starts[-1]
    for end in range(start + 1, len(events)):
        if events[end][0] == "keydown" and events[end][1] == "Enter":
            inputs = sum(1 for kind, _key, _t in events[start:end] if kind == "input")
            seconds = (float(events[end][2]) - float(events[start][2])) / 1000
            return n / seconds, inputs
    return None


# ---- the run ------------------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.workload = QUICK if args.quick else FULL
        self.rng = random.Random(args.seed)
        self.seed = args.seed
        self.work = work
        self.failures: list[str] = []
        self.injected: list[Injected] = []
        self.bursts: list[Burst] = []
        self.big: Burst | None = None
        self.typing: list[dict[str, Any]] = []
        self.rss: dict[str, int] = {}
        self.counter = 0
        self.missing = 0  # messages given up on by landed()
        self.catch_up_only = bool(args.catch_up_only)
        self.catch_up: CatchUp | None = None

    # -- setup --
    def open_store(self, home: str = "home") -> Store:
        # Passphrase mode (Argon2id at its production cost); the null keyring: nothing touches the user's keyring.
        os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        workspaces = Workspaces(self.work / home, KeyringVault(keyring.get_keyring()))
        return workspaces.create("Bench Boutique", "Bench Owner", passphrase="parley bench passphrase")

    async def catch_up_part(self) -> None:
        """Messages waiting at connect, on an imitation and a store of their own (``bench/whatsapp_catchup.py``)."""
        store = self.open_store("catchup-home")
        try:
            with imitation_process() as url:
                self.catch_up = await run_catch_up(url, store, self.work, self.seed)
        finally:
            store.close()
        c = self.catch_up
        if c.landed != c.messages or c.duplicates:
            self.failures.append(f"catch-up: {c.landed} of {c.messages} in the store, {c.duplicates} duplicated")

    async def run(self) -> None:
        if not self.catch_up_only:
            await self.main_part()
        await self.catch_up_part()

    async def main_part(self) -> None:
        self.store = self.open_store()
        self.landing = Landing(self.store)
        self.probe = PageProbe()
        with imitation_process() as url:
            control = ImitationControl(url)
            control.configure(slow_ms=60, sync_ms=120)
            self.control = control
            for phone, name in [*INBOUND_CHATS, *TYPING_CHATS[: self.workload.typed]]:
                control.add_chat(phone, name)
            control.scan()
            profile_dir = self.work / "wa-profile"
            driver = WhatsAppDriver(self.store, load_profile(None), profile_dir, url=url + "/")
            self.driver = driver
            started = time.perf_counter()
            await driver.start()
            try:
                await driver.wait_until(lambda: driver.state is ConnectionState.connected, CONNECT_TIMEOUT)
                self.connect_seconds = time.perf_counter() - started
                pid = browser_pid(profile_dir)
                self.rss["connected"] = browser_rss_bytes(pid) if pid else 0
                self.rss["connected_uss"] = tree_uss_bytes(pid) if pid else 0
                await self.probe.install(driver)
                await self.typing_part()
                await self.probe.collect(driver)  # again at the end: a reload would start the page's record afresh
                await self.inbound_part()
                await self.probe.collect(driver)
                self.rss["after"] = browser_rss_bytes(pid) if pid else 0
                self.rss["after_uss"] = tree_uss_bytes(pid) if pid else 0
                self.rss["after_count"] = len(self.injected)
                if driver.last_error:
                    self.failures.append(f"driver error: {driver.last_error}")
                if driver.skipped:
                    self.failures.append(f"driver skipped {driver.skipped} rows it could not attribute")
                self.page_sent = [
                    m for c in control.state()["chats"] for m in c["messages"] if m["from_me"] and m["source"] == "page"
                ]
            finally:
                await driver.stop()
        self.check_messages()
        self.write_baseline()
        self.store.close()

    # -- outbound --
    async def typing_part(self) -> None:
        humanizer = RecordingHumanizer(TypingPace(), random.Random(self.seed))
        sender = Sender(self.driver, self.store, humanizer, SendLimits(quiet_start=None, quiet_end=None))
        for (phone, name), text in zip(TYPING_CHATS[: self.workload.typed], TYPED, strict=False):
            chat = record_chat(self.store, CapturedChat(chat_jid=f"{phone}@c.us", title=name))
            message = queue_outbound(self.store, chat.id, text)
            await self.driver.page.evaluate("() => { window.__benchKeys = []; }")
            started = time.perf_counter()
            outcome = await sender.send_next()
            wall = time.perf_counter() - started
            events = await self.driver.page.evaluate("() => window.__benchKeys || []")
            plan = humanizer.plans.get(text)
            row: dict[str, Any] = {"text": text, "chars": len(graphemes(text)), "outcome": outcome.kind, "wall": wall}
            if outcome.kind != "sent" or outcome.message_id != message.id:
                self.failures.append(f"typed message {text!r}: {outcome.kind} {outcome.reason}")
            if plan is not None:
                row["planned"] = planned_speed(plan)
                row["plan_seconds"] = plan.seconds
            realised = realised_speed(events, row["chars"])
            if realised is None:
                self.failures.append(f"typed message {text!r}: no key events seen in the page")
            else:
                row["realised"], row["inputs"] = realised
                if row["inputs"] != row["chars"]:
                    self.failures.append(f"typed message {text!r}: {row['inputs']} inputs for {row['chars']} chars")
            self.typing.append(row)

    # -- inbound --
    async def header(self) -> str | None:
        value = await self.driver.page.evaluate("() => window.__parleyScan ? window.__parleyScan().header : null")
        return value if isinstance(value, str) else None

    def next_text(self, phase: str) -> str:
        self.counter += 1
        words = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(2, 9)))
        return f"{words} #{self.counter} ({phase})"

    def post(self, phone: str, name: str, phase: str) -> Injected:
        text = self.next_text(phase)
        posted = time.time()
        result = self.control.incoming(phone, text, name=name)
        message = Injected(str(result["id"]), phone, name, text, phase, posted)
        self.injected.append(message)
        return message

    def post_burst(self, phone: str, name: str, phase: str, size: int) -> Burst:
        first = time.time()
        messages = [self.post(phone, name, phase) for _ in range(size)]
        return Burst(phase, size, first, time.time(), messages)

    async def landed(self, what: str) -> None:
        """Wait (on the driver's notifications) until every message injected so far is in the store, or time out."""
        expected = len(self.injected) - self.missing
        try:
            await self.driver.wait_until(lambda: self.landing.events >= expected, LAND_TIMEOUT)
        except TimeoutError:
            short = expected - self.landing.events
            self.missing += short  # counted as lost below unless they turn up later; later waits do not wait for them
            self.failures.append(f"{what}: {short} messages not in the store {LAND_TIMEOUT:g} s after the last POST")

    def chat_named(self, name: str | None) -> tuple[str, str]:
        for phone, chat_name in INBOUND_CHATS:
            if chat_name == name:
                return phone, chat_name
        return INBOUND_CHATS[0]

    async def inbound_part(self) -> None:
        w = self.workload
        # Single messages into chats that are not open: the driver sees the unread badge and opens each one.
        for i in range(w.singles_other):
            phone, name = INBOUND_CHATS[i % len(INBOUND_CHATS)]
            if name == await self.header():
                phone, name = INBOUND_CHATS[(i + 1) % len(INBOUND_CHATS)]
            await asyncio.to_thread(self.post, phone, name, "single, other chat")
            await self.landed("single (other chat)")
        # Single messages into the open chat, each after the previous one landed, with a little jitter.
        phone, name = self.chat_named(await self.header())
        for _ in range(w.singles_open):
            await asyncio.to_thread(self.post, phone, name, "single, open chat")
            await self.landed("single (open chat)")
            await asyncio.sleep(self.rng.uniform(0, 0.05))
        # Bursts, alternately into the open chat and into another one.
        for b in range(w.bursts):
            open_name = await self.header()
            if b % 2 == 0:
                phone, name = self.chat_named(open_name)
                phase = "burst, open chat"
            else:
                phone, name = next(c for c in INBOUND_CHATS if c[1] != open_name)
                phase = "burst, other chat"
            burst = await asyncio.to_thread(self.post_burst, phone, name, phase, w.burst_size)
            self.bursts.append(burst)
            await self.landed(phase)
        # One big burst into the open chat.
        phone, name = self.chat_named(await self.header())
        self.big = await asyncio.to_thread(self.post_burst, phone, name, "big burst, open chat", w.big_burst)
        await self.landed("big burst")
        # Soak: bursts of 1-25 into random chats until the inbound total is reached (browser memory after it).
        while len(self.injected) < w.inbound_total:
            phone, name = self.rng.choice(INBOUND_CHATS)
            size = min(self.rng.randint(1, 25), w.inbound_total - len(self.injected))
            await asyncio.to_thread(self.post_burst, phone, name, "soak", size)
            await self.landed("soak")

    # -- accounting --
    def check_messages(self) -> None:
        with self.store.db.read() as conn:
            rows = conn.execute(
                "SELECT id, wa_id, body FROM messages WHERE org_id = ? AND direction = 'in'", (self.store.org_id,)
            ).fetchall()
        by_wa: dict[str, list[tuple[str, str]]] = {}
        for message_id, wa_id, body in rows:
            by_wa.setdefault(str(wa_id), []).append((str(message_id), str(body)))
        self.stored_id = {wa: ids[0][0] for wa, ids in by_wa.items()}
        expected = {m.wa_id: m for m in self.injected}
        self.lost = [wa for wa in expected if wa not in by_wa]
        self.duplicated = sum(len(v) - 1 for v in by_wa.values()) + self.landing.repeats
        self.unexpected = [wa for wa in by_wa if wa not in expected]
        self.altered = [wa for wa, m in expected.items() if wa in by_wa and by_wa[wa][0][1] != m.text]
        if len(expected) != len(self.injected):
            self.failures.append("the imitation handed out the same message id twice")
        for label, count in (
            ("lost", len(self.lost)),
            ("duplicated", self.duplicated),
            ("unexpected", len(self.unexpected)),
            ("altered", len(self.altered)),
        ):
            if count:
                self.failures.append(f"{count} inbound messages {label}")
        typed_texts = [row["text"] for row in self.typing]
        for text in typed_texts:
            times = sum(1 for m in self.page_sent if m["text"] == text)
            if times != 1:
                self.failures.append(f"typed message {text!r} reached WhatsApp {times} times")

    def latency(self, message: Injected) -> tuple[float | None, float | None, float | None]:
        """(page → store, POST → store, page → Python hop) in ms, each None when a side is missing."""
        seen = self.probe.seen.get(message.wa_id)
        message_id = self.stored_id.get(message.wa_id)
        committed = self.landing.commits.get(message_id) if message_id else None
        hop = self.probe.hop.get(message.wa_id)
        page_store = (committed - seen) * 1000 if committed is not None and seen is not None else None
        post_store = (committed - message.posted) * 1000 if committed is not None else None
        return page_store, post_store, hop * 1000 if hop is not None else None

    def burst_rate(self, burst: Burst) -> tuple[float, float, float]:
        """Messages landed per second (first POST → last commit), POSTs accepted per second, and the lag (ms)
        from the last POST to the last commit: how far behind the page the driver ended the burst."""
        ids = [self.stored_id.get(m.wa_id) for m in burst.messages]
        commits = [self.landing.commits[i] for i in ids if i is not None and i in self.landing.commits]
        posted = burst.size / (burst.last_post_done - burst.first_post)
        if len(commits) < burst.size:
            return float("nan"), posted, float("nan")
        last = max(commits)
        return burst.size / (last - burst.first_post), posted, (last - burst.last_post_done) * 1000

    # -- baseline: the intake write alone --
    def write_baseline(self) -> None:
        """The intake alone (``record_messages``) on rows like the run's, into fresh SQLCipher and plain stores.

        The first half of the injected rows one per transaction (latency), the second half in batches of 25
        (throughput); the two stores take turns so machine noise hits both alike.
        """
        stores = {}
        for kind, key in (("sqlcipher", keys.random_key()), ("plain", None)):
            store = Store(Database.open(self.work / f"baseline-{kind}.db", key), new_id())
            store.orgs.create(id=store.org_id, name="Bench")
            stores[kind] = store
        now = datetime.now(UTC)

        def captured(message: Injected) -> CapturedMessage:
            return CapturedMessage(
                wa_id=message.wa_id,
                chat_jid=f"{message.chat}@c.us",
                from_me=False,
                push_name=message.name,
                body=message.text,
                timestamp=now,
            )

        def timed(kind: str, batch: list[CapturedMessage]) -> float:
            start = time.perf_counter_ns()
            record_messages(stores[kind], batch)
            return (time.perf_counter_ns() - start) / 1e9

        half = len(self.injected) // 2
        singles, rest = self.injected[:half][:300], self.injected[half:][:200]
        self.write_ms: dict[str, list[float]] = {k: [] for k in stores}
        for i, message in enumerate(singles):
            for kind in ("sqlcipher", "plain") if i % 2 == 0 else ("plain", "sqlcipher"):
                self.write_ms[kind].append(timed(kind, [captured(message)]) * 1000)
        seconds = dict.fromkeys(stores, 0.0)
        for i in range(0, len(rest), 25):
            batch = [captured(m) for m in rest[i : i + 25]]
            for kind in ("sqlcipher", "plain") if i % 50 == 0 else ("plain", "sqlcipher"):
                seconds[kind] += timed(kind, batch)
        self.write_rate = {k: len(rest) / v for k, v in seconds.items() if v}
        for store in stores.values():
            store.close()


# ---- output -----------------------------------------------------------------------------------------------------


def humanizer_plans(count: int, seed: int) -> tuple[list[float], int]:
    """Planned chars/s of ``count`` default plans for texts of 20-60 characters, and how many hit the 20 s cap."""
    rng = random.Random(seed)
    humanizer = Humanizer(TypingPace(), random.Random(seed + 1))
    speeds: list[float] = []
    capped = 0
    cap = humanizer.settings.max_typing_seconds
    for _ in range(count):
        length = rng.randint(20, 60)
        text = ""
        while len(text) < length:
            text += rng.choice(WORDS) + rng.choice((" ", " ", " ", ", ", ". "))
        plan = humanizer.typing_plan(text[:length].strip() or "hello there")
        speeds.append(planned_speed(plan))
        capped += plan.seconds >= cap - 1e-9
    return speeds, capped


def fmt_lat(values: list[float]) -> str:
    return f"{pct(values, 50):.1f} / {pct(values, 95):.1f} / {max(values):.1f}" if values else "–"


def report(bench: Bench, args: argparse.Namespace, plans: tuple[list[float], int]) -> list[str]:
    w = bench.workload
    lines: list[str] = []

    def row(figure: str, value: str, baseline: str = "", ratio: str = "", note: str = "") -> None:
        lines.append(f"| {figure} | {value} | {baseline} | {ratio} | {note} |")

    lines += ["| figure | value | baseline | ratio | note |", "| --- | --- | --- | --- | --- |"]
    c = bench.catch_up
    if c is not None:
        row(
            f"catch-up at connect: {c.messages:,} messages in {c.chats} chats → store (s)",
            f"{c.driver_seconds:.1f}",
            f"page shows them {c.page_seconds:.1f}",
            f"{c.driver_seconds / c.page_seconds:.2f}× (target ≤ 2)",
            f"from driver.start(); catch-up done at {c.backfill_seconds:.1f} s, {c.opened} chats read; "
            f"{c.landed:,} landed, {c.duplicates} duplicated",
        )
    if bench.catch_up_only:
        return lines
    groups: dict[str, tuple[list[float], list[float], list[float]]] = {}
    every: tuple[list[float], list[float], list[float]] = ([], [], [])
    for message in bench.injected:
        page_store, post_store, hop = bench.latency(message)
        key = "burst" if message.phase.startswith("burst") else message.phase
        group = groups.setdefault(key, ([], [], []))
        for target in (group, every):
            if page_store is not None:
                target[0].append(page_store)
            if post_store is not None:
                target[1].append(post_store)
            if hop is not None:
                target[2].append(hop)
    labels = {
        "single, open chat": f"single messages into the open chat ({w.singles_open})",
        "single, other chat": f"single messages into a chat not open ({w.singles_other})",
        "burst": f"bursts of {w.burst_size} ({w.bursts}, open chat and others)",
        "big burst, open chat": f"one burst of {w.big_burst} into the open chat",
        "soak": "soak: bursts of 1–25 into random chats",
    }
    for key, label in labels.items():
        if key not in groups:
            continue
        stored, posted, hops = groups[key]
        row(
            f"page → store p50 / p95 / max (ms): {label}",
            fmt_lat(stored),
            f"hop {fmt_lat(hops)}",
            f"{pct(stored, 50) / pct(hops, 50):.1f}×" if stored and hops else "",
            f"POST → store {fmt_lat(posted)}; n={len(stored)}",
        )
    stored, posted, hops = every
    row(
        f"**page → store p50 / p95 / max (ms), all {len(bench.injected):,} inbound**",
        fmt_lat(stored),
        f"page → Python binding hop {fmt_lat(hops)}",
        f"{pct(stored, 50) / pct(hops, 50):.1f}× (p50)" if stored and hops else "",
        f"POST → store {fmt_lat(posted)}; resolution 1 ms",
    )
    write = bench.write_ms
    row(
        "intake write of one message, p50 / p95 (ms)",
        f"SQLCipher {pct(write['sqlcipher'], 50):.2f} / {pct(write['sqlcipher'], 95):.2f}",
        f"plain SQLite {pct(write['plain'], 50):.2f} / {pct(write['plain'], 95):.2f}",
        f"{pct(write['sqlcipher'], 50) / pct(write['plain'], 50):.2f}× (p50)",
        f"fresh stores, same {len(write['plain'])} rows, one per transaction",
    )
    alone = bench.write_rate.get("sqlcipher", float("nan"))
    row(
        "intake alone, batches of 25 (msg/s)",
        f"SQLCipher {alone:.0f}",
        f"plain SQLite {bench.write_rate.get('plain', float('nan')):.0f}",
        f"{alone / bench.write_rate.get('plain', float('nan')):.2f}",
        "the store's ceiling without the browser; fresh stores",
    )
    for phase in ("burst, open chat", "burst, other chat"):
        landed = [bench.burst_rate(b) for b in bench.bursts if b.phase == phase]
        if landed:
            rate = statistics.median(r[0] for r in landed)
            row(
                f"throughput, burst of {w.burst_size} into the {phase.split(', ')[1]}, median (msg/s)",
                f"{rate:.0f}",
                f"intake alone {alone:.0f}",
                f"{rate / alone:.2f}",
                f"{len(landed)} bursts, first POST → last commit; POSTs accepted "
                f"{statistics.median(r[1] for r in landed):.0f}/s; last POST → last commit "
                f"{statistics.median(r[2] for r in landed):.0f} ms",
            )
    if bench.big is not None:
        rate, post_rate, lag = bench.burst_rate(bench.big)
        row(
            f"throughput, burst of {bench.big.size} into the open chat (msg/s)",
            f"{rate:.0f}",
            f"intake alone {alone:.0f}",
            f"{rate / alone:.2f}",
            f"first POST → last commit; POSTs accepted {post_rate:.0f}/s; last POST → last commit {lag:.0f} ms",
        )
    s = TypingPace()
    realised = [r["realised"] for r in bench.typing if "realised" in r]
    planned = [r["planned"] for r in bench.typing if "planned" in r]
    extra = [
        (r["chars"] / r["realised"] - r["plan_seconds"]) / r["chars"] * 1000
        for r in bench.typing
        if "realised" in r and "plan_seconds" in r
    ]
    if realised and extra:
        spread = statistics.stdev(realised) if len(realised) > 1 else 0.0
        row(
            f"typing, realised chars/s over {len(realised)} sent messages, mean ± sd",
            f"{statistics.mean(realised):.2f} ± {spread:.2f}",
            f"planned {statistics.mean(planned):.2f}",
            f"{statistics.mean(realised) / statistics.mean(planned):.3f}",
            f"settings {s.chars_per_second_min:g}–{s.chars_per_second_max:g} chars/s, cap {s.max_typing_seconds:g} s; "
            f"{statistics.mean(extra):+.1f} ms per keystroke over the plan",
        )
    speeds, capped = plans
    row(
        f"typing, {len(speeds):,} humanizer plans (20–60 chars): chars/s mean ± sd",
        f"{statistics.mean(speeds):.2f} ± {statistics.stdev(speeds):.2f}",
        f"min {min(speeds):.2f}, p5 {pct(speeds, 5):.2f}, p95 {pct(speeds, 95):.2f}, max {max(speeds):.2f}",
        "",
        f"{sum(1 for v in speeds if s.chars_per_second_min <= v <= s.chars_per_second_max) / len(speeds):.1%} "
        f"within {s.chars_per_second_min:g}–{s.chars_per_second_max:g}; {capped} at the cap",
    )
    before, after = bench.rss.get("connected", 0), bench.rss.get("after", 0)
    uss_before, uss_after = bench.rss.get("connected_uss", 0), bench.rss.get("after_uss", 0)
    row(
        "browser RSS right after connect (MiB)",
        f"{mib(before):.0f}",
        f"USS {mib(uss_before):.0f}",
        f"{before / uss_before:.2f}" if uss_before else "",
        "browser_rss_bytes (browser + all children); USS: their private pages only",
    )
    row(
        f"browser RSS after {bench.rss.get('after_count', 0):,} inbound messages (MiB)",
        f"{mib(after):.0f} ({mib(after - before):+.0f})",
        f"USS {mib(uss_after):.0f} ({mib(uss_after - uss_before):+.0f})",
        f"{after / uss_after:.2f}" if uss_after else "",
        f"{len(INBOUND_CHATS)} inbound chats, {len(bench.typing)} sent",
    )
    lost, dup = len(bench.lost), bench.duplicated
    row(
        "messages lost / duplicated / altered",
        f"{lost} / {dup} / {len(bench.altered)}",
        f"{len(bench.injected):,} injected",
        "",
        "any loss is a failure",
    )
    return lines


def print_typing(bench: Bench) -> None:
    print(f"connect    {bench.connect_seconds:.2f} s from driver.start() to connected")
    print("\ntyped through Sender (default TypingPace), per message:")
    print(f"{'chars':>5} {'plan s':>7} {'planned c/s':>11} {'page s':>7} {'realised c/s':>12} {'+ms/key':>8}  outcome")
    for item in bench.typing:
        realised, planned = item.get("realised", float("nan")), item.get("planned", float("nan"))
        page_seconds = item["chars"] / realised
        extra = (page_seconds - item.get("plan_seconds", float("nan"))) / item["chars"] * 1000
        print(
            f"{item['chars']:>5} {item.get('plan_seconds', float('nan')):>7.2f} {planned:>11.2f} {page_seconds:>7.2f} "
            f"{realised:>12.2f} {extra:>8.1f}  {item['outcome']} (send_next {item['wall']:.1f} s)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    parser.add_argument("--catch-up-only", action="store_true", help="only the catch-up at connect (part 4)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"command    {shlex.join(sys.orig_argv)}")
    print(f"python     {platform.python_version()} on {platform.platform()}")
    print(f"cpus       {os.cpu_count()}; load {load_average()}")
    print(f"chromium   {chromium_version()}")
    print(f"date       {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    plans = humanizer_plans((QUICK if args.quick else FULL).plans, args.seed)
    with tempfile.TemporaryDirectory(prefix="parley-wabench-") as tmp:
        bench = Bench(args, Path(tmp))
        asyncio.run(bench.run())
    if not bench.catch_up_only:
        print_typing(bench)
    print()
    print("\n".join(report(bench, args, plans)))
    print()
    print(f"load at the end: {load_average()}; wall time {time.perf_counter() - started:.0f} s")
    if bench.failures:
        print("\nFAILED:")
        for failure in bench.failures:
            print(f"  - {failure}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
