"""BYOK: the user's own provider keys, straight from this computer to the provider through litellm.

``LitellmCaller`` makes one attempt at one entry: the model string litellm expects ("openai/gpt-4o-mini",
"anthropic/…", an OpenAI-compatible server as "openai/<model>" with its base URL), the key read from the keyring at
call time (never kept on an object, never logged), streaming with usage, JSON mode when a schema is asked, and
litellm's exceptions turned into ``EntryFailure`` kinds. ``ByokProvider`` is the fallback chain over those attempts.
litellm's own retries are off (``max_retries=0``): the chain decides what to retry.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from app.ai.chain import Cooldowns, EntryFailure, FallbackChain, TokenCount
from app.ai.config import KIND_LABELS, ChainPolicy
from app.ai.keys import ProviderKeys
from app.ai.litellm_loader import LitellmLoader, default_loader
from app.ai.types import CallOptions, ChatMessage, ErrorKind, ProviderEntry
from app.core.errors import ParleyError

log = logging.getLogger(__name__)

_PREFIX = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "groq": "groq",
    "openrouter": "openrouter",
    "openai_compatible": "openai",
}


def model_string(entry: ProviderEntry, model: str | None = None) -> str:
    return f"{_PREFIX[entry.kind]}/{model or entry.model}"


def _retry_after(exc: BaseException) -> float | None:
    headers: Any = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after")
    except Exception:
        return None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def classify(exc: BaseException) -> EntryFailure:
    """litellm's (OpenAI-style) exceptions → one of Parley's error kinds. The detail keeps no key or prompt."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    text = str(exc).lower()
    kind: ErrorKind
    if name in {"Timeout", "APITimeoutError"} or status == 408:
        kind = "timeout"
    elif name == "ContentPolicyViolationError":
        kind = "malformed"
    elif status in (401, 403) or name in {"AuthenticationError", "PermissionDeniedError"}:
        kind = "invalid_key"
    elif status == 402 or "insufficient_quota" in text or "exceeded your current quota" in text:
        kind = "quota"
    elif status == 429 or name == "RateLimitError":
        kind = "rate_limit"
    else:
        kind = "provider_down"  # 5xx, 404 (unknown model), connection refused, DNS, a 400 we did not expect
    detail = f"{name} (HTTP {status})" if status else name
    return EntryFailure(kind, detail, retry_after=_retry_after(exc))


def _estimate(litellm: Any, model: str, messages: list[dict[str, Any]], reply: str) -> TokenCount:
    try:
        return TokenCount(
            int(litellm.token_counter(model=model, messages=messages)),
            int(litellm.token_counter(model=model, text=reply)) if reply else 0,
        )
    except Exception:
        log.debug("could not count tokens for %s", model, exc_info=True)
        return TokenCount(0, 0)


def describe_failure(who: str, model: str, failure: EntryFailure) -> str:
    """Plain sentences, one per kind, naming the provider and model the user set up."""
    subject = f"{who} ('{model}')"
    if failure.kind == "invalid_key":
        return f"{who} refused the key for '{model}': check it in Settings › AI."
    if failure.kind == "quota":
        return f"{who} says the account behind '{model}' has no credit left: top it up, or add another provider."
    if failure.kind == "rate_limit":
        return f"{subject} is receiving too many requests right now: try again in a minute."
    if failure.kind == "timeout":
        return f"{subject} did not answer in time: try again, or put a faster model first in Settings › AI."
    if failure.kind == "malformed":
        return f"{subject} answered in a shape Parley could not use: try again."
    return f"{subject} could not be reached or had an error ({failure.detail}): try again later."


