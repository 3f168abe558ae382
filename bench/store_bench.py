"""What SQLCipher costs Parley: the same seeded workspace, encrypted and as plain SQLite, measured in one run.

Every workspace lives in a SQLCipher 4 database, and every page read from it is decrypted and authenticated. This
builds the same workspace twice with ``app.store.seed`` – once under a random key, once with ``key=None`` (same
library, same SQLite build, same schema, triggers and migrations; only the encryption differs) – and prints, for
both and as a SQLCipher/plain ratio, the figures the UI depends on:

* bulk insert: messages inserted per second while populating (the seed generator's own timing);
* FTS: p50/p95 of ``store.search_messages`` over a fixed set of queries, newest-first and by relevance;
* inbox: p50/p95 of the first ``store.inbox`` page, and of pages reached through the keyset cursor;
* cold open: ``Database.open`` + first inbox page in a fresh process (median of a few; the OS cache stays warm);
* on-disk size of each database.

Queries alternate between the two stores, each store is warmed first, and nothing is asserted: it prints figures.

    python bench/store_bench.py [--chats 10000] [--messages 500000] [--seed 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher

from app.core.ids import new_id
from app.store import keys
from app.store.database import Database
from app.store.inbox import InboxCursor
from app.store.search import fts_query
from app.store.seed import SeedReport, populate
from app.store.store import Store

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("plain", "sqlcipher")
FILES = {"plain": "plain.db", "sqlcipher": "sqlcipher.db"}
FTS_P95_MS, INBOX_P95_MS, MAX_RATIO = 30.0, 10.0, 1.5
PAGE = 50

# Fixed, deterministic queries, picked from the seed's word lists (``app.store.seed._RAW_LINES``, products, cities).
# search_messages matches every word and the last one as a prefix, so each query is also a prefix query.
QUERIES: tuple[str, ...] = (
    # common words (the most frequent terms: products, greetings, Indonesian "kak")
    *("photos", "card", "hello", "delivery", "kak", "fotos", "the"),
    # rare words, a number (order refs are #1000-#9999) and one that never occurs
    *("magnifique", "einkauf", "parfait", "gern", "1234", "refund"),
    # prefixes, as typed: one letter matches hundreds of terms
    *("b", "ka", "del", "sun", "ped", "photo", "trans"),
    # two or three words
    *("silk scarf", "leather sandals", "payment received", "bank transfer", "order confirmed", "tote bag"),
    *("cash on delivery", "gift card"),
    # non-English: accents (folded by remove_diacritics), Turkish dotted İ, Cyrillic, Arabic, Devanagari
    *("envíos", "pedido", "obrigada", "Bestellung", "Größe", "teşekkürler", "İstanbul", "São Paulo"),
    *("terima kasih", "спасибо", "доставка", "شكرا", "نعم", "नमस्ते"),
)

_CHILD = """
import sys, time
from pathlib import Path
from app.store.database import Database
from app.store.store import Store
path, org_id, key_hex = sys.argv[1], sys.argv[2], sys.stdin.read().strip()
start = time.perf_counter_ns()
db = Database.open(Path(path), bytes.fromhex(key_hex) if key_hex else None)
rows = Store(db, org_id).inbox(limit=50)
elapsed = time.perf_counter_ns() - start
db.close()
print(elapsed / 1e6, len(rows))
"""


def timed(call: Callable[[Store], object], store: Store) -> float:
    start = time.perf_counter_ns()
    call(store)
    return (time.perf_counter_ns() - start) / 1e6


def pct(samples: list[float], p: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[p - 1] if len(samples) > 1 else samples[0]


def progress(label: str) -> Callable[[str, int, int], None]:
    last = [0.0]

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0 or done >= total:
            last[0] = now
            print(f"\r  {label}: {stage} {done:,}/{total:,}   ", end="", file=sys.stderr, flush=True)

    return report


def build(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Populate both databases (plain first), or reuse them from ``--keep``; returns the run's metadata."""
    meta_path = work / "bench.json"
    if all((work / f).exists() for f in FILES.values()) and meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        print(
            f"Reusing databases in {work} (built with --chats {meta['chats']} --messages {meta['messages']} "
            f"--seed {meta['seed']}); skipping population, insert figures are from that build."
        )
        return meta
    if any((work / f).exists() for f in [*FILES.values(), meta_path.name]):
        raise SystemExit(f"{work} holds part of a benchmark build (or other files by those names); use an empty one")
    key = keys.random_key()
    meta = {"chats": args.chats, "messages": args.messages, "seed": args.seed, "key": key.hex()}
    meta |= {"org": {}, "seed_report": {}}
    for kind in KINDS:
        db = Database.open(work / FILES[kind], key if kind == "sqlcipher" else None)
        store = Store(db, new_id())
        store.orgs.create(id=store.org_id, name="Bench")
        report = populate(store, chats=args.chats, messages=args.messages, seed=args.seed, progress=progress(kind))
        print(file=sys.stderr)
        store.close()
        meta["org"][kind], meta["seed_report"][kind] = store.org_id, report.model_dump()
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta


