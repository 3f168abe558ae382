"""The contract of AI calls in Parley: what goes in, what comes out, what can go wrong.

Every provider (BYOK through litellm with the user's key from the keyring, or cloud through the sync server's AI
gateway) implements ``Provider``; everything above it (suggestions, rewrites, analysis, the knowledge base's
embeddings) only sees these types. A call streams ``Delta`` events and ends with one ``Done`` carrying the usage, or
raises ``AIError`` with a ``kind`` the UI can act on and a sentence a shop owner understands.

Nothing here imports litellm (its import takes seconds and must stay off the start-up path).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from app.ai.provider_core import ErrorKind as ErrorKind  # one set of kinds for the app and the gateway
from app.core.errors import ParleyError

Role = Literal["system", "user", "assistant"]
ProviderKind = Literal["openai", "anthropic", "gemini", "groq", "openrouter", "openai_compatible"]
Purpose = Literal["suggest", "rewrite", "summarize", "analyze", "embed", "test"]


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class ProviderEntry(BaseModel):
    """One step of the fallback chain: a provider, a model, and (for OpenAI-compatible servers) where it lives."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)  # stable id; the key is kept in the OS keyring under it
    kind: ProviderKind
    model: str = Field(min_length=1)  # e.g. "gpt-4o-mini", "claude-3-5-haiku-latest", "llama3.1" (Ollama)
    base_url: str | None = None  # OpenAI-compatible endpoints (Ollama, LM Studio, a proxy)
    embedding_model: str | None = None  # set when this entry can embed (knowledge base hybrid ranking)


class CallOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    temperature: float = Field(0.4, ge=0, le=2)
    max_tokens: int = Field(600, ge=1)
    timeout_seconds: float = Field(60.0, gt=0)  # the whole call
    first_token_seconds: float = Field(15.0, gt=0)  # time to the first streamed token
    json_schema: dict[str, object] | None = None  # ask for JSON of this schema (structured analysis)


@dataclass(frozen=True)
class Usage:
    provider: str  # the entry that answered (after fallbacks)
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: int = 0
    ttft_ms: int = 0
    attempts: int = 1


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Done:
    text: str  # the whole answer
    usage: Usage


StreamEvent = Delta | Done


@dataclass(frozen=True)
class Embeddings:
    model: str
    vectors: list[list[float]] = field(default_factory=list)
    usage: Usage | None = None


class AIError(ParleyError):
    """A call that ended without an answer, after every fallback. ``str(error)`` is the sentence for the panel."""

    def __init__(self, kind: ErrorKind, message: str, *, hint: str | None = None, tried: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind
        self.tried = tried  # entry ids tried, in order


class Provider(Protocol):
    """What every AI back end offers. Implementations are safe to call from any asyncio loop."""

    def stream(
        self, messages: list[ChatMessage], options: CallOptions, *, purpose: Purpose
    ) -> AsyncIterator[StreamEvent]:
        """Yield ``Delta``s as text arrives, then exactly one ``Done``; raise ``AIError`` when no entry answers."""
        ...

    async def embed(self, texts: list[str]) -> Embeddings:
        """Vectors for ``texts`` with the first entry that has an embedding model; ``AIError`` otherwise."""
        ...