class LitellmCaller:
    """``EntryCaller`` through litellm, with the key of each entry from the keyring."""

    def __init__(self, keys: ProviderKeys | None, loader: LitellmLoader = default_loader) -> None:
        self.keys = keys
        self.loader = loader

    def available(self, entry: ProviderEntry) -> bool:
        # A local OpenAI-compatible server (Ollama, LM Studio) usually needs no key.
        if entry.kind == "openai_compatible" or self.keys is None:
            return entry.kind == "openai_compatible"
        try:
            return self.keys.has(entry.id)
        except ParleyError:
            return True  # a locked keyring: the attempt says so, rather than "no key yet"

    def _key(self, entry: ProviderEntry) -> str:
        try:
            key = None if self.keys is None else self.keys.get(entry.id)
        except ParleyError as exc:
            raise EntryFailure("no_provider", str(exc)) from None
        if key is None:
            if entry.kind != "openai_compatible":
                raise EntryFailure("invalid_key", "no key in the keyring")
            key = "no-key"  # the OpenAI client insists on one; local servers ignore it
        return key

    def _target(self, entry: ProviderEntry) -> dict[str, Any]:
        target: dict[str, Any] = {"api_key": self._key(entry)}
        if entry.base_url:
            target["api_base"] = entry.base_url.rstrip("/")
        return target

    async def stream(
        self, entry: ProviderEntry, messages: list[ChatMessage], options: CallOptions
    ) -> AsyncIterator[str | TokenCount]:
        litellm = await self.loader.get()
        kwargs: dict[str, Any] = {
            "model": model_string(entry),
            "messages": [m.model_dump() for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": options.temperature,
            "max_tokens": options.max_tokens,
            "timeout": options.timeout_seconds,
            "max_retries": 0,
            **self._target(entry),
        }
        if entry.kind == "openai_compatible":
            # A local server's model has no price (``cost`` says 0 too). Telling litellm so spares its after-call
            # cost lookup of a model name it does not know, a few milliseconds of failed lookups per call.
            kwargs["input_cost_per_token"] = kwargs["output_cost_per_token"] = 0.0
        if options.json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": options.json_schema},
            }
        parts: list[str] = []
        counted = False
        try:
            response = await litellm.acompletion(**kwargs)
            async for chunk in response:
                usage = getattr(chunk, "usage", None)
                choices = getattr(chunk, "choices", None) or []
                if choices:
                    text = getattr(choices[0].delta, "content", None)
                    if text:
                        parts.append(text)
                        yield text
                if usage is not None and getattr(usage, "prompt_tokens", None) is not None:
                    counted = True
                    yield TokenCount(int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0))
        except EntryFailure:
            raise
        except Exception as exc:
            raise classify(exc) from None
        if not counted:  # a server that ignores stream_options (some local ones): count with litellm's tokenizer
            yield _estimate(litellm, kwargs["model"], kwargs["messages"], "".join(parts))

    async def embed(self, entry: ProviderEntry, texts: list[str], timeout: float) -> tuple[list[list[float]], int]:
        litellm = await self.loader.get()
        try:
            response = await litellm.aembedding(
                model=model_string(entry, entry.embedding_model),
                input=texts,
                timeout=timeout,
                max_retries=0,
                **self._target(entry),
            )
        except EntryFailure:
            raise
        except Exception as exc:
            raise classify(exc) from None
        vectors = [[float(v) for v in item["embedding"]] for item in sorted(response.data, key=lambda d: d["index"])]
        usage = getattr(response, "usage", None)
        return vectors, int(getattr(usage, "prompt_tokens", 0) or 0)

    def cost(self, entry: ProviderEntry, prompt_tokens: int, completion_tokens: int) -> float:
        """USD from litellm's (bundled) price list; 0 for local servers and models it does not know."""
        if entry.kind == "openai_compatible" or not self.loader.loaded:
            return 0.0
        litellm = self.loader.get_blocking()
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model=model_string(entry), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
        except Exception:
            return 0.0
        return float(prompt_cost) + float(completion_cost)

    def message(self, entry: ProviderEntry, failure: EntryFailure) -> str:
        if failure.kind == "no_provider":  # the keyring could not be read (locked, unavailable)
            return f"{failure.detail} Parley needs it for the {KIND_LABELS[entry.kind]} key: unlock it and try again."
        if failure.kind == "invalid_key" and failure.detail == "no key in the keyring":
            return f"{KIND_LABELS[entry.kind]} has no key for '{entry.model}' yet: add it in Settings › AI."
        return describe_failure(KIND_LABELS[entry.kind], entry.model, failure)


class ByokProvider(FallbackChain):
    """The ``Provider`` for BYOK mode: the user's entries in order, each with its key from the keyring."""

    def __init__(
        self,
        entries: Sequence[ProviderEntry],
        keys: ProviderKeys,
        *,
        loader: LitellmLoader = default_loader,
        policy: ChainPolicy | None = None,
        cooldowns: Cooldowns | None = None,
    ) -> None:
        super().__init__(entries, LitellmCaller(keys, loader), policy=policy, cooldowns=cooldowns)
