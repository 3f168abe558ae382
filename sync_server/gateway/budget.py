"""The most a call can cost, reserved against the org's monthly budget before the provider is called
(``store.admit``) and released when the call settles at its real cost.

The estimate is meant as an upper bound, so that concurrent calls cannot spend past the budget together:
- prompt tokens: the UTF-8 bytes of the messages' text (a tokenizer's token is at least one byte, whichever the
  provider's is), ``PER_MESSAGE`` tokens of framing per message and ``PER_PART`` for each non-text part (an image);
- answer tokens: the call's ``max_tokens`` / ``max_completion_tokens``, capped by the model's longest answer in
  litellm's list, or that longest answer when the call sets none;
- priced with the same list (``provider_core.cost``) as the real cost. For the ``default`` chain, the dearest entry:
  only the entry that answers is charged. Models not on the list and self-hosted servers cost 0, estimated or real.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_CEILING, Decimal
from types import ModuleType
from typing import Any

from app.ai.provider_core import cost, model_string
from sync_server.gateway.store import Entry

PER_MESSAGE = 16
PER_PART = 3_000  # an image at high detail is ~1,100 tokens in OpenAI's scheme; others' are within this
UNKNOWN_LONGEST_ANSWER = 4_096  # a priced model whose list entry has no longest answer


def prompt_bound(messages: Iterable[dict[str, Any]]) -> int:
    """More tokens than the messages can take, whatever the tokenizer."""
    total = PER_MESSAGE
    for message in messages:
        total += PER_MESSAGE + len(str(message.get("name") or "").encode())
        content = message.get("content")
        if isinstance(content, str):
            total += len(content.encode())
        elif isinstance(content, list):
            for part in content:
                text = part.get("text") if isinstance(part, dict) else None
                total += len(text.encode()) if isinstance(text, str) else PER_PART
    return total


def _longest_answer(lib: ModuleType, entry: Entry, model: str) -> int:
    try:
        info = lib.get_model_info(model=model_string(entry, model))
        found = info.get("max_output_tokens") or info.get("max_tokens")
        return int(found) if found else UNKNOWN_LONGEST_ANSWER
    except Exception:  # noqa: BLE001 — litellm raises anything for a model not on its list: use the default
        return UNKNOWN_LONGEST_ANSWER


def _usd(value: float) -> Decimal:
    # Rounded up to the column's 6 places, so the reservation is never below the cost it stands for.
    return Decimal(repr(value)).quantize(Decimal("0.000001"), rounding=ROUND_CEILING)


def chat(lib: ModuleType, chain: list[Entry], messages: list[dict[str, Any]], answer_cap: int | None) -> Decimal:
    prompt = prompt_bound(messages)
    dearest = Decimal(0)
    for entry in chain:
        longest = _longest_answer(lib, entry, entry.model)
        answer = min(answer_cap, longest) if answer_cap is not None else longest
        dearest = max(dearest, _usd(cost(lib, entry, entry.model, prompt, answer)))
    return dearest


def embedding(lib: ModuleType, entry: Entry, texts: list[str]) -> Decimal:
    assert entry.embedding_model is not None
    prompt = sum(PER_MESSAGE + len(text.encode()) for text in texts)
    return _usd(cost(lib, entry, entry.embedding_model, prompt, 0))
