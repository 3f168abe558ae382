"""API errors as one JSON shape (``ErrorBody``), and reading a request body into a wire model safely.

A body is read with a size limit before it is parsed, and refused whole when it is too big (413), not JSON (400) or
not the model (422): nothing is written for a refused request.
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.sync.protocol import MAX_BODY_BYTES, ErrorBody

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, supported_protocols: list[int] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.supported_protocols = supported_protocols

    def response(self) -> JSONResponse:
        body = ErrorBody(code=self.code, message=self.message, supported_protocols=self.supported_protocols)
        return JSONResponse(body.model_dump(exclude_none=True), status_code=self.status)


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


async def read_model(request: Request, model: type[M], *, limit: int = MAX_BODY_BYTES) -> M:
    raw = await read_body(request, limit=limit)
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "The request body is not valid JSON.") from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise ApiError(422, "invalid", f"Invalid request at {where}: {first.get('msg', 'invalid value')}.") from None
