"""Message received → the acquisition agent's draft shown in the AI panel, against an instant local endpoint.

Issue 18's second agents figure (target: p95 ≤ 300 ms). What runs is the app's own path, nothing stubbed:

- a keyring-mode SQLCipher workspace made by ``Workspaces.create`` (the test file keyring stands in for the desktop
  one, as in ``inbox_stall_bench.py``), opened again with ``Workspaces.open``; ``bootstrap.build_context`` (the real
  ``AiService`` on the task runner's service loop, ``Changes``), ``bootstrap.start_ai`` and ``bootstrap.start_agents``
  (the orchestrator with every agent the app registers, and the jobs runner, on the one service loop);
- the acquisition agent on, in *AI drafts* (config mode ``draft``, "suggest") with **``debounce_seconds`` 0** (the
  default is 20 s: a burst of customer messages becomes one turn; with it the figure would be 20 s plus this);
- BYOK on one ``openai_compatible`` entry: litellm → HTTP → ``tests/ai/openai_server.py`` in a process of its own,
  which streams a scripted structured answer (``AgentAnswer`` JSON) word by word at once;
- the inbox page (``InboxPage``) on the offscreen platform with the chat open and its AI panel expanded: the draft
  reaches ``AgentDrafts`` the app's way (the run's execution row → ``TablesChanged`` → ``Changes`` on the UI thread
  → its refresh timer → the read on a worker → ``_show``).

Each of ``--drafts`` messages arrives in a chat of its own (the chats got one earlier message each before the agents
started, so the agent's cursor is past those), recorded as the WhatsApp driver records it: ``record_messages``
(``app.store.intake``) on a thread of its own (the driver's). Timed from just before that write to the first paint
of the draft's label holding the draft's text, visible (an event filter on the label; the UI thread waits in a
``QEventLoop``, never a sleep). Before each, the chat is opened and the UI left idle.

The baseline, in the same run and interleaved sample by sample (before the message on even samples, after on odd):
the model call alone, the same prompt and options through the same provider (``AiService.provider().stream``,
litellm → HTTP → the endpoint) from this thread through the service loop, without the AI log; and the bare round
trip of the same request over plain httpx (no litellm).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 300.0
MODEL = "bench-acquisition"
KEY = "sk-bench-0001"  # the local endpoint's made-up key
MESSAGES = ["Hi! The Linen Shirt is $45.00 and ships in 2 business days.", "Shall I reserve one for you?"]
ANSWER = json.dumps(
    {
        "messages": MESSAGES,
        "action": "continue",
        "reason": "a price question",
        "confidence": 0.9,
        "lead_score": 40,
        "stage": None,
        "sale": None,
    }
)
WAIT_S = 30.0


@dataclass
class Sample:
    started: float = 0.0  # perf_counter, just before the intake write (the driver's thread)
    wall: float = 0.0  # time.time() at the same instant (to place the execution row's times)
    written: float = 0.0  # the intake transaction committed
    refresh: list[float] = field(default_factory=list)  # the panel's refresh timer fired
    shown: float = 0.0  # ``AgentDrafts.shown`` with the draft
    painted: float = 0.0  # the label's first paint with the draft's text


def pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def run(base: Path, drafts: int, warmup: int) -> None:
    """The whole measurement in ``base`` (a temporary folder); prints its figures."""
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        os.environ[var] = str(base / var.lower())  # no saved window state, nothing in the user's folders
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["PARLEY_TEST_KEYRING"] = str(base / "bench-keyring.json")

    import httpx

    from app.agents import configs
    from app.agents.acquisition import INSTRUCTIONS, OPTIONS, AcquisitionAgent
    from app.ai.config import save_entries
    from app.ai.grounding import compose, gather
    from app.ai.types import Done, ProviderEntry
    from app.bootstrap import build_context, start_agents, start_ai
    from app.core.ids import utc_now
    from app.core.loops import SERVICE_THREAD, LoopThread
    from app.qt import QtCore, QtWidgets
    from app.store.intake import CapturedMessage, record_messages
    from app.store.keyring_vault import KeyringVault
    from app.store.workspaces import Workspaces
    from app.ui import theme
    from app.ui.pages.inbox import InboxPage
    from app.ui.shutdown import Shutdown, Stage
    from app.ui.startup import OpenWorkspace
    from app.ui.tasks import TaskRunner
    from tests.support.file_keyring import FileKeyring

    server = subprocess.Popen(
        [sys.executable, "-m", "tests.ai.openai_server", "--key", KEY, "--answer", ANSWER],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    base_url = server.stdout.readline().split()[-1]

    # ---- the workspace: products, the acquisition agent in drafts, BYOK on the endpoint, the chats ---------------
    workspaces = Workspaces(base / "home", KeyringVault(FileKeyring()))
    made = workspaces.create("Bench Boutique", "Bench Owner")
    workspace_id = made.meta("workspace_id") or ""
    for name, price in (("Linen Shirt", 4500), ("Canvas Tote Bag", 1250), ("Wool Scarf", 3900), ("Denim Cap", 1800)):
        made.products.create(name=name, price_minor=price, currency="USD")
    configs.save(made, "acquisition", enabled=True, mode="draft", config={"debounce_seconds": 0})
    save_entries(made.settings, [ProviderEntry(id="bench", kind="openai_compatible", model=MODEL, base_url=base_url)])
    made.settings.ai.mode = "byok"
    total = warmup + drafts
    jids = [f"3461{i:07d}@c.us" for i in range(total)]
    earlier = utc_now() - timedelta(minutes=5)
    record_messages(
        made,
        [
            CapturedMessage(
                wa_id=f"first-{i}", chat_jid=jid, from_me=False, push_name=f"Customer {i}", body="Hello!",
                timestamp=earlier,
            )
            for i, jid in enumerate(jids)
        ],
    )  # fmt: skip
    made.close()

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    assert isinstance(app, QtWidgets.QApplication)
    theme.apply(app, "light")
    tasks = TaskRunner(loop=LoopThread(SERVICE_THREAD))
    shutdown = Shutdown(tasks)
    store = workspaces.open(workspace_id)
    ctx = build_context(workspaces, tasks, OpenWorkspace(workspace_id, workspaces.header(workspace_id), store))
    shutdown.add(Stage.STORE, "the workspace", store.close)
    ai = ctx.ai
    assert ai is not None
    ai.keys.set("bench", KEY)
    chat_of = {c.wa_chat_id: c.id for c in store.chats.find_all()}
    chat_ids = [chat_of[jid] for jid in jids]

    page = InboxPage(ctx)
    page.resize(1300, 760)
    page.show()
    start_ai(ctx, app, shutdown)  # as after the first paint: litellm imported on the pool
    start_agents(ctx, shutdown)  # the orchestrator and the jobs runner on the service loop
    orchestrator = ctx.agents
    assert orchestrator is not None
    agent = next(a for a in orchestrator.agents if isinstance(a, AcquisitionAgent))
    ai.loader.get_blocking(timeout=180)
    panel = page.ai_panel
    drafts = panel.agent_drafts
    expected = "\n\n".join(MESSAGES)

    # ---- waiting on the UI thread ---------------------------------------------------------------------------------
    def wait(done: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
        """Run Qt's event loop until ``done()``, checked every 10 ms (outside the timed window only)."""
        loop = QtCore.QEventLoop()
        check = QtCore.QTimer(interval=10)
        check.timeout.connect(lambda: loop.quit() if done() else None)
        limit = QtCore.QTimer(singleShot=True, interval=round(timeout * 1000))
        limit.timeout.connect(loop.quit)
        check.start()
        limit.start()
        if not done():
            loop.exec()
        check.stop()
        limit.stop()
        if not done():
            raise SystemExit(f"gave up waiting for {what} after {timeout:.0f} s")

    current: list[Sample] = []
    timed_loop: list[QtCore.QEventLoop] = []

    class PaintWatch(QtCore.QObject):
        """The first paint of the draft's label holding the draft's text, visible, for the chat being timed."""

        def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
            if (
                event.type() == QtCore.QEvent.Type.Paint
                and current
                and not current[0].painted
                and drafts.draft_box.isVisible()
                and drafts.draft_text.text() == expected
            ):
                current[0].painted = time.perf_counter()
                if timed_loop:
                    timed_loop[0].quit()
            return False

    watch = PaintWatch()
    drafts.draft_text.installEventFilter(watch)

    def on_shown() -> None:
        if current and not current[0].shown and drafts.draft is not None:
            current[0].shown = time.perf_counter()

    def on_refresh() -> None:
        if current:
            current[0].refresh.append(time.perf_counter())

    drafts.shown.connect(on_shown)
    drafts._timer.timeout.connect(on_refresh)  # after the panel's own refresh (connected first)

    def settled() -> bool:
        return tasks.idle and not drafts._timer.isActive() and not getattr(ctx.changes, "_pending", None)

    driver = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="whatsapp-driver")
    service = tasks.service_loop
    client = httpx.Client()  # one client, as litellm keeps its own: connection set-up is not the round trip

    def arrive(i: int, sample: Sample) -> None:
        captured = CapturedMessage(
            wa_id=f"ask-{i}", chat_jid=jids[i], from_me=False, push_name=f"Customer {i}",
            body="Hi, how much is the linen shirt? Do you ship to Porto?", timestamp=utc_now(),
        )  # fmt: skip
        sample.wall, sample.started = time.time(), time.perf_counter()
        record_messages(store, [captured])
        sample.written = time.perf_counter()

    def model_alone(chat_id: str) -> tuple[float, float]:
        """The same prompt through the provider alone (seconds), and over plain httpx (seconds)."""
        prompt = compose(gather(store, chat_id, retrieve=agent.retrieve, budget=agent.budget), "suggest",
                         budget=agent.budget, extra=INSTRUCTIONS)  # fmt: skip

        async def call() -> str:
            async for event in ai.provider().stream(prompt.messages, OPTIONS, purpose="suggest"):
                if isinstance(event, Done):
                    return event.text
            raise RuntimeError("no answer")

        started = time.perf_counter()
        text = service.run(call(), WAIT_S)
        provider_s = time.perf_counter() - started
        assert json.loads(text)["messages"] == MESSAGES
        body = {
            "model": MODEL,
            "stream": True,
            "messages": [m.model_dump() for m in prompt.messages],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": OPTIONS.json_schema},
            },
        }
        started = time.perf_counter()
        with client.stream(
            "POST", f"{base_url}/chat/completions", json=body, headers={"Authorization": f"Bearer {KEY}"}
        ) as response:
            for _line in response.iter_lines():
                pass
        return provider_s, time.perf_counter() - started

    panel.set_expanded(True)
    samples: list[Sample] = []
    baseline: list[float] = []
    raw: list[float] = []
    executions: list[Any] = []
    interactions: list[Any] = []
    for i in range(total):
        chat_id = chat_ids[i]
        page.open_chat(chat_id)
        wait(lambda c=chat_id: drafts.chat_id == c and settled(), "the chat to open")  # type: ignore[misc]
        if i % 2 == 0:
            alone = model_alone(chat_id)
        sample = Sample()
        current[:] = [sample]
        loop = QtCore.QEventLoop()
        timed_loop[:] = [loop]
        limit = QtCore.QTimer(singleShot=True, interval=round(WAIT_S * 1000))
        limit.timeout.connect(loop.quit)
        limit.start()
        future = driver.submit(arrive, i, sample)
        loop.exec()
        limit.stop()
        timed_loop.clear()
        future.result()
        if not sample.painted:
            runs = store.agent_executions.find_all({"chat_id": chat_id})
            raise SystemExit(
                f"no draft shown after {WAIT_S:.0f} s: {[(r.agent, r.action, r.skip_reason) for r in runs]}"
            )
        current.clear()
        wait(settled, "the UI to settle")
        if i % 2 == 1:
            alone = model_alone(chat_id)
        if i < warmup:
            continue
        samples.append(sample)
        baseline.append(alone[0])
        raw.append(alone[1])
        (run,) = store.agent_executions.find_all({"chat_id": chat_id, "agent": "acquisition"})
        assert run.action == "drafted", (run.action, run.skip_reason)
        executions.append(run)
        calls = store.ai_interactions.find_all({"chat_id": chat_id}, order_by="created_at", descending=True, limit=1)
        interactions.append(calls[0] if calls else None)

    driver.shutdown()
    client.close()
    shutdown.run()
    server.kill()
    server.wait()
    report(samples, baseline, raw, executions, interactions)


