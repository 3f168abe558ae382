"""A key change killed (SIGKILL, in a real child process) at each of its steps: nothing is lost, and every
passphrase the user may type either opens the workspace or says which one will."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.errors import CorruptDatabase, ParleyError
from app.store.header import read_header
from app.store.store import Store
from app.store.workspaces import Workspaces
from tests.support import store_child

OLD = "the previous passphrase"
NEW = "the brand new passphrase"
WRONG = "a passphrase nobody set"

# Each step a rekey can be killed after, and which key the file is under then.
STEPS = {
    "rekey.pending": "old",  # the new protection is recorded as pending; nothing re-encrypted yet
    "rekey.key_stored": "old",  # ...and a new keyring key is in the keyring (changes to keyring mode only)
    "rekey.reencrypted": "new",  # every page re-encrypted into the write-ahead log, not yet checkpointed
    "rekey.checkpointed": "new",  # the log copied into the file, the header not yet promoted
    "rekey.old_key_removed": "new",  # ...and the old keyring key removed (changes from keyring mode only)
    "rekey.promoted": "new",  # the header names the new key: done
}
CHANGES = [("passphrase", "passphrase"), ("keyring", "passphrase"), ("passphrase", "keyring"), ("keyring", "keyring")]
CASES = [
    (start, end, step)
    for start, end in CHANGES
    for step in STEPS
    if (step != "rekey.key_stored" or end == "keyring")  # only a change to keyring mode stores a key
    and (step != "rekey.old_key_removed" or start == "keyring")  # only one from keyring mode removes one
]


def attempt(workspaces: Workspaces, workspace_id: str, passphrase: str | None) -> Store | ParleyError:
    try:
        return workspaces.open(workspace_id, passphrase=passphrase)
    except ParleyError as exc:
        return exc


@pytest.mark.parametrize(("start", "end", "step"), CASES)
def test_key_change_killed_at_each_step(
    file_workspaces: Workspaces, keyring_file: Path, step: str, start: str, end: str
) -> None:
    workspaces = file_workspaces
    old = OLD if start == "passphrase" else None
    new = NEW if end == "passphrase" else None
    store = workspaces.create("Acme", "Ana", passphrase=old)
    workspace_id = store.meta("workspace_id")
    assert workspace_id
    for n in range(50):
        store.contacts.create(name=f"Customer {n}")
    store.close()

    store_child.run(
        "rekey", workspaces.home, workspace_id, old or "-", new or "-",
        keyring_file=keyring_file, die_at=step,
    )  # fmt: skip

    works = old if STEPS[step] == "old" else new
    # Whatever the user types first: it opens with everything, or the message says what to type.
    for typed in [WRONG, new, old, None]:
        if typed == works:
            continue
        outcome = attempt(workspaces, workspace_id, typed)
        if isinstance(outcome, ParleyError):
            message = f"{outcome} {outcome.hint}"
            assert not isinstance(outcome, CorruptDatabase), f"typing {typed!r} after {step}: {message}"
            assert "backup" not in message.lower(), f"typing {typed!r} after {step} points to a backup: {message}"
            if typed is None:  # the unlock screen asks for one (``needs_passphrase``); the message says so too
                assert re.search(r"[Ee]nter the (\w+ )?passphrase", str(outcome)), (
                    f"no passphrase after {step}: {message}"
                )
            elif typed != WRONG and step != "rekey.promoted":
                wanted = "previous passphrase" if STEPS[step] == "old" else "new passphrase"
                assert wanted in message, f"typing {typed!r} after {step}: {message}"
            continue
        assert outcome.contacts.count() == 50
        outcome.close()
    opened = workspaces.open(workspace_id, passphrase=works)
    assert opened.contacts.count() == 50, "nothing written before the change is lost"
    opened.contacts.create(name="After the crash")
    opened.close()
    header = read_header(workspaces.paths(workspace_id).header)
    assert header.pending_key is None, "opening finished the interrupted change one way or the other"
    kept = {f"parley/{header.key.keyring_entry}"} if header.key.mode == "keyring" else set()
    assert set(store_child.keyring_entries(keyring_file)) == kept, "no key is left in the keyring for nothing"
    reopened = workspaces.open(workspace_id, passphrase=works)
    assert reopened.contacts.count() == 51
    assert reopened.db.integrity_check() == ["ok"]
    reopened.close()
