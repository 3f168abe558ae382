"""Part of ``make screenshots``: AI replies for real — the workspace's AI service, litellm, the knowledge base — against
the local OpenAI-compatible server the tests use (it answers at once, streaming word by word).

A fresh workspace with a small shop and one customer conversation, a knowledge article, a provider entry whose key
is in the (in-memory) keyring; then the inbox with the AI panel after Suggest, the Knowledge page with a test
question, and Settings › AI. Output: ``build/screenshots/ai-<nn>-<screen>.png``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.ai.config import save_entries  # noqa: E402
from app.ai.keys import ProviderKeys  # noqa: E402
from app.ai.knowledge.importers import add_text  # noqa: E402
from app.ai.service import AiService  # noqa: E402
from app.ai.types import ProviderEntry  # noqa: E402
from app.bootstrap import build_context  # noqa: E402
from app.qt import QtWidgets  # noqa: E402
from app.store.keyring_vault import KeyringVault  # noqa: E402
from app.store.keys import KdfParams  # noqa: E402
from app.store.workspaces import Workspaces  # noqa: E402
from app.ui import theme  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.pages.inbox import InboxPage  # noqa: E402
from app.ui.pages.knowledge import KnowledgePage  # noqa: E402
from app.ui.sections import SECTIONS  # noqa: E402
from app.ui.startup import OpenWorkspace  # noqa: E402
from app.ui.tasks import TaskRunner  # noqa: E402
from scripts.screenshots import grab, settle, start_shots, wait_for  # noqa: E402
from tests.ai.openai_server import Behaviour, OpenAIServer  # noqa: E402
from tests.support.ai_chat import shop_chat  # noqa: E402
from tests.support.ai_fixtures import KEY, warm_litellm  # noqa: E402
from tests.support.keyrings import InMemoryKeyring  # noqa: E402

DRAFT = (
    "Hi Maya! Yes, the Canvas Tote Bag is in stock at $12.50, and returns are free within 30 days of delivery [1]. "
    "Shall I reserve one for you?"
)
RETURNS = (
    "# Returns policy\n\nReturns are free within 30 days of delivery, in the original packaging. Refunds reach "
    "the card used within 5 business days.\n\n## Exchanges\n\nSizes can be exchanged once, free of charge."
)
SHIPPING = "# Shipping\n\nOrders ship within 2 business days. Jakarta delivery is next day; elsewhere 3 to 5 days."


def main() -> int:
    _args, out, app = start_shots()
    warm_litellm()
    server = OpenAIServer(keys={KEY}).start()
    server.reply = lambda body: DRAFT
    server.always("assistant", Behaviour(chunk_delay=0.01))
    keyring = InMemoryKeyring()
    try:
        with tempfile.TemporaryDirectory(prefix="parley-ai-shots-") as tmp:
            workspaces = Workspaces(Path(tmp), KeyringVault(keyring), kdf=KdfParams(time_cost=1, memory_kib=16384))
            store = workspaces.create("Lumen Boutique", "Alex Morgan")
            workspace_id = store.meta("workspace_id") or ""
            shop = shop_chat(store)
            add_text(store, "Returns policy", RETURNS)
            add_text(store, "Shipping", SHIPPING)
            entry = ProviderEntry(id="local", kind="openai_compatible", model="assistant", base_url=server.base_url)
            save_entries(store.settings, [entry])
            ProviderKeys(keyring).set("local", KEY)
            tasks = TaskRunner()
            opened = OpenWorkspace(workspace_id, workspaces.header(workspace_id), store)
            ctx = build_context(workspaces, tasks, opened)
            ctx.settings.ai.mode = "byok"
            ctx.settings.ai.brand_voice = "Warm and brief, first names, no emoji."
            assert isinstance(ctx.ai, AiService)
            for mode in ("light", "dark"):
                theme.apply(app, mode)
                window = MainWindow(ctx, SECTIONS)
                window.resize(1360, 840)
                window.show()
                inbox = window.show_section("inbox")
                assert isinstance(inbox, InboxPage)
                inbox.open_chat(shop.chat.id)
                inbox.ai_panel.set_expanded(True)
                settle(app, 300)
                inbox.ai_panel.suggest_button.click()
                wait_for(app, "the suggestion", lambda: inbox.ai_panel.accept_button.isEnabled())  # noqa: B023
                settle(app, 300)
                grab(app, window, out / f"ai-{mode}-01-inbox-suggestion.png")

                knowledge = window.show_section("knowledge")
                assert isinstance(knowledge, KnowledgePage)
                knowledge.question.setText("Can I return it if it doesn't fit?")
                knowledge.ask()
                wait_for(app, "the test question", lambda: knowledge.results.rowCount() > 0)  # noqa: B023
                settle(app, 300)
                grab(app, window, out / f"ai-{mode}-02-knowledge.png")

                settings = window.show_section("settings")
                ai_card = getattr(settings, "ai_providers", None)
                scroll = settings if isinstance(settings, QtWidgets.QScrollArea) else None
                scroll = scroll or settings.findChild(QtWidgets.QScrollArea)
                if isinstance(ai_card, QtWidgets.QWidget) and scroll is not None:
                    settle(app, 200)
                    top = ai_card.mapTo(scroll.widget(), ai_card.rect().topLeft()).y()
                    scroll.verticalScrollBar().setValue(top - 420)  # the AI settings above the providers card
                settle(app, 400)
                grab(app, window, out / f"ai-{mode}-03-settings-ai.png")
                inbox.ai_panel.shutdown()
                window.close()
                window.deleteLater()
                settle(app, 100)
            tasks.drain()
            tasks.shutdown()
            store.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
