"""What the ``/v1`` endpoints share: OpenAI-shaped errors, the caller, the org's keys, and metering a call."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from types import ModuleType
from typing import TypeVar

import anyio
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.ai.provider_core import Exhausted, Failure
from sync_server import logs
from sync_server.access import authenticate
from sync_server.errors import ApiError, read_model
from sync_server.gateway import crypto, store, upstream
from sync_server.gateway.store import Entry
from sync_server.principal import Principal
from sync_server.server_context import ServerContext, context

log = logging.getLogger("sync_server.gateway")

DEFAULT_CHAT = "default"
DEFAULT_EMBEDDING = "default-embedding"
MAX_REQUEST_BYTES = 4 * 1024 * 1024


def openai_error(status: int, code: str, message: str, *, retry_after: float | None = None) -> JSONResponse:
    kind = {
        400: "invalid_request_error",
        401: "invalid_request_error",
        403: "permission_error",
        404: "invalid_request_error",
        413: "invalid_request_error",
        422: "invalid_request_error",
    }.get(status, "server_error")
    if code == "insufficient_quota":
        kind = "insufficient_quota"
    elif status == 429:
        kind = "rate_limit_error"
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after is not None else None
    body = {"error": {"message": message, "type": kind, "code": code, "param": None}}
    return JSONResponse(body, status_code=status, headers=headers)


def from_api_error(exc: ApiError) -> JSONResponse:
    if exc.status == 401:
        # OpenAI's own wording: litellm turns an ``invalid_request_error`` into a BadRequestError unless it reads
        # this phrase, so with it an expired or unknown token raises AuthenticationError (the app: "sign in again").
        return openai_error(401, "invalid_api_key", f"Incorrect API key provided: {exc.message}")
    return openai_error(exc.status, exc.code, exc.message)


async def answer_exhausted(call: Call, requested: str, exc: Exhausted[Entry]) -> JSONResponse:
    """Every entry failed, or every one is cooling down after failing a moment ago: the call is settled with the
    failure's kind and answered with that kind's status, code and sentence (``upstream.explain``)."""
    await call.finish(exc.failure.kind)
    status, code, message = upstream.explain(requested, exc.failure)
    retry_after = exc.failure.retry_after if status == 429 else None
    if exc.retry_in is not None:
        retry_after = exc.retry_in
        message = f"{message} The gateway tries it again in {max(1, round(exc.retry_in))} s."
    return openai_error(status, code, message, retry_after=retry_after)


def unseal(ctx: ServerContext, org_id: str, entry: Entry) -> str | None:
    if entry.sealed_key is None:
        return None
    try:
        return crypto.open_key(ctx.settings.secret, org_id, entry.sealed_key)
    except crypto.KeyUnreadable:
        raise Failure("key_unavailable", "stored key unreadable") from None


class Call:
    """One admitted call: its usage row, and the metering when it ends (also when the client went away)."""

    def __init__(self, ctx: ServerContext, principal: Principal, usage_id: int, requested: str) -> None:
        self.ctx = ctx
        self.principal = principal
        self.usage_id = usage_id
        self.model = requested  # the provider's model once one is tried
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost = 0.0

    async def finish(self, status: str) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await store.finish(
                    self.ctx.db,
                    self.principal.org_id,
                    self.usage_id,
                    model=self.model,
                    status=status,
                    prompt_tokens=self.prompt_tokens,
                    completion_tokens=self.completion_tokens,
                    cost_usd=self.cost,
                )
            except Exception:
                log.exception("could not record AI usage")
        logs.event(
            log,
            "ai_call",
            org=self.principal.org_id,
            member=self.principal.member_id,
            model=self.model,
            status=status,
            prompt_n=self.prompt_tokens,
            completion_n=self.completion_tokens,
            usd=round(self.cost, 6),
        )


B = TypeVar("B", bound=BaseModel)
T = TypeVar("T")


async def admit_call(
    request: Request,
    body_model: type[B],
    purpose: str,
    choose: Callable[[B, list[Entry]], T],
    estimate: Callable[[ModuleType, B, T], Decimal],
) -> tuple[Call, B, T] | JSONResponse:
    """The steps every OpenAI route takes before calling a provider: authenticate, read the body, pick the org's
    entries, and pass the budget, with the call's largest possible cost reserved (``estimate``, see ``budget``), and
    the rate limit (``store.admit``). A refusal comes back as an OpenAI-shaped error response, and nothing is
    recorded for it."""
    ctx = context(request)
    try:
        principal = await authenticate(request)
        body = await read_model(request, body_model, limit=MAX_REQUEST_BYTES)
        lib = await upstream.litellm()  # its price list sizes the reservation
        usage_id, chosen = await store.admit(
            ctx.db,
            principal.org_id,
            principal.member_id,
            purpose,
            lambda found: choose(body, found),
            lambda chosen: estimate(lib, body, chosen),
            ctx.settings.ai_reservation_seconds,
        )
    except ApiError as exc:
        return from_api_error(exc)
    except store.Limited as exc:
        return openai_error(429, exc.code, exc.message, retry_after=exc.retry_after)
    return Call(ctx, principal, usage_id, str(getattr(body, "model", ""))), body, chosen
