"""The Chromium that drives WhatsApp Web: which one, with which flags, on which profile.

``find_chromium`` picks an executable (``PARLEY_CHROMIUM``, then Playwright's own browser, then a system Chrome,
Chromium or Edge); ``open_profile`` takes the profile's ``ProfileLock`` and launches a persistent context on
``<profile dir>/chromium``, releasing the lock when the context closes. ``browser_memory_bytes`` measures what the
browser costs in memory (Linux only).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.errors import ParleyError
from app.whatsapp.profile_lock import ProfileLock

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Playwright

ENV_VAR = "PARLEY_CHROMIUM"
CHROMIUM_DIR = "chromium"
VIEWPORT = {"width": 1280, "height": 800}
LOCALE = "en-US"

LINUX_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MACOS_PATHS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "~/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "~/Applications/Chromium.app/Contents/MacOS/Chromium",
)
WINDOWS_PATHS = (
    r"%ProgramFiles%\Google\Chrome\Application\chrome.exe",
    r"%ProgramFiles(x86)%\Google\Chrome\Application\chrome.exe",
    r"%LocalAppData%\Google\Chrome\Application\chrome.exe",
    r"%ProgramFiles(x86)%\Microsoft\Edge\Application\msedge.exe",
    r"%ProgramFiles%\Microsoft\Edge\Application\msedge.exe",
)

# Flags that keep Chromium from phoning home; on a closed network those calls only hang or log errors.
# Playwright already adds --password-store=basic and --use-mock-keychain (no OS keyring prompts) and, by default,
# --no-sandbox.
QUIET_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--mute-audio",
)


class NoBrowser(ParleyError):
    hint = (
        "Install Chromium or Google Chrome (Linux: `sudo apt install chromium`; Windows: Chrome or Edge; "
        f"macOS: Google Chrome), or set {ENV_VAR} to the browser's executable."
    )


@dataclass(frozen=True)
class BrowserChoice:
    """An executable to launch and where it came from (``"playwright"``, ``"PARLEY_CHROMIUM"``, ``"PATH"``, ...)."""

    executable: Path
    source: str

    @property
    def bundled(self) -> bool:
        return self.source == "playwright"


def launch_args(headless: bool) -> list[str]:
    args = list(QUIET_ARGS)
    if headless:
        args.append("--disable-gpu")
    return args


def bundled_chromium_path() -> str | None:
    """Where Playwright's own Chromium lives (installed or not), asking Playwright's driver; ~1 s.

    Returns None inside a running event loop, where the sync API cannot run: async callers pass
    ``playwright.chromium.executable_path`` to ``find_chromium`` instead (``open_profile`` does).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return None
    from playwright.sync_api import Error, sync_playwright

    try:
        with sync_playwright() as playwright:
            return playwright.chromium.executable_path
    except Error:
        return None


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _platform_paths() -> list[Path]:
    """Standard install locations outside PATH for this OS."""
    if sys.platform == "darwin":
        return [Path(p).expanduser() for p in MACOS_PATHS]
    if sys.platform == "win32":
        expanded = (os.path.expandvars(p) for p in WINDOWS_PATHS)
        return [Path(p) for p in expanded if "%" not in p]  # skip variables that are not set
    return []


def _path_names() -> tuple[str, ...]:
    if sys.platform in ("darwin", "win32"):
        return ()
    return LINUX_NAMES


def _from_env(value: str) -> BrowserChoice:
    candidate = Path(value).expanduser()
    if _is_executable(candidate):
        return BrowserChoice(candidate, ENV_VAR)
    if os.sep not in value and (os.altsep is None or os.altsep not in value):
        found = shutil.which(value)
        if found:
            return BrowserChoice(Path(found), ENV_VAR)
    raise NoBrowser(
        f"{ENV_VAR} is set to {value!r}, which is not an executable file.",
        hint=f"Point {ENV_VAR} at the browser's executable, or unset it to let Parley look for one.",
    )


