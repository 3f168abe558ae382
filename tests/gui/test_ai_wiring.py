"""The inbox's AI panel as the app wires it: the workspace's AI service (provider chain from Settings, key from the
keyring), the real knowledge base for passages, and the AI log — against a real local OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.ai.config import save_entries
from app.ai.keys import ProviderKeys
from app.ai.knowledge.importers import add_text
from app.ai.service import AiService
from app.ai.types import ProviderEntry
from app.qt import Qt
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from tests.ai.openai_server import OpenAIServer
from tests.support.ai_chat import shop_chat
from tests.support.ai_fixtures import KEY, warm_litellm
from tests.support.keyrings import InMemoryKeyring

WAIT = 20000
DRAFT = "Hi Maya! The Canvas Tote Bag is $12.50 and you can return it within 30 days [1]."


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    warm_litellm()
    running = OpenAIServer(keys={KEY}).start()
    running.reply = lambda body: DRAFT
    yield running
    running.stop()


def test_a_suggestion_uses_the_service_the_knowledge_base_and_the_log(
    qtbot: QtBot, ctx: AppContext, server: OpenAIServer, keyring_backend: InMemoryKeyring
) -> None:
    store = ctx.store
    shop = shop_chat(store)
    add_text(store, "Returns policy", "Returns are free within 30 days of delivery, in the original packaging.")
    keys = ProviderKeys(keyring_backend)
    save_entries(
        store.settings, [ProviderEntry(id="main", kind="openai_compatible", model="m", base_url=server.base_url)]
    )
    keys.set("main", KEY)
    ctx.settings.ai.mode = "byok"
    ctx.ai = AiService(store, ctx.settings, keys)

    page = InboxPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 760)
    page.show()
    page.open_chat(shop.chat.id)
    page.ai_panel.set_expanded(True)
    with qtbot.waitSignal(page.ai_panel.finished, timeout=WAIT):
        qtbot.mouseClick(page.ai_panel.suggest_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.ai_panel.accept_button.isEnabled(), timeout=WAIT)

    prompt = " ".join(str(m["content"]) for m in server.calls()[-1].body["messages"])
    assert "Returns are free within 30 days of delivery" in prompt, "the knowledge base passage went into the prompt"
    assert "Canvas Tote Bag" in prompt
    assert "[1] Returns policy" in page.ai_panel.citations.text()
    with store.db.read() as conn:
        logged = conn.execute(
            "SELECT purpose, mode, provider, model, completion_tokens FROM ai_interactions"
        ).fetchall()
    assert len(logged) == 1
    assert logged[0][:4] == ("suggest", "byok", "openai_compatible", "m")
    assert logged[0][4] > 0
    page.ai_panel.shutdown()
