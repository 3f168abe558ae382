"""Two real Parley apps on one team: a change made on A → painted on B's open page, p50/p95/max per kind.

Run: ``.venv/bin/python bench/two_apps_bench.py [--rounds N]``. It makes a private PostgreSQL cluster and runs the
real sync server; builds a team with synthetic data only (an owner's workspace for app A, an invited member's for
app B); then starts two real app processes (``python -m app --home …``), each on an Xvfb display of its own when
``Xvfb`` is installed (else ``QT_QPA_PLATFORM=offscreen``), with the probe of ``app/probe.py`` switched on.

Each round makes one change of each kind on A (a queued message, an internal note, a contact rename, a new
contact, a deal moved on the board, a sale) through the operations the UI calls (``app.store.ops``), on A's task
runner, while B shows the page where it appears (inbox with the chat open, contacts, pipeline, products → Sales;
navigation only). The
figure is the first paint of B that shows the change's marker word minus A's commit time. The baseline, in the same run
and interleaved, is the same change made on B itself (B commit → B paint): the page's own refresh and paint, without
sync. Before each change the bench waits a random 0.2-1.2 s so changes do not lock onto the phase of A's once-a-second
fallback look at the outbox (a local commit wakes the push at once since issue 15). Exits 1 when a change never painted
within 15 s (a product bug; the kind is named).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.ids import utc_now
from app.probe import marker_hash
from app.store.deals import create_deal
from app.store.keyring_vault import KeyringVault
from app.store.messaging import add_note
from app.store.sales import SaleLine, record_sale
from app.store.store import Store
from app.store.workspaces import Workspaces
from sync_server.pgcluster import Cluster
from tests.support.file_keyring import FileKeyring
from tests.support.sync_server import ServerProcess, fresh_database
from tests.sync.clients import join, owner_client

KINDS = ("message", "note", "contact_edit", "contact_new", "deal_move", "sale")
# B's page for each kind, and the table whose change report precedes the paint (for the legs of a latency).
PAGES = {"message": "inbox", "note": "inbox", "contact_edit": "contacts", "contact_new": "contacts"}
PAGES |= {"deal_move": "pipeline", "sale": "products"}
TABLES = {"message": "messages", "note": "notes", "contact_edit": "contacts", "contact_new": "contacts"}
TABLES |= {"deal_move": "deals", "sale": "sales"}
PAINT_DEADLINE = 15.0
FROM_STAGE, TO_STAGE = "New lead", "Qualified"
ROOT = Path(__file__).resolve().parents[1]
LOOK = "A commit → A sync noticed it (ms)"  # the wait for A's sync loop to look at the outbox


def marker() -> str:
    return "pm" + secrets.token_hex(6)  # the shape app/probe.py hashes


def pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class PathKeyring(FileKeyring):
    """The test file keyring at a fixed path: this process writes two of them (A's and B's)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.file = path

    def _path(self) -> Path:
        return self.file


# ---- the team's synthetic data ---------------------------------------------------------------------------------
@dataclass
class Team:
    chat_id: str = ""
    stages: dict[str, str] = field(default_factory=dict)  # name → id
    contacts: list[str] = field(default_factory=list)  # to rename, one per change (A's and B's)
    deals: list[tuple[str, str]] = field(default_factory=list)  # (id, title) in FROM_STAGE, one per move


def stages_of(store: Store) -> dict[str, str]:
    return {s.name: s.id for s in store.pipeline_stages.find_all()}


def seed(store: Store, changes: int) -> Team:
    """What the rounds work on, made on A before the apps start. Every row carries a marker word, so B's probe
    reports each page once it has loaded."""
    team = Team(stages=stages_of(store))
    customer = store.contacts.create(name=f"Customer {marker()}", phone="+15550100001")
    chat = store.chats.create(contact_id=customer.id)
    store.messages.create(chat_id=chat.id, direction="in", body=f"Hello {marker()}", sent_at=utc_now())
    add_note(store, chat.id, f"Setup note {marker()}")
    team.chat_id = chat.id
    for i in range(changes):
        team.contacts.append(store.contacts.create(name=f"Zz setup {i:03} {marker()}").id)
        deal = create_deal(store, team.stages[FROM_STAGE], f"Deal {marker()}")
        team.deals.append((deal.id, deal.title))
    record_sale(store, [SaleLine(description=f"Setup {marker()}", unit_price_minor=900)], contact_id=customer.id)
    return team


