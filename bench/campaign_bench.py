"""Issue 19's campaign figure: preparing a campaign over the 10k-contact demo workspace (filters → frozen audience
with exclusions and rendered bodies, written as recipients in one transaction): target ≤ 1 s.

    .venv/bin/python -m bench.campaign_bench [--chats 10000] [--messages 200000] [--seed 1] [--repeats 5]

A SQLCipher workspace filled by the demo seed (``app.store.seed.populate``: the boutique's customers, their chats,
messages, deals and sales); then, alternating so machine noise hits each alike:

- **live count**, no filter and a typical filter (a label, a lifetime value, bought within 180 days): the one query
  the campaign page runs as filters change;
- **plan**: the reads of ``prepare`` (every contact, its chat, the 24-hour duplicate check, wrote within 30 days,
  the last product bought for ``{product}``) and the rendering, without writing;
- **prepare**: ``app.store.ops.campaigns.prepare`` in full over every contact (all of the above, plus ~10k recipient
  rows and their outbox rows in one write transaction), a fresh draft each time.

Figures are milliseconds (median and max of ``--repeats``); the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from app.campaigns import audience
from app.core.ids import new_id
from app.store import keys
from app.store.database import Database
from app.store.ops import campaigns as ops
from app.store.seed import BASE, populate
from app.store.store import Store

TEMPLATE = "Hi {first_name}! New linen shirts at {business_name}: the {product} you liked has a new colour."
VARIANTS = ["Hello {first_name}, {business_name} has new linen shirts. Want a look?"]
FILTER = {"labels_any": ["VIP", "New customer"], "ltv_min_minor": 1, "bought_within_days": 180}


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def row(name: str, values: list[float]) -> str:
    return f"{name:<42} median {statistics.median(values):8.1f} ms   max {max(values):8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Database.open(Path(tmp) / "bench.db", keys.random_key()), new_id())
        store.orgs.create(id=store.org_id, name="Casa Verde")
        started = time.perf_counter()
        report = populate(store, chats=args.chats, messages=args.messages, seed=args.seed)
        print(
            f"seeded {report.contacts} contacts, {report.messages} messages, {report.sales} sales "
            f"in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        now = BASE
        figures: dict[str, list[float]] = {"count": [], "count_filtered": [], "plan": [], "prepare": []}
        included = 0
        for _ in range(args.repeats):
            figures["count"].append(timed(lambda: audience.count(store, {}, now)))
            figures["count_filtered"].append(timed(lambda: audience.count(store, FILTER, now)))
            cid = ops.create_draft(store, "Bench", template=TEMPLATE, variants=VARIANTS, recent_days=30).value.id
            campaign = store.campaigns.get(cid)
            figures["plan"].append(timed(lambda: audience.plan(store, campaign, now)))  # noqa: B023
            result: list[ops.Preparation] = []
            figures["prepare"].append(timed(lambda: result.append(ops.prepare(store, cid, now=now).value)))  # noqa: B023
            included = result[0].included
            excluded = result[0].excluded
        store.close()
    load = os.getloadavg()
    print(f"campaign preparation over {args.chats} contacts / {args.messages} messages, {args.repeats} repeats")
    print(row("live count (no filter)", figures["count"]))
    print(row("live count (labels + LTV + bought in 180 d)", figures["count_filtered"]))
    print(row("plan (reads + rendering)", figures["plan"]))
    print(row("prepare (plan + write recipients)", figures["prepare"]))
    print(f"last prepare: {included} included, excluded {excluded}")
    print(f"target: prepare ≤ 1000 ms — {'met' if max(figures['prepare']) <= 1000 else 'NOT met'}")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
