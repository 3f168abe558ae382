"""Which of a program's packages this installation lacks, told before any of them is imported.

Parley is one distribution with two programs and an extra for each, installed from a checkout (the ``parley`` on PyPI is
another project): ``pip install '.[desktop]'`` for the app, ``pip install '.[server]'`` for the team sync server (which
then pulls no Qt and no browser driver). Each entry point asks here first, so running the other program's command says
what to install instead of failing with an ImportError's traceback.
"""

from __future__ import annotations

import importlib.util

# By import name: what each program needs beyond the base install.
DESKTOP_MODULES = ("PySide6", "sqlcipher3", "playwright", "keyring")
SERVER_MODULES = ("starlette", "uvicorn", "psycopg", "psycopg_pool", "orjson")


def missing_packages(program: str, extra: str, modules: tuple[str, ...]) -> str | None:
    """A sentence naming the missing ``modules`` and the extra that brings them, or None when all are there."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return (
        f"This installation of Parley lacks the {program}'s packages ({', '.join(missing)}).\n"
        f"Install them from Parley's folder with: pip install '.[{extra}]'"
    )
