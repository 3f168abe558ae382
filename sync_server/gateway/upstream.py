"""Calling the org's providers through litellm, and saying what went wrong without leaking the key.

litellm takes seconds to import and, left alone, fetches a price list from the internet while importing; the server
must start (and answer /health) without waiting for it. It is imported on the first gateway call, once, on a
thread of its own, by the app's own loader (local price list, telemetry off, no banners), so the event loop keeps
serving other requests meanwhile. litellm's own retries are off: the gateway's fallback chain decides.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from app.ai.litellm_loader import LitellmLoader
from sync_server.gateway.store import Entry

log = logging.getLogger(__name__)

loader = LitellmLoader()  # one import per process, started by the first gateway call

_PREFIX = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "groq": "groq",
    "openrouter": "openrouter",
    "openai_compatible": "openai",
}


async def litellm() -> ModuleType:
    return await loader.get()


def model_string(entry: Entry, model: str | None = None) -> str:
    return f"{_PREFIX.get(entry.kind, 'openai')}/{model or entry.model}"


def target(entry: Entry, api_key: str | None) -> dict[str, Any]:
    """Where and with what key: the org's key, never the caller's token (a keyless local server gets a dummy)."""
    found: dict[str, Any] = {"api_key": api_key or "no-key"}
    if entry.base_url:
        found["api_base"] = entry.base_url.rstrip("/")
    return found


@dataclass
class Failure(Exception):
    """One provider attempt failed. ``detail`` is safe for logs and answers: a class name and a status, no text
    from the provider (its messages can quote part of the key)."""

    kind: str  # "refused_key", "provider_quota", "rate_limit", "timeout", "bad_request", "down", "unreadable_key"
    detail: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def _retry_after(exc: BaseException) -> float | None:
    headers: Any = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        value = headers.get("retry-after") if headers is not None else None
        return max(0.0, float(value)) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, Failure):
        return exc
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    detail = f"{name} (HTTP {status})" if isinstance(status, int) else name
    text = str(exc).lower()
    if isinstance(exc, TimeoutError) or name in {"Timeout", "APITimeoutError"} or status == 408:
        return Failure("timeout", detail)
    if status in (401, 403) or name in {"AuthenticationError", "PermissionDeniedError"}:
        return Failure("refused_key", detail)
    if status == 402 or "insufficient_quota" in text or "exceeded your current quota" in text:
        return Failure("provider_quota", detail)
    if status == 429 or name == "RateLimitError":
        return Failure("rate_limit", detail, _retry_after(exc))
    if status in (400, 413, 422) or name in {"BadRequestError", "ContextWindowExceededError"}:
        return Failure("bad_request", detail)
    return Failure("down", detail)


def explain(model: str, failure: Failure) -> tuple[int, str, str]:
    """(HTTP status, OpenAI error code, sentence) for the last failure of a call."""
    who = f"The team's AI provider ('{model}')"
    if failure.kind == "timeout":
        return 504, "timeout", f"{who} did not answer in time."
    if failure.kind == "rate_limit":
        return 429, "rate_limit_exceeded", f"{who} is receiving too many requests: try again in a minute."
    if failure.kind == "bad_request":
        return 400, "provider_bad_request", f"{who} refused the request as invalid ({failure.detail})."
    if failure.kind == "refused_key":
        return 502, "provider_error", f"{who} refused the team's key ({failure.detail}): the owner should check it."
    if failure.kind == "provider_quota":
        return 502, "provider_error", f"{who} says the team's account has no credit left: the owner should top it up."
    if failure.kind == "unreadable_key":
        return 502, "provider_error", f"The team's key for '{model}' cannot be read: the owner should enter it again."
    return 502, "provider_error", f"{who} could not be reached or had an error ({failure.detail})."


def cost(lib: ModuleType, entry: Entry, model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """USD from litellm's local price list; 0 for a self-hosted server and for models it does not know."""
    if entry.kind == "openai_compatible":
        return 0.0
    try:
        prompt_cost, completion_cost = lib.cost_per_token(
            model=model_string(entry, model), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
        return float(prompt_cost) + float(completion_cost)
    except Exception:
        return 0.0


async def estimate(lib: ModuleType, model: str, messages: list[dict[str, Any]], reply: str) -> tuple[int, int]:
    """Token counts for a provider that reported none (some local servers), with litellm's tokenizer, off the loop."""

    def count() -> tuple[int, int]:
        try:
            prompt = int(lib.token_counter(model=model, messages=messages))
            return prompt, int(lib.token_counter(model=model, text=reply)) if reply else 0
        except Exception:
            return 0, 0

    return await asyncio.to_thread(count)
