"""Mapping between pydantic models and SQLite rows.

Timestamps are stored as integer milliseconds (compact, fast to sort), booleans as 0/1, lists and dicts as JSON
text. The mapping is derived once per model from its field annotations, so a new field needs no codec code.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from app.core.ids import from_ms, to_ms

M = TypeVar("M", bound=BaseModel)


def _kind(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _kind(inner[0]) if len(inner) == 1 else "plain"
    if annotation is datetime:
        return "datetime"
    if annotation is bool:
        return "bool"
    if origin in (list, dict) or annotation in (list, dict):
        return "json"
    return "plain"


def _enc_datetime(value: Any) -> Any:
    return None if value is None else to_ms(value)


def _dec_datetime(value: Any) -> Any:
    return None if value is None else from_ms(value)


def _enc_json(value: Any) -> Any:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _dec_json(value: Any) -> Any:
    return None if value is None else json.loads(value)


def _enc_bool(value: Any) -> Any:
    return None if value is None else int(value)


def _dec_bool(value: Any) -> Any:
    return None if value is None else bool(value)


def _same(value: Any) -> Any:
    return value


_CODECS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "datetime": (_enc_datetime, _dec_datetime),
    "json": (_enc_json, _dec_json),
    "bool": (_enc_bool, _dec_bool),
    "plain": (_same, _same),
}


class Codec(Generic[M]):
    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.columns: tuple[str, ...] = tuple(model.model_fields)
        self._enc = {n: _CODECS[_kind(f.annotation)][0] for n, f in model.model_fields.items()}
        self._dec = {n: _CODECS[_kind(f.annotation)][1] for n, f in model.model_fields.items()}
        self._pairs = [(c, self._enc[c]) for c in self.columns]

    def encode_value(self, column: str, value: Any) -> Any:
        return self._enc[column](value)

    def encode(self, record: M) -> tuple[Any, ...]:
        values = record.__dict__  # pydantic keeps field values here; one dict lookup per column, no getattr
        return tuple(enc(values[c]) for c, enc in self._pairs)

    def decode(self, row: typing.Sequence[Any]) -> M:
        return self.model.model_validate({c: self._dec[c](v) for c, v in zip(self.columns, row, strict=True)})
