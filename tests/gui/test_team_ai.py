"""Settings › AI › Team AI against the real sync server (a ``python -m sync_server`` process on a throwaway
PostgreSQL) and a real local OpenAI-compatible provider behind its gateway.

The workspace signs up (or in) through its own ``SyncService`` on the bridge's loop thread, as in the app; the tests
wait on conditions (the card's completed loads, a label showing), never on sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from app.qt import QtWidgets
from app.sync.protocol import Session
from app.sync.status import SyncState
from app.ui.context import AppContext
from app.ui.pages.settings import SettingsPage
from app.ui.pages.team_ai import TeamAiCard
from app.ui.sync_bridge import SyncBridge
from tests.ai.openai_server import OpenAIServer
from tests.gui.test_sync_ui import wait_state
from tests.support.sync_fixtures import PASSWORD, bearer, unique_email
from tests.support.sync_server import ServerProcess
from tests.sync.test_gateway import invite

KEY = "sk-team-key-4821"


@pytest.fixture
def provider() -> Iterator[OpenAIServer]:
    server = OpenAIServer(keys={KEY}).start()
    yield server
    server.stop()


def sign_up_owner(qtbot: QtBot, bridge: SyncBridge, server: ServerProcess, http: httpx.Client) -> Session:
    """Make this workspace a team through its sync service; returns the owner's session on another device."""
    email = unique_email("owner")
    bridge.call(
        "Sign up",
        lambda: bridge.service.sign_up(
            server.url, name="Olivia Owner", email=email, password=PASSWORD, device_name="owner pc"
        ),
    )
    wait_state(qtbot, bridge, SyncState.SYNCED, timeout=30000)
    login = {"email": email, "password": PASSWORD, "device_name": "owner phone"}
    return Session.model_validate(http.post("/api/auth/login", json=login).raise_for_status().json())


def sign_in_as(qtbot: QtBot, bridge: SyncBridge, server: ServerProcess, member: Session) -> None:
    """Sign this workspace out, then in again as ``member`` of the same team."""
    bridge.call("Sign out", bridge.service.sign_out)
    wait_state(qtbot, bridge, SyncState.SIGNED_OUT)
    bridge.call(
        "Sign in",
        lambda: bridge.service.sign_in(
            server.url, email=member.user.email, password=PASSWORD, device_name=f"{member.user.role} pc"
        ),
    )
    qtbot.waitUntil(
        lambda: bridge.status.state is SyncState.SYNCED and bridge.status.role == member.user.role, timeout=30000
    )


def configure(http: httpx.Client, owner: Session, provider: OpenAIServer) -> None:
    entry = {"kind": "openai_compatible", "model": "m1", "base_url": provider.base_url, "api_key": KEY}
    body = {"providers": [entry], "monthly_budget_usd": 40, "requests_per_minute": 25}
    http.put("/api/ai/settings", json=body, headers=bearer(owner)).raise_for_status()


def server_settings(http: httpx.Client, who: Session) -> dict[str, Any]:
    return dict(http.get("/api/ai/settings", headers=bearer(who)).raise_for_status().json())


def shown_texts(card: TeamAiCard) -> list[str]:
    """Every text the card shows or holds: fields, labels, list items and table cells."""
    texts = [w.text() for w in card.findChildren(QtWidgets.QLineEdit)]
    texts += [w.text() for w in card.findChildren(QtWidgets.QLabel)]
    texts += [card.list.item(i).text() for i in range(card.list.count())]
    for table in card.findChildren(QtWidgets.QTableWidget):
        texts += [table.item(r, c).text() for r in range(table.rowCount()) for c in range(table.columnCount())]
    return texts


def page_card(qtbot: QtBot, ctx: AppContext) -> tuple[SettingsPage, TeamAiCard]:
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.select_section("AI")  # one section at a time: the card is in AI
    page.show()
    qtbot.waitExposed(page)
    assert page.team_ai is not None
    return page, page.team_ai


