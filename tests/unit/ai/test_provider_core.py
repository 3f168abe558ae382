"""The provider core's classification table, tested once for both of its users: every exception litellm 1.106
raises for a provider error gets one error kind, and from that kind the app's sentence (``describe_failure``) and the
gateway's answer (``upstream.explain``) are derived. Before the core, the app and the gateway each had a copy of
this table and they disagreed (a content-policy refusal was "malformed" to one and "bad_request" to the other, a
context window overflow was retried as a 5xx by the app, a litellm budget error was "provider down").

The exceptions are litellm's own classes, built as litellm builds them (with an HTTP response where it keeps one).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, get_args

import httpx
import pytest

from app.ai.byok import describe_failure
from app.ai.cloud import CloudAccess, GatewayCaller
from app.ai.litellm_loader import LitellmLoader
from app.ai.provider_core import COOLED, RETRIED, ChainPolicy, Cooldowns, ErrorKind, Failure, classify
from sync_server.gateway import upstream

_REQUEST = httpx.Request("POST", "https://provider.example/v1/chat/completions")
_WHO = {"llm_provider": "openai", "model": "gpt-4o-mini"}


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=_REQUEST)


# (litellm exception, the kind both users must see, Retry-After read from it)
TABLE: list[tuple[str, Callable[[Any], BaseException], ErrorKind, float | None]] = [
    ("AuthenticationError", lambda lm: lm.AuthenticationError("Incorrect API key", **_WHO), "invalid_key", None),
    (
        "PermissionDeniedError",
        lambda lm: lm.PermissionDeniedError("forbidden", response=_response(403), **_WHO),
        "invalid_key",
        None,
    ),
    (
        "RateLimitError",
        lambda lm: lm.RateLimitError("slow down", response=_response(429, **{"retry-after": "7"}), **_WHO),
        "rate_limit",
        7.0,
    ),
    (
        "RateLimitError insufficient_quota",
        lambda lm: lm.RateLimitError("You exceeded your current quota (insufficient_quota)", **_WHO),
        "quota",
        None,
    ),
    ("BudgetExceededError", lambda lm: lm.BudgetExceededError(current_cost=2.0, max_budget=1.0), "quota", None),
    ("Timeout", lambda lm: lm.Timeout("no answer", **_WHO), "timeout", None),
    ("APIConnectionError", lambda lm: lm.APIConnectionError("connection refused", **_WHO), "provider_down", None),
    ("ServiceUnavailableError", lambda lm: lm.ServiceUnavailableError("overloaded", **_WHO), "provider_down", None),
    ("InternalServerError", lambda lm: lm.InternalServerError("oops", **_WHO), "provider_down", None),
    ("BadGatewayError", lambda lm: lm.BadGatewayError("bad gateway", **_WHO), "provider_down", None),
    ("APIError 500", lambda lm: lm.APIError(500, "stream broke", **_WHO), "provider_down", None),
    ("BadRequestError", lambda lm: lm.BadRequestError("bad", **_WHO), "bad_request", None),
    (
        "UnprocessableEntityError",
        lambda lm: lm.UnprocessableEntityError("bad", response=_response(422), **_WHO),
        "bad_request",
        None,
    ),
    ("ContextWindowExceededError", lambda lm: lm.ContextWindowExceededError("too long", **_WHO), "too_long", None),
    ("ContentPolicyViolationError", lambda lm: lm.ContentPolicyViolationError("no", **_WHO), "refused", None),
    ("NotFoundError", lambda lm: lm.NotFoundError("no such model", **_WHO), "not_found", None),
    ("TimeoutError", lambda lm: TimeoutError(), "timeout", None),
    ("ConnectionRefusedError", lambda lm: ConnectionRefusedError(), "provider_down", None),
]


# What the gateway answers for each kind: OpenAI's codes where one exists, so the app's litellm reads them back.
GATEWAY_ANSWERS: dict[str, tuple[int, str]] = {
    "invalid_key": (502, "provider_error"),  # the team's key, not the member's token (that is a 401)
    "quota": (502, "provider_error"),  # the provider account's credit, not the team's budget (that is a 429)
    "rate_limit": (429, "rate_limit_exceeded"),
    "timeout": (504, "timeout"),
    "provider_down": (502, "provider_error"),
    "bad_request": (400, "provider_bad_request"),
    "too_long": (400, "context_length_exceeded"),
    "refused": (400, "content_policy_violation"),
    "not_found": (502, "provider_error"),
}


@pytest.fixture(scope="module")
def litellm(loader: LitellmLoader) -> ModuleType:
    return loader.get_blocking()


@pytest.mark.parametrize(("name", "make", "kind", "retry_after"), TABLE, ids=[row[0] for row in TABLE])
def test_each_provider_exception_has_one_kind_for_the_app_and_the_gateway(
    litellm: ModuleType, name: str, make: Callable[[Any], BaseException], kind: ErrorKind, retry_after: float | None
) -> None:
    exc = make(litellm)
    failure = classify(exc)
    assert (failure.kind, failure.retry_after) == (kind, retry_after)
    assert type(exc).__name__ in failure.detail
    assert "gpt-4o-mini" not in failure.detail  # no provider text in what is logged and answered
    assert "slow down" not in failure.detail
    # The app's sentence and the gateway's answer both come from that kind.
    assert "'gpt-4o-mini'" in describe_failure("OpenAI", "gpt-4o-mini", failure)
    status, code, _ = upstream.explain("default", failure)
    assert (status, code) == GATEWAY_ANSWERS[kind]
    # The same kinds are retried and cooled down on both sides: there is one policy.
    wait = ChainPolicy(max_retry_after=10).retry_wait(failure, 0)
    assert (wait is not None) == (kind in RETRIED)


@pytest.mark.parametrize("kind", get_args(ErrorKind))
def test_every_kind_has_a_sentence_in_the_app_and_an_answer_in_the_gateway(kind: ErrorKind) -> None:
    failure = Failure(kind, "SomeError (HTTP 599)")
    assert describe_failure("OpenAI", "gpt-4o-mini", failure)
    gateway = GatewayCaller(CloudAccess(server_url="https://parley.example", token=lambda: "t"))
    assert gateway.message(gateway.access.entry(), failure)
    status, code, message = upstream.explain("default", failure)
    assert (400 <= status < 600, bool(code), bool(message)) == (True, True, True)


def test_a_refused_request_does_not_take_the_entry_out_for_everyone() -> None:
    """Too long, refused by the content policy, invalid: about this request, not the entry (no cool-down)."""
    assert {"too_long", "refused", "bad_request", "malformed"}.isdisjoint(COOLED)
    assert {"invalid_key", "quota", "rate_limit", "timeout", "provider_down", "not_found"} <= COOLED


@pytest.mark.parametrize(
    ("kind", "retry_after", "retry", "wait"),
    [
        ("rate_limit", None, 0, 0.5),  # the backoff
        ("rate_limit", None, 1, 1.0),  # doubled
        ("rate_limit", 3.0, 0, 3.0),  # the server's Retry-After when longer
        ("rate_limit", 0.1, 0, 0.5),  # never shorter than the backoff
        ("rate_limit", 11.0, 0, None),  # past the cap: the next entry instead of waiting
        ("provider_down", None, 0, 0.5),
        ("provider_down", None, 2, None),  # out of retries
        ("invalid_key", None, 0, None),  # never retried: the same key fails the same way
        ("timeout", None, 0, None),
        ("too_long", None, 0, None),
    ],
)
def test_retry_waits(kind: ErrorKind, retry_after: float | None, retry: int, wait: float | None) -> None:
    policy = ChainPolicy(retries=2, backoff_seconds=0.5, max_retry_after=10.0)
    assert policy.retry_wait(Failure(kind, retry_after=retry_after), retry) == wait


def test_cooldowns_expire_and_can_be_cleared() -> None:
    now = [100.0]
    cooldowns = Cooldowns(clock=lambda: now[0])
    failure = Failure("provider_down", "InternalServerError (HTTP 500)")
    cooldowns.hold("org-1|0", 60, failure)
    cooldowns.hold("org-2|0", 60, failure)
    assert cooldowns.cooling("org-1|0") is failure
    assert cooldowns.remaining("org-1|0") == 60
    assert cooldowns.cooling("org-3|0") is None  # per org and entry: another org is not held back
    cooldowns.clear("org-2|0")
    assert cooldowns.cooling("org-2|0") is None
    now[0] += 60
    assert cooldowns.cooling("org-1|0") is None
