"""The AI log: one ``ai_interactions`` row per call (who, what for, which provider and model, tokens, cost, timing,
attempts, error, and later the outcome: accepted / edited / discarded / failed / handoff).

The words of a call (prompt and reply) are kept only when the user turned on "Keep the text of AI prompts and
replies", and then only in ``ai_transcripts``, a local table that never syncs. Otherwise no text is stored at all —
in BYOK mode the prompt never leaves this computer except to the provider. ``InteractionLog.stream`` wraps a
provider's stream so callers get the events and a recorded interaction without extra bookkeeping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Literal

from app.ai.types import AIError, CallOptions, ChatMessage, Done, Provider, Purpose, StreamEvent, Usage
from app.core.ids import to_ms, utc_now
from app.core.models import AiInteraction, AiOutcome
from app.core.settings import Settings
from app.store.store import Store

log = logging.getLogger(__name__)

CallMode = Literal["byok", "cloud"]


class InteractionLog:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    @property
    def keeps_text(self) -> bool:
        return bool(self.settings.ai.keep_transcripts)

    def record(
        self,
        *,
        purpose: Purpose,
        mode: CallMode,
        usage: Usage | None = None,
        error: AIError | None = None,
        chat_id: str | None = None,
        user_id: str | None = None,
        messages: list[ChatMessage] | None = None,
        reply: str | None = None,
    ) -> AiInteraction:
        """Write one call's metadata (and, when opted in, its text) in one transaction."""
        if usage is None:
            tried = error.tried if error is not None else ()
            row = self.store.ai_interactions.new(
                purpose=purpose,
                mode=mode,
                provider="cloud" if mode == "cloud" else "none",
                model="",
                chat_id=chat_id,
                user_id=user_id,
                attempts=max(1, len(tried)),
                error=None if error is None else f"{error.kind}: {error}",
                outcome="failed",
            )
        else:
            row = self.store.ai_interactions.new(
                purpose=purpose,
                mode=mode,
                provider=usage.provider,
                model=usage.model,
                chat_id=chat_id,
                user_id=user_id,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cost_micro_usd=round(usage.cost_usd * 1_000_000),
                latency_ms=usage.latency_ms,
                ttft_ms=usage.ttft_ms,
                attempts=usage.attempts,
                error=None if error is None else f"{error.kind}: {error}",
                outcome="failed" if error is not None else "pending",
            )
        keep = self.keeps_text and messages is not None
        with self.store.db.transaction() as conn:
            self.store.ai_interactions.add(row)
            if keep:
                prompt = json.dumps([m.model_dump() for m in messages or []], ensure_ascii=False)
                conn.execute(
                    "INSERT INTO ai_transcripts (interaction_id, created_at, prompt, reply) VALUES (?, ?, ?, ?)",
                    (row.id, to_ms(utc_now()), prompt, reply or ""),
                )
        return row

    def set_outcome(self, interaction_id: str, outcome: AiOutcome) -> AiInteraction:
        """What the person did with the answer (accepted, edited, discarded, handed to a human)."""
        return self.store.ai_interactions.update(interaction_id, outcome=outcome)

    def transcript(self, interaction_id: str) -> tuple[list[ChatMessage], str] | None:
        with self.store.db.read() as conn:
            row = conn.execute(
                "SELECT prompt, reply FROM ai_transcripts WHERE interaction_id = ?", (interaction_id,)
            ).fetchone()
        if row is None:
            return None
        return [ChatMessage.model_validate(m) for m in json.loads(row[0])], str(row[1])

    async def stream(
        self,
        provider: Provider,
        messages: list[ChatMessage],
        options: CallOptions,
        *,
        purpose: Purpose,
        mode: CallMode,
        chat_id: str | None = None,
        user_id: str | None = None,
        recorded: list[AiInteraction] | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """``provider.stream`` that records the call when it ends (answer or ``AIError``).

        The interaction is appended to ``recorded`` (when given) so the caller can set its outcome later.
        """
        parts: list[str] = []
        try:
            async for event in provider.stream(messages, options, purpose=purpose):
                if isinstance(event, Done):
                    row = self.record(
                        purpose=purpose,
                        mode=mode,
                        usage=event.usage,
                        chat_id=chat_id,
                        user_id=user_id,
                        messages=messages,
                        reply=event.text,
                    )
                    if recorded is not None:
                        recorded.append(row)
                else:
                    parts.append(event.text)
                yield event
        except AIError as error:
            row = self.record(
                purpose=purpose,
                mode=mode,
                error=error,
                chat_id=chat_id,
                user_id=user_id,
                messages=messages,
                reply="".join(parts),
            )
            if recorded is not None:
                recorded.append(row)
            raise
