"""The default key path against a real keyring: gnome-keyring's Secret Service on a private D-Bus session.

The other key tests use an in-memory backend; this one checks that the keyring library really selects the
Secret Service backend, that Parley counts it as secure, and that a workspace created in keyring mode reopens
from it in a new process — with the key nowhere in the workspace's files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent(
    """
    import base64, sys
    from pathlib import Path
    import keyring
    from app.store.keyring_vault import KeyringVault
    from app.store.workspaces import Workspaces

    home, step = Path(sys.argv[1]), sys.argv[2]
    vault = KeyringVault(keyring.get_keyring())
    print("backend", vault.name, vault.secure)
    workspaces = Workspaces(home, vault)
    if step == "create":
        store = workspaces.create("Secret Shop", "Sam")
        store.contacts.create(name="Kept by the keyring")
        print("created", store.meta("workspace_id"))
        store.close()
    else:
        [header] = workspaces.available()
        store = workspaces.open(header.workspace_id)
        print("contacts", [c.name for c in store.contacts.find_all()])
        key = vault.load(header.workspace_id)
        store.close()
        blobs = b"".join(p.read_bytes() for p in (home / "workspaces").rglob("*") if p.is_file())
        leaked = key.hex().encode() in blobs or base64.b64encode(key) in blobs or key in blobs
        print("key-in-files", leaked)
    """
)

SESSION = """
set -e
echo -n "login password for the test keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$PYTHON" -c "$CHILD" "$PARLEY_HOME_DIR" create
"$PYTHON" -c "$CHILD" "$PARLEY_HOME_DIR" reopen
"""


def test_keyring_mode_on_a_real_secret_service(tmp_path: Path) -> None:
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (make test installs gnome-keyring and dbus-daemon)")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path / "user"),
        "XDG_DATA_HOME": str(tmp_path / "user" / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "user" / "config"),
        "XDG_RUNTIME_DIR": str(tmp_path / "runtime"),
        "PYTHONPATH": str(ROOT),
        "PYTHON": sys.executable,
        "CHILD": CHILD,
        "PARLEY_HOME_DIR": str(tmp_path / "parley"),
    }
    (tmp_path / "runtime").mkdir(mode=0o700)
    result = subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", SESSION],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "backend keyring.backends.SecretService.Keyring True" in out
    assert "contacts ['Kept by the keyring']" in out
    assert "key-in-files False" in out
