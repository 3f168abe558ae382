"""The AI panel beside the composer, driven like a user would, against the real BYOK provider (litellm) and the
local OpenAI-compatible server: the stream appears progressively, Accept fills the composer, errors are a sentence
in the panel (never a dialog), and the window keeps running while the model thinks."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.ai.byok import ByokProvider
from app.ai.interactions import InteractionLog
from app.ai.types import AIError, Provider
from app.core.errors import SOMETHING_WENT_WRONG
from app.qt import Qt, QtCore, QtWidgets
from app.ui.context import AppContext
from app.ui.pages.inbox import InboxPage
from app.ui.widgets.ai_panel import NO_PROVIDER, AIPanel
from tests.ai.conftest import KEY, POLICY, byok, entry, loader  # noqa: F401 (loader: the session's warmed-up litellm)
from tests.ai.openai_server import Behaviour, OpenAIServer
from tests.support.ai_chat import RETURNS, ShopChat, shop_chat
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
    assert panel.citations.text() == "[1] Returns policy › Refunds"
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
    assert panel.warnings.text() == "⚠ Price $14 is not in your products"
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
