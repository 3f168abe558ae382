"""BYOK on a computer without a secure keyring (a headless or minimal Linux): keyring's ``fail`` backend, a
passphrase workspace. Saving an OpenAI key in Settings › AI works, the card says where the key is kept, the BYOK
path uses it over real HTTP, it survives reopening the workspace, and no file holds it in plain text."""

from __future__ import annotations

import secrets as random_tokens
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from pytestqt.qtbot import QtBot

from app.ai import keys
from app.ai.byok import ByokProvider
from app.ai.config import load_entries
from app.ai.litellm_loader import LitellmLoader
from app.ai.types import Done
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.ui.context import AppContext
from app.ui.pages.ai_settings import AiProvidersCard
from tests.ai.openai_server import OpenAIServer
from tests.support.ai_fixtures import FAST, POLICY, ask, collect, run, warm_litellm
from tests.support.gui import wait_idle
from tests.support.plaintext import files_containing

PASS = "correct horse battery"
KEY = f"sk-proj-{random_tokens.token_hex(16)}"  # unique to this run: no other test or process writes these bytes


@pytest.fixture
def keyring_backend() -> fail.Keyring:
    return fail.Keyring()  # what keyring picks with no D-Bus session and no keyrings.alt


@pytest.fixture
def store(workspaces: Workspaces) -> Iterator[Store]:
    store = workspaces.create("Acme Boutique", "Ana Owner", passphrase=PASS)
    yield store
    store.close()


@pytest.fixture(scope="session")
def loader() -> LitellmLoader:
    return warm_litellm()


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={KEY}).start()
    yield server
    server.stop()


def answer(store: Store, workspaces: Workspaces, server: OpenAIServer, loader: LitellmLoader) -> Done:
    """One suggestion through the real BYOK chain, with the saved OpenAI entry pointed at the local server."""
    [saved] = load_entries(store.settings)
    local = saved.model_copy(update={"base_url": server.base_url})  # the same entry id, so the same key
    chain = ByokProvider([local], keys.provider_keys(workspaces, store), loader=loader, policy=POLICY)
    done = run(collect(chain.stream(ask("do you ship to Lisbon"), FAST, purpose="suggest")))[-1]
    assert isinstance(done, Done)
    return done


def test_an_openai_key_is_saved_inside_the_workspace_used_kept_and_never_in_plain_text(
    qtbot: QtBot,
    ctx: AppContext,
    store: Store,
    workspaces: Workspaces,
    workspace_id: str,
    server: OpenAIServer,
    loader: LitellmLoader,
    home: Path,
    tmp_path: Path,
) -> None:
    started = time.time()
    card = AiProvidersCard(ctx)
    qtbot.addWidget(card)
    card.show()
    qtbot.waitExposed(card)
    card.add_button.click()
    assert card.current is not None
    assert card.current.kind == "openai"
    card.key.setText(KEY)
    card.save_key_button.click()
    wait_idle(qtbot, ctx)
    # The old code refused: "No secure keyring is available (the keyring in use is keyring.backends.fail.Keyring)…
    # Use a passphrase instead", although the workspace already had one.
    assert card.error.isHidden(), card.error.text()
    assert card.key_state.text() == f"Saved key: sk-…{KEY[-4:]}"
    where = card.where.label.text()  # the card says where the key is kept
    assert where.startswith("Keys are kept inside this workspace's encrypted database"), where
    assert "encrypted backups" in where
    assert card.where.keep_button.isHidden()

    done = answer(store, workspaces, server, loader)
    assert done.text == "Echo: do you ship to Lisbon"
    assert [c.key_suffix for c in server.calls()] == [KEY[-4:]]  # the server checked the whole key

    store.close()
    assert files_containing(KEY, home, tmp_path, since=started) == []
    reopened = workspaces.open(workspace_id, passphrase=PASS)
    try:
        assert keys.provider_keys(workspaces, reopened).masked(card.entries[0].id) == f"sk-…{KEY[-4:]}"
        answer(reopened, workspaces, server, loader)
        assert len(server.calls()) == 2
    finally:
        reopened.close()
