"""Structured analysis of what customers write, as it arrives: intent, sentiment, language, and "sale agreed".

With AI on and "Analyse incoming messages" on (off by default: every analysis is a paid call), a customer's message
schedules an analysis of its chat once the chat has been quiet for ``QUIET_SECONDS`` (a burst of five messages is
one call, about the whole burst). ``Analyzer`` validates the JSON answer and publishes ``SaleAgreed`` on the
store's bus for the agents; each call is recorded in the AI log like any other (purpose ``analyze``).

It runs on a thread of its own with its own asyncio loop, fed from the store's event bus (any thread), so neither
the UI nor the WhatsApp driver ever waits for a model. Failures are logged and dropped: analysis is best effort.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from app.ai.analysis import Analyzer
from app.ai.types import AIError, CallOptions, ChatMessage, Embeddings, Provider, Purpose, StreamEvent
from app.core.events import MessageReceived

if TYPE_CHECKING:
    from app.ai.interactions import CallMode, InteractionLog
    from app.ai.service import AiService

log = logging.getLogger(__name__)

QUIET_SECONDS = 3.0
SETTING = "ai.analyze_inbound"


class LoggedProvider:
    """A provider whose every streamed call is recorded in the AI log (``InteractionLog.stream``)."""

    def __init__(self, inner: Provider, log_: InteractionLog, mode: CallMode, chat_id: str | None) -> None:
        self.inner, self.log, self.mode, self.chat_id = inner, log_, mode, chat_id

    def stream(
        self, messages: list[ChatMessage], options: CallOptions, *, purpose: Purpose
    ) -> AsyncIterator[StreamEvent]:
        return self.log.stream(self.inner, messages, options, purpose=purpose, mode=self.mode, chat_id=self.chat_id)

    async def embed(self, texts: list[str]) -> Embeddings:
        return await self.inner.embed(texts)


class InboundAnalysis:
    def __init__(self, ai: AiService, *, quiet_seconds: float = QUIET_SECONDS) -> None:
        self.ai = ai
        self.quiet_seconds = quiet_seconds
        self.analysed = 0  # analyses that completed (for tests and the log)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="ai-inbound", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        self._unsubscribe = self.ai.store.bus.subscribe(MessageReceived, self._received)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    def close(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._unsubscribe is not None:
            self._unsubscribe()
        loop.call_soon_threadsafe(self._stop)
        thread.join(10)
        self._thread = None

    def _stop(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        for task in self._running:
            task.cancel()
        assert self._loop is not None
        self._loop.call_later(0.05, self._loop.stop)

    # ---- events ----------------------------------------------------------------------------------------------
    def enabled(self) -> bool:
        return bool(self.ai.settings.get(SETTING)) and self.ai.config().mode != "off"

    def _received(self, event: MessageReceived) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or not self.enabled():
            return
        loop.call_soon_threadsafe(self._schedule, event.chat_id)

    def _schedule(self, chat_id: str) -> None:
        assert self._loop is not None
        previous = self._pending.pop(chat_id, None)
        if previous is not None:
            previous.cancel()
        self._pending[chat_id] = self._loop.call_later(self.quiet_seconds, self._begin, chat_id)

    def _begin(self, chat_id: str) -> None:
        self._pending.pop(chat_id, None)
        task = asyncio.ensure_future(self._analyse(chat_id))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _analyse(self, chat_id: str) -> None:
        try:
            config = self.ai.config()
            provider = LoggedProvider(
                self.ai.provider(), self.ai.log, "cloud" if config.mode == "cloud" else "byok", chat_id
            )
            result = await Analyzer(provider, self.ai.store).analyze(chat_id)
        except AIError as exc:
            log.info("analysis of a chat skipped: %s", exc)
            return
        except Exception:
            log.exception("analysis of a chat failed")
            return
        self.analysed += 1
        log.debug("chat analysed: intent %s, sale agreed %s", result.analysis.intent, result.event is not None)
