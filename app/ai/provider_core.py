"""The one AI provider core: what the app's BYOK/cloud chain and the sync server's gateway both do with a provider.

Both reach providers through litellm and both run a fallback over an ordered list of entries. The rules live here,
once, so the two cannot drift apart again (they had: the gateway's copy had no retry and no cool-down):

- the litellm model string (``openai/…``, ``anthropic/…``, an OpenAI-compatible server as ``openai/<model>`` with its
  address) and the target (``api_base``, ``api_key``);
- litellm's exceptions → one ``ErrorKind`` (``classify``), with the server's Retry-After; the app's sentences and the
  gateway's HTTP answers are both mappings *from* these kinds;
- cost from litellm's bundled price list and token estimates for a server that reports none;
- the fallback policy (``Fallback``): entries in order, those cooling down skipped; a rate limit or a 5xx retried on
  the same entry after a backoff (or the server's Retry-After, up to a cap, else the next entry); a failed entry cools
  down so the next call does not wait on it again; one attempt has a whole-answer deadline and a first-token
  deadline; once text was streamed a failure ends the call, never silently re-answered by the next entry.

Qt-free, store-free and HTTP-framework-free, and it imports nothing but the standard library: the server installs
without the desktop packages (``tests/unit/test_packaging.py``) and nothing here may import litellm at module level
(its import takes seconds); litellm is passed in as a module by whoever loaded it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Generic, Literal, Protocol, TypeVar

log = logging.getLogger(__name__)

ErrorKind = Literal[
    "invalid_key",  # 401/403: the key is wrong or revoked
    "key_unavailable",  # the key could not be read: a locked keyring, a sealed key the server cannot open
    "quota",  # the account has no credit left (402, insufficient_quota, a budget exceeded)
    "rate_limit",  # 429: too many requests right now
    "timeout",  # no first token / no answer in time
    "provider_down",  # 5xx, connection refused, DNS, anything unrecognised
    "not_found",  # 404: the provider does not know the model (or the address is wrong)
    "too_long",  # the conversation does not fit the model's context window
    "refused",  # the provider's content policy declined the request
    "bad_request",  # any other 400/413/422: the provider refused the request as invalid
    "malformed",  # the answer did not have the shape asked for (JSON schema)
    "no_provider",  # AI is off, or no entry can be tried
    "cancelled",
]

# Retried on the same entry (after a backoff): the next attempt may well succeed.
RETRIED: frozenset[ErrorKind] = frozenset({"rate_limit", "provider_down"})
# About the entry, not this request: the entry is skipped for a while. A request the provider refused (too long, its
# content policy, invalid) says nothing about the next request, so it does not take the entry out for everyone.
COOLED: frozenset[ErrorKind] = frozenset(
    {"invalid_key", "key_unavailable", "quota", "rate_limit", "timeout", "provider_down", "not_found"}
)

_PREFIX = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "groq": "groq",
    "openrouter": "openrouter",
    "openai_compatible": "openai",
}
LOCAL_KIND = "openai_compatible"  # a self-hosted server: no price, and a key only if it asks for one


class EntryLike(Protocol):
    """What the core reads of a provider entry: the app's ``ProviderEntry`` and the gateway's ``Entry`` both fit."""

    @property
    def kind(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def base_url(self) -> str | None: ...


# ---- litellm: model string, target, cost, estimates ----------------------------------------------------------------
def model_string(entry: EntryLike, model: str | None = None) -> str:
    """What litellm expects: ``<provider prefix>/<model>`` (``model`` overrides the entry's, e.g. its embedder)."""
    return f"{_PREFIX.get(entry.kind, 'openai')}/{model or entry.model}"


def target(entry: EntryLike, api_key: str | None) -> dict[str, Any]:
    """Where and with what key. A keyless local server gets a dummy: the OpenAI client insists on one."""
    found: dict[str, Any] = {"api_key": api_key or "no-key"}
    if entry.base_url:
        found["api_base"] = entry.base_url.rstrip("/")
    return found


def cost(lib: ModuleType, entry: EntryLike, model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """USD from litellm's (bundled) price list; 0 for a self-hosted server and for models it does not know."""
    if entry.kind == LOCAL_KIND:
        return 0.0
    try:
        prompt_cost, completion_cost = lib.cost_per_token(
            model=model_string(entry, model), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
        return float(prompt_cost) + float(completion_cost)
    except Exception:  # noqa: BLE001 — litellm raises anything for a model not on its list: cost unknown, 0
        return 0.0


async def estimate(lib: ModuleType, model: str, messages: list[dict[str, Any]], reply: str) -> tuple[int, int]:
    """Token counts for a provider that reported none (some local servers), with litellm's tokenizer, off the loop."""

    def count() -> tuple[int, int]:
        try:
            prompt = int(lib.token_counter(model=model, messages=messages))
            return prompt, int(lib.token_counter(model=model, text=reply)) if reply else 0
        except Exception:  # no tokenizer for the model: no count, not a failed call
            log.debug("could not count tokens for %s", model, exc_info=True)
            return 0, 0

    return await asyncio.to_thread(count)


# ---- what went wrong ----------------------------------------------------------------------------------------------
class Failure(Exception):
    """One attempt at one entry failed. ``detail`` is safe for logs and answers: a class name and a status, never
    text from the provider (its messages can quote part of the key) and never the prompt."""

    def __init__(self, kind: ErrorKind, detail: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(detail or kind)
        self.kind: ErrorKind = kind
        self.detail = detail
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


def retry_after(exc: BaseException) -> float | None:
    """The provider's Retry-After in seconds, from litellm's copy of the headers or the HTTP response's."""
    headers: Any = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        value = headers.get("retry-after") if headers is not None else None
        return max(0.0, float(value)) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def classify(exc: BaseException) -> Failure:
    """Any exception from a provider call (litellm's, OpenAI-style, or a plain timeout) → a ``Failure`` with a kind.

    Read by class name along the class's bases (litellm subclasses: ``ContextWindowExceededError`` is a
    ``BadRequestError``, ``Timeout`` an ``APIConnectionError``), so nothing here imports litellm."""
    if isinstance(exc, Failure):
        return exc
    names = {cls.__name__ for cls in type(exc).__mro__}
    raw_status = getattr(exc, "status_code", None)
    status = raw_status if isinstance(raw_status, int) else None
    name = type(exc).__name__
    detail = f"{name} (HTTP {status})" if status else name
    text = str(exc).lower()
    kind: ErrorKind
    if isinstance(exc, TimeoutError) or names & {"Timeout", "APITimeoutError"} or status == 408:
        kind = "timeout"
    elif "ContextWindowExceededError" in names:
        kind = "too_long"
    elif "ContentPolicyViolationError" in names:
        kind = "refused"
    elif status in (401, 403) or names & {"AuthenticationError", "PermissionDeniedError"}:
        kind = "invalid_key"
    elif (
        status == 402
        or names & {"BudgetExceededError", "PaymentRequiredError"}
        or "insufficient_quota" in text
        or "exceeded your current quota" in text
    ):
        kind = "quota"
    elif status == 429 or "RateLimitError" in names:
        kind = "rate_limit"
    elif status == 404 or "NotFoundError" in names:
        kind = "not_found"
    elif status in (400, 413, 422) or names & {"BadRequestError", "UnprocessableEntityError"}:
        kind = "bad_request"
    else:
        kind = "provider_down"  # 5xx, connection refused, DNS, a broken stream
    return Failure(kind, detail, retry_after=retry_after(exc))


# ---- the policy and the cool-down ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainPolicy:
    """How the fallback treats failures. Defaults suit people; tests pass small numbers."""

    retries: int = 1  # extra attempts on the same entry for a rate limit or a 5xx
    backoff_seconds: float = 0.5  # first retry's wait, doubled each time
    max_retry_after: float = 10.0  # a longer Retry-After moves on to the next entry instead of waiting
    cooldown_seconds: float = 60.0  # a failed entry is skipped this long
    embed_timeout_seconds: float = 30.0  # one embeddings request

    def retry_wait(self, failure: Failure, retry: int) -> float | None:
        """Seconds to wait before retrying the same entry (``retry`` retries made so far), or None to move on."""
        if failure.kind not in RETRIED or retry >= self.retries:
            return None
        wait: float = self.backoff_seconds * 2.0**retry
        if failure.retry_after is not None:
            if failure.retry_after > self.max_retry_after:
                return None
            wait = max(wait, failure.retry_after)
        return min(wait, self.max_retry_after)


class Cooldowns:
    """Entries that failed recently, and until when they are skipped. Shared by every call of one service (the app)
    or one server process (the gateway, keyed per org and entry); locked, as calls run on more than one thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._until: dict[str, tuple[float, Failure]] = {}

    def cooling(self, key: str) -> Failure | None:
        with self._lock:
            held = self._until.get(key)
            if held is None:
                return None
            if held[0] <= self._clock():
                del self._until[key]
                return None
            return held[1]

    def remaining(self, key: str) -> float:
        with self._lock:
            held = self._until.get(key)
            return 0.0 if held is None else max(0.0, held[0] - self._clock())

    def hold(self, key: str, seconds: float, failure: Failure) -> None:
        if seconds > 0:
            with self._lock:
                self._until[key] = (self._clock() + seconds, failure)

    def clear(self, key: str | None = None) -> None:
        """Forget a failure (a new key was saved), or every failure."""
        with self._lock:
            if key is None:
                self._until.clear()
            else:
                self._until.pop(key, None)


# ---- the fallback -------------------------------------------------------------------------------------------------
E = TypeVar("E")
R = TypeVar("R")
T = TypeVar("T")


class Exhausted(Exception, Generic[E]):
    """No entry answered. ``entry``/``failure``: the last failure (or, when every entry was cooling down and none was
    tried, the one back soonest and why it is out); ``retry_in``: set in that case, seconds until it is back."""

    def __init__(
        self, entry: E, failure: Failure, tried: Sequence[E], *, attempts: int = 0, retry_in: float | None = None
    ) -> None:
        super().__init__(str(failure))
        self.entry = entry
        self.failure = failure
        self.tried = tuple(tried)
        self.attempts = attempts
        self.retry_in = retry_in


@dataclass
class Answer(Generic[E, R]):
    entry: E
    value: R
    tried: tuple[E, ...]
    attempts: int


@dataclass
class Opened(Generic[E, T]):
    """A stream that has sent its first text (or ended without any): from here on there is no fallback. Iterating it
    yields what was read so far, then the rest under the attempt's whole-answer deadline; a failure now raises a
    ``Failure`` (and cools the entry down). Close it (``aclose``) when done."""

    entry: E
    tried: tuple[E, ...]
    attempts: int
    first_text_at: float | None  # time.monotonic() of the first text
    _head: list[T]
    _source: AsyncIterator[T]
    _deadline: float  # loop time
    _broke: Callable[[Failure], None]
    _done: bool = field(default=False)

    async def __aiter__(self) -> AsyncIterator[T]:
        for item in self._head:
            yield item
        self._head = []
        while not self._done:
            try:
                async with asyncio.timeout_at(self._deadline):
                    item = await anext(self._source)
            except StopAsyncIteration:
                self._done = True
                return
            except TimeoutError:
                failure = Failure("timeout", "no rest of the answer in time")
                self._broke(failure)
                raise failure from None
            except Exception as exc:  # noqa: BLE001 — providers raise anything; classify() turns every one into a kind
                failure = classify(exc)
                self._broke(failure)
                raise failure from None
            yield item

    async def aclose(self) -> None:
        self._done = True
        await close_quietly(self._source)


class Fallback(Generic[E]):
    """The fallback policy over one call's entries (already narrowed by the user: those with a key, the model asked).

    ``key`` names an entry in ``cooldowns`` (the app: the entry id; the gateway: org + entry). ``on_failure`` hears
    each failed attempt (for the log)."""

    def __init__(
        self,
        entries: Sequence[E],
        *,
        key: Callable[[E], str],
        policy: ChainPolicy,
        cooldowns: Cooldowns,
        on_failure: Callable[[E, Failure], None] | None = None,
    ) -> None:
        self.entries = tuple(entries)
        self.key = key
        self.policy = policy
        self.cooldowns = cooldowns
        self.on_failure = on_failure

    def _ready(self) -> list[E]:
        ready = [e for e in self.entries if self.cooldowns.cooling(self.key(e)) is None]
        if ready or not self.entries:
            return ready
        # Every entry failed a moment ago: say why and when one is back, rather than waiting on it again.
        entry = min(self.entries, key=lambda e: self.cooldowns.remaining(self.key(e)))
        failure = self.cooldowns.cooling(self.key(entry)) or Failure("provider_down", "cooling down")
        raise Exhausted(entry, failure, (), retry_in=self.cooldowns.remaining(self.key(entry)))

    def _failed(self, entry: E, failure: Failure) -> None:
        if self.on_failure is not None:
            self.on_failure(entry, failure)

    def _cool(self, entry: E, failure: Failure) -> None:
        if failure.kind in COOLED:
            self.cooldowns.hold(self.key(entry), self.policy.cooldown_seconds, failure)

    async def _first(self, once: Callable[[E, tuple[E, ...], int], Awaitable[R]]) -> R:
        """Entries in order, each retried by the policy, until ``once(entry, tried, attempts)`` returns; it raises
        ``Failure`` for a failed attempt."""
        tried: list[E] = []
        attempts = 0
        last: tuple[E, Failure] | None = None
        for entry in self._ready():
            tried.append(entry)
            for retry in range(self.policy.retries + 1):
                attempts += 1
                try:
                    return await once(entry, tuple(tried), attempts)
                except Failure as failure:
                    last = (entry, failure)
                    if not await self._again(entry, failure, retry):
                        break
        assert last is not None, "no entries: the caller says so before calling"
        raise Exhausted(last[0], last[1], tried, attempts=attempts)

    async def call(self, attempt: Callable[[E], Awaitable[R]], *, timeout: float) -> Answer[E, R]:
        """The first entry's answer to a one-shot call (a whole completion, embeddings)."""

        async def once(entry: E, tried: tuple[E, ...], attempts: int) -> Answer[E, R]:
            try:
                async with asyncio.timeout(timeout):
                    value = await attempt(entry)
            except TimeoutError:
                raise Failure("timeout", "no answer in time") from None
            except Exception as exc:  # noqa: BLE001 — providers raise anything; classify() turns every one into a kind
                raise classify(exc) from None
            return Answer(entry, value, tried, attempts)

        return await self._first(once)

    async def open(
        self,
        attempt: Callable[[E], AsyncIterator[T]],
        *,
        has_text: Callable[[T], bool],
        timeout: float,
        first_token: float,
    ) -> Opened[E, T]:
        """The first entry whose stream sends text in time, read up to that text. Until then a failure (or a late
        first token) moves on; after it, ``Opened`` carries on without fallback."""
        loop = asyncio.get_running_loop()

        def broke(entry: E) -> Callable[[Failure], None]:
            def report(failure: Failure) -> None:
                self._failed(entry, failure)
                self._cool(entry, failure)

            return report

        async def once(entry: E, tried: tuple[E, ...], attempts: int) -> Opened[E, T]:
            deadline = loop.time() + timeout
            source = attempt(entry)
            head: list[T] = []
            try:
                async with asyncio.timeout_at(min(deadline, loop.time() + first_token)):
                    async for item in source:
                        head.append(item)
                        if has_text(item):
                            break
            except TimeoutError:
                await close_quietly(source)
                raise Failure("timeout", "no first words in time") from None
            except Exception as exc:  # noqa: BLE001 — providers raise anything; classify() turns every one into a kind
                await close_quietly(source)
                raise classify(exc) from None
            first_at = time.monotonic() if head and has_text(head[-1]) else None
            return Opened(entry, tried, attempts, first_at, head, source, deadline, broke(entry))

        return await self._first(once)

    async def _again(self, entry: E, failure: Failure, retry: int) -> bool:
        """After a failed attempt: wait and say True to retry the same entry, or cool it down and say False."""
        self._failed(entry, failure)
        wait = self.policy.retry_wait(failure, retry)
        if wait is None:
            self._cool(entry, failure)
            return False
        await asyncio.sleep(wait)
        return True


async def close_quietly(source: AsyncIterator[Any]) -> None:
    """Close a provider stream; a failure to close must not hide why it broke."""
    closer = getattr(source, "aclose", None)
    if closer is None:
        return
    try:
        await closer()
    except Exception:
        log.debug("closing a provider stream failed", exc_info=True)
