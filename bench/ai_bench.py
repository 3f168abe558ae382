"""AI suggestion overhead: everything a suggestion costs except the model's own time, on a large workspace.

Figures (printed, never asserted):
- per suggestion, p50/p95 of: reading the chat's facts from the store (chat, contact, deals, messages, products),
  knowledge retrieval (FTS5 BM25 over the knowledge base for the customer's latest message), rendering the prompt
  (budget fitting + template), transport (litellm → HTTP → an instant local OpenAI-compatible endpoint → streamed
  answer → guardrails), and the total. The endpoint answers at once, so what is measured is Parley's and litellm's
  overhead, not a model's thinking. Target: total p95 ≤ 100 ms;
- ``import litellm`` in a fresh interpreter (what the app keeps off its start-up path).

Workload: the seed generator's 10k-chat / 500k-message workspace (SQLCipher, keyring mode with the test-only file
keyring, as in startup_bench.py) plus a knowledge base of ≥ 10k chunks imported through the knowledge package's own
import path (articles chunked and indexed as the app does). ``--keep DIR`` reuses a built workspace.

    python bench/ai_bench.py [--chats 10000] [--messages 500000] [--chunks 10000] [--samples 300] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.file_keyring import FileKeyring  # noqa: E402

TARGET_P95_MS = 100.0
MODEL = "bench-model"
KEY = "sk-bench-0001"
ANSWER = "Hi! Yes, it is in stock and ships in 2 business days [1]. Would you like me to reserve one for you?"

COMMON = ["the", "our", "we", "you", "your", "can", "will", "please", "a", "of", "for", "with", "and", "is", "are"]
_TOPICS = [
    ("Returns and refunds", "return refund exchange receipt days condition unworn tags original packaging store"),
    ("Shipping and delivery", "shipping delivery courier tracking days express island city address parcel"),
    ("Sizes and fit", "size fit small medium large chart measure waist length sleeve shoulder"),
    ("Care instructions", "wash cold hand dry iron linen cotton silk leather gentle detergent"),
    ("Payments", "payment transfer card cash invoice deposit instalment bank receipt wallet"),
    ("Orders and stock", "order stock restock reserve preorder colour red blue black green bag tote"),
    ("Warranty and repairs", "warranty repair zipper strap stitch defect months replacement workshop"),
    ("Gift wrapping", "gift wrap card message box ribbon birthday wedding festive note"),
]


def build(home: Path, keyring_file: Path, chats: int, messages: int, chunks: int) -> None:
    from app.ai.knowledge.importers import Document, add_document
    from app.store.keyring_vault import KeyringVault
    from app.store.seed import populate
    from app.store.workspaces import Workspaces

    os.environ["PARLEY_TEST_KEYRING"] = str(keyring_file)
    workspaces = Workspaces(home, KeyringVault(FileKeyring()))
    if workspaces.available():
        print(f"reusing the workspace in {home}")
        return
    store = workspaces.create("Bench Boutique", "Bench Owner")
    started = time.perf_counter()
    report = populate(store, chats=chats, messages=messages, seed=1)
    print(f"built {report.chats:,} chats / {report.messages:,} messages in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    rng = random.Random(7)
    article = 0
    while _chunk_count(store) < chunks:
        title, words = _TOPICS[article % len(_TOPICS)]
        vocabulary = [*words.split(), *COMMON]
        sections = []
        for s in range(6):
            paragraphs = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(60, 120))) + "." for _ in range(5)]
            sections.append(f"## {title} part {s + 1}\n\n" + "\n\n".join(paragraphs))
        body = "\n\n".join(sections)
        add_document(store, Document(title=f"{title} #{article}", body=body, kind="markdown"))
        article += 1
    print(f"built a knowledge base of {article:,} articles / {_chunk_count(store):,} chunks in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    store.close()


def _chunk_count(store: object) -> int:
    db = store.db  # type: ignore[attr-defined]
    with db.read() as conn:
        return int(conn.execute("SELECT count(*) FROM knowledge_chunks").fetchone()[0])


def import_litellm_seconds() -> float:
    code = (
        "import os, time; os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] = 'True'; t = time.perf_counter(); "
        "import litellm; print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def measure(home: Path, samples: int, warmup: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    from app.ai.byok import ByokProvider
    from app.ai.keys import ProviderKeys
    from app.ai.knowledge.retrieval import search
    from app.ai.litellm_loader import default_loader
    from app.ai.provider_core import ChainPolicy
    from app.ai.suggest import Suggester, Suggestion
    from app.ai.types import ProviderEntry
    from app.store.keyring_vault import KeyringVault
    from app.store.workspaces import Workspaces
    from tests.support.keyrings import InMemoryKeyring

    workspaces = Workspaces(home, KeyringVault(FileKeyring()))
    store = workspaces.open(workspaces.available()[0].workspace_id)
    # The instant endpoint runs in a process of its own, as a provider does: in this process its per-chunk work
    # would take the GIL from the very code being measured. It sends each chunk at once (no Nagle delay).
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.ai.openai_server", "--key", KEY, "--answer", ANSWER],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    base_url = server.stdout.readline().split()[-1]
    keys = ProviderKeys(InMemoryKeyring())
    keys.set("bench", KEY)
    entry = ProviderEntry(id="bench", kind="openai_compatible", model=MODEL, base_url=base_url)
    provider = ByokProvider([entry], keys, loader=default_loader, policy=ChainPolicy())
    suggester = Suggester(provider, store, retrieve=lambda query, limit: search(store, query, limit))
    with store.db.read() as conn:
        chat_ids = [row[0] for row in conn.execute("SELECT id FROM chats WHERE deleted_at IS NULL")]
    rng = random.Random(3)
    keys_ = ("store", "retrieval", "prompt", "first_token", "to_first", "stream", "total", "wall", "raw")
    figures: dict[str, list[float]] = {k: [] for k in keys_}
    sizes = {"prompt_tokens": 0, "messages": 0, "passages": 0, "products": 0}
    await default_loader.get()
    for i in range(warmup + samples):
        chat_id = rng.choice(chat_ids)
        started = time.perf_counter()
        final: Suggestion | None = None
        async for event in suggester.suggest(chat_id):
            if isinstance(event, Suggestion):
                final = event
        wall = (time.perf_counter() - started) * 1000
        assert final is not None
        assert final.text == ANSWER
        if i < warmup:
            continue
        t = final.timings_ms
        figures["store"].append(t["store"])
        figures["retrieval"].append(t["retrieval"])
        figures["prompt"].append(t["prompt"])
        to_first = t["store"] + t["retrieval"] + t["prompt"] + t["first_token"]
        figures["first_token"].append(t["first_token"])
        figures["to_first"].append(to_first)
        figures["stream"].append(t["total"] - to_first)
        figures["total"].append(t["total"])
        figures["wall"].append(wall)
        sizes["prompt_tokens"] += final.record.tokens["total"]
        sizes["messages"] += final.record.messages_used
        sizes["passages"] += len(final.record.citations)
        sizes["products"] += final.record.products_used
    # The floor: the same streamed request straight over httpx (no litellm), with a prompt of the average size.
    import httpx

    body = {
        "model": MODEL,
        "stream": True,
        "messages": [{"role": "user", "content": "word " * (sizes["prompt_tokens"] * 4 // 5 // samples)}],
    }
    async with httpx.AsyncClient() as client:
        for i in range(warmup + samples):
            started = time.perf_counter()
            headers = {"Authorization": f"Bearer {KEY}"}
            async with client.stream("POST", f"{base_url}/chat/completions", json=body, headers=headers) as r:
                async for _line in r.aiter_lines():
                    pass
            if i >= warmup:
                figures["raw"].append((time.perf_counter() - started) * 1000)
    server.kill()
    server.wait()
    store.close()
    return figures, {k: round(v / samples) for k, v in sizes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None, help="build (or reuse) the workspace in this folder")
    args = parser.parse_args()

    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    temp = None
    if args.keep is None:
        temp = tempfile.TemporaryDirectory(prefix="parley-ai-bench-")
        base = Path(temp.name)
    else:
        base = args.keep
        base.mkdir(parents=True, exist_ok=True)
    home, keyring_file = base / "home", base / "keyring.json"
    os.environ["PARLEY_TEST_KEYRING"] = str(keyring_file)
    build(home, keyring_file, args.chats, args.messages, args.chunks)

    imports = [import_litellm_seconds() for _ in range(3)]
    print(f"import litellm in a fresh interpreter: {statistics.median(imports):.2f} s median of 3 "
          f"({', '.join(f'{s:.2f}' for s in imports)})")  # fmt: skip

    figures, sizes = asyncio.run(measure(home, args.samples, args.warmup))
    print(f"\n{args.samples} suggestions over random chats (after {args.warmup} warm-up), instant local endpoint:")
    print(f"average prompt: {sizes['prompt_tokens']} tokens (estimated), {sizes['messages']} messages, "
          f"{sizes['passages']} passages, {sizes['products']} products")  # fmt: skip
    print("| part | p50 (ms) | p95 (ms) | max (ms) |")
    print("| --- | ---: | ---: | ---: |")
    labels = {
        "store": "store reads (chat, contact, deals, messages, products)",
        "retrieval": "knowledge retrieval (BM25)",
        "prompt": "prompt (budget fitting + template)",
        "first_token": "transport to the first token (litellm + HTTP)",
        "to_first": "overhead until the first word shows",
        "stream": f"stream handling after the first token ({len(ANSWER.split())} chunks)",
        "total": "total overhead of the call",
        "wall": "wall clock of the whole call",
        "raw": "baseline: same stream over plain httpx, no litellm",
    }
    for key, label in labels.items():
        values = figures[key]
        print(f"| {label} | {pct(values, 50):.2f} | {pct(values, 95):.2f} | {max(values):.2f} |")
    for key in ("to_first", "total"):
        p95 = pct(figures[key], 95)
        verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
        print(f"target p95 ≤ {TARGET_P95_MS:.0f} ms, {labels[key]}: {verdict} ({p95:.1f} ms)")
    print(f"load at the end {os.getloadavg()[0]:.2f}")
    if temp is not None:
        temp.cleanup()


if __name__ == "__main__":
    main()
