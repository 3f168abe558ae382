"""``parley-sync``'s entry point: checks that the server's packages are installed before anything imports them
(see ``app.core.install``), then runs ``sync_server.__main__``."""

from __future__ import annotations

import sys

from app.core.install import SERVER_MODULES, missing_packages


def main(argv: list[str] | None = None) -> int:
    problem = missing_packages("sync server", "server", SERVER_MODULES)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from sync_server.__main__ import main as run

    return run(argv)
