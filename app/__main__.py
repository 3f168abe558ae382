"""``parley`` / ``python -m app``: parse arguments, then hand over to the desktop app or a command."""

from __future__ import annotations

import argparse
import sys

from app import __version__


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
    from app.bootstrap import run_desktop

    return run_desktop(args)


if __name__ == "__main__":
    sys.exit(main())
