"""The gateway's side of the AI provider core: litellm loaded once per process, the fallback over the org's entries
with a cool-down shared by every call of this process, and the HTTP answer for each error kind.

The rules themselves (model strings, the org key's target, exception → error kind, Retry-After, retries with
backoff, cool-down, deadlines, no fallback after text, cost and token estimates) are the app's provider core
(``app.ai.provider_core``), the same the app's BYOK chain runs, so the two cannot drift apart.

litellm takes seconds to import and, left alone, fetches a price list from the internet while importing; the server
must start (and answer /health) without waiting for it. It is imported on the first gateway call, once, on a thread
of its own, by the app's own loader (local price list, telemetry off, no banners), so the event loop keeps serving
other requests meanwhile. litellm's own retries are off: the core's fallback decides.
"""

from __future__ import annotations

import hashlib
import logging
from types import ModuleType

from app.ai.litellm_loader import LitellmLoader
from app.ai.provider_core import ChainPolicy, Cooldowns, ErrorKind, Failure, Fallback, model_string
from sync_server import logs
from sync_server.gateway.store import Entry

log = logging.getLogger(__name__)

loader = LitellmLoader()  # one import per process, started by the first gateway call
POLICY = ChainPolicy()  # one retry of a rate limit or a 5xx, Retry-After up to 10 s, a failed entry out for 60 s
# Entries that failed a moment ago, per org and entry, for this server process. Locked (``Cooldowns``); the calls of
# one process share it, so a provider that is down costs one caller the wait, not every caller.
cooldowns = Cooldowns()


async def litellm() -> ModuleType:
    return await loader.get()


def cooldown_key(org_id: str, entry: Entry, model: str) -> str:
    """An org's entry as it is now: a new key, address or model for that place in the chain starts afresh."""
    sealed = hashlib.sha256(entry.sealed_key or b"").hexdigest()[:16]
    return f"{org_id}|{entry.position}|{entry.kind}|{entry.base_url or ''}|{model}|{sealed}"


def fallback(org_id: str, entries: list[Entry], *, embedding: bool = False) -> Fallback[Entry]:
    """The provider core's fallback over the org's entries for one call, logging each failed attempt."""

    def model_of(entry: Entry) -> str:
        return (entry.embedding_model if embedding else None) or entry.model

    def failed(entry: Entry, failure: Failure) -> None:
        logs.event(
            log,
            "ai_provider_failed",
            org=org_id,
            model=model_string(entry, model_of(entry)),
            failure=str(failure),
        )

    return Fallback(
        entries,
        key=lambda entry: cooldown_key(org_id, entry, model_of(entry)),
        policy=POLICY,
        cooldowns=cooldowns,
        on_failure=failed,
    )


def explain(model: str, failure: Failure) -> tuple[int, str, str]:
    """(HTTP status, OpenAI error code, sentence) for the last failure of a call, from its kind.

    The codes are OpenAI's where one exists, so the app's litellm raises the matching exception and the provider
    core gives it the same kind on the app's side (``context_length_exceeded`` → too long, a 429 → rate limit)."""
    who = f"The team's AI provider ('{model}')"
    answers: dict[ErrorKind, tuple[int, str, str]] = {
        "timeout": (504, "timeout", f"{who} did not answer in time."),
        "rate_limit": (429, "rate_limit_exceeded", f"{who} is receiving too many requests: try again in a minute."),
        "bad_request": (400, "provider_bad_request", f"{who} refused the request as invalid ({failure.detail})."),
        "too_long": (400, "context_length_exceeded", f"This conversation is too long for {who}."),
        "refused": (400, "content_policy_violation", f"{who} declined to answer this (its content policy)."),
        "invalid_key": (
            502,
            "provider_error",
            f"{who} refused the team's key ({failure.detail}): the owner should check it.",
        ),
        "quota": (
            502,
            "provider_error",
            f"{who} says the team's account has no credit left: the owner should top it up.",
        ),
        "key_unavailable": (
            502,
            "provider_error",
            f"The team's key for '{model}' cannot be read: the owner should enter it again.",
        ),
        "not_found": (502, "provider_error", f"{who} does not know this model: the owner should check its name."),
        "provider_down": (502, "provider_error", f"{who} could not be reached or had an error ({failure.detail})."),
        "malformed": (502, "provider_error", f"{who} answered in a shape the gateway could not use."),
        "no_provider": (503, "no_provider", "The team has no AI provider ready: the owner sets one up in the admin."),
        "cancelled": (502, "provider_error", f"The call to {who} was cancelled."),
    }
    return answers[failure.kind]
