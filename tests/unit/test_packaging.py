"""One distribution, two programs: the server's install pulls no Qt or browser driver, and each program's command
says what to install when its packages are missing (issue 15, packaging)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.core.install import DESKTOP_MODULES

ROOT = Path(__file__).resolve().parents[2]
# Distributions only the desktop needs (the server's install must not pull them) and only the server needs.
DESKTOP_ONLY = {"pyside6-essentials", "pyside6-addons", "sqlcipher3", "playwright", "keyring", "pypdf"}
SERVER_ONLY = {"starlette", "uvicorn", "psycopg", "psycopg-pool", "orjson", "httptools", "uvloop"}

# The path finder, made blind to the named top-level packages: as on an install without them, ``find_spec`` says
# None and ``import`` raises ModuleNotFoundError.
BLOCK = """
import importlib.machinery, sys
class Hiding(importlib.machinery.PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            return None
        return importlib.machinery.PathFinder.find_spec(name, path, target)
sys.meta_path[:] = [Hiding if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
"""


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!;~]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_server_install_pulls_no_desktop_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = _names(project["dependencies"])
    extras = {name: _names(reqs) for name, reqs in project["optional-dependencies"].items()}
    assert (base | extras["server"]) & DESKTOP_ONLY == set()
    assert (base | extras["desktop"]) & SERVER_ONLY == set()
    assert extras["desktop"] >= DESKTOP_ONLY
    assert extras["server"] >= SERVER_ONLY - {"uvloop"}
    assert "parley[desktop,server]" in project["optional-dependencies"]["dev"]


def _run(blocked: set[str], code: str) -> subprocess.CompletedProcess[str]:
    script = f"BLOCKED = {sorted(blocked)!r}\n{BLOCK}\n{code}"
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )


IMPORT_ALL = """
import importlib, pkgutil, {package}
for info in pkgutil.walk_packages({package}.__path__, "{package}."):
    importlib.import_module(info.name)
print("imported")
"""


def test_every_server_module_imports_without_the_desktop_packages() -> None:
    done = _run(set(DESKTOP_MODULES) | {"pypdf", "numpy", "shiboken6"}, IMPORT_ALL.format(package="sync_server"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "imported" in done.stdout


@pytest.mark.parametrize(
    ("blocked", "entry", "sentence"),
    [
        ({"PySide6"}, "from app.__main__ import main; raise SystemExit(main(['--home', '.']))", ".[desktop]"),
        ({"psycopg", "uvicorn"}, "from sync_server.launch import main; raise SystemExit(main([]))", ".[server]"),
    ],
)
def test_a_missing_package_is_a_sentence_not_a_traceback(blocked: set[str], entry: str, sentence: str) -> None:
    done = _run(blocked, entry)
    assert done.returncode == 2, done.stderr[-2000:]
    assert sentence in done.stderr
    assert all(name in done.stderr for name in blocked)
    assert "Traceback" not in done.stderr


def test_declared_modules_are_installed_here() -> None:
    """The dev install has both programs: nothing the entry points check for is missing."""
    done = _run(set(), "from app.core.install import *\n"
                "print(missing_packages('a', 'b', DESKTOP_MODULES + SERVER_MODULES))")  # fmt: skip
    assert done.stdout.strip() == "None", done.stderr