def report(
    samples: list[Sample], baseline: list[float], raw: list[float], executions: list[Any], interactions: list[Any]
) -> None:
    from app.ui.widgets.agent_drafts import REFRESH_MS

    def ms(values: list[float]) -> str:
        return f"{pct(values, 50):.1f} | {pct(values, 95):.1f} | {max(values):.1f}"

    total = [(s.painted - s.started) * 1000 for s in samples]
    write = [(s.written - s.started) * 1000 for s in samples]
    to_run = [(e.started_at.timestamp() - s.wall) * 1000 for s, e in zip(samples, executions, strict=True)]
    runs = [(e.finished_at - e.started_at).total_seconds() * 1000 for e in executions]
    model = [float(x.latency_ms) for x in interactions if x is not None and x.latency_ms is not None]
    finished_perf = [s.started + (e.finished_at.timestamp() - s.wall) for s, e in zip(samples, executions, strict=True)]
    # The refresh that showed the draft: the last time the panel's timer fired before it was shown.
    fired = [max(t for t in s.refresh if t <= s.shown) if s.refresh else s.shown for s in samples]
    to_timer = [(f - fin) * 1000 for f, fin in zip(fired, finished_perf, strict=True)]
    read = [(s.shown - f) * 1000 for s, f in zip(samples, fired, strict=True)]
    paint = [(s.painted - s.shown) * 1000 for s in samples]
    base = [b * 1000 for b in baseline]
    plain = [r * 1000 for r in raw]
    print(f"{len(samples)} messages in {len(samples)} chats, one each; acquisition agent in drafts, debounce 0")
    print("| figure | p50 (ms) | p95 (ms) | max (ms) |")
    print("|---|---:|---:|---:|")
    print(f"| **message received → draft shown** (intake write → first paint of the draft) | {ms(total)} |")
    print(f"| … the intake write (`record_messages`, the driver's thread) | {ms(write)} |")
    print(f"| … intake write → the agent's run starts (bus wake, batch read, gates) | {ms(to_run)} |")
    print(f"| … the run (prompt, model call, AI log; its row's start → end) | {ms(runs)} |")
    if model:
        print(f"| … … of which the model call as the AI log has it (`latency_ms`) | {ms(model)} |")
    print(
        f"| … run's end → the panel's refresh fires (row written, `Changes`, its {REFRESH_MS} ms timer) "
        f"| {ms(to_timer)} |"
    )
    print(f"| … the panel's read on a worker → shown | {ms(read)} |")
    print(f"| … shown → painted | {ms(paint)} |")
    print(f"| baseline: the model call alone (same prompt, provider: litellm → endpoint) | {ms(base)} |")
    print(f"| the endpoint round trip over plain httpx (no litellm) | {ms(plain)} |")
    p95, b95 = pct(total, 95), pct(base, 95)
    print(
        f"message → draft over the model call alone: p50 ×{pct(total, 50) / pct(base, 50):.1f} "
        f"(+{pct(total, 50) - pct(base, 50):.0f} ms), p95 ×{p95 / b95:.1f} (+{p95 - b95:.0f} ms)"
    )
    verdict = "met" if p95 <= TARGET_P95_MS else "missed"
    print(f"target p95 ≤ {TARGET_P95_MS:.0f} ms: {verdict} ({p95:.1f} ms)")
