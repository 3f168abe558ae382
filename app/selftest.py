"""``parley --selftest``: checks that this installation can do its job, without touching any workspace.

Each check prints one line; the exit status is non-zero when any fails. Installers run it after bundling.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import keyring

from app.store import keys, migrations, sqlcipher
from app.store.database import Database
from app.store.keyring_vault import KeyringVault

Check = tuple[str, Callable[[], str]]


def _sqlcipher() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "selftest.db"
        key = keys.random_key()
        db = Database.open(path, key)
        try:
            with db.transaction() as conn:
                conn.execute("INSERT INTO workspace_meta (key, value) VALUES ('selftest', 'plaintext-canary-7f3a')")
            db.checkpoint()
        finally:
            db.close()
        if b"plaintext-canary-7f3a" in path.read_bytes():
            raise RuntimeError("database file is not encrypted")
        conn = sqlcipher.connect(path, key)
        try:
            version = conn.execute("PRAGMA cipher_version").fetchone()[0]
            conn.execute("CREATE VIRTUAL TABLE temp.t USING fts5(x)")
        finally:
            conn.close()
    return f"SQLCipher {version}, SQLite {sqlcipher.SQLITE_VERSION}, FTS5, schema v{migrations.LATEST_VERSION}"


def _keyring() -> str:
    vault = KeyringVault(keyring.get_keyring())
    return f"{vault.name} ({'secure' if vault.secure else 'not secure: passphrase mode will be used'})"


def _qt() -> str:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.qt import QtCore, QtGui, QtWidgets
    from app.resources import resource

    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    icon = QtGui.QIcon(str(resource("icons", "inbox.svg")))
    if icon.pixmap(32, 32).isNull():
        raise RuntimeError("the SVG icons cannot be rendered (Qt's svg icon engine or resources/ is missing)")
    return f"Qt {QtCore.qVersion()}, platform {QtGui.QGuiApplication.platformName()}, icons ok"


CHECKS: list[Check] = [("encrypted store", _sqlcipher), ("keyring", _keyring), ("Qt", _qt)]


def run(extra: list[Check] | None = None) -> int:
    failed = 0
    for name, check in CHECKS + (extra or []):
        try:
            print(f"ok    {name}: {check()}")
        except Exception as exc:  # noqa: BLE001 — a self-test reports every failing check and runs the rest
            failed += 1
            print(f"FAIL  {name}: {type(exc).__name__}: {exc}")
    print("selftest passed" if not failed else f"selftest failed ({failed} checks)")
    return 1 if failed else 0