def test_owner_saves_a_provider_key_and_edits_without_retyping_it(
    qtbot: QtBot, ctx: AppContext, bridge: SyncBridge, server: ServerProcess, http: httpx.Client
) -> None:
    _, card = page_card(qtbot, ctx)
    assert card.isHidden(), "signed out: no team, no card"
    owner = sign_up_owner(qtbot, bridge, server, http)
    qtbot.waitUntil(lambda: card.loads == 1, timeout=15000)
    assert card.isVisible()
    assert card.save_button.isVisible()
    assert not card.role_note.isVisible()
    assert card.list.count() == 0
    assert card.no_usage.isVisible()

    card.add_button.click()
    card.kind.setCurrentIndex(card.kind.findData("openai_compatible"))
    assert card.base_url.isEnabled()
    card.model.setText("team-model")
    card.base_url.setText("http://127.0.0.1:9/v1")
    card.key.setText(KEY)
    card.budget.setValue(12.5)
    card.rate.setValue(20)
    card.save_button.click()
    assert card.key.text() == "", "the key leaves the field at once"
    qtbot.waitUntil(card.saved_note.isVisible, timeout=15000)
    assert not card.error.isVisible()

    stored = server_settings(http, owner)
    (entry,) = stored["providers"]
    assert entry["kind"] == "openai_compatible"
    assert entry["model"] == "team-model"
    assert entry["base_url"] == "http://127.0.0.1:9/v1"
    assert entry["key_set"] is True
    assert entry["key_last4"] == "4821"
    assert (stored["monthly_budget_usd"], stored["requests_per_minute"]) == (12.5, 20)
    assert card.key_state.text() == "key set ••••4821"
    assert "key set ••••4821" in card.list.item(0).text()
    assert all(KEY not in text for text in shown_texts(card)), "the key is nowhere in the card"
    assert all(entry.typed_key is None for entry in card.entries)

    # Another field changed, the key field left empty: the server keeps the key.
    card.embedding.setText("team-embed")
    card.save_button.click()
    qtbot.waitUntil(lambda: card.save_button.isEnabled() and card.saved_note.isVisible(), timeout=15000)
    (entry,) = server_settings(http, owner)["providers"]
    assert entry["embedding_model"] == "team-embed"
    assert entry["key_set"] is True
    assert entry["key_last4"] == "4821"

    # A model change without the key leaves the entry keyless, and the card said so before the save.
    card.model.setText("other-model")
    card.model.editingFinished.emit()
    assert card.key_state.text().startswith("no key: type it again")
    card.save_button.click()
    qtbot.waitUntil(lambda: card.save_button.isEnabled() and card.saved_note.isVisible(), timeout=15000)
    (entry,) = server_settings(http, owner)["providers"]
    assert entry["key_set"] is False
    assert card.key_state.text() == "no key needed"


def test_usage_shows_each_member_after_gateway_calls(
    qtbot: QtBot,
    ctx: AppContext,
    bridge: SyncBridge,
    server: ServerProcess,
    http: httpx.Client,
    provider: OpenAIServer,
) -> None:
    _, card = page_card(qtbot, ctx)
    owner = sign_up_owner(qtbot, bridge, server, http)
    staff = invite(http, owner, "staff")
    configure(http, owner, provider)
    qtbot.waitUntil(lambda: card.loads >= 1, timeout=15000)
    body = {"model": "default", "messages": [{"role": "user", "content": "hello there"}]}
    for who in (staff, staff, owner):
        answer = http.post("/v1/chat/completions", json=body, headers=bearer(who), timeout=60.0)
        assert answer.status_code == 200, answer.text
    loads = card.loads
    card.refresh_button.click()
    qtbot.waitUntil(lambda: card.loads > loads, timeout=15000)
    assert card.usage.isVisible()
    assert not card.no_usage.isVisible()
    rows = {
        card.usage.item(r, 0).text(): [card.usage.item(r, c).text() for c in range(1, 4)]
        for r in range(card.usage.rowCount())
    }
    tokens = answer.json()["usage"]["total_tokens"]
    assert rows == {
        "staff one": ["2", f"{2 * tokens:,}", "$0.00"],
        "Olivia Owner": ["1", f"{tokens:,}", "$0.00"],
    }
    assert card.list.count() == 1
    assert card.key_state.text() == "key set ••••4821"
    assert (card.budget.value(), card.rate.value()) == (40.0, 25)


def test_admin_sees_the_settings_read_only_and_a_forced_save_shows_the_servers_sentence(
    qtbot: QtBot,
    ctx: AppContext,
    bridge: SyncBridge,
    server: ServerProcess,
    http: httpx.Client,
    provider: OpenAIServer,
) -> None:
    owner = sign_up_owner(qtbot, bridge, server, http)
    configure(http, owner, provider)
    admin = invite(http, owner, "admin")
    sign_in_as(qtbot, bridge, server, admin)
    _, card = page_card(qtbot, ctx)
    qtbot.waitUntil(lambda: card.loads >= 1, timeout=15000)
    assert card.isVisible()
    assert card.role_note.isVisible()
    assert not card.save_button.isVisible()
    assert not card.add_button.isVisible()
    assert not card.key.isVisible()
    assert not card.kind.isEnabled()
    assert not card.model.isEnabled()
    assert not card.budget.isEnabled()
    assert not card.rate.isEnabled()
    assert card.list.count() == 1
    assert card.model.text() == "m1"
    assert card.key_state.text() == "key set ••••4821"
    assert (card.budget.value(), card.rate.value()) == (40.0, 25)

    card.save()  # forced past the hidden button: the server has the last word
    qtbot.waitUntil(card.error.isVisible, timeout=15000)
    assert card.error.text() == "Only the owner may do this."
    assert not card.saved_note.isVisible()
    assert server_settings(http, owner)["providers"][0]["key_set"] is True


def test_staff_do_not_see_the_card(
    qtbot: QtBot, ctx: AppContext, bridge: SyncBridge, server: ServerProcess, http: httpx.Client
) -> None:
    owner = sign_up_owner(qtbot, bridge, server, http)
    page, card = page_card(qtbot, ctx)
    qtbot.waitUntil(lambda: card.loads >= 1, timeout=15000)
    assert card.isVisible()
    staff = invite(http, owner, "staff")
    sign_in_as(qtbot, bridge, server, staff)
    assert bridge.status.signed_in
    assert card.isHidden()
    assert page.ai_providers.isVisible(), "the card of the workspace's own keys stays"
