"""A push's body: parsed once, its changes checked a part at a time as the push reaches them (``sync_engine.push``).

The body is parsed with orjson and its header (protocol, known version) checked at once, so the route knows the
batch's rows and can have PostgreSQL lock and read them while this process checks the changes. pydantic then checks
each part of the parsed changes as the push merges it, so the first part's rows are being written while later parts
are still checked (measured: a 1000-change push's validation was ~9 ms ahead of any write).

Any failure, anywhere, re-checks the whole body the one strict way, ``PushRequest.model_validate_json``, so the
answer names the first problem exactly, whichever part it was found in; the push's transaction is rolled back and
nothing is written. A newer protocol is refused with 426 "upgrade" before anything else: a client speaking one
(with tables this server does not know) must not hear 422 "your data is wrong".
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pydantic_core
from pydantic import TypeAdapter, ValidationError

from app.sync.protocol import MAX_PUSH_CHANGES, SUPPORTED_PROTOCOLS, Change, PushRequest
from sync_server.errors import INT64_MAX, ApiError, parse_json

_CHANGES: TypeAdapter[list[Change]] = TypeAdapter(list[Change])
# A column value is a union (text | whole number | float): its errors name every member's complaint; these are the
# ones any value of the wrong kind gets, which say nothing about what is wrong with it.
_UNION_NOISE = frozenset({"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing", "string_type"})
_UNION_MEMBERS = frozenset({"int", "float", "str", "constrained-str"})


def protocol_error() -> ApiError:
    supported = sorted(SUPPORTED_PROTOCOLS)
    return ApiError(
        426,
        "protocol",
        f"This server speaks sync protocol {', '.join(map(str, supported))}: update Parley.",
        supported_protocols=supported,
    )


@dataclass(frozen=True)
class PushBody:
    """A push's changes, each part checked when ``parts`` reaches it; ``keys`` are every change's (table, id)."""

    raw: bytes
    known_version: int
    keys: list[tuple[str, str]]
    changes: Sequence[Any]  # as parsed (``Change``s when ``checked``)
    checked: bool = False

    @classmethod
    def of(cls, request: PushRequest, raw: bytes = b"") -> PushBody:
        """A body whose changes were all checked already."""
        keys = [(c.table, c.id) for c in request.changes]
        return cls(raw, request.known_version, keys, request.changes, checked=True)

    def __len__(self) -> int:
        return len(self.changes)

    def parts(self, size: int) -> Iterator[list[Change]]:
        """The changes in parts of ``size``, each checked as it is reached (raises ``ApiError`` 422 on the first
        part with a problem; the caller's transaction must then be rolled back)."""
        last_seq = 0
        for first in range(0, len(self.changes), size):
            chunk = self.changes[first : first + size]
            if self.checked:
                yield list(chunk)
                continue
            try:
                part = _CHANGES.validate_python(chunk)
            except ValidationError:
                raise _refusal(self.raw) from None
            for change in part:
                # (PushRequest's own rule, across parts; and a seq PostgreSQL's bigint holds)
                if change.seq <= last_seq or change.seq > INT64_MAX:
                    raise _refusal(self.raw)
                last_seq = change.seq
            yield part


def read_push(raw: bytes) -> PushBody:
    """Parse a push and check its header; raises ``ApiError`` (400, 422, 426) for what is wrong with it."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        payload = None  # (orjson also refuses NaN, which the strict check reports as a value that is not finite)
    changes = payload.get("changes") if isinstance(payload, dict) else None
    if not isinstance(payload, dict) or not isinstance(changes, list) or len(changes) > MAX_PUSH_CHANGES:
        return PushBody.of(parse_push(raw), raw)
    protocol = payload.get("protocol")
    if isinstance(protocol, int) and protocol not in SUPPORTED_PROTOCOLS:
        raise protocol_error()
    keys: list[tuple[str, str]] = []
    for change in changes:
        table, row_id = (change.get("table"), change.get("id")) if isinstance(change, dict) else (None, None)
        # The keys go to PostgreSQL before the changes are checked: one it cannot hold (a NUL) takes the strict way.
        if not isinstance(table, str) or not isinstance(row_id, str) or "\x00" in table or "\x00" in row_id:
            return PushBody.of(parse_push(raw), raw)
        keys.append((table, row_id))
    try:
        head = PushRequest.model_validate({**payload, "changes": []})
    except ValidationError:
        raise _refusal(raw) from None
    if head.protocol not in SUPPORTED_PROTOCOLS:
        raise protocol_error()
    if head.known_version > INT64_MAX:
        raise _refusal(raw)
    return PushBody(raw, head.known_version, keys, changes)


def parse_push(raw: bytes) -> PushRequest:
    """The whole push checked at once, the strict way; raises ``ApiError`` naming the first problem."""
    try:
        # Parsed and validated in one pass by pydantic-core (no intermediate Python objects).
        request = PushRequest.model_validate_json(raw)
    except ValidationError as exc:
        failure = exc
    else:
        if request.protocol not in SUPPORTED_PROTOCOLS:
            raise protocol_error()
        _check_bigint(request)
        return request
    payload: object = None
    unstorable: ApiError | None = None  # a NUL, a number beyond 64 bits, nesting too deep (errors.parse_json)
    try:
        payload = parse_json(raw)
    except ApiError as exc:
        if exc.status == 400:
            raise
        unstorable = exc
        with contextlib.suppress(ValueError):  # for its protocol: a newer one is told so first
            payload = pydantic_core.from_json(raw, allow_inf_nan=True)
    protocol = payload.get("protocol") if isinstance(payload, dict) else None
    if isinstance(protocol, int) and protocol not in SUPPORTED_PROTOCOLS:
        raise protocol_error()
    errors = failure.errors()
    if unstorable is not None and all(e["type"] == "json_invalid" for e in errors):
        raise unstorable
    # Name the union member's real complaint (a NUL, too long, not finite), not "is not an integer", which every
    # such error also carries.
    first = next((e for e in errors if e["type"] not in _UNION_NOISE), errors[0])
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in _UNION_MEMBERS) or "body"
    message = "it holds a NUL character" if first["type"] == "string_pattern_mismatch" else first.get("msg", "invalid")
    raise ApiError(422, "invalid", f"Invalid request at {where}: {message}.")


def _check_bigint(request: PushRequest) -> None:
    """The protocol's whole numbers are unbounded; the server's columns for them are PostgreSQL's bigint."""
    if request.known_version > INT64_MAX:
        raise ApiError(422, "invalid", "Invalid request at known_version: the number is beyond 64 bits.")
    for index, change in enumerate(request.changes):
        if change.seq > INT64_MAX:
            raise ApiError(422, "invalid", f"Invalid request at changes.{index}.seq: the number is beyond 64 bits.")


def _refusal(raw: bytes) -> ApiError:
    """The error the strict check gives the whole body (one is expected: a part of it failed the same rules)."""
    try:
        parse_push(raw)
    except ApiError as exc:
        return exc
    return ApiError(422, "invalid", "Invalid request: a change could not be read.")
