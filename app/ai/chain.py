"""The fallback chain: try provider entries in order, with timeouts, retries, backoff and cooldowns.

This is the part of litellm's Router that Parley needs, written out so each rule is visible and tested:
- entries are tried in the user's order; an entry without a key, or cooling down after a failure, is skipped;
- one attempt has a whole-call deadline (``CallOptions.timeout_seconds``) and a deadline for its first token
  (``first_token_seconds``); a rate limit or a 5xx is retried on the same entry after a backoff (or the server's
  Retry-After, up to a cap), anything else moves on to the next entry;
- a failed entry cools down (skipped for ``cooldown_seconds``) so the next call does not wait on it again;
- once text has been shown, a failure is surfaced rather than falling back: a second answer would repeat it;
- the error after the last entry is an ``AIError`` with a plain sentence and the entries tried.

How one attempt reaches a provider (litellm with a key from the keyring, or the sync server's gateway) is an
``EntryCaller``; the chain knows nothing of HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.ai.config import ChainPolicy
from app.ai.types import (
    AIError,
    CallOptions,
    ChatMessage,
    Delta,
    Done,
    Embeddings,
    ErrorKind,
    ProviderEntry,
    Purpose,
    StreamEvent,
    Usage,
)

log = logging.getLogger(__name__)

_RETRIED: frozenset[ErrorKind] = frozenset({"rate_limit", "provider_down"})


class EntryFailure(Exception):
    """One attempt at one entry failed. ``detail`` is safe to log (never the key, never the prompt)."""

    def __init__(self, kind: ErrorKind, detail: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class TokenCount:
    """The provider's count of tokens, reported by a stream after its text."""

    prompt_tokens: int
    completion_tokens: int


class EntryCaller(Protocol):
    """One attempt at one entry. Raises ``EntryFailure`` for anything that went wrong."""

    def available(self, entry: ProviderEntry) -> bool:
        """False when the entry cannot be tried at all (no key in the keyring)."""
        ...

    def stream(
        self, entry: ProviderEntry, messages: list[ChatMessage], options: CallOptions
    ) -> AsyncIterator[str | TokenCount]: ...

    async def embed(self, entry: ProviderEntry, texts: list[str], timeout: float) -> tuple[list[list[float]], int]: ...

    def cost(self, entry: ProviderEntry, prompt_tokens: int, completion_tokens: int) -> float: ...

    def message(self, entry: ProviderEntry, failure: EntryFailure) -> str:
        """The sentence a shop owner reads for this failure."""
        ...


