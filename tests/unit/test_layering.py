"""House rules 1 and 2, checked on the source: the domain never imports Qt, and only app/qt.py imports PySide6."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
QT_FREE = ["core", "store", "whatsapp", "ai", "agents", "sync"]
QT_MODULES = ("PySide6", "shiboken6", "qasync", "app.qt", "app.ui")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _is_qt(name: str) -> bool:
    return any(name == q or name.startswith(q + ".") for q in QT_MODULES)


@pytest.mark.parametrize("package", QT_FREE)
def test_domain_packages_do_not_import_qt(package: str) -> None:
    folder = APP / package
    offenders = {
        str(path.relative_to(APP)): [n for n in imported_modules(path) if _is_qt(n)]
        for path in folder.rglob("*.py")
        if folder.exists()
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_app_qt_imports_pyside6() -> None:
    offenders = [
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if path.name != "qt.py" or path.parent != APP
        if any(n.startswith(("PySide6", "shiboken6")) for n in imported_modules(path))
    ]
    assert offenders == []


def test_the_checker_sees_qt_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from PySide6.QtCore import QObject\nimport app.qt\n")
    assert [n for n in imported_modules(sample) if _is_qt(n)] == ["PySide6.QtCore", "PySide6.QtCore.QObject", "app.qt"]


# Heavy libraries that the start-up path must not pay for: each is imported when its feature is first used.
HEAVY = ("numpy", "litellm", "playwright", "psycopg", "pypdf", "openai", "uvicorn", "starlette")


@pytest.mark.parametrize("entry", ["app.bootstrap", "app.__main__"])
def test_start_up_imports_no_heavy_library(entry: str) -> None:
    """A fresh interpreter importing the desktop's entry modules loads none of ``HEAVY`` (issue 14.6): numpy alone
    cost ~80 ms of start-up through the AI panel's knowledge chain."""
    import subprocess
    import sys

    probe = f"import sys, {entry}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == []
