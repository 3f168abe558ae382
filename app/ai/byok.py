"""BYOK: the user's own provider keys, straight from this computer to the provider through litellm.

``LitellmCaller`` makes one attempt at one entry: the model string litellm expects ("openai/gpt-4o-mini",
"anthropic/…", an OpenAI-compatible server as "openai/<model>" with its base URL), the key read from the keyring at
call time (never kept on an object, never logged), streaming with usage, JSON mode when a schema is asked, and
litellm's exceptions turned into error kinds by the provider core (``app.ai.provider_core.classify``, the same the
server's gateway uses). ``ByokProvider`` is the fallback chain over those attempts. litellm's own retries are off
(``max_retries=0``): the chain decides what to retry.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from app.ai import provider_core
from app.ai.chain import FallbackChain, TokenCount
from app.ai.config import KIND_LABELS
from app.ai.keys import ProviderKeys
from app.ai.litellm_loader import LitellmLoader, default_loader
from app.ai.provider_core import ChainPolicy, Cooldowns, ErrorKind, Failure, model_string
from app.ai.types import CallOptions, ChatMessage, ProviderEntry
from app.core.errors import ParleyError

log = logging.getLogger(__name__)


def describe_failure(who: str, model: str, failure: Failure) -> str:
    """Plain sentences, one per kind, naming the provider and model the user set up."""
    subject = f"{who} ('{model}')"
    sentences: dict[ErrorKind, str] = {
        "invalid_key": f"{who} refused the key for '{model}': check it in Settings › AI.",
        "key_unavailable": f"The key for {subject} could not be read: unlock the keyring and try again.",
        "quota": f"{who} says the account behind '{model}' has no credit left: top it up, or add another provider.",
        "rate_limit": f"{subject} is receiving too many requests right now: try again in a minute.",
        "timeout": f"{subject} did not answer in time: try again, or put a faster model first in Settings › AI.",
        "provider_down": f"{subject} could not be reached or had an error ({failure.detail}): try again later.",
        "not_found": f"{who} does not know the model '{model}': check its name in Settings › AI.",
        "too_long": f"This conversation is too long for {subject}: try a model with a larger context.",
        "refused": f"{subject} declined to answer this conversation (its content policy).",
        "bad_request": f"{subject} refused the request as invalid ({failure.detail}): try another model.",
        "malformed": f"{subject} answered in a shape Parley could not use: try again.",
        "no_provider": f"{subject} is not set up: add it in Settings › AI.",
        "cancelled": f"The call to {subject} was cancelled.",
    }
    return sentences[failure.kind]


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

    async def prepare(self) -> None:
        await self.loader.get()  # the first call imports litellm: not on the first-token deadline

    def _key(self, entry: ProviderEntry) -> str | None:
        try:
            key = None if self.keys is None else self.keys.get(entry.id)
        except ParleyError as exc:
            raise Failure("key_unavailable", str(exc)) from None
        if key is None and entry.kind != "openai_compatible":
            raise Failure("invalid_key", "no key in the keyring")
        return key

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
            **provider_core.target(entry, self._key(entry)),
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
        response = await litellm.acompletion(**kwargs)
        try:
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
        finally:
            await provider_core.close_quietly(response)  # the provider's connection, also when stopped early
        if not counted:  # a server that ignores stream_options (some local ones): count with litellm's tokenizer
            reply = "".join(parts)
            yield TokenCount(*await provider_core.estimate(litellm, kwargs["model"], kwargs["messages"], reply))

    async def embed(self, entry: ProviderEntry, texts: list[str], timeout: float) -> tuple[list[list[float]], int]:
        litellm = await self.loader.get()
        response = await litellm.aembedding(
            model=model_string(entry, entry.embedding_model),
            input=texts,
            timeout=timeout,
            max_retries=0,
            **provider_core.target(entry, self._key(entry)),
        )
        vectors = [[float(v) for v in item["embedding"]] for item in sorted(response.data, key=lambda d: d["index"])]
        usage = getattr(response, "usage", None)
        return vectors, int(getattr(usage, "prompt_tokens", 0) or 0)

    def cost(self, entry: ProviderEntry, prompt_tokens: int, completion_tokens: int) -> float:
        """USD from litellm's (bundled) price list; 0 for local servers and models it does not know."""
        if not self.loader.loaded:
            return 0.0
        return provider_core.cost(self.loader.get_blocking(), entry, entry.model, prompt_tokens, completion_tokens)

    def message(self, entry: ProviderEntry, failure: Failure) -> str:
        if failure.kind == "key_unavailable":  # the keyring could not be read (locked, unavailable)
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
