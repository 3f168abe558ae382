"""Convergence: three real clients of one org make random inserts, edits and deletes with random partial syncs in
between; after a full sync of everyone, every client holds exactly the rows PostgreSQL holds for the org.

A failure prints the steps (Hypothesis shrinks them) and the first differing rows, column by column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.store.keyring_vault import KeyringVault
from app.store.workspaces import Workspaces
from sync_server.pgcluster import Cluster
from tests.support.keyrings import InMemoryKeyring
from tests.support.sync_server import ServerProcess
from tests.support.workspace_fixtures import FAST_KDF
from tests.sync.clients import Client, differences, join, local_rows, owner_client, server_rows

pytestmark = pytest.mark.slow

CLIENTS = 3
words = st.sampled_from(["Ana", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"])
client = st.integers(0, CLIENTS - 1)
pick = st.integers(0, 50)
step = st.one_of(
    st.tuples(st.just("contact_new"), client, words),
    st.tuples(st.just("contact_edit"), client, pick, st.sampled_from(["name", "email", "lead_score"]), words),
    st.tuples(st.just("contact_delete"), client, pick),
    st.tuples(st.just("note_new"), client, pick, words),
    st.tuples(st.just("note_edit"), client, pick, words),
    st.tuples(st.just("deal_new"), client, words),
    st.tuples(st.just("deal_edit"), client, pick, st.sampled_from(["title", "value_minor", "status"]), words),
    st.tuples(st.just("deal_delete"), client, pick),
    st.tuples(st.just("sync"), client, st.sampled_from(["push", "pull", "both", "none"])),
)


def _value(field: str, word: str) -> Any:
    if field in ("lead_score", "value_minor"):
        return len(word) * 7
    if field == "email":
        return f"{word.lower()}@example.com"
    if field == "status":
        return ["open", "won", "lost"][len(word) % 3]
    return word


def _run(step: tuple[Any, ...], clients: list[Client]) -> None:
    kind, c = step[0], clients[step[1]]
    store = c.store
    if kind == "sync":
        mode = step[2]
        if mode != "none":
            c.sync(push=mode in ("push", "both"), pull=mode in ("pull", "both"))
        return
    if kind == "contact_new":
        store.contacts.create(name=step[2])
    elif kind == "deal_new":
        pipeline = store.pipelines.find_all()[0]
        stage = store.pipeline_stages.find_all({"pipeline_id": pipeline.id}, order_by="position")[0]
        store.deals.create(pipeline_id=pipeline.id, stage_id=stage.id, title=step[2])
    elif kind in ("contact_edit", "contact_delete", "note_new"):
        contacts = store.contacts.find_all()
        if not contacts:
            return
        target = contacts[step[2] % len(contacts)]
        if kind == "contact_edit":
            store.contacts.update(target.id, **{step[3]: _value(step[3], step[4])})
        elif kind == "contact_delete":
            store.contacts.delete(target.id)
        else:
            store.notes.create(body=f"note {step[3]}", contact_id=target.id)
    elif kind == "note_edit":
        notes = store.notes.find_all()
        if notes:
            store.notes.update(notes[step[2] % len(notes)].id, body=f"edited {step[3]}")
    else:
        deals = store.deals.find_all()
        if not deals:
            return
        target = deals[step[2] % len(deals)]
        if kind == "deal_edit":
            store.deals.update(target.id, **{step[3]: _value(step[3], step[4])})
        else:
            store.deals.delete(target.id)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_random_edits_converge_everywhere(
    steps: list[tuple[Any, ...]],
    server: ServerProcess,
    pg: Cluster,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    home: Path = tmp_path_factory.mktemp("convergence")
    workspaces = Workspaces(home, KeyringVault(InMemoryKeyring()), kdf=FAST_KDF)
    owner = owner_client(workspaces, server.url)
    clients = [owner] + [join(workspaces, server.url, owner.invite(), f"staff{i}") for i in range(1, CLIENTS)]
    try:
        for s in steps:
            _run(s, clients)
        for _ in range(2):  # everyone pushes, then everyone has pulled everything
            for c in clients:
                c.sync()
        expected = server_rows(pg, database_url, owner.store.org_id)
        assert expected, "the server holds none of the org's rows"
        for c in clients:
            assert c.store.outbox.count() == 0, f"{c.name} still has unpushed changes"
            problems = differences(expected, local_rows(c.store), "server", c.name)
            assert problems == [], "\n".join([f"steps: {steps}", *problems])
    finally:
        for c in clients:
            c.store.close()