# ---- displays and app processes ----------------------------------------------------------------------------------
class Display:
    """An Xvfb screen of its own (one per app: two computers, and no window covers the other)."""

    def __init__(self) -> None:
        self.number = next(n for n in range(91, 400) if not Path(f"/tmp/.X{n}-lock").exists())
        self.proc = subprocess.Popen(
            [
                shutil.which("Xvfb") or "/usr/bin/Xvfb",
                f":{self.number}",
                "-screen",
                "0",
                "1600x1000x24",
                "-nolisten",
                "tcp",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while not Path(f"/tmp/.X11-unix/X{self.number}").exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Xvfb :{self.number} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


@dataclass
class App:
    name: str
    home: Path
    keyring: Path
    probe: Path
    key: str
    display: Display | None
    proc: subprocess.Popen[bytes] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    _offset: int = 0
    _fifo: Any = None
    _ids: Iterator[int] = field(default_factory=lambda: iter(range(1, 1_000_000)))

    def start(self) -> None:
        scratch = self.home.parent / f"{self.name}-xdg"
        env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            PYTHON_KEYRING_BACKEND="tests.support.file_keyring.FileKeyring",
            PARLEY_TEST_KEYRING=str(self.keyring),
            PARLEY_PROBE_DIR=str(self.probe),
            PARLEY_PROBE_KEY=self.key,
            XDG_CONFIG_HOME=str(scratch / "config"),
            XDG_DATA_HOME=str(scratch / "data"),
            XDG_CACHE_HOME=str(scratch / "cache"),
        )
        if self.display is not None:
            env |= {"QT_QPA_PLATFORM": "xcb", "DISPLAY": f":{self.display.number}"}
        else:
            env["QT_QPA_PLATFORM"] = "offscreen"
        log = (self.home.parent / f"{self.name}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--home", str(self.home)], env=env, cwd=ROOT, stdout=log, stderr=log
        )
        log.close()

    def poll(self) -> None:
        path = self.probe / "events.jsonl"
        if not path.exists():
            return
        with path.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self._offset += end
        self.events += [json.loads(line) for line in data[:end].splitlines() if line.strip()]
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"app {self.name} exited with {self.proc.returncode}: {self.log_tail()}")

    def send(self, op: str, **fields: Any) -> str:
        if self._fifo is None:
            self._fifo = (self.probe / "commands").open("w", encoding="utf-8")  # the probe's reader holds it open
        ident = f"{self.name}{next(self._ids)}"
        self._fifo.write(json.dumps({"id": ident, "op": op, **fields}) + "\n")
        self._fifo.flush()
        return ident

    def find(self, ev: str, **match: Any) -> dict[str, Any] | None:
        return next((e for e in self.events if e["ev"] == ev and all(e.get(k) == v for k, v in match.items())), None)

    def stop(self) -> None:
        if self._fifo is not None:
            with contextlib.suppress(OSError):
                self._fifo.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self) -> str:
        return (self.home.parent / f"{self.name}.log").read_text(errors="replace")[-3000:]


def wait(apps: list[App], condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        for app in apps:
            app.poll()
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.01)


# ---- one change --------------------------------------------------------------------------------------------------
@dataclass
class Sample:
    kind: str
    side: str  # "remote" (A → B) or "local" (B → B)
    latency: float | None = None  # seconds, None: never painted
    legs: dict[str, float] = field(default_factory=dict)


