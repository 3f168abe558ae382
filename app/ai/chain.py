"""The app's fallback chain: the provider core's ``Fallback`` over the user's entries, speaking Parley's ``Provider``.

The rules (entries in order, retries with backoff honouring Retry-After up to a cap, cool-down of a failed entry,
whole-answer and first-token deadlines, no fallback once text was shown) are the provider core's
(``app.ai.provider_core``), the same the sync server's gateway runs. What is the app's: which entries can be tried at
all (a key in the keyring), ``Delta``/``Done`` events with usage and timings, and the sentence a shop owner reads
(``AIError``, through the ``EntryCaller``'s ``message``).

How one attempt reaches a provider (litellm with a key from the keyring, or the sync server's gateway) is an
``EntryCaller``; the chain knows nothing of HTTP.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.ai.provider_core import ChainPolicy, Cooldowns, Exhausted, Failure, Fallback, Opened
from app.ai.types import (
    AIError,
    CallOptions,
    ChatMessage,
    Delta,
    Done,
    Embeddings,
    ProviderEntry,
    Purpose,
    StreamEvent,
    Usage,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenCount:
    """The provider's count of tokens, reported by a stream after its text."""

    prompt_tokens: int
    completion_tokens: int


class EntryCaller(Protocol):
    """One attempt at one entry. Raises ``Failure`` (or any provider exception: the core classifies it)."""

    def available(self, entry: ProviderEntry) -> bool:
        """False when the entry cannot be tried at all (no key in the keyring)."""
        ...

    async def prepare(self) -> None:
        """Whatever must be ready before the first attempt's deadlines start (litellm's import)."""
        ...

    def stream(
        self, entry: ProviderEntry, messages: list[ChatMessage], options: CallOptions
    ) -> AsyncIterator[str | TokenCount]: ...

    async def embed(self, entry: ProviderEntry, texts: list[str], timeout: float) -> tuple[list[list[float]], int]: ...

    def cost(self, entry: ProviderEntry, prompt_tokens: int, completion_tokens: int) -> float: ...

    def message(self, entry: ProviderEntry, failure: Failure) -> str:
        """The sentence a shop owner reads for this failure."""
        ...


def _has_text(item: str | TokenCount) -> bool:
    return isinstance(item, str) and bool(item)


class FallbackChain:
    """A ``Provider`` over an ordered list of entries and a way to call one of them."""

    def __init__(
        self,
        entries: Sequence[ProviderEntry],
        caller: EntryCaller,
        *,
        policy: ChainPolicy | None = None,
        cooldowns: Cooldowns | None = None,
        no_entry_message: str = "No AI provider has a key yet: add one in Settings › AI.",
    ) -> None:
        self.entries = tuple(entries)
        self.caller = caller
        self.policy = policy or ChainPolicy()
        self.cooldowns = cooldowns or Cooldowns()
        self.no_entry_message = no_entry_message

    def _fallback(self, purpose: str, *, embedding: bool = False) -> Fallback[ProviderEntry]:
        usable = [e for e in self.entries if (e.embedding_model or not embedding) and self.caller.available(e)]
        if not usable:
            if embedding and any(self.caller.available(e) for e in self.entries):
                raise AIError("no_provider", "No AI provider is set up for embeddings (Settings › AI).")
            raise AIError("no_provider", self.no_entry_message)

        def failed(entry: ProviderEntry, failure: Failure) -> None:
            log.info("AI %s: %s failed (%s): %s", purpose, entry.id, failure.kind, failure.detail)

        return Fallback(usable, key=lambda e: e.id, policy=self.policy, cooldowns=self.cooldowns, on_failure=failed)

    # ---- chat ----------------------------------------------------------------------------------------------
    async def stream(
        self, messages: list[ChatMessage], options: CallOptions, *, purpose: Purpose
    ) -> AsyncIterator[StreamEvent]:
        fallback = self._fallback(purpose)
        await self.caller.prepare()
        started = time.monotonic()
        try:
            opened: Opened[ProviderEntry, str | TokenCount] = await fallback.open(
                lambda entry: self.caller.stream(entry, messages, options),
                has_text=_has_text,
                timeout=options.timeout_seconds,
                first_token=options.first_token_seconds,
            )
        except Exhausted as exc:
            raise self._final(exc) from None
        entry = opened.entry
        parts: list[str] = []
        counted = TokenCount(0, 0)
        try:
            async for item in opened:
                if isinstance(item, TokenCount):
                    counted = item
                elif item:
                    parts.append(item)
                    yield Delta(item)
        except Failure as failure:  # after text was shown: surfaced, never re-answered by the next entry
            log.warning("AI %s: %s failed mid-answer: %s", purpose, entry.id, failure.detail)
            raise self._error(entry, failure, opened.tried) from None
        finally:
            await opened.aclose()
        now = time.monotonic()
        usage = Usage(
            provider=entry.kind,
            model=entry.model,
            prompt_tokens=counted.prompt_tokens,
            completion_tokens=counted.completion_tokens,
            cost_usd=self.caller.cost(entry, counted.prompt_tokens, counted.completion_tokens),
            latency_ms=round((now - started) * 1000),
            ttft_ms=round(((opened.first_text_at or now) - started) * 1000),
            attempts=opened.attempts,
        )
        yield Done("".join(parts), usage)

    # ---- embeddings ----------------------------------------------------------------------------------------
    async def embed(self, texts: list[str]) -> Embeddings:
        fallback = self._fallback("embed", embedding=True)
        await self.caller.prepare()
        started = time.monotonic()
        timeout = self.policy.embed_timeout_seconds
        try:
            answer = await fallback.call(lambda entry: self.caller.embed(entry, texts, timeout), timeout=timeout)
        except Exhausted as exc:
            raise self._final(exc) from None
        vectors, tokens = answer.value
        model = answer.entry.embedding_model or answer.entry.model
        usage = Usage(
            provider=answer.entry.kind,
            model=model,
            prompt_tokens=tokens,
            latency_ms=round((time.monotonic() - started) * 1000),
            attempts=answer.attempts,
        )
        return Embeddings(model=model, vectors=vectors, usage=usage)

    # ---- explaining ----------------------------------------------------------------------------------------
    def _error(self, entry: ProviderEntry, failure: Failure, tried: Sequence[ProviderEntry]) -> AIError:
        return AIError(failure.kind, self.caller.message(entry, failure), tried=tuple(e.id for e in tried))

    def _final(self, exc: Exhausted[ProviderEntry]) -> AIError:
        error = self._error(exc.entry, exc.failure, exc.tried)
        if exc.retry_in is not None:  # every entry is cooling down: nothing was sent
            wait = max(1, round(exc.retry_in))
            return AIError(error.kind, f"{error} Parley tries again in {wait} s.", hint=error.hint)
        if len(exc.tried) > 1:
            others = len(exc.tried) - 1
            plural = "s" if others > 1 else ""
            return AIError(error.kind, f"{error} ({others} other provider{plural} failed too.)", tried=error.tried)
        return error
