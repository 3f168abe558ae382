"""House rules 1 and 2, checked on the source: the domain never imports Qt, and only app/qt.py imports PySide6."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
QT_FREE = ["core", "store", "whatsapp", "ai", "agents", "sync"]
QT_MODULES = ("PySide6", "shiboken6", "app.qt", "app.ui")


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


# ---- operations: the UI writes only through app.store.ops (issue 15) ------------------------------------------
# Every write a person makes goes through one operation that validates, writes in one transaction and publishes the
# domain event; a dialog writing through a repository makes a second path that forgets the event (CSV import created
# contacts without ContactCreated). So app/ui may read repositories, never write through them, hold a transaction,
# emit events or run SQL.
UI = APP / "ui"
STORE = APP / "store" / "store.py"
WRITE_METHODS = frozenset(
    {"add", "add_many", "create", "update", "delete", "purge", "insert", "upsert", "set", "remove", "move", "archive",
     "append", "enqueue"}
)  # fmt: skip
SQL_METHODS = frozenset({"execute", "executemany", "executescript"})
# Modules that hand out repositories, connections or transactions: the UI gets data from queries and ops instead.
FORBIDDEN_IMPORTS = (
    "app.store.repository",
    "app.store.repos",
    "app.store.database",
    "app.store.sqlcipher",
    # The write functions the operations wrap: the UI calls the operation (the same event on every path).
    "app.store.messaging",
    "app.store.intake",
    "app.store.sales",
)


def store_repositories() -> frozenset[str]:
    """The names of the Store's repositories (and its outbox and event log), read from ``Store.__init__``."""
    names = set()
    for node in ast.walk(ast.parse(STORE.read_text("utf-8"))):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func, target = node.value.func, node.targets[0]
            called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and (called.endswith("Repository") or called in ("Outbox", "EventLog"))
            ):
                names.add(target.attr)
    return frozenset(names)


def _is_store(node: ast.expr) -> bool:
    """``store``, ``self.store``, ``ctx.store``, ``self.ctx.store``…"""
    return (isinstance(node, ast.Name) and node.id == "store") or (
        isinstance(node, ast.Attribute) and node.attr == "store"
    )


def layering_offences(source: str, name: str, repositories: frozenset[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom | ast.Import):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.module == "app.store":
                modules = [f"app.store.{a.name}" for a in node.names]
            for module in modules:
                if any(module == f or module.startswith(f + ".") for f in FORBIDDEN_IMPORTS):
                    found.append(
                        f"{where}: imports {module} (read through app.store queries, write through app.store.ops)"
                    )
        elif isinstance(node, ast.Attribute) and _is_store(node.value) and node.attr in ("db", "emit", "set_meta"):
            found.append(f"{where}: uses store.{node.attr} (writes belong in an app.store.ops operation or the store)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, owner = node.func.attr, node.func.value
            if method in SQL_METHODS:
                found.append(f"{where}: runs SQL with .{method}() (put the query in app/store)")
            elif (
                method in WRITE_METHODS
                and isinstance(owner, ast.Attribute)
                and owner.attr in repositories
                and _is_store(owner.value)
            ):
                found.append(
                    f"{where}: writes through store.{owner.attr}.{method}() (call an operation from app.store.ops)"
                )
    return sorted(found, key=lambda line: int(line.rsplit(":", 2)[-2]))


def test_the_ui_writes_only_through_operations() -> None:
    repositories = store_repositories()
    found = [
        offence
        for path in sorted(UI.rglob("*.py"))
        for offence in layering_offences(path.read_text("utf-8"), str(path.relative_to(APP.parent)), repositories)
    ]
    assert found == [], "The UI must write through app.store.ops, not the store's internals:\n" + "\n".join(found)


def test_the_layering_scan_sees_each_kind_of_offence() -> None:
    repositories = store_repositories()
    assert {"contacts", "deals", "products", "chats", "notes", "messages", "outbox", "events"} <= repositories
    sample = (
        "from app.store.repository import Repository\n"
        "store.contacts.update(cid, name='x')\n"
        "self.ctx.store.products.create(name='y')\n"
        "with store.db.transaction():\n"
        "    pass\n"
        "conn.execute('DELETE FROM contacts')\n"
        "ctx.store.emit(event)\n"
        "store.contacts.find_all()\n"  # reads are fine
        "ops.contacts.save_contact(store, None, fields)\n"
    )
    found = layering_offences(sample, "x.py", repositories)
    assert [line.split(":")[1] for line in found] == ["1", "2", "3", "4", "6", "7"]
    assert "x.py:2: writes through store.contacts.update()" in found[1]