class Bench:
    def __init__(
        self, a: App, b: App, team: Team, key: bytes, rounds: int, rng: random.Random, kinds: tuple[str, ...]
    ) -> None:
        self.a, self.b, self.team, self.key, self.rounds, self.rng = a, b, team, key, rounds, rng
        self.kinds = kinds
        self.samples: list[Sample] = []
        self.n = 0

    def show(self, section: str, **extra: Any) -> None:
        mark = len(self.b.events)
        ident = self.b.send("show", section=section, **extra)
        wait([self.b], lambda: self.b.find("done", id=ident), 30, f"B showing {section}")
        # The page is built and loaded on first visit: wait for its first paint of seeded rows.
        wait(
            [self.b],
            lambda: any(e["ev"] == "paint" and e["page"] == section for e in self.b.events[mark:]),
            30,
            f"B painting {section}",
        )

    def change(self, kind: str, side: str) -> Sample:
        maker = self.a if side == "remote" else self.b
        word = marker()
        self.n += 1
        scope, args = "", self.command(kind, word)
        if kind == "deal_move":
            scope = self.team.stages[TO_STAGE]
            word = args.pop("title").split()[-1]
        expected = marker_hash(self.key, scope, word)
        time.sleep(self.rng.uniform(0.2, 1.2))  # off the phase of A's once-a-second fallback look
        ident = maker.send(kind, **args)
        sample = Sample(kind, side)
        try:
            commit = wait([self.a, self.b], lambda: maker.find("commit", id=ident), PAINT_DEADLINE, "commit")
        except TimeoutError:
            error = maker.find("error", id=ident)
            raise RuntimeError(f"{kind} on {maker.name} did not commit: {error}") from None
        try:
            paint = wait(
                [self.a, self.b],
                lambda: next((e for e in self.b.events if e["ev"] == "paint" and expected in e["h"]), None),
                PAINT_DEADLINE,
                "paint",
            )
        except TimeoutError:
            return sample
        sample.latency = paint["t"] - commit["t"]
        sample.legs = self.legs(kind, maker, commit["t"], paint)
        return sample

    def command(self, kind: str, word: str) -> dict[str, Any]:
        team = self.team
        if kind in ("message", "note"):
            return {"chat_id": team.chat_id, "text": f"Bench {kind} {word}"}
        if kind == "contact_edit":
            return {"contact_id": team.contacts.pop(0), "name": f"0{9999 - self.n:04} {word}"}
        if kind == "contact_new":
            return {"name": f"0{9999 - self.n:04} {word}"}
        if kind == "deal_move":
            # Moved to the top of the next column (index 0, a drop on its first row) so it is on screen on B.
            # The probe hashes the title it already shows under its new column's stage id.
            deal_id, title = team.deals.pop(0)
            return {"deal_id": deal_id, "stage_id": team.stages[TO_STAGE], "index": 0, "title": title}
        return {"text": word}  # a sale of one line described by the marker

    def legs(self, kind: str, maker: App, committed: float, paint: dict[str, Any]) -> dict[str, float]:
        """Where the time went: A's outbox look, push + server fan-out + B's pull/apply, B's refresh + paint."""
        out: dict[str, float] = {"paint, probe's look included (ms)": (paint["t"] - paint["t0"]) * 1000}
        if "cost" in paint:
            out["of which the probe's look at the rows (ms)"] = paint["cost"] * 1000
        changed = next(
            (
                e
                for e in self.b.events
                if e["ev"] == "changed" and committed <= e["t"] <= paint["t"] and TABLES[kind] in e["tables"]
            ),
            None,
        )
        if changed is not None:
            out["B change report → painted (ms)"] = (paint["t"] - changed["t"]) * 1000
        if maker is self.a:
            noticed = next(
                (e for e in self.a.events if e["ev"] == "sync" and e["t"] >= committed and e["pending"] > 0), None
            )
            if noticed is not None:
                out[LOOK] = (noticed["t"] - committed) * 1000
                if changed is not None:
                    out["A noticed → B change report (ms)"] = (changed["t"] - noticed["t"]) * 1000
        elif changed is not None:
            out["B commit → B change report (ms)"] = (changed["t"] - committed) * 1000
        return out

    def run(self) -> None:
        groups = [
            ("inbox", {"chat_id": self.team.chat_id}, ("message", "note")),
            ("contacts", {}, ("contact_edit", "contact_new")),
            ("pipeline", {}, ("deal_move",)),
            ("products", {"tab": 1}, ("sale",)),
        ]
        for section, extra, group in groups:
            kinds = tuple(k for k in group if k in self.kinds)
            if not kinds:
                continue
            self.show(section, **extra)
            for _ in range(self.rounds):
                for kind in kinds:
                    sides = ["remote", "local"]
                    self.rng.shuffle(sides)
                    for side in sides:
                        sample = self.change(kind, side)
                        self.samples.append(sample)
                        shown = "never" if sample.latency is None else f"{sample.latency * 1000:.0f} ms"
                        print(f"  {kind:<12} {side:<6} {shown}", flush=True)