def open_store(work: Path, meta: dict[str, Any], kind: str) -> Store:
    key = bytes.fromhex(meta["key"]) if kind == "sqlcipher" else None
    return Store(Database.open(work / FILES[kind], key), meta["org"][kind])


def cold_open(work: Path, meta: dict[str, Any], repeats: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in KINDS}
    for i in range(repeats):
        for kind in KINDS if i % 2 == 0 else KINDS[::-1]:
            key_hex = meta["key"] if kind == "sqlcipher" else ""
            argv = [sys.executable, "-c", _CHILD, str(work / FILES[kind]), meta["org"][kind]]
            done = subprocess.run(argv, input=key_hex, capture_output=True, text=True, cwd=ROOT, check=True)
            out[kind].append(float(done.stdout.split()[0]))
    return out


def interleaved(
    stores: dict[str, Store], calls: list[Callable[[Store], object]], rounds: int
) -> dict[str, list[float]]:
    """Time every call on both stores, alternating which store goes first."""
    out: dict[str, list[float]] = {k: [] for k in KINDS}
    for r in range(rounds):
        for i, call in enumerate(calls):
            for kind in KINDS if (r + i) % 2 == 0 else KINDS[::-1]:
                out[kind].append(timed(call, stores[kind]))
    return out


def search_call(text: str, order: str) -> Callable[[Store], object]:
    return lambda s: s.search_messages(text, limit=PAGE, order=order)  # type: ignore[arg-type]


def inbox_walk(stores: dict[str, Store], max_pages: int, rounds: int) -> dict[str, list[float]]:
    """Walk the inbox page by page through the keyset cursor, both stores in lockstep."""
    out: dict[str, list[float]] = {k: [] for k in KINDS}
    for r in range(rounds):
        cursors: dict[str, InboxCursor | None] = dict.fromkeys(KINDS)
        for page in range(max_pages):
            for kind in KINDS if (r + page) % 2 == 0 else KINDS[::-1]:
                start = time.perf_counter_ns()
                rows = stores[kind].inbox(limit=PAGE, after=cursors[kind])
                out[kind].append((time.perf_counter_ns() - start) / 1e6)
                cursors[kind] = rows[-1].cursor if rows else None
            if any(c is None for c in cursors.values()):
                break
    return out


def slowest(stores: dict[str, Store], order: str, n: int = 5) -> list[str]:
    """The ``n`` slowest queries on SQLCipher (best of 3), with how many messages each one matches."""
    lines = []
    for text in QUERIES:
        with stores["plain"].db.read() as conn:
            sql = "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?"
            matches = conn.execute(sql, (fts_query(text),)).fetchone()[0]
        best = {k: min(timed(search_call(text, order), stores[k]) for _ in range(3)) for k in KINDS}
        lines.append((best["sqlcipher"], f"{text!r:>26} {best['plain']:8.2f} {best['sqlcipher']:9.2f} {matches:>9,}"))
    return [line for _, line in sorted(lines, reverse=True)[:n]]


def load_average() -> str:
    """Other work on the machine skews every figure (run on an idle machine); printed so readers can tell."""
    return "{:.2f} {:.2f} {:.2f} (1/5/15 min)".format(*os.getloadavg())


def machine_facts(work: Path, meta: dict[str, Any]) -> list[str]:
    conn = sqlcipher.connect(":memory:")
    conn.execute(f"PRAGMA key = \"x'{meta['key']}'\"")
    cipher = conn.execute("PRAGMA cipher_version").fetchone()[0]
    provider = (conn.execute("PRAGMA cipher_provider").fetchone() or ["?"])[0]
    conn.close()
    return [
        f"python     {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}",
        f"sqlite     {sqlcipher.sqlite_version}; sqlcipher {cipher} ({provider})",
        f"cpus       {os.cpu_count()} ({platform.processor() or platform.machine()}); load {load_average()}",
        f"command    {shlex.join(sys.orig_argv)}",
        f"workload   {meta['chats']:,} chats, {meta['messages']:,} messages, seed {meta['seed']}; data in {work}",
    ]


