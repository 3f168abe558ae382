"""``POST /v1/embeddings``: the org's embedding model, metered like chat.

``default-embedding`` is the first entry with an embedding model, and there is no fallback: vectors of another
model would not be comparable with those already in a knowledge index. That one entry is still retried on a rate
limit or a 5xx and cooled down when it fails, by the same provider core as chat (``upstream.fallback``).
The OpenAI client asks for base64 unless told otherwise (and decodes it itself), so both encodings are served.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import struct
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.ai.provider_core import Exhausted, cost, model_string, target
from sync_server import logs
from sync_server.errors import ApiError
from sync_server.gateway import budget, upstream
from sync_server.gateway.common import (
    DEFAULT_EMBEDDING,
    admit_call,
    answer_exhausted,
    openai_error,
    unseal,
)
from sync_server.gateway.store import Entry

log = logging.getLogger(__name__)
Text = Annotated[str, StringConstraints(max_length=200_000)]


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    input: Text | Annotated[list[Text], Field(min_length=1, max_length=2048)]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Annotated[int, Field(ge=1, le=65_536)] | None = None


def embedding_entry(found: list[Entry], model: str) -> Entry:
    able = [e for e in found if e.embedding_model]
    if model == DEFAULT_EMBEDDING:
        if not able:
            raise ApiError(503, "no_provider", "The team has no embedding model set up: the owner adds one.")
        return able[0]
    for entry in able:
        if entry.embedding_model == model:
            return entry
    raise ApiError(404, "model_not_found", f"The embedding model '{model}' is not set up for this team.")


def _texts(body: EmbeddingRequest) -> list[str]:
    return [body.input] if isinstance(body.input, str) else list(body.input)


def _encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector


async def embeddings(request: Request) -> Response:
    admitted = await admit_call(
        request,
        EmbeddingRequest,
        "embedding",
        lambda b, es: embedding_entry(es, b.model),
        lambda lib, b, entry: budget.embedding(lib, entry, _texts(b)),
    )
    if isinstance(admitted, Response):
        return admitted
    call, body, entry = admitted
    ctx, principal = call.ctx, call.principal
    assert entry.embedding_model is not None
    call.model = model_string(entry, entry.embedding_model)
    texts = _texts(body)
    extra: dict[str, Any] = {"dimensions": body.dimensions} if body.dimensions is not None else {}
    timeout = ctx.settings.ai_timeout_seconds

    async def attempt(entry: Entry) -> Any:
        return await lib.aembedding(
            model=call.model,
            input=texts,
            timeout=timeout,
            max_retries=0,
            **extra,
            **target(entry, unseal(ctx, principal.org_id, entry)),
        )

    try:
        lib = await upstream.litellm()
        # One entry, retried and cooled down like chat, but no fallback (see above).
        answer = await upstream.fallback(principal.org_id, [entry], embedding=True).call(attempt, timeout=timeout)
    except asyncio.CancelledError:
        await call.finish("cancelled")
        raise
    except Exhausted as exc:
        return await answer_exhausted(call, entry.embedding_model, exc)
    except Exception as exc:  # noqa: BLE001 — not a provider failure (answered above): logged, answered as a 500
        logs.event(log, "ai_gateway_error", level=logging.ERROR, org=principal.org_id, error=type(exc).__name__)
        await call.finish("error")
        return openai_error(500, "server_error", "The AI gateway failed unexpectedly: try again.")
    response = answer.value
    vectors = [[float(v) for v in item["embedding"]] for item in sorted(response.data, key=lambda d: d["index"])]
    call.prompt_tokens = int(getattr(getattr(response, "usage", None), "prompt_tokens", 0) or 0)
    call.cost = cost(lib, entry, entry.embedding_model, call.prompt_tokens, 0)
    await call.finish("ok")
    return JSONResponse(
        {
            "object": "list",
            "model": body.model,
            "data": [
                {"object": "embedding", "index": i, "embedding": _encode(v, body.encoding_format)}
                for i, v in enumerate(vectors)
            ],
            "usage": {"prompt_tokens": call.prompt_tokens, "total_tokens": call.prompt_tokens},
        }
    )
