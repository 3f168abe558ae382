"""One way to run work (issue 15): no code in ``app`` makes an event loop of its own or nests one (only
``app.core.loops`` makes loops), and state shared between threads holds up when threads hammer it."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

from app.ai.provider_core import Cooldowns, Failure

APP = Path(__file__).resolve().parents[2] / "app"
LOOP_MAKERS = {"run", "new_event_loop", "run_until_complete"}
THE_ONE_PLACE = APP / "core" / "loops.py"


def loop_makers(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in LOOP_MAKERS:
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == "asyncio") or node.attr == "run_until_complete":
                found.append(f"{path.relative_to(APP.parent)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_only_app_core_loops_makes_event_loops() -> None:
    found = [hit for path in sorted(APP.rglob("*.py")) if path != THE_ONE_PLACE for hit in loop_makers(path)]
    assert found == [], "run coroutines on the service loop (TaskRunner.submit / LoopThread.run), not a new loop:\n" + (
        "\n".join(found)
    )


def test_cooldowns_hold_up_when_threads_hammer_them() -> None:
    """Many threads hold, read, expire and clear the same entries. The clock yields the GIL between reading an entry
    and deleting it when expired — the window where an unlocked version loses an entry twice (``KeyError``)."""

    def clock() -> float:
        time.sleep(0)  # a yield to the other threads, not a wait
        return time.monotonic()

    cooldowns = Cooldowns(clock)
    failure = Failure("quota", "busy")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def hammer(n: int) -> None:
        try:
            start.wait()
            for i in range(400):
                key = f"entry-{i % 3}"
                cooldowns.hold(key, 0.000001 if i % 2 else 30, failure)
                cooldowns.cooling(key)
                cooldowns.remaining(key)
                if i % 50 == n:
                    cooldowns.clear(key if n % 2 else None)
        except BaseException as exc:  # noqa: BLE001 — collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    cooldowns.hold("entry-0", 30, failure)
    assert cooldowns.cooling("entry-0") == failure
