"""What the derived change reports cost a write: the same intake workload with the writer's tracking triggers on
and off, on two SQLCipher workspaces in one run.

Pages refresh from what each transaction touched, recorded by TEMP triggers on the writer (``app.store.touched``):
one primary-key probe per written row, plus the chat id for chats, messages and notes. This runs WhatsApp intake
(``record_messages``: contact, chat, message, FTS and chat_stats per row) in bursts of ``--burst`` messages per
transaction, and one bulk transaction, alternating between a store with tracking (as the app runs) and one whose
tracking triggers were dropped (the baseline), and prints messages/s for both and their ratio. Nothing is asserted.

    python bench/tracking_bench.py [--rounds 8] [--bursts 40] [--burst 20] [--bulk 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core.ids import new_id  # noqa: E402
from app.store import keys  # noqa: E402
from app.store.database import Database  # noqa: E402
from app.store.intake import CapturedMessage, record_messages  # noqa: E402
from app.store.store import Store  # noqa: E402

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def open_store(path: Path, tracking: bool) -> Store:
    store = Store(Database.open(path, keys.random_key()), new_id())
    store.orgs.create(id=store.org_id, name="Bench")
    if not tracking:
        with store.db.transaction() as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM temp.sqlite_master WHERE type = 'trigger'")]
            for name in names:
                conn.execute(f'DROP TRIGGER temp."{name}"')
            print(f"baseline: dropped {len(names)} tracking triggers")
    return store


def messages(start: int, count: int) -> list[CapturedMessage]:
    """``count`` inbound messages across 200 customers, as the page would report them."""
    return [
        CapturedMessage(
            wa_id=f"3A{n:018X}",
            chat_jid=f"65{90000000 + n % 200}@c.us",
            from_me=False,
            body=f"Hello, is the linen shirt {n} still available in size M?",
            timestamp=T0 + timedelta(seconds=n),
        )
        for n in range(start, start + count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--bursts", type=int, default=40, help="transactions per round")
    parser.add_argument("--burst", type=int, default=20, help="messages per transaction")
    parser.add_argument("--bulk", type=int, default=5000, help="messages in the one bulk transaction per round")
    args = parser.parse_args()
    print(f"command: python bench/tracking_bench.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="parley-tracking-") as tmp:
        stores = {"tracked": open_store(Path(tmp) / "on.db", True), "baseline": open_store(Path(tmp) / "off.db", False)}
        burst_rate: dict[str, list[float]] = {k: [] for k in stores}
        bulk_rate: dict[str, list[float]] = {k: [] for k in stores}
        n = 0
        for i in range(args.rounds):
            order = list(stores) if i % 2 == 0 else list(stores)[::-1]
            batches = [messages(n + b * args.burst, args.burst) for b in range(args.bursts)]
            bulk = messages(n + args.bursts * args.burst, args.bulk)
            n += args.bursts * args.burst + args.bulk
            for kind in order:
                store = stores[kind]
                started = time.perf_counter()
                for batch in batches:
                    record_messages(store, batch)
                burst_rate[kind].append(args.bursts * args.burst / (time.perf_counter() - started))
                started = time.perf_counter()
                record_messages(store, bulk)
                bulk_rate[kind].append(args.bulk / (time.perf_counter() - started))
        total = {k: s.messages.count({}) for k, s in stores.items()}
        for store in stores.values():
            store.close()
    print(f"messages stored: {total}")
    print(f"{'figure':<44} {'baseline':>10} {'tracked':>10} {'ratio':>7}")
    for name, rates in (
        (f"intake in bursts of {args.burst} (messages/s, median)", burst_rate),
        (f"one transaction of {args.bulk} (messages/s, median)", bulk_rate),
    ):
        base, tracked = statistics.median(rates["baseline"]), statistics.median(rates["tracked"])
        print(f"{name:<44} {base:>10,.0f} {tracked:>10,.0f} {tracked / base:>7.2f}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
