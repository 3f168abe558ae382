"""The OpenAI-compatible endpoints at ``/v1``: the app's litellm client talks to them as to any provider, with the
member's access token as its key.

Every answer, error or not, is in OpenAI's shape so the OpenAI/litellm clients raise the right exception: 401
``invalid_api_key`` (AuthenticationError: the app asks to sign in again), 429 ``insufficient_quota`` (the team's
budget: the app says so) or ``rate_limit_exceeded`` with Retry-After, 400/413/422 for a bad body (nothing called),
502/504 when the providers failed. ``default`` is the org's chain, run by the provider core the app uses too
(``app.ai.provider_core.Fallback`` through ``upstream.fallback``): a rate limit or a 5xx is retried on the same entry
(honouring Retry-After up to a cap), a failed entry cools down for this process, the next entry is tried when one
fails before any text was sent; once text is streamed a failure ends the stream with an error event, since a second
answer would repeat the first. Embeddings never fall back: another model's vectors would not match the ones already
indexed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any, Literal

import anyio
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from app.ai.provider_core import (
    Exhausted,
    Failure,
    Opened,
    close_quietly,
    cost,
    estimate,
    model_string,
    target,
)
from sync_server import logs
from sync_server.access import authenticate
from sync_server.errors import ApiError
from sync_server.gateway import budget, store, upstream
from sync_server.gateway.common import (
    DEFAULT_CHAT,
    DEFAULT_EMBEDDING,
    Call,
    admit_call,
    answer_exhausted,
    from_api_error,
    openai_error,
    unseal,
)
from sync_server.gateway.embeddings import embeddings
from sync_server.gateway.store import Entry
from sync_server.server_context import context

log = logging.getLogger(__name__)

# What a client may ask of the model; anything else in the body is ignored, never forwarded.
_PASSED = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "response_format")


class ContentPart(BaseModel):
    """One part of a message's content (text, an image...): only its ``type`` is checked, the rest goes as sent."""

    model_config = ConfigDict(extra="allow")

    type: Annotated[str, StringConstraints(min_length=1, max_length=40)]


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]  # no tools: the gateway forwards none
    content: str | list[ContentPart] | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _has_content(self) -> Message:
        # Only an assistant's turn may come without content (it called tools); providers refuse any other, and a
        # refused call would still have been metered.
        if self.content is None and self.role != "assistant":
            raise ValueError(f"a {self.role} message needs its content")
        return self


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    messages: Annotated[list[Message], Field(min_length=1, max_length=2000)]
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    max_tokens: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    response_format: dict[str, Any] | None = None


def chat_entries(found: list[Entry], model: str) -> list[Entry]:
    if not found:
        raise ApiError(503, "no_provider", "The team has no AI provider yet: the owner sets one up in the admin.")
    if model == DEFAULT_CHAT:
        return found
    named = [e for e in found if e.model == model]
    if not named:
        raise ApiError(404, "model_not_found", f"The model '{model}' is not set up for this team.")
    return named[:1]


