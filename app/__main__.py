"""``parley`` / ``python -m app``: parse arguments, then hand over to the desktop app or a command."""

from __future__ import annotations

import argparse
import os
import sys

from app import __version__
from app.core.install import DESKTOP_MODULES, missing_packages


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="parley", description="Parley: the WhatsApp workspace for your business.")
    parser.add_argument("--home", help="folder holding the workspaces (default: the OS user data dir; or PARLEY_HOME)")
    parser.add_argument("--selftest", action="store_true", help="check this installation and exit")
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.selftest:
        from app import selftest

        return selftest.run()
    problem = missing_packages("desktop app", "desktop", DESKTOP_MODULES) or display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from app.bootstrap import run_desktop

    return run_desktop(args)


def display_problem(environ: dict[str, str] | None = None, platform: str = sys.platform) -> str | None:
    """Why the desktop app cannot open a window here, if it cannot (Qt would abort with a cryptic message)."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return (
        "Parley needs a graphical desktop, and this session has none (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
        "Run it from your desktop session, or try it on a virtual screen: xvfb-run -a make run"
    )


if __name__ == "__main__":
    sys.exit(main())
