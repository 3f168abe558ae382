"""The AI panel beside the composer, driven like a user would, against the real BYOK provider (litellm) and the
local OpenAI-compatible server: the stream appears progressively, Accept fills the composer, a summary becomes an
internal note (never composer text), the passages under a draft are its prompt's in "Test a question"'s order,
errors are a sentence in the panel (never a dialog), and the window keeps running while the model thinks."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.ai.byok import ByokProvider
from app.ai.config import save_entries
from app.ai.grounding import DEFAULT_BUDGET
from app.ai.interactions import InteractionLog
from app.ai.keys import ProviderKeys
from app.ai.knowledge import assist
from app.ai.knowledge.importers import add_text
from app.ai.litellm_loader import LitellmLoader
from app.ai.service import AiService
from app.ai.suggest import Suggestion
from app.ai.types import AIError, Provider, ProviderEntry
from app.core.errors import SOMETHING_WENT_WRONG
from app.qt import Qt, QtCore, QtWidgets
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from app.ui.pages.knowledge import KnowledgePage
from app.ui.widgets.ai_panel import NO_PROVIDER, AIPanel
from tests.ai.openai_server import Behaviour, OpenAIServer
from tests.support.ai_chat import RETURNS, ShopChat, shop_chat
from tests.support.ai_fixtures import KEY, POLICY, byok
from tests.support.keyrings import InMemoryKeyring

MODEL = "panel-model"
WAIT = 15000
DRAFT = "Hi Maya! The Canvas Tote Bag is $12.50 and returns are free within 30 days [1]. Shall I reserve one?"


@pytest.fixture
def ai_server() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={KEY}).start()
    server.reply = lambda body: DRAFT
    server.always(MODEL, Behaviour(chunk_delay=0.02))  # word by word, as a model writes
    yield server
    server.stop()


@pytest.fixture
def provider(ai_server: OpenAIServer, keyring_backend: InMemoryKeyring, request: pytest.FixtureRequest) -> ByokProvider:
    return byok(ai_server, keyring_backend, request.getfixturevalue("loader"), MODEL)


@pytest.fixture
def shop(ctx: AppContext) -> ShopChat:
    return shop_chat(ctx.store)


@pytest.fixture
def panel(qtbot: QtBot, ctx: AppContext, shop: ShopChat, provider: ByokProvider) -> Iterator[AIPanel]:
    panel = AIPanel(ctx.store, ctx.tasks)
    qtbot.addWidget(panel)
    panel.provider_factory = lambda: provider
    panel.retrieve = lambda query, limit: [RETURNS]
    panel.set_chat(shop.chat.id)
    panel.set_expanded(True)
    panel.resize(360, 600)
    panel.show()
    qtbot.waitExposed(panel)
    yield panel
    panel.shutdown()


def no_dialogs() -> bool:
    return not any(isinstance(w, QtWidgets.QDialog) and w.isVisible() for w in QtWidgets.QApplication.topLevelWidgets())


def test_suggestion_streams_into_the_preview_progressively(qtbot: QtBot, panel: AIPanel) -> None:
    updates: list[str] = []
    panel.preview_changed.connect(updates.append)
    with qtbot.waitSignal(panel.finished, timeout=WAIT) as finished:
        qtbot.mouseClick(panel.suggest_button, Qt.MouseButton.LeftButton)
        assert panel.busy
        assert not panel.suggest_button.isEnabled()
        assert panel.stop_button.isVisibleTo(panel)
    assert len(updates) >= 5, updates  # several updates before the end
    assert all(b.startswith(a) for a, b in itertools.pairwise(updates))  # each one grows the last
    assert updates[-1] == DRAFT
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)
    assert finished.args[0].text == DRAFT
    assert panel.preview.toPlainText() == DRAFT
    assert panel.preview.isReadOnly()
    assert panel.citations.isVisibleTo(panel)
    assert panel.citations.text() == "[1] Returns policy › Refunds · cited"
    assert not panel.warnings.isVisibleTo(panel)
    assert not panel.error.isVisibleTo(panel)
    assert panel.accept_button.isEnabled()
    assert panel.regenerate_button.isEnabled()


def test_the_window_keeps_running_while_the_model_thinks(qtbot: QtBot, panel: AIPanel, ai_server: OpenAIServer) -> None:
    ai_server.script(MODEL, Behaviour(first_token_delay=2.0))
    ticks: list[int] = []
    timer = QtCore.QTimer(interval=20)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    panel.suggest()
    qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=WAIT)
    assert panel.busy  # still waiting for the first token, and the event loop ran ten times meanwhile
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)
    timer.stop()
    assert panel.preview.toPlainText() == DRAFT


def test_accept_puts_the_draft_in_the_composer(
    qtbot: QtBot, ctx: AppContext, shop: ShopChat, provider: ByokProvider
) -> None:
    page = InboxPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 760)
    page.show()
    qtbot.waitExposed(page)
    page.ai_panel.provider_factory = lambda: provider
    page.ai_panel.retrieve = lambda query, limit: [RETURNS]
    page.open_chat(shop.chat.id)
    assert not page.ai_panel.body.isVisible()  # collapsed until asked for
    qtbot.mouseClick(page.ai_panel.toggle, Qt.MouseButton.LeftButton)
    assert page.ai_panel.body.isVisible()
    assert page.ai_panel.isVisible()
    assert page.ai_panel.chat_id == shop.chat.id
    with qtbot.waitSignal(page.ai_panel.finished, timeout=WAIT):
        qtbot.mouseClick(page.ai_panel.suggest_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.ai_panel.accept_button.isEnabled(), timeout=WAIT)
    qtbot.mouseClick(page.ai_panel.accept_button, Qt.MouseButton.LeftButton)
    expected = "Hi Maya! The Canvas Tote Bag is $12.50 and returns are free within 30 days. Shall I reserve one?"
    assert page.composer.edit.toPlainText() == expected  # citation markers are not sent to the customer
    assert page.composer.edit.hasFocus() or not page.isActiveWindow()
    page.ai_panel.shutdown()


def _inbox(qtbot: QtBot, ctx: AppContext) -> InboxPage:
    page = InboxPage(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 760)
    page.show()
    qtbot.waitExposed(page)
    return page


def test_a_summary_is_added_as_a_note_and_never_reaches_the_composer(
    qtbot: QtBot, ctx: AppContext, shop: ShopChat, provider: ByokProvider, ai_server: OpenAIServer
) -> None:
    page = _inbox(qtbot, ctx)
    panel = page.ai_panel
    panel.provider_factory = lambda: provider
    page.open_chat(shop.chat.id)
    panel.set_expanded(True)
    panel.interaction_log = InteractionLog(ctx.store, ctx.settings)
    ai_server.reply = lambda body: "- Maya wants the canvas tote ($12.50)\n- Asks about returns"
    to_composer: list[str] = []
    panel.accepted.connect(to_composer.append)
    with qtbot.waitSignal(panel.finished, timeout=WAIT) as finished:
        qtbot.mouseClick(panel.summarize_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.accept_button.isEnabled(), timeout=WAIT)
    assert panel.accept_button.text() == "Add as note"
    assert "never" in panel.accept_button.toolTip()
    with qtbot.waitSignal(panel.noted, timeout=WAIT):
        qtbot.mouseClick(panel.accept_button, Qt.MouseButton.LeftButton)
    notes = ctx.store.notes.find_all({"chat_id": shop.chat.id})
    assert [n.body for n in notes] == ["- Maya wants the canvas tote ($12.50)\n- Asks about returns"]
    assert notes[0].contact_id == shop.contact.id
    assert page.composer.edit.toPlainText() == ""
    assert to_composer == []
    assert not panel.accept_button.isEnabled()  # added once; a second click cannot add it twice
    assert "notes" in panel.status.text()
    interaction_id = finished.args[0].interaction_id
    qtbot.waitUntil(lambda: ctx.store.ai_interactions.get(interaction_id).outcome == "accepted", timeout=WAIT)

    # A rewrite of the summary is still for the staff.
    ai_server.reply = lambda body: "- Wants the tote"
    with qtbot.waitSignal(panel.finished, timeout=WAIT) as rewritten:
        qtbot.mouseClick(panel.rewrite_buttons["shorter"], Qt.MouseButton.LeftButton)
    assert rewritten.args[0].for_staff
    qtbot.waitUntil(lambda: panel.accept_button.isEnabled(), timeout=WAIT)
    assert panel.accept_button.text() == "Add as note"
    with qtbot.waitSignal(panel.noted, timeout=WAIT):
        panel.accept()
    assert page.composer.edit.toPlainText() == ""
    assert len(ctx.store.notes.find_all({"chat_id": shop.chat.id})) == 2

    # Regenerate after a summary summarizes again: it never turns the summary into a reply.
    ai_server.reply = lambda body: "- Maya: tote, returns"
    with qtbot.waitSignal(panel.finished, timeout=WAIT) as again:
        qtbot.mouseClick(panel.regenerate_button, Qt.MouseButton.LeftButton)
    assert (again.args[0].kind, again.args[0].for_staff) == ("summarize", True)
    assert ai_server.calls(model=MODEL)[-1].body["messages"][0]["content"].startswith("You summarise")
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)

    # A reply draft is accepted into the composer again.
    ai_server.reply = lambda body: DRAFT
    with qtbot.waitSignal(panel.finished, timeout=WAIT):
        panel.suggest()
    qtbot.waitUntil(lambda: panel.accept_button.isEnabled(), timeout=WAIT)
    assert panel.accept_button.text() == "Accept"
    panel.accept()
    assert page.composer.edit.toPlainText().startswith("Hi Maya!")
    panel.shutdown()


def test_the_ai_panel_opens_beside_the_customer_panel(qtbot: QtBot, ctx: AppContext, shop: ShopChat) -> None:
    page = _inbox(qtbot, ctx)
    page.open_chat(shop.chat.id)
    assert page.panel.isVisible()
    qtbot.mouseClick(page.ai_panel.toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.ai_panel.body.isVisible())
    assert page.panel.isVisible(), "the customer panel stays"

    def on_page(widget: QtWidgets.QWidget) -> QtCore.QRect:
        return QtCore.QRect(widget.mapTo(page, QtCore.QPoint(0, 0)), widget.size())

    # Side by side once the layout has settled: the AI panel next to the customer panel, neither over the other.
    qtbot.waitUntil(lambda: on_page(page.ai_panel).right() < on_page(page.panel).left(), timeout=WAIT)
    assert on_page(page.panel).right() <= page.width()
    assert page.composer.width() >= 300  # the conversation and composer keep room
    qtbot.mouseClick(page.ai_panel.toggle, Qt.MouseButton.LeftButton)
    assert page.panel.isVisible()
    page.ai_panel.shutdown()


def test_an_ai_error_shows_its_sentence_in_the_panel(qtbot: QtBot, panel: AIPanel, ai_server: OpenAIServer) -> None:
    ai_server.always(MODEL, Behaviour(status=401))
    with qtbot.waitSignal(panel.failed, timeout=WAIT) as failed:
        panel.suggest()
    message = failed.args[0]
    assert message
    assert panel.error.isVisibleTo(panel)
    assert panel.error.text() == message
    assert not panel.busy
    assert panel.suggest_button.isEnabled()
    assert panel.preview.toPlainText() == ""
    assert not panel.accept_button.isEnabled()
    assert no_dialogs()


def test_without_a_provider_the_panel_says_ai_is_off(qtbot: QtBot, panel: AIPanel) -> None:
    panel.provider_factory = None
    panel.suggest()
    assert panel.error.text() == NO_PROVIDER
    assert panel.error.isVisibleTo(panel)

    def off() -> Provider:
        raise AIError("no_provider", "AI is switched off in Settings.")

    panel.provider_factory = off
    panel.summarize()
    assert panel.error.text() == "AI is switched off in Settings."
    assert no_dialogs()


def _ai_off() -> Provider:
    raise AIError("auth", "The provider refused the key.", hint="Check the key in Settings → AI.")


def _broken_configuration() -> Provider:
    raise KeyError("Maya Lopez <maya@example.com> sk-live-1234567890abcdef")  # a bug: its text is never shown


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (_ai_off, "The provider refused the key. Check the key in Settings → AI."),
        (_broken_configuration, SOMETHING_WENT_WRONG[:-1]),
    ],
    ids=["AIError: sentence and hint", "anything else: something went wrong"],
)
def test_a_provider_that_cannot_be_built_is_said_in_one_sentence(
    qtbot: QtBot, panel: AIPanel, factory: Callable[[], Provider], expected: str
) -> None:
    panel.provider_factory = factory
    panel.summarize()
    assert panel.error.text().startswith(expected), panel.error.text()
    for leak in ("Maya", "sk-live", "KeyError"):
        assert leak not in panel.error.text()
    assert no_dialogs()


def test_handoff_and_invented_prices_are_shown_as_warnings(
    qtbot: QtBot, panel: AIPanel, ai_server: OpenAIServer
) -> None:
    ai_server.reply = lambda body: "HANDOFF: the discount policy is not known"
    with qtbot.waitSignal(panel.finished, timeout=WAIT):
        panel.suggest()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)
    assert panel.warnings.text().startswith("Hand to a human")
    assert "the discount policy is not known" in panel.warnings.text()
    assert panel.preview.toPlainText() == ""
    assert not panel.accept_button.isEnabled()

    ai_server.reply = lambda body: "The tote is $14 today."
    with qtbot.waitSignal(panel.finished, timeout=WAIT):
        panel.regenerate()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)
    assert panel.warnings.text() == "⚠ Price $14 is not in your products, knowledge base or this chat"
    assert panel.accept_button.isEnabled()  # staff may still take it and fix the price


def test_rewrite_and_summarize(qtbot: QtBot, panel: AIPanel, ai_server: OpenAIServer) -> None:
    panel.composer_text = lambda: "the tote is $12.50"
    ai_server.reply = lambda body: "The tote is $12.50."
    with qtbot.waitSignal(panel.finished, timeout=WAIT) as done:
        qtbot.mouseClick(panel.rewrite_buttons["grammar"], Qt.MouseButton.LeftButton)
    assert done.args[0].kind == "rewrite"
    sent = ai_server.calls(model=MODEL)[-1].body["messages"]
    assert "Fix spelling" in sent[0]["content"]
    assert "the tote is $12.50" in sent[1]["content"]
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)
    ai_server.reply = lambda body: "Tas kanvas $12.50."
    with qtbot.waitSignal(panel.finished, timeout=WAIT):
        qtbot.mouseClick(panel.rewrite_buttons["translate"], Qt.MouseButton.LeftButton)
    sent = ai_server.calls(model=MODEL)[-1].body["messages"]
    assert "The tote is $12.50." in sent[1]["content"]  # the shown draft is what gets rewritten
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)
    ai_server.reply = lambda body: "- Maya wants a tote"
    with qtbot.waitSignal(panel.finished, timeout=WAIT) as done:
        qtbot.mouseClick(panel.summarize_button, Qt.MouseButton.LeftButton)
    assert done.args[0].kind == "summarize"
    assert panel.preview.toPlainText() == "- Maya wants a tote"


def test_switching_chats_or_collapsing_stops_the_run(
    qtbot: QtBot, ctx: AppContext, panel: AIPanel, ai_server: OpenAIServer
) -> None:
    ai_server.script(MODEL, Behaviour(first_token_delay=0.5))
    updates: list[str] = []
    panel.preview_changed.connect(updates.append)
    panel.suggest()
    assert panel.busy
    other = ctx.store.chats.create(title="Other")
    panel.set_chat(other.id)
    assert not panel.busy
    assert panel.preview.toPlainText() == ""
    qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=WAIT)
    assert updates == []  # the cancelled run's text never reached the panel
    panel.toggle.setChecked(False)
    assert not panel.body.isVisible()
    panel.toggle.setChecked(True)
    assert panel.body.isVisible()


def test_the_ai_log_learns_what_staff_did_with_each_draft(
    qtbot: QtBot, ctx: AppContext, panel: AIPanel, ai_server: OpenAIServer
) -> None:
    panel.interaction_log = InteractionLog(ctx.store, ctx.settings)

    def outcome(interaction_id: str | None) -> str:
        assert interaction_id is not None
        return ctx.store.ai_interactions.get(interaction_id).outcome

    with qtbot.waitSignal(panel.finished, timeout=WAIT) as first:
        panel.suggest()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)
    first_id = first.args[0].interaction_id
    assert outcome(first_id) == "pending"
    row = ctx.store.ai_interactions.get(first_id)
    assert row.purpose == "suggest"
    assert row.chat_id == panel.chat_id
    assert row.model == MODEL
    with qtbot.waitSignal(panel.finished, timeout=WAIT) as second:
        panel.regenerate()  # the first draft was replaced without being used
    qtbot.waitUntil(lambda: outcome(first_id) == "discarded", timeout=WAIT)
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT)
    second_id = second.args[0].interaction_id
    received: list[str] = []
    panel.accepted.connect(received.append)
    panel.accept()
    qtbot.waitUntil(lambda: outcome(second_id) == "accepted", timeout=WAIT)
    panel.sent(received[0] + " See you soon!")
    qtbot.waitUntil(lambda: outcome(second_id) == "edited", timeout=WAIT)

    ai_server.reply = lambda body: "HANDOFF: not sure"
    with qtbot.waitSignal(panel.finished, timeout=WAIT) as third:
        panel.suggest()
    qtbot.waitUntil(lambda: outcome(third.args[0].interaction_id) == "handoff", timeout=WAIT)


QUESTION = "How long does delivery to Leeds take, and is express delivery faster?"


def test_a_drafts_passages_are_its_prompts_in_test_a_questions_order(
    qtbot: QtBot, ctx: AppContext, keyring_backend: InMemoryKeyring, loader: LitellmLoader
) -> None:
    """The chat's last customer message is QUESTION; "Test a question" on the Knowledge page ranks passages for it;
    the draft's prompt carries the first of them, and the panel lists exactly those, in that order."""
    server = OpenAIServer(keys={KEY}).start()
    try:
        store = ctx.store
        shop = shop_chat(store, [("in", "Hello!"), ("out", "Hi, how can I help?"), ("in", QUESTION)])
        add_text(store, "Shipping", "## Delivery times\n\nOrders reach Leeds within 2 to 3 working days.")
        add_text(store, "Express", "## Express delivery\n\nExpress delivery to Leeds takes one working day.")
        add_text(store, "Returns policy", "## Refunds\n\nMoney back within 14 days of delivery.")
        add_text(store, "Shop", "## Vans\n\nOur delivery vans leave the shop at four.")
        add_text(store, "Leeds store", "## Visit\n\nCollect in Leeds the same day, faster than any delivery.")
        add_text(store, "Gift wrap", "## Wrapping\n\nWe wrap presents in recycled paper.")
        main = ProviderEntry(
            id="main", kind="openai_compatible", model="chat", base_url=server.base_url, embedding_model="embed"
        )
        save_entries(store.settings, [main])
        ProviderKeys(keyring_backend).set("main", KEY)
        ctx.settings.ai.mode = "byok"
        ctx.ai = AiService(store, ctx.settings, ProviderKeys(keyring_backend), loader=loader, policy=POLICY)
        assert assist.embed_missing(ctx.ai, store) is not None  # ranked hybrid, as with a key that embeds

        knowledge = KnowledgePage(ctx)
        qtbot.addWidget(knowledge)
        knowledge.question.setText(QUESTION)
        with qtbot.waitSignal(knowledge.results_shown, timeout=WAIT):
            knowledge.ask_button.click()
        ranking = [(p.chunk_id, p.citation) for p in knowledge.passages]
        assert len(ranking) >= 4

        server.reply = lambda body: "Express delivery takes one working day [2]; standard is 2 to 3 days [1]."
        page = _inbox(qtbot, ctx)
        page.open_chat(shop.chat.id)
        page.ai_panel.set_expanded(True)
        with qtbot.waitSignal(page.ai_panel.finished, timeout=WAIT) as finished:
            qtbot.mouseClick(page.ai_panel.suggest_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not page.ai_panel.busy, timeout=WAIT)
        suggestion: Suggestion = finished.args[0]

        shown = [(c.passage_id, f"[{c.number}] {c.label}") for c in suggestion.citations]
        assert suggestion.citations == suggestion.record.citations  # exactly the passages of the prompt
        assert shown == ranking[: DEFAULT_BUDGET.passages]  # in Test a question's order and numbering
        system = str(server.calls(model="chat")[-1].body["messages"][0]["content"])
        assert [line for line in system.splitlines() if re.match(r"\[\d+\] ", line)] == [c for _, c in shown]
        assert [c.number for c in suggestion.cited] == [1, 2]
        lines = page.ai_panel.citations.text().splitlines()
        assert lines == [f"{c} · cited" if n < 2 else c for n, (_, c) in enumerate(shown)]
        page.ai_panel.shutdown()
    finally:
        server.stop()
