"""The AI providers card: entries in order, keys straight to the keyring (masked), and "Test key" against a real
local OpenAI-compatible server, run off the UI thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.ai.config import load_entries, save_entries
from app.ai.keys import ProviderKeys
from app.ai.litellm_loader import LitellmLoader
from app.ai.service import AiService
from app.ai.types import ProviderEntry
from app.qt import QtWidgets
from app.ui.context import AppContext
from app.ui.pages.ai_settings import AiProvidersCard
from app.ui.pages.settings import SettingsPage
from tests.ai.openai_server import OpenAIServer
from tests.support.ai_fixtures import KEY, warm_litellm
from tests.support.gui import wait_idle
from tests.support.keyrings import InMemoryKeyring, LockedKeyring


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={KEY}).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def loader() -> LitellmLoader:
    return warm_litellm()


@pytest.fixture
def card(qtbot: QtBot, ctx: AppContext) -> AiProvidersCard:
    card = AiProvidersCard(ctx)
    qtbot.addWidget(card)
    card.resize(800, 600)
    card.show()
    qtbot.waitExposed(card)
    return card


def items(card: AiProvidersCard) -> list[str]:
    return [card.list.item(i).text() for i in range(card.list.count())]


def test_the_settings_page_has_the_ai_section_and_card(qtbot: QtBot, ctx: AppContext) -> None:
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    assert isinstance(page.ai_providers, AiProvidersCard)
    assert "ai.mode" in page.editors
    mode = page.editors["ai.mode"]
    assert isinstance(mode, QtWidgets.QComboBox)
    assert mode.currentData() == "off"


def test_add_edit_and_order_entries(qtbot: QtBot, card: AiProvidersCard, ctx: AppContext) -> None:
    card.add_button.click()
    assert items(card) == ["1. OpenAI · gpt-4o-mini — no key yet"]
    assert not card.base_url.isEnabled()
    card.add_button.click()
    card.kind.setCurrentIndex(card.kind.findData("openai_compatible"))  # the default model follows the kind
    assert card.base_url.isEnabled()
    assert "address" in card.error.text()  # an OpenAI-compatible entry needs its address
    card.base_url.setText("http://127.0.0.1:11434/v1")
    card.base_url.editingFinished.emit()
    assert card.error.isHidden()
    entries = load_entries(ctx.store.settings)
    assert [(e.kind, e.model) for e in entries] == [("openai", "gpt-4o-mini"), ("openai_compatible", "llama3.1")]
    assert entries[1].base_url == "http://127.0.0.1:11434/v1"

    card.up_button.click()
    assert [e.kind for e in load_entries(ctx.store.settings)] == ["openai_compatible", "openai"]
    assert card.list.currentRow() == 0
    assert not card.up_button.isEnabled()
    card.embedding.setText("nomic-embed-text")
    card.embedding.editingFinished.emit()
    assert load_entries(ctx.store.settings)[0].embedding_model == "nomic-embed-text"
    card.remove_button.click()
    assert [e.kind for e in load_entries(ctx.store.settings)] == ["openai"]
    wait_idle(qtbot, ctx)


def test_key_goes_to_the_keyring_and_is_shown_masked(
    qtbot: QtBot, card: AiProvidersCard, ctx: AppContext, keyring_backend: InMemoryKeyring
) -> None:
    card.add_button.click()
    entry_id = card.entries[0].id
    card.key.setText("sk-proj-abcdefghijklmnop-9z9z")
    card.save_key_button.click()
    assert card.key.text() == ""
    wait_idle(qtbot, ctx)
    assert keyring_backend.entries[("parley-ai", entry_id)] == "sk-proj-abcdefghijklmnop-9z9z"
    assert card.key_state.text() == "Saved key: sk-…9z9z"
    assert items(card) == ["1. OpenAI · gpt-4o-mini — key sk-…9z9z"]
    with ctx.store.db.read() as conn:
        assert "abcdefghijklmnop" not in str(conn.execute("SELECT * FROM settings").fetchall())
    card.remove_button.click()
    wait_idle(qtbot, ctx)
    assert ("parley-ai", entry_id) not in keyring_backend.entries


def test_test_key_runs_off_the_ui_thread_and_shows_the_result(
    qtbot: QtBot, card: AiProvidersCard, ctx: AppContext, server: OpenAIServer, loader: LitellmLoader
) -> None:
    """(``loader`` imports and warms up litellm first, so the call's deadlines are not spent importing it.)"""
    card.add_button.click()
    card.kind.setCurrentIndex(card.kind.findData("openai_compatible"))
    card.base_url.setText(server.base_url)
    card.base_url.editingFinished.emit()
    card.model.setText("local-model")
    card.model.editingFinished.emit()
    assert card.error.isHidden(), card.error.text()
    ProviderKeys(ctx.workspaces.vault.backend).set(card.entries[0].id, "sk-wrong-key-0000")
    card.test_button.click()
    assert not card.test_button.isEnabled()
    qtbot.waitUntil(lambda: card.test_button.isEnabled(), timeout=20000)
    assert card.test_result.text() == (
        "OpenAI-compatible server refused the key for 'local-model': check it in Settings › AI."
    )
    card.key.setText(KEY)
    card.save_key_button.click()
    wait_idle(qtbot, ctx)
    card.test_button.click()
    qtbot.waitUntil(lambda: card.test_button.isEnabled(), timeout=20000)
    assert card.test_result.text().startswith("It works: local-model answered in ")
    assert [r.body["model"] for r in server.calls()] == ["local-model", "local-model"]
    wait_idle(qtbot, ctx)


def test_a_locked_keyring_is_explained_not_fatal(qtbot: QtBot, ctx: AppContext) -> None:
    save_entries(ctx.store.settings, [ProviderEntry(id="e1", kind="openai", model="gpt-4o-mini")])
    service = AiService(ctx.store, ctx.settings, ProviderKeys(LockedKeyring()))
    card = AiProvidersCard(ctx, service)
    qtbot.addWidget(card)
    assert items(card) == ["1. OpenAI · gpt-4o-mini — key cannot be read now"]  # not "no key yet": it may be there
    assert card.key_state.text() == "The saved key cannot be read now."
    assert "locked" in card.error.text()
    card.key.setText("sk-abc-123456789")
    card.save_key_button.click()
    wait_idle(qtbot, ctx)
    assert "locked" in card.error.text()
    assert not card.error.isHidden()


def test_the_card_says_what_the_mode_means_for_it(qtbot: QtBot, card: AiProvidersCard, ctx: AppContext) -> None:
    assert card.mode_note.isVisible()
    assert "AI replies are off" in card.mode_note.text()
    ctx.settings.ai.mode = "byok"  # the store reports the settings table changed: nobody announces it
    qtbot.waitUntil(lambda: not card.mode_note.isVisible(), timeout=2000)
    ctx.settings.ai.mode = "cloud"
    qtbot.waitUntil(lambda: "Parley server" in card.mode_note.text() and card.mode_note.isVisible(), timeout=2000)