Row = tuple[str, float, float, str]  # figure, plain, sqlcipher, kind of target: throughput|ratio|fts|inbox|none


def verdict(row: Row) -> tuple[float, str, str]:
    _, plain, cipher, kind = row
    ratio = cipher / plain if plain else float("nan")
    if kind == "none":
        return ratio, "", ""
    if kind == "throughput":
        return ratio, f"ratio ≥ {1 / MAX_RATIO:.2f}", "ok" if ratio >= 1 / MAX_RATIO else "MISS"
    limit = {"fts": FTS_P95_MS, "inbox": INBOX_P95_MS}.get(kind)
    met = ratio <= MAX_RATIO and (limit is None or cipher <= limit)
    text = f"ratio ≤ {MAX_RATIO}" + (f", ≤ {limit:g} ms" if limit is not None else "")
    return ratio, text, "ok" if met else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="directory to build the databases in, and reuse them from")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        meta = build(work, args)
        print("\n".join(machine_facts(work, meta)), end="\n\n")
        sizes = {k: sum(p.stat().st_size for p in work.glob(FILES[k] + "*")) / 2**20 for k in KINDS}
        cold = cold_open(work, meta, repeats=5)
        stores = {k: open_store(work, meta, k) for k in KINDS}
        try:
            for store in stores.values():  # warm-up, untimed
                for text in QUERIES[:5]:
                    store.search_messages(text, limit=PAGE)
                store.inbox(limit=PAGE)
            recent = interleaved(stores, [search_call(q, "recent") for q in QUERIES], rounds=3)
            relevance = interleaved(stores, [search_call(q, "relevance") for q in QUERIES], rounds=3)
            first = interleaved(stores, [lambda s: s.inbox(limit=PAGE)], rounds=200)
            pages = inbox_walk(stores, max_pages=200, rounds=3)
            slow = {o: slowest(stores, o) for o in ("recent", "relevance")}
        finally:
            for store in stores.values():
                store.close()
    print_results(
        meta,
        {"FTS recent": recent, "FTS relevance": relevance, "inbox first page": first, "inbox keyset pages": pages},
        cold,
        sizes,
        slow,
    )


def print_results(
    meta: dict[str, Any],
    timings: dict[str, dict[str, list[float]]],
    cold: dict[str, list[float]],
    sizes: dict[str, float],
    slow: dict[str, list[str]],
) -> None:
    def row(name: str, values: dict[str, float], kind: str) -> Row:
        return name, values["plain"], values["sqlcipher"], kind

    reports = {k: SeedReport.model_validate(meta["seed_report"][k]) for k in KINDS}
    rate = {k: reports[k].messages / reports[k].message_seconds for k in KINDS}
    rows = [row("bulk insert (messages/s)", rate, "throughput")]
    for label, samples in timings.items():
        rows.append(row(f"{label} p50 (ms)", {k: pct(samples[k], 50) for k in KINDS}, "ratio"))
        rows.append(row(f"{label} p95 (ms)", {k: pct(samples[k], 95) for k in KINDS}, label.split()[0].lower()))
    rows.append(row("cold open + first page, median (ms)", {k: statistics.median(cold[k]) for k in KINDS}, "ratio"))
    rows.append(row("database size (MiB)", sizes, "none"))

    counts = ", ".join(f"{label}: {len(samples['plain'])}" for label, samples in timings.items())
    print(f"samples per store – {counts}, cold open: {len(cold['plain'])}")
    print(f"\n{'figure':<38}{'plain':>12}{'sqlcipher':>12}{'ratio':>8}  target")
    table = ["| Figure | Plain SQLite | SQLCipher | Ratio | Target | Met |", "|---|---:|---:|---:|---|---|"]
    for r in rows:
        ratio, target, met = verdict(r)
        print(f"{r[0]:<38}{r[1]:>12,.2f}{r[2]:>12,.2f}{ratio:>8.2f}  {target} {met}".rstrip())
        table.append(f"| {r[0]} | {r[1]:,.2f} | {r[2]:,.2f} | {ratio:.2f} | {target} | {met} |")
    for order, lines in slow.items():
        print(f"\nslowest FTS queries, order={order}, best of 3 (ms):")
        print("\n".join([f"{'query':>26} {'plain':>8} {'sqlcipher':>9} {'matches':>9}", *lines]))
    print(f"\nload average at the end: {load_average()}")
    print("\nMarkdown for docs/benchmarks.md:\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
