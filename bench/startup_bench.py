"""Start-up benchmark: process start → inbox interactive, on the 10k-chat / 500k-message workspace.

Figures (printed, never asserted):
- cold start of the real app until its ``inbox ready`` log line (the chat list's first page painted), next to a bare
  QMainWindow measured the same way in the same run (baseline: what Python + Qt cost before Parley does anything);
- resident memory (RSS) of the app once the inbox is shown;
- the inbox model's ``data()`` p50/p95 while scrolling through all 10k rows, and the page fetch time.

The workspace is in keyring mode, with a test-only keyring backend (tests/support/file_keyring.py) that reads the
key from a file in the temp folder (the machine has no desktop keyring); it stands in for Keychain / Credential
Manager / Secret Service, so the figure excludes a D-Bus round trip (a few ms) but includes everything else.

    python bench/startup_bench.py [--chats 10000] [--messages 500000] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.file_keyring import FileKeyring  # noqa: E402

TARGET_START_S = 1.5
TARGET_RSS_MB = 250


APP = """
import sys
sys.path.insert(0, {root!r})
from app.__main__ import main
sys.exit(main(["--home", {home!r}]))
"""

BARE = """
from PySide6 import QtCore, QtWidgets
import sys
app = QtWidgets.QApplication(sys.argv)
w = QtWidgets.QMainWindow(); w.resize(1280, 800)
class P(QtCore.QObject):
    def eventFilter(self, o, e):
        if e.type() == QtCore.QEvent.Type.Paint:
            o.removeEventFilter(self)
            QtCore.QTimer.singleShot(0, lambda: print("inbox ready", file=sys.stderr, flush=True))
        return False
p = P(); w.installEventFilter(p); w.show(); app.exec()
"""


def build(home: Path, keyring_file: Path, chats: int, messages: int) -> None:
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
    store.close()
    print(f"built {report.chats:,} chats / {report.messages:,} messages in {time.perf_counter() - started:.0f} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def time_to_ready(code: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawn to the 'inbox ready' line, and RSS (MB) one second later."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            if "inbox ready" in line:
                elapsed = time.perf_counter() - started
                time.sleep(1.0)
                return elapsed, rss_mb(proc.pid)
        raise RuntimeError(f"process exited ({proc.wait()}) without 'inbox ready'")
    finally:
        proc.kill()
        proc.wait()


def model_figures(home: Path) -> tuple[float, float, float, int]:
    """data() p50/p95 in µs over every row, and the mean page fetch in ms."""
    from app.qt import Qt, QtCore, QtWidgets
    from app.store.keyring_vault import KeyringVault
    from app.store.workspaces import Workspaces
    from app.ui.models.inbox_model import InboxModel, RowRole

    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    workspaces = Workspaces(home, KeyringVault(FileKeyring()))
    store = workspaces.open(workspaces.available()[0].workspace_id)
    model = InboxModel(store)
    fetches: list[float] = []
    while model.canFetchMore(QtCore.QModelIndex()):
        t = time.perf_counter()
        model.fetchMore(QtCore.QModelIndex())
        fetches.append(time.perf_counter() - t)
    samples: list[float] = []
    for row in range(model.rowCount()):
        index = model.index(row)
        t = time.perf_counter_ns()
        model.data(index, RowRole)
        model.data(index, Qt.ItemDataRole.DisplayRole)
        samples.append((time.perf_counter_ns() - t) / 1000)
    rows = model.rowCount()
    store.close()
    q = statistics.quantiles(samples, n=100)
    return q[49], q[94], statistics.mean(fetches) * 1000, rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", help="folder to build the workspace in and reuse across runs")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="parley-startup-")
    base = Path(args.keep) if args.keep else Path(tmp.name)
    base.mkdir(parents=True, exist_ok=True)
    home, keyring_file = base / "home", base / "bench-keyring.json"
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.platform()}")
    build(home, keyring_file, args.chats, args.messages)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    env = dict(
        os.environ,
        PARLEY_TEST_KEYRING=str(keyring_file),
        PYTHON_KEYRING_BACKEND="tests.support.file_keyring.FileKeyring",
        PYTHONPATH=str(ROOT),
    )
    env["XDG_CONFIG_HOME"] = str(base / "config")  # no saved window state from a previous run
    bare, app, rss = [], [], []
    for _ in range(args.runs):  # interleaved, so machine noise hits both alike
        bare.append(time_to_ready(BARE, env)[0])
        seconds, mb = time_to_ready(APP.format(root=str(ROOT), home=str(home)), env)
        app.append(seconds)
        rss.append(mb)
    p50, p95, fetch_ms, rows = model_figures(home)
    bare_med, app_med = statistics.median(bare), statistics.median(app)
    print()
    print(f"platform: {env['QT_QPA_PLATFORM']}, runs: {args.runs}")
    print("| figure | value | baseline | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| start → inbox ready (median) | {app_med:.2f} s | bare QMainWindow {bare_med:.2f} s "
        f"| {app_med / bare_med:.1f}× | ≤ {TARGET_START_S} s |"
    )
    print(f"| start → inbox ready (worst) | {max(app):.2f} s | {max(bare):.2f} s | | |")
    print(f"| RSS with the inbox shown (median) | {statistics.median(rss):.0f} MB | | | ≤ {TARGET_RSS_MB} MB |")
    print(f"| inbox model data() p50 / p95 over {rows:,} rows | {p50:.1f} / {p95:.1f} µs | | | |")
    print(f"| inbox page fetch (100 rows, mean) | {fetch_ms:.2f} ms | | | |")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
