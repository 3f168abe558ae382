"""The AI log: every call recorded with usage; prompt and reply text only when the user opted in."""

from __future__ import annotations

import pytest

from app.ai.byok import ByokProvider
from app.ai.interactions import InteractionLog
from app.ai.keys import ProviderKeys
from app.ai.types import AIError, Done
from app.core.models import AiInteraction
from app.store.store import Store
from tests.ai.openai_server import Behaviour, OpenAIServer
from tests.support.ai_fixtures import FAST, KEY, POLICY, ask, collect, entry, run

pytestmark = pytest.mark.usefixtures("loader")
PROMPT = "Do you have the blue scarf in stock?"


def chain(server: OpenAIServer, keys: ProviderKeys) -> ByokProvider:
    keys.set("main", KEY)
    return ByokProvider([entry(server, "main", "m1")], keys, policy=POLICY)


def all_text(store: Store) -> str:
    with store.db.read() as conn:
        rows = [str(r) for t in ("ai_interactions", "ai_transcripts") for r in conn.execute(f"SELECT * FROM {t}")]
    return "\n".join(rows)


def test_a_call_is_recorded_with_tokens_and_no_text(server: OpenAIServer, keys: ProviderKeys, store: Store) -> None:
    log = InteractionLog(store, store.settings)
    recorded: list[AiInteraction] = []
    events = run(
        collect(
            log.stream(
                chain(server, keys),
                ask(PROMPT),
                FAST,
                purpose="suggest",
                mode="byok",
                chat_id="c1",
                user_id="u1",
                recorded=recorded,
            )
        )
    )
    assert isinstance(events[-1], Done)
    (row,) = recorded
    stored = store.ai_interactions.get(row.id)
    assert (stored.purpose, stored.mode, stored.provider, stored.model) == (
        "suggest",
        "byok",
        "openai_compatible",
        "m1",
    )
    assert (stored.chat_id, stored.user_id, stored.outcome, stored.attempts) == ("c1", "u1", "pending", 1)
    assert stored.prompt_tokens > 0
    assert stored.completion_tokens > 0
    assert stored.latency_ms >= stored.ttft_ms >= 0
    assert stored.error is None
    assert log.transcript(row.id) is None
    assert "blue scarf" not in all_text(store)

    assert log.set_outcome(row.id, "edited").outcome == "edited"
    assert store.ai_interactions.get(row.id).outcome == "edited"


def test_text_is_kept_only_when_opted_in(server: OpenAIServer, keys: ProviderKeys, store: Store) -> None:
    settings = store.settings
    settings.ai.keep_transcripts = True
    log = InteractionLog(store, settings)
    recorded: list[AiInteraction] = []
    run(collect(log.stream(chain(server, keys), ask(PROMPT), FAST, purpose="suggest", mode="byok", recorded=recorded)))
    transcript = log.transcript(recorded[0].id)
    assert transcript is not None
    messages, reply = transcript
    assert messages == ask(PROMPT)
    assert reply == f"Echo: {PROMPT}"


def test_a_failed_call_is_recorded_as_failed(server: OpenAIServer, keys: ProviderKeys, store: Store) -> None:
    server.always("m1", Behaviour(status=500))
    log = InteractionLog(store, store.settings)
    recorded: list[AiInteraction] = []
    with pytest.raises(AIError):
        run(
            collect(
                log.stream(chain(server, keys), ask(PROMPT), FAST, purpose="rewrite", mode="byok", recorded=recorded)
            )
        )
    (row,) = recorded
    stored = store.ai_interactions.get(row.id)
    assert stored.outcome == "failed"
    assert stored.error is not None
    assert stored.error.startswith("provider_down: ")
    assert "blue scarf" not in all_text(store)


def test_erasing_a_contact_removes_the_transcripts_of_its_chats(
    server: OpenAIServer, keys: ProviderKeys, store: Store
) -> None:
    from app.store.gdpr import erase_contact

    contact = store.contacts.create(name="Rita", phone="+351900000001")
    chat = store.chats.create(contact_id=contact.id, wa_chat_id="351900000001@c.us", title="Rita")
    settings = store.settings
    settings.ai.keep_transcripts = True
    log = InteractionLog(store, settings)
    recorded: list[AiInteraction] = []
    run(
        collect(
            log.stream(
                chain(server, keys),
                ask(PROMPT),
                FAST,
                purpose="suggest",
                mode="byok",
                chat_id=chat.id,
                recorded=recorded,
            )
        )
    )
    assert log.transcript(recorded[0].id) is not None
    erase_contact(store, contact.id)
    assert log.transcript(recorded[0].id) is None
    kept = store.ai_interactions.get(recorded[0].id)
    assert kept.chat_id is None
    assert kept.completion_tokens > 0