# ---- report ------------------------------------------------------------------------------------------------------
def figures(values: list[float]) -> str:
    if not values:
        return "—"
    ms = [v * 1000 for v in values]
    return f"{statistics.median(ms):.0f} / {pct(ms, 95):.0f} / {max(ms):.0f}"


def report(samples: list[Sample], rounds: int) -> list[str]:
    lines = [
        "| Kind (B's page) | seen on B | A → B p50 / p95 / max (ms) | of which A's outbox look p50 | "
        "B → B baseline p50 / p95 / max (ms) | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in (*KINDS, "all"):
        of = [s for s in samples if kind in ("all", s.kind)]
        if not of:
            continue
        remote = [s.latency for s in of if s.side == "remote" and s.latency is not None]
        local = [s.latency for s in of if s.side == "local" and s.latency is not None]
        asked = sum(1 for s in of if s.side == "remote")
        ratio = f"{statistics.median(remote) / statistics.median(local):.1f}x" if remote and local else "—"
        name = "all kinds" if kind == "all" else f"{kind} ({PAGES[kind]})"
        looks = [s.legs[LOOK] for s in of if s.side == "remote" and LOOK in s.legs]
        look = f"{statistics.median(looks):.0f}" if looks else "—"
        lines.append(f"| {name} | {len(remote)}/{asked} | {figures(remote)} | {look} | {figures(local)} | {ratio} |")
    lines += ["", "Where A → B's time went (p50 / p95 ms over the remote changes; B → B's legs for the baseline):", ""]
    lines += ["| Leg | p50 / p95 (ms) | samples |", "|---|---:|---:|"]
    for side in ("remote", "local"):
        legs: dict[str, list[float]] = {}
        for s in samples:
            if s.side == side:
                for name, value in s.legs.items():
                    legs.setdefault(name, []).append(value)
        for name, values in legs.items():
            tag = "A → B" if side == "remote" else "B → B"
            lines.append(f"| {tag}: {name} | {statistics.median(values):.0f} / {pct(values, 95):.0f} | {len(values)} |")
    return lines


def settings_in_force() -> str:
    from app.sync.service import SyncService
    from app.ui.pages.inbox import REFRESH_DEBOUNCE_MS

    params = inspect.signature(SyncService.__init__).parameters
    return (
        f"sync: local commits looked for every {params['local_poll_seconds'].default:g} s, timed pass every "
        f"{params['poll_seconds'].default:g} s, pushes/pulls woken by the outbox look and the server's version notice "
        f"socket; inbox list refresh debounce {REFRESH_DEBOUNCE_MS} ms (the other pages refresh on the change report)"
    )


# ---- set-up and main ---------------------------------------------------------------------------------------------
def build_team(root: Path, server_url: str, changes: int) -> tuple[Team, Path, Path, Path, Path]:
    home_a, home_b = root / "a" / "home", root / "b" / "home"
    keyring_a, keyring_b = root / "a" / "keyring.json", root / "b" / "keyring.json"
    for folder in (home_a, home_b):
        folder.parent.mkdir(parents=True)
    workspaces_a = Workspaces(home_a, KeyringVault(PathKeyring(keyring_a)))
    workspaces_b = Workspaces(home_b, KeyringVault(PathKeyring(keyring_b)))
    owner = owner_client(workspaces_a, server_url, business="Bench Boutique")
    try:
        team = seed(owner.store, changes)
        owner.sync()
        member = join(workspaces_b, server_url, owner.invite(), name="member")
        member.store.close()
    finally:
        owner.store.close()
    return team, home_a, home_b, keyring_a, keyring_b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=10, help="changes of each kind on A (and as many on B)")
    parser.add_argument("--offscreen", action="store_true", help="QT_QPA_PLATFORM=offscreen even with Xvfb")
    parser.add_argument("--seed", type=int, help="of the pauses before changes (default: a new one, printed)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of: " + ", ".join(KINDS))
    parser.add_argument("--keep", type=Path, help="copy the probes' event files (hashes and times only) here")
    args = parser.parse_args()
    xvfb = shutil.which("Xvfb") is not None and not args.offscreen
    if args.seed is None:
        args.seed = secrets.randbelow(1_000_000)
    print(
        f"two_apps_bench: {' '.join(sys.argv[1:]) or '(defaults)'}; seed {args.seed}; "
        f"{'Xvfb' if xvfb else 'offscreen'}; load average at start {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    print(settings_in_force(), flush=True)
    key = secrets.token_bytes(16)
    missed: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="parley-two-apps-") as tmp:
        root = Path(tmp)
        cluster = Cluster.ensure(root / "pg")
        server: ServerProcess | None = None
        displays: list[Display] = []
        apps: list[App] = []
        try:
            server = ServerProcess(fresh_database(cluster, "twoapps"), root / "server.log").start()
            # Each side needs one contact to rename and one deal to move per change it makes (A's and B's).
            team, home_a, home_b, keyring_a, keyring_b = build_team(root, server.url, 2 * args.rounds)
            for name, home, keyring in (("A", home_a, keyring_a), ("B", home_b, keyring_b)):
                display = Display() if xvfb else None
                if display is not None:
                    displays.append(display)
                app = App(name, home, keyring, root / name.lower() / "probe", key.hex(), display)
                apps.append(app)
                app.start()
            a, b = apps
            started = time.monotonic()
            for app in apps:
                wait(apps, lambda app=app: app.find("ready"), 90, f"app {app.name} ready")
                wait(apps, lambda app=app: app.find("sync", state="synced"), 90, f"app {app.name} synced")
            print(f"both apps open and synced {time.monotonic() - started:.1f} s after launch", flush=True)
            kinds = tuple(k for k in args.kinds.split(",") if k)
            if not set(kinds) <= set(KINDS):
                parser.error(f"--kinds: unknown {sorted(set(kinds) - set(KINDS))}")
            bench = Bench(a, b, team, key, args.rounds, random.Random(args.seed), kinds)
            bench.run()
            print("", flush=True)
            print("\n".join(report(bench.samples, args.rounds)))
            missed = [s for s in bench.samples if s.latency is None]
            if args.keep is not None:
                args.keep.mkdir(parents=True, exist_ok=True)
                for app in apps:
                    shutil.copy(app.probe / "events.jsonl", args.keep / f"{app.name}.jsonl")
        except BaseException:
            for app in apps:
                print(f"--- app {app.name} log (end) ---\n{app.log_tail()}", file=sys.stderr)
            if server is not None:
                print(f"--- server log (end) ---\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            for app in apps:
                app.stop()
            for display in displays:
                display.stop()
            if server is not None:
                server.stop()
            cluster.destroy()
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    if missed:
        kinds = sorted({f"{s.kind} ({s.side})" for s in missed})
        print(f"NEVER PAINTED within {PAINT_DEADLINE:g} s: {len(missed)} change(s): {', '.join(kinds)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