def _chunk(call_id: str, created: int, model: str, piece: Any) -> dict[str, Any] | None:
    """An OpenAI chunk from a litellm one (its own extra fields left behind), or None for one with nothing in it."""
    choices = getattr(piece, "choices", None) or []
    if not choices:
        return None
    choice = choices[0]
    delta_in = getattr(choice, "delta", None)
    delta: dict[str, Any] = {}
    role = getattr(delta_in, "role", None)
    content = getattr(delta_in, "content", None)
    if role:
        delta["role"] = role
    if content:
        delta["content"] = content
    finish = getattr(choice, "finish_reason", None)
    if not delta and not finish:
        return None
    return {
        "id": call_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _sse(payload: dict[str, Any] | str) -> bytes:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()


def _usage_of(piece: Any) -> tuple[int, int] | None:
    usage = getattr(piece, "usage", None)
    if usage is None or getattr(usage, "prompt_tokens", None) is None:
        return None
    return int(usage.prompt_tokens or 0), int(usage.completion_tokens or 0)


def _estimate(lib: Any, body: ChatRequest, chain: list[Entry]) -> Decimal:
    caps = [cap for cap in (body.max_tokens, body.max_completion_tokens) if cap is not None]
    return budget.chat(lib, chain, _messages(body), min(caps) if caps else None)


def _messages(body: ChatRequest) -> list[dict[str, Any]]:
    return [m.model_dump(exclude_none=True) for m in body.messages]  # (content parts keep their extra fields)


async def chat_completions(request: Request) -> Response:
    admitted = await admit_call(request, ChatRequest, "chat", lambda b, found: chat_entries(found, b.model), _estimate)
    if isinstance(admitted, Response):
        return admitted
    call, body, chain = admitted
    principal = call.principal
    try:
        return await _through_chain(call, body, chain)
    except asyncio.CancelledError:
        await call.finish("cancelled")
        raise
    except Exception as exc:  # noqa: BLE001 — not a provider failure (answered above): logged, answered as a 500
        logs.event(log, "ai_gateway_error", level=logging.ERROR, org=principal.org_id, error=type(exc).__name__)
        await call.finish("error")
        return openai_error(500, "server_error", "The AI gateway failed unexpectedly: try again.")


async def _through_chain(call: Call, body: ChatRequest, chain: list[Entry]) -> Response:
    """The org's entries through the provider core's fallback: until one answers (for a stream: until one sent its
    first text), each retried on a rate limit or a 5xx and cooled down when it fails."""
    ctx, org_id = call.ctx, call.principal.org_id
    lib = await upstream.litellm()
    messages = _messages(body)
    extra = {name: getattr(body, name) for name in _PASSED if getattr(body, name) is not None}
    timeout = ctx.settings.ai_timeout_seconds
    fallback = upstream.fallback(org_id, chain)

    def kwargs_for(entry: Entry) -> dict[str, Any]:
        call.model = model_string(entry)
        return {
            "model": call.model,
            "messages": messages,
            "timeout": timeout,
            "max_retries": 0,
            **extra,
            **target(entry, unseal(ctx, org_id, entry)),
        }

    async def attempt_stream(entry: Entry) -> AsyncIterator[Any]:
        kwargs = {**kwargs_for(entry), "stream": True, "stream_options": {"include_usage": True}}
        response = await lib.acompletion(**kwargs)
        try:
            async for piece in response:
                yield piece
        finally:
            await close_quietly(response)  # the provider's connection, also when the client went away

    async def attempt_whole(entry: Entry) -> Any:
        return await lib.acompletion(**kwargs_for(entry))

    try:
        if body.stream:
            opened = await fallback.open(attempt_stream, has_text=_has_text, timeout=timeout, first_token=timeout)
            return StreamingResponse(
                _relay(lib, call, opened, messages, body),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        answer = await fallback.call(attempt_whole, timeout=timeout)
    except Exhausted as exc:
        call.model = model_string(exc.entry)
        return await answer_exhausted(call, body.model, exc)
    return await _complete(lib, call, answer.entry, answer.value, messages, body.model)


def _has_text(piece: Any) -> bool:
    chunk = _chunk("", 0, "", piece)
    return chunk is not None and bool(chunk["choices"][0]["delta"].get("content"))


async def _complete(
    lib: Any, call: Call, entry: Entry, response: Any, messages: list[dict[str, Any]], requested: str
) -> Response:
    choice = response.choices[0]
    text = getattr(choice.message, "content", None) or ""
    counted = _usage_of(response) or await estimate(lib, model_string(entry), messages, text)
    call.prompt_tokens, call.completion_tokens = counted
    call.cost = cost(lib, entry, entry.model, *counted)
    await call.finish("ok")
    return JSONResponse(
        {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": requested,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": getattr(choice, "finish_reason", None) or "stop",
                }
            ],
            "usage": {
                "prompt_tokens": counted[0],
                "completion_tokens": counted[1],
                "total_tokens": counted[0] + counted[1],
            },
        }
    )


async def _relay(
    lib: Any, call: Call, opened: Opened[Entry, Any], messages: list[dict[str, Any]], body: ChatRequest
) -> AsyncIterator[bytes]:
    entry = opened.entry
    call_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    parts: list[str] = []
    counted: tuple[int, int] | None = None
    status = "cancelled"

    def convert(piece: Any) -> bytes | None:
        nonlocal counted
        counted = _usage_of(piece) or counted
        chunk = _chunk(call_id, created, body.model, piece)
        if chunk is None:
            return None
        parts.append(chunk["choices"][0]["delta"].get("content", ""))
        return _sse(chunk)

    try:
        try:
            async for piece in opened:
                if (data := convert(piece)) is not None:
                    yield data
        except Failure as failure:  # after text was sent: the stream ends with an error, no second answer
            status = failure.kind
            _, code, message = upstream.explain(body.model, failure)
            yield _sse({"error": {"message": message, "type": "server_error", "code": code, "param": None}})
            return
        if counted is None:
            counted = await estimate(lib, model_string(entry), messages, "".join(parts))
        call.prompt_tokens, call.completion_tokens = counted
        call.cost = cost(lib, entry, entry.model, *counted)
        if body.stream_options is not None and body.stream_options.include_usage:
            usage = {"prompt_tokens": counted[0], "completion_tokens": counted[1], "total_tokens": sum(counted)}
            yield _sse(
                {
                    "id": call_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": body.model,
                    "choices": [],
                    "usage": usage,
                }
            )
        yield _sse("[DONE]")
        status = "ok"
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(2):
            await opened.aclose()
        await call.finish(status)


async def models(request: Request) -> Response:
    try:
        principal = await authenticate(request)
    except ApiError as exc:
        return from_api_error(exc)
    ctx = context(request)
    async with ctx.db.org(principal.org_id) as conn:
        found = await store.entries(conn, principal.org_id)
    names = [DEFAULT_CHAT, DEFAULT_EMBEDDING]
    for entry in found:
        for name in (entry.model, entry.embedding_model):
            if name and name not in names:
                names.append(name)
    data = [{"id": name, "object": "model", "created": 0, "owned_by": "parley"} for name in names]
    return JSONResponse({"object": "list", "data": data})


def routes() -> list[BaseRoute]:
    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/models", models, methods=["GET"]),
    ]
