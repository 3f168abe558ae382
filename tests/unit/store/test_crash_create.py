"""Creating a workspace killed (SIGKILL, in a real child process) at each step: it is whole or it is not there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.errors import WorkspaceIncomplete
from app.store.workspaces import CREATING, Workspaces
from tests.support import store_child

PASS = "a passphrase for the shop"
STEPS = ["create.folder", "create.key", "create.header", "create.database", "create.filled"]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("mode", ["keyring", "passphrase"])
def test_creation_killed_at_each_step_leaves_nothing(
    file_workspaces: Workspaces, keyring_file: Path, step: str, mode: str
) -> None:
    workspaces = file_workspaces
    passphrase = PASS if mode == "passphrase" else None
    store_child.run("create", workspaces.home, "Lumen", passphrase or "-", keyring_file=keyring_file, die_at=step)

    assert workspaces.available() == [], "a half-made workspace is never offered"
    workspaces.sweep()  # what start-up does first
    assert os.listdir(workspaces.home / "workspaces") == []
    assert store_child.keyring_entries(keyring_file) == {}, (
        "the key of the unfinished workspace is removed from the keyring"
    )

    # Creating again gives a whole workspace.
    store = workspaces.create("Lumen", "Ana", passphrase=passphrase)
    assert [o.name for o in store.orgs.find_all()] == ["Lumen"]
    assert [u.role for u in store.users.find_all()] == ["owner"]
    assert len(store.pipeline_stages.find_all()) == 6
    store.close()
    assert [h.name for h in workspaces.available()] == ["Lumen"]


def test_creation_in_a_child_that_finishes_is_whole(file_workspaces: Workspaces, keyring_file: Path) -> None:
    store_child.run("create", file_workspaces.home, "Lumen", "-", keyring_file=keyring_file, die_at=None)
    file_workspaces.sweep()
    [header] = file_workspaces.available()
    store = file_workspaces.open(header.workspace_id)
    assert [o.name for o in store.orgs.find_all()] == ["Lumen"]
    assert len(store.pipelines.find_all()) == 1
    store.close()


def test_workspace_made_in_place_by_an_older_parley_without_its_transaction_is_refused(
    file_workspaces: Workspaces, keyring_file: Path
) -> None:
    """Before creation was staged, a crash after the schema but before the first transaction left this."""
    workspaces = file_workspaces
    store_child.run("create", workspaces.home, "Lumen", "-", keyring_file=keyring_file, die_at="create.database")
    [staging] = (workspaces.home / "workspaces").iterdir()
    workspace_id = staging.name.removeprefix(CREATING)
    staging.rename(staging.with_name(workspace_id))  # where the older Parley built it
    [header] = workspaces.available()
    with pytest.raises(WorkspaceIncomplete, match="did not finish"):
        workspaces.open(header.workspace_id)
