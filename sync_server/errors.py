"""API errors as one JSON shape (``ErrorBody``), and reading a request body into a wire model safely.

A body is read with a size limit before it is parsed, and refused whole when it is too big (413), not JSON (400) or
not the model (422): nothing is written for a refused request.

What JSON allows but nothing behind the server can hold is refused as it is parsed (``parse_json``), for every route
and field at once rather than per model: text holding a NUL character (PostgreSQL's text and jsonb cannot store
one, so it failed deep in a query), whole numbers beyond 64 bits (PostgreSQL's bigint), numbers too large to be
finite, and nesting deeper than ``MAX_DEPTH`` (a JSON body nested a thousand levels deep exhausted Python's
recursion limit; no body of this API nests more than a few levels). None of these reach a handler, a query or a log.
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar

import pydantic_core
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.sync.protocol import MAX_BODY_BYTES, ErrorBody

M = TypeVar("M", bound=BaseModel)

MAX_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        supported_protocols: list[int] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.supported_protocols = supported_protocols
        self.retry_after = retry_after  # seconds, sent as Retry-After (429)

    def response(self) -> JSONResponse:
        body = ErrorBody(code=self.code, message=self.message, supported_protocols=self.supported_protocols)
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return JSONResponse(body.model_dump(exclude_none=True), status_code=self.status, headers=headers)


async def api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return exc.response()


async def read_body(request: Request, *, limit: int = MAX_BODY_BYTES) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "too_large", f"The request is larger than {limit // (1024 * 1024)} MB.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too_large", f"The request is larger than {limit // (1024 * 1024)} MB.")
        chunks.append(chunk)
    return b"".join(chunks)


def _where(path: tuple[object, ...]) -> str:
    """A field's place for a message: client text only when it is a plain short name."""
    parts = [p if isinstance(p, int) or _PLAIN_KEY.fullmatch(str(p)) else "?" for p in path]
    return ".".join(str(p) for p in parts) or "body"


def _invalid(path: tuple[object, ...], problem: str) -> ApiError:
    return ApiError(422, "invalid", f"Invalid request at {_where(path)}: {problem}.")


def parse_json(raw: bytes) -> Any:
    """The body as JSON values PostgreSQL and the handlers can hold; raises ``ApiError`` 400/422 otherwise.

    pydantic-core's parser refuses invalid UTF-8 and lone surrogates, keeps whole numbers exact (so one beyond 64 bits
    is seen as such, not rounded into a float) and stops at 200 levels without recursing in Python; the walk after
    it is iterative too.
    """
    if not raw.strip():
        raise ApiError(400, "bad_json", "The request body is empty: send a JSON object.")
    try:
        payload = pydantic_core.from_json(raw, allow_inf_nan=True)  # (refused below, where the field is named)
    except ValueError as exc:
        if "recursion limit" in str(exc):
            raise ApiError(422, "invalid", f"The request body is nested more than {MAX_DEPTH} levels deep.") from None
        raise ApiError(400, "bad_json", "The request body is not valid JSON (UTF-8).") from None
    stack: list[tuple[Any, tuple[object, ...]]] = [(payload, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise _invalid(path, "text may not hold a NUL character")
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise _invalid(path, "the number is beyond 64 bits")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise _invalid(path, "the number is not finite")
        elif isinstance(value, dict | list):
            if len(path) >= MAX_DEPTH:
                raise ApiError(422, "invalid", f"The request body is nested more than {MAX_DEPTH} levels deep.")
            if isinstance(value, dict):
                for key, item in value.items():
                    if "\x00" in key:
                        raise _invalid(path, "a field name may not hold a NUL character")
                    stack.append((item, (*path, key)))
            else:
                stack.extend((item, (*path, index)) for index, item in enumerate(value))
    return payload


async def read_model(request: Request, model: type[M], *, limit: int = MAX_BODY_BYTES) -> M:
    payload = parse_json(await read_body(request, limit=limit))
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _invalid(tuple(first.get("loc", ())), first.get("msg", "invalid value")) from None