def find_chromium(bundled_path: str | os.PathLike[str] | None = None, *, ask_playwright: bool = True) -> BrowserChoice:
    """The browser to drive: ``PARLEY_CHROMIUM``, else Playwright's Chromium if installed, else a system browser.

    ``bundled_path`` is Playwright's ``chromium.executable_path`` when the caller already has a Playwright
    instance; without it, and with ``ask_playwright``, it is looked up with the sync API (``bundled_chromium_path``).
    An explicit ``PARLEY_CHROMIUM`` wins over everything; if it names nothing runnable that is an error, not a
    silent fallback. Raises ``NoBrowser`` listing every place tried.
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return _from_env(env)
    tried: list[str] = [f"{ENV_VAR} (not set)"]

    bundled = os.fspath(bundled_path) if bundled_path is not None else None
    if bundled is None and ask_playwright:
        bundled = bundled_chromium_path()
    if bundled:
        if _is_executable(Path(bundled)):
            return BrowserChoice(Path(bundled), "playwright")
        tried.append(f"Playwright's Chromium at {bundled}")

    for name in _path_names():
        found = shutil.which(name)
        if found:
            return BrowserChoice(Path(found), "PATH")
        tried.append(f"{name} on PATH")

    for path in _platform_paths():
        if _is_executable(path):
            return BrowserChoice(path, str(path))
        tried.append(str(path))

    raise NoBrowser("No Chromium-based browser found. Looked for: " + "; ".join(tried) + ".")


async def open_profile(
    playwright: Playwright,
    profile_dir: Path,
    *,
    headless: bool = True,
    choice: BrowserChoice | None = None,
) -> BrowserContext:
    """Lock ``profile_dir`` and launch a persistent Chromium context on ``profile_dir / "chromium"``.

    Raises ``ProfileInUse`` (before any browser starts) if another process or context holds the profile, and
    ``NoBrowser`` if no browser is found. The lock is released when the context closes, including when the browser
    crashes; if this process dies the OS releases it.
    """
    profile_dir = Path(profile_dir)
    lock = ProfileLock(profile_dir)
    lock.acquire()
    try:
        if choice is None:
            choice = find_chromium(playwright.chromium.executable_path)
        user_data = profile_dir / CHROMIUM_DIR
        user_data.mkdir(parents=True, exist_ok=True, mode=0o700)
        context = await playwright.chromium.launch_persistent_context(
            user_data_dir=user_data,
            executable_path=choice.executable,
            headless=headless,
            args=launch_args(headless),
            viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]},
            locale=LOCALE,
        )
    except BaseException:
        lock.release()
        raise
    context.on("close", lambda _context: lock.release())
    return context


def browser_pid(profile_dir: Path) -> int | None:
    """The pid of the main browser process running on ``profile_dir``'s Chromium profile (Linux; else None).

    Playwright does not expose the browser's pid (``context.browser`` of a persistent context is a ``Browser``,
    but it has no pid or process), so this finds the process whose command line carries our ``--user-data-dir``
    and no ``--type=`` (which marks renderer, GPU and utility children).
    """
    if not sys.platform.startswith("linux"):
        return None
    wanted = f"--user-data-dir={Path(profile_dir) / CHROMIUM_DIR}"
    for pid in _proc_pids():
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode("utf-8", "replace") for a in argv]
        if wanted in args and not any(a.startswith("--type=") for a in args):
            return pid
    return None


def browser_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in bytes, read from /proc (Linux; else 0).

    Shared pages (Chromium's binary and libraries) are counted once per process, so this overstates the footprint
    5–7× for a browser's ~9 processes; ``browser_memory_bytes`` is the figure to act on.
    """
    page = os.sysconf("SC_PAGE_SIZE") if sys.platform.startswith("linux") else 0
    return sum(_rss_pages(p) * page for p in _tree(pid))


def browser_memory_bytes(pid: int) -> int:
    """What the browser of ``pid`` costs: the proportional set size (PSS) of it and all its descendants, in bytes.

    PSS splits each shared page among the processes that map it, so the sum over the tree counts Chromium's shared
    code once rather than once per process. Linux only (``/proc/<pid>/smaps_rollup``, kernel ≥ 4.14), falling back
    to RSS per process where it cannot be read; elsewhere, and for a pid that is gone, 0. The memory watchdog and the
    WhatsApp page use this figure.
    """
    if not sys.platform.startswith("linux"):
        return 0
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for current in _tree(pid):
        pss = _pss_bytes(current)
        total += pss if pss is not None else _rss_pages(current) * page
    return total


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux; else empty)."""
    if not sys.platform.startswith("linux"):
        return []
    children: dict[int, list[int]] = {}
    for child in _proc_pids():
        parent = _ppid(child)
        if parent is not None:
            children.setdefault(parent, []).append(child)
    seen: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        todo.extend(children.get(current, ()))
    return seen


def _pss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return None
    return None


def _proc_pids() -> Iterable[int]:
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    return [int(name) for name in names if name.isdigit()]


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # "pid (comm) state ppid ..."; comm may contain spaces and parentheses, so split after the last ")".
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return int(fields[1])
    except (IndexError, ValueError):
        return None


def _rss_pages(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/statm").read_text(encoding="utf-8").split()
        return int(fields[1])
    except (OSError, IndexError, ValueError):
        return 0
