"""Choosing and launching Chromium: find_chromium's search order, and a real persistent profile under its lock."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from app.whatsapp import browser
from app.whatsapp.browser import (
    ENV_VAR,
    BrowserChoice,
    NoBrowser,
    browser_memory_bytes,
    browser_pid,
    browser_rss_bytes,
    find_chromium,
    launch_args,
    open_profile,
)
from app.whatsapp.profile_lock import ProfileInUse, ProfileLock

REPO = Path(__file__).resolve().parents[2]
OTHER_PROCESS = """
import asyncio, sys
from pathlib import Path
from playwright.async_api import async_playwright
from app.whatsapp.browser import BrowserChoice, open_profile
from app.whatsapp.profile_lock import ProfileInUse

async def main() -> int:
    async with async_playwright() as playwright:
        try:
            context = await open_profile(playwright, Path(sys.argv[1]), choice=BrowserChoice(Path(sys.argv[2]), "test"))
        except ProfileInUse as error:
            print("refused", error.pid, flush=True)
            return 3
        await context.close()
        print("opened", flush=True)
        return 0

sys.exit(asyncio.run(main()))
"""


def _fake_executable(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def bare_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No PARLEY_CHROMIUM, an empty PATH and no standard install locations; returns the PATH folder."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(browser, "_platform_paths", list)
    return empty


def test_launch_args_keep_chromium_quiet() -> None:
    headful = launch_args(headless=False)
    for flag in (
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-default-apps",
        "--mute-audio",
    ):
        assert flag in headful
    assert "--disable-gpu" not in headful
    assert launch_args(headless=True) == [*headful, "--disable-gpu"]


def test_parley_chromium_wins(tmp_path: Path, bare_system: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_executable(tmp_path / "custom", "my-chrome")
    _fake_executable(bare_system, "chromium")
    monkeypatch.setenv(ENV_VAR, str(fake))
    assert find_chromium(str(_fake_executable(tmp_path / "pw", "chrome"))) == BrowserChoice(fake, ENV_VAR)


def test_parley_chromium_may_name_a_command_on_path(bare_system: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_executable(bare_system, "my-chrome")
    monkeypatch.setenv(ENV_VAR, "my-chrome")
    assert find_chromium(ask_playwright=False) == BrowserChoice(fake, ENV_VAR)


def test_parley_chromium_pointing_nowhere_is_an_error(
    tmp_path: Path, bare_system: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_executable(bare_system, "chromium")  # would be found, but the explicit setting is wrong: say so
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing" / "chrome"))
    with pytest.raises(NoBrowser, match=ENV_VAR) as caught:
        find_chromium(ask_playwright=False)
    assert "missing" in str(caught.value)
    assert ENV_VAR in caught.value.hint


def test_playwright_browser_before_system_ones(tmp_path: Path, bare_system: Path) -> None:
    bundled = _fake_executable(tmp_path / "pw", "chrome")
    _fake_executable(bare_system, "chromium")
    choice = find_chromium(bundled)
    assert choice == BrowserChoice(bundled, "playwright")
    assert choice.bundled


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux PATH names")
def test_system_chromium_on_path(tmp_path: Path, bare_system: Path) -> None:
    fake = _fake_executable(bare_system, "google-chrome-stable")
    choice = find_chromium(str(tmp_path / "not-installed" / "chrome"))
    assert choice == BrowserChoice(fake, "PATH")
    assert not choice.bundled
    preferred = _fake_executable(bare_system, "chromium-browser")
    assert find_chromium(ask_playwright=False).executable == preferred


def test_nothing_found_says_what_was_tried_and_what_to_install(tmp_path: Path, bare_system: Path) -> None:
    with pytest.raises(NoBrowser) as caught:
        find_chromium(str(tmp_path / "not-installed" / "chrome"))
    message = str(caught.value)
    assert f"{ENV_VAR} (not set)" in message
    assert "Playwright's Chromium at" in message
    if sys.platform.startswith("linux"):
        for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
            assert f"{name} on PATH" in message
    assert "apt install chromium" in caught.value.hint
    assert ENV_VAR in caught.value.hint


def test_rss_of_a_missing_process_is_zero() -> None:
    assert browser_rss_bytes(2**22 + 12345) == 0
    assert browser_memory_bytes(2**22 + 12345) == 0


async def _other_process_opens(profile: Path, executable: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        OTHER_PROCESS,
        str(profile),
        str(executable),
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode().strip()


async def _profile_lifecycle(profile: Path) -> None:
    async with async_playwright() as playwright:
        try:
            choice = find_chromium(playwright.chromium.executable_path)
        except NoBrowser as error:
            pytest.skip(f"no Chromium: {error}")

        context = await open_profile(playwright, profile, choice=choice)
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto("data:text/html,<h1>ok</h1>")
            assert await page.inner_text("h1") == "ok"
            assert page.viewport_size == {"width": 1280, "height": 800}
            assert await page.evaluate("navigator.language") == "en-US"
            assert (profile / "chromium").is_dir()

            if sys.platform.startswith("linux"):
                pid = browser_pid(profile)
                assert pid is not None
                rss, memory = browser_rss_bytes(pid), browser_memory_bytes(pid)
                assert memory > 10 * 1024 * 1024
                assert memory < rss, "PSS counts Chromium's shared code once, RSS once per process"

            # In this process: refused before a second browser starts.
            with pytest.raises(ProfileInUse) as caught:
                await open_profile(playwright, profile, choice=choice)
            assert caught.value.pid == os.getpid()

            # In another process: refused too, naming us.
            code, out = await _other_process_opens(profile, choice.executable)
            assert (code, out) == (3, f"refused {os.getpid()}")
        finally:
            await context.close()

        # Closing the context released the lock...
        with ProfileLock(profile):
            pass
        # ...so the profile opens again (a fresh flock, as good as another process's).
        context = await open_profile(playwright, profile, choice=choice)
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto("data:text/html,<h1>again</h1>")
            assert await page.inner_text("h1") == "again"
        finally:
            await context.close()


def test_open_profile_in_real_chromium(tmp_path: Path) -> None:
    asyncio.run(_profile_lifecycle(tmp_path / "browser" / "profile-1"))
