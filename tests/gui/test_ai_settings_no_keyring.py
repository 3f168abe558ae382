"""BYOK on a computer without a secure keyring (a headless or minimal Linux): keyring's ``fail`` backend, a
passphrase workspace. Saving an OpenAI key in Settings › AI works, the card says where the key is kept, the BYOK
path uses it over real HTTP, it survives reopening the workspace, and no file holds it in plain text. A workspace
whose keys were in a keyring that is gone says so, and keeps them inside only when asked. The Team sync card says
where the sign-in is kept."""

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
from app.ai.config import load_entries, save_entries
from app.ai.litellm_loader import LitellmLoader
from app.ai.types import Done, ProviderEntry
from app.core.errors import KeyringUnavailable
from app.qt import QtWidgets
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.ui.context import AppContext
from app.ui.dialogs.backup_dialogs import BackupDialog
from app.ui.dialogs.create_workspace import CreateWorkspaceDialog
from app.ui.pages.ai_settings import AiProvidersCard
from app.ui.pages.sync_settings import SyncSettingsCard
from app.ui.sync_bridge import SyncBridge
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


def items_text(card: AiProvidersCard) -> list[str]:
    return [card.list.item(i).text() for i in range(card.list.count())]


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


def test_a_keyring_that_is_gone_is_said_and_keeping_keys_inside_is_the_persons_choice(
    qtbot: QtBot, ctx: AppContext, store: Store
) -> None:
    save_entries(ctx.store.settings, [ProviderEntry(id="e1", kind="openai", model="gpt-4o-mini")])
    store.set_meta("secrets.home", "keyring")  # keys were saved while this computer had a keyring
    card = AiProvidersCard(ctx)
    qtbot.addWidget(card)
    card.show()
    qtbot.waitExposed(card)
    where = card.where.label.text()
    assert where.startswith("Keys are kept in this computer's keyring, which is not available now (no keyring"), where
    assert "keyring.backends" not in where
    assert card.where.keep_button.isVisible()
    assert items_text(card) == ["1. OpenAI · gpt-4o-mini — key cannot be read now"]  # not "no key yet"
    assert card.error.isHidden(), "the note above says it once"
    with pytest.raises(KeyringUnavailable) as refused:
        card.keys.get("e1")
    assert str(refused.value).startswith("This workspace keeps the provider key in this computer's keyring")
    assert "Use a passphrase instead" not in refused.value.hint

    card.where.keep_button.click()
    wait_idle(qtbot, ctx)
    assert card.where.label.text().startswith("Keys are kept inside this workspace's encrypted database")
    assert card.where.keep_button.isHidden()
    card.key.setText(KEY)
    card.save_key_button.click()
    wait_idle(qtbot, ctx)
    assert card.error.isHidden(), card.error.text()
    assert card.key_state.text() == f"Saved key: sk-…{KEY[-4:]}"


def test_the_team_sync_card_says_where_the_sign_in_is_kept(qtbot: QtBot, ctx: AppContext, bridge: SyncBridge) -> None:
    card = SyncSettingsCard(ctx, bridge)
    qtbot.addWidget(card)
    card.show()
    qtbot.waitExposed(card)
    assert card.where.label.text() == (
        "The team sign-in is kept inside this workspace's encrypted database, never in a plain file."
    )
    assert card.where.keep_button.isHidden()


def test_creating_a_workspace_without_a_keyring_says_why_in_words(qtbot: QtBot) -> None:
    dialog = CreateWorkspaceDialog(keyring_available=False, keyring_name="keyring.backends.fail.Keyring")
    qtbot.addWidget(dialog)
    texts = [label.text() for label in dialog.findChildren(QtWidgets.QLabel)]
    assert not any("keyring.backends" in text for text in texts), texts
    assert any(
        text.startswith("This computer has no secure keyring (no keyring service was found on this computer)")
        for text in texts
    ), texts
    assert not dialog.use_keyring.isEnabled()
    assert dialog.use_keyring.toolTip() == "Not available: no keyring service was found on this computer."
    assert dialog.use_passphrase.isChecked()


def test_the_backup_dialog_says_the_keys_kept_inside_travel_with_it(qtbot: QtBot, ctx: AppContext) -> None:
    dialog = BackupDialog(ctx)
    qtbot.addWidget(dialog)
    texts = [label.text() for label in dialog.findChildren(QtWidgets.QLabel)]
    assert any(text.endswith("It includes the AI provider keys kept inside this workspace.") for text in texts), texts