class Cooldowns:
    """Entries that failed recently, and until when they are skipped. Shared by every call of one service."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[str, tuple[float, EntryFailure]] = {}

    def cooling(self, entry_id: str) -> EntryFailure | None:
        held = self._until.get(entry_id)
        if held is None:
            return None
        if held[0] <= self._clock():
            del self._until[entry_id]
            return None
        return held[1]

    def remaining(self, entry_id: str) -> float:
        held = self._until.get(entry_id)
        return 0.0 if held is None else max(0.0, held[0] - self._clock())

    def hold(self, entry_id: str, seconds: float, failure: EntryFailure) -> None:
        if seconds > 0:
            self._until[entry_id] = (self._clock() + seconds, failure)

    def clear(self, entry_id: str | None = None) -> None:
        """Forget a failure (a new key was saved), or every failure."""
        if entry_id is None:
            self._until.clear()
        else:
            self._until.pop(entry_id, None)


class _Started(Exception):
    """A failure after text was streamed: it ends the call, no fallback."""

    def __init__(self, failure: EntryFailure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


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

    # ---- chat ----------------------------------------------------------------------------------------------
    async def stream(
        self, messages: list[ChatMessage], options: CallOptions, *, purpose: Purpose
    ) -> AsyncIterator[StreamEvent]:
        started = time.monotonic()
        tried: list[str] = []
        attempts = 0
        last: tuple[ProviderEntry, EntryFailure] | None = None
        for entry in self._candidates(tried):
            tried.append(entry.id)
            for retry in range(self.policy.retries + 1):
                attempts += 1
                parts: list[str] = []
                counted: TokenCount | None = None
                first_at: float | None = None
                try:
                    async with contextlib.aclosing(self._attempt(entry, messages, options)) as attempt:
                        async for item in attempt:
                            if isinstance(item, TokenCount):
                                counted = item
                                continue
                            if first_at is None:
                                first_at = time.monotonic()
                            parts.append(item)
                            yield Delta(item)
                except _Started as exc:
                    log.warning("AI %s: %s failed mid-answer: %s", purpose, entry.id, exc.failure.detail)
                    self.cooldowns.hold(entry.id, self.policy.cooldown_seconds, exc.failure)
                    raise self._error(entry, exc.failure, tried) from None
                except EntryFailure as failure:
                    log.info("AI %s: %s failed (%s): %s", purpose, entry.id, failure.kind, failure.detail)
                    last = (entry, failure)
                    wait = self._retry_wait(failure, retry)
                    if wait is None:
                        self.cooldowns.hold(entry.id, self.policy.cooldown_seconds, failure)
                        break
                    await asyncio.sleep(wait)
                    continue
                text = "".join(parts)
                now = time.monotonic()
                count = counted or TokenCount(0, 0)
                usage = Usage(
                    provider=entry.kind,
                    model=entry.model,
                    prompt_tokens=count.prompt_tokens,
                    completion_tokens=count.completion_tokens,
                    cost_usd=self.caller.cost(entry, count.prompt_tokens, count.completion_tokens),
                    latency_ms=round((now - started) * 1000),
                    ttft_ms=round(((first_at or now) - started) * 1000),
                    attempts=attempts,
                )
                yield Done(text, usage)
                return
        raise self._final(last, tried)

    async def _attempt(
        self, entry: ProviderEntry, messages: list[ChatMessage], options: CallOptions
    ) -> AsyncGenerator[str | TokenCount, None]:
        """One attempt with its deadlines. After the first text, a failure is wrapped in ``_Started``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + options.timeout_seconds
        source = self.caller.stream(entry, messages, options)
        got_text = False
        try:
            while True:
                limit = deadline if got_text else min(deadline, loop.time() + options.first_token_seconds)
                try:
                    async with asyncio.timeout_at(limit):
                        item = await anext(source)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    what = "the rest of the answer" if got_text else "the first words"
                    failure = EntryFailure("timeout", f"no {what} in time")
                    raise (_Started(failure) if got_text else failure) from None
                except EntryFailure as failure:
                    if got_text:
                        raise _Started(failure) from None
                    raise
                if isinstance(item, str):
                    if not item:
                        continue
                    got_text = True
                yield item
        finally:
            await _close(source)

    def _retry_wait(self, failure: EntryFailure, retry: int) -> float | None:
        """Seconds to wait before retrying the same entry, or None to move on."""
        if failure.kind not in _RETRIED or retry >= self.policy.retries:
            return None
        wait: float = self.policy.backoff_seconds * 2.0**retry
        if failure.retry_after is not None:
            if failure.retry_after > self.policy.max_retry_after:
                return None
            wait = max(wait, failure.retry_after)
        return min(wait, self.policy.max_retry_after)

    # ---- embeddings ----------------------------------------------------------------------------------------
    async def embed(self, texts: list[str]) -> Embeddings:
        started = time.monotonic()
        tried: list[str] = []
        attempts = 0
        last: tuple[ProviderEntry, EntryFailure] | None = None
        for entry in self._candidates(tried, embedding=True):
            tried.append(entry.id)
            model = entry.embedding_model or entry.model
            for retry in range(self.policy.retries + 1):
                attempts += 1
                try:
                    async with asyncio.timeout(self.policy.embed_timeout_seconds):
                        vectors, tokens = await self.caller.embed(entry, texts, self.policy.embed_timeout_seconds)
                except TimeoutError:
                    failure = EntryFailure("timeout", "no embeddings in time")
                except EntryFailure as exc:
                    failure = exc
                else:
                    usage = Usage(
                        provider=entry.kind,
                        model=model,
                        prompt_tokens=tokens,
                        latency_ms=round((time.monotonic() - started) * 1000),
                        attempts=attempts,
                    )
                    return Embeddings(model=model, vectors=vectors, usage=usage)
                last = (entry, failure)
                wait = self._retry_wait(failure, retry)
                if wait is None:
                    self.cooldowns.hold(entry.id, self.policy.cooldown_seconds, failure)
                    break
                await asyncio.sleep(wait)
        raise self._final(last, tried, embedding=True)

    # ---- choosing and explaining ---------------------------------------------------------------------------
    def _candidates(self, tried: list[str], *, embedding: bool = False) -> list[ProviderEntry]:
        usable = [e for e in self.entries if (e.embedding_model or not embedding) and self.caller.available(e)]
        if not usable:
            if embedding and any(self.caller.available(e) for e in self.entries):
                raise AIError("no_provider", "No AI provider is set up for embeddings (Settings › AI).")
            raise AIError("no_provider", self.no_entry_message)
        ready = [e for e in usable if self.cooldowns.cooling(e.id) is None]
        if ready:
            return ready
        # Every entry failed a moment ago: say why and when it is tried again, rather than waiting on it again.
        entry = min(usable, key=lambda e: self.cooldowns.remaining(e.id))
        failure = self.cooldowns.cooling(entry.id)
        assert failure is not None
        wait = max(1, round(self.cooldowns.remaining(entry.id)))
        error = self._error(entry, failure, [e.id for e in usable])
        raise AIError(
            error.kind,
            f"{error} Parley tries again in {wait} s.",
            hint=error.hint,
            tried=(),
        )

    def _error(self, entry: ProviderEntry, failure: EntryFailure, tried: list[str]) -> AIError:
        return AIError(failure.kind, self.caller.message(entry, failure), tried=tuple(tried))

    def _final(
        self, last: tuple[ProviderEntry, EntryFailure] | None, tried: list[str], *, embedding: bool = False
    ) -> AIError:
        if last is None:  # pragma: no cover - _candidates raises first
            return AIError("no_provider", self.no_entry_message, tried=tuple(tried))
        error = self._error(*last, tried)
        if len(tried) > 1:
            others = len(tried) - 1
            plural = "s" if others > 1 else ""
            return AIError(error.kind, f"{error} ({others} other provider{plural} failed too.)", tried=error.tried)
        return error


async def _close(source: AsyncIterator[object]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:  # closing a broken stream must not hide why it broke
            log.debug("closing an AI stream failed", exc_info=True)
