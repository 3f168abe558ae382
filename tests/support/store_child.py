"""Run one store operation in a child process that a crash test can kill at a named step.

``python -m tests.support.store_child OP HOME ARG...`` with ``PARLEY_TEST_KEYRING`` naming the file keyring shared
with the parent, and ``PARLEY_TEST_DIE_AT`` naming the step (``app.store.crashpoints``) where the child dies by
SIGKILL. A passphrase argument of ``-`` means "keyring mode". ``run`` is the parent's side.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _passphrase(arg: str) -> str | None:
    return None if arg == "-" else arg


def main(argv: list[str]) -> None:
    from app.store.keyring_vault import KeyringVault
    from app.store.workspaces import Workspaces
    from tests.support.file_keyring import FileKeyring
    from tests.support.workspace_fixtures import FAST_KDF

    op, home, *args = argv
    workspaces = Workspaces(Path(home), KeyringVault(FileKeyring()), kdf=FAST_KDF)
    if op == "create":
        name, passphrase = args
        workspaces.create(name, "Owner", passphrase=_passphrase(passphrase)).close()
    elif op == "rekey":
        workspace_id, old, new = args
        store = workspaces.open(workspace_id, passphrase=_passphrase(old))
        workspaces.change_protection(store, workspace_id, new_passphrase=_passphrase(new))
        store.close()
    elif op == "backup":
        workspace_id, passphrase, dest, backup_passphrase = args
        store = workspaces.open(workspace_id, passphrase=_passphrase(passphrase))
        workspaces.backup(store, workspace_id, Path(dest), backup_passphrase)
        store.close()
    elif op == "restore":
        workspace_id, passphrase, source, backup_passphrase = args
        store = workspaces.open(workspace_id, passphrase=_passphrase(passphrase))
        workspaces.restore_into(store, workspace_id, Path(source), backup_passphrase)
        store.close()
    elif op == "restore-new":
        source, backup_passphrase, passphrase = args
        workspaces.restore_as_new(Path(source), backup_passphrase, passphrase=_passphrase(passphrase))[1].close()
    else:
        raise SystemExit(f"unknown operation {op!r}")


def keyring_entries(keyring_file: Path) -> dict[str, str]:
    """What the file keyring holds ("service/entry" → key), as the child left it."""
    return json.loads(keyring_file.read_text()) if keyring_file.exists() else {}


def run(op: str, home: Path, *args: str, keyring_file: Path, die_at: str | None) -> None:
    """Run ``op`` in a child; with ``die_at`` it must die there by SIGKILL, without it it must succeed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PARLEY_TEST_KEYRING=str(keyring_file))
    env.pop("PARLEY_TEST_DIE_AT", None)
    if die_at is not None:
        env["PARLEY_TEST_DIE_AT"] = die_at
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.store_child", op, str(home), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    expected = 0 if die_at is None else -signal.SIGKILL
    assert proc.returncode == expected, f"{op} stopped with {proc.returncode} (wanted {expected}):\n{proc.stderr}"


if __name__ == "__main__":
    main(sys.argv[1:])
