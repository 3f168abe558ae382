"""AI configuration: the declared scalar settings (mode, temperature, …) plus the provider fallback chain.

The chain is an ordered list of ``ProviderEntry`` kept as JSON in the workspace's local settings under
``ai.providers`` (per device, never synced: the keys that go with it live in this device's keyring). It is validated
with pydantic on the way in and out; a stored value that no longer validates reads as an empty chain and is logged.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import TypeAdapter

from app.ai.types import ProviderEntry, ProviderKind
from app.core.errors import InvalidInput
from app.core.settings import Settings

log = logging.getLogger(__name__)

Mode = Literal["off", "byok", "cloud"]

KIND_LABELS: dict[ProviderKind, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Google Gemini",
    "groq": "Groq",
    "openrouter": "OpenRouter",
    "openai_compatible": "OpenAI-compatible server",
}
DEFAULT_MODELS: dict[ProviderKind, str] = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-latest",
    "gemini": "gemini-1.5-flash",
    "groq": "llama-3.1-8b-instant",
    "openrouter": "openai/gpt-4o-mini",
    "openai_compatible": "llama3.1",
}

_ENTRIES = TypeAdapter(list[ProviderEntry])


def new_entry_id() -> str:
    return uuid.uuid4().hex[:12]


def entry_label(entry: ProviderEntry) -> str:
    return f"{KIND_LABELS[entry.kind]} · {entry.model}"


def load_entries(settings: Settings) -> list[ProviderEntry]:
    raw: Any = settings.internal.ai_providers
    try:
        return _checked(_ENTRIES.validate_python(raw))
    except ValueError:  # pydantic's ValidationError included
        log.warning("stored AI provider list is not valid; treating it as empty")
        return []


def save_entries(settings: Settings, entries: list[ProviderEntry]) -> None:
    entries = _checked(_ENTRIES.validate_python([e.model_dump() for e in entries]))
    settings.internal.ai_providers = [e.model_dump(exclude_none=True) for e in entries]


def _checked(entries: list[ProviderEntry]) -> list[ProviderEntry]:
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise InvalidInput(f"two provider entries share the id {entry.id!r}")
        seen.add(entry.id)
        if entry.kind == "openai_compatible" and not entry.base_url:
            raise InvalidInput(f"{entry_label(entry)}: an OpenAI-compatible server needs its address (base URL)")
    return entries


@dataclass(frozen=True)
class AiConfig:
    mode: Mode
    temperature: float
    brand_voice: str
    redact_cloud: bool
    keep_transcripts: bool
    entries: tuple[ProviderEntry, ...]

    @classmethod
    def read(cls, settings: Settings) -> AiConfig:
        mode = settings.ai.mode
        return cls(
            mode=mode if mode in ("off", "byok", "cloud") else "off",  # type: ignore[arg-type]
            temperature=float(settings.ai.temperature),
            brand_voice=settings.ai.brand_voice,
            redact_cloud=settings.ai.redact_cloud,
            keep_transcripts=settings.ai.keep_transcripts,
            entries=tuple(load_entries(settings)),
        )
