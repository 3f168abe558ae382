"""Structured analysis of what customers write, as it arrives: intent, sentiment, language, and "sale agreed".

With AI on and "Analyse incoming messages" on (off by default: every analysis is a paid call), a customer's message
schedules an analysis of its chat once the chat has been quiet for ``QUIET_SECONDS`` (a burst of five messages is
one call, about the whole burst). ``Analyzer`` validates the JSON answer and publishes ``SaleAgreed`` on the
store's bus for the agents; each call is recorded in the AI log like any other (purpose ``analyze``).

It runs on the app's service loop (``app.core.loops.LoopThread``, handed in by bootstrap; shared with sync and the AI
panel), fed from the store's event bus (any thread), so neither the UI nor the WhatsApp driver ever waits for a
model. Its timers and tasks live on that loop only, so nothing of it is shared between threads. Failures are logged
and dropped: analysis is best effort. Built without a loop (tests), it makes one of its own and ``close`` ends it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from app.ai.analysis import Analyzer
from app.ai.types import AIError, CallOptions, ChatMessage, Embeddings, Provider, Purpose, StreamEvent
from app.core.events import MessageReceived
from app.core.loops import LoopThread

if TYPE_CHECKING:
    from app.ai.interactions import CallMode, InteractionLog
    from app.ai.service import AiService

log = logging.getLogger(__name__)

QUIET_SECONDS = 3.0


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
    def __init__(self, ai: AiService, *, quiet_seconds: float = QUIET_SECONDS, loop: LoopThread | None = None) -> None:
        self.ai = ai
        self.quiet_seconds = quiet_seconds
        self.analysed = 0  # analyses that completed (for tests and the log)
        self._given = loop
        self._runner: LoopThread | None = None
        self._pending: dict[str, asyncio.TimerHandle] = {}  # touched on the loop's thread only
        self._running: set[asyncio.Task[None]] = set()  # likewise
        self._unsubscribe: Callable[[], None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._runner is not None:
            return
        self._runner = self._given if self._given is not None else LoopThread("ai-inbound")
        self._unsubscribe = self.ai.store.bus.subscribe(MessageReceived, self._received)

    def close(self, timeout: float = 10.0) -> None:
        """Stop listening, cancel the waits and analyses of this object (on the loop), end a loop of its own."""
        runner = self._runner
        if runner is None:
            return
        self._runner = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if not runner.closed:
            try:
                runner.run(self._stop(), timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                log.warning("the analysis of incoming messages did not stop within %.0f s", timeout)
        if runner is not self._given:
            runner.close()

    async def _stop(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        running = list(self._running)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)

    # ---- events ----------------------------------------------------------------------------------------------
    def enabled(self) -> bool:
        return self.ai.settings.ai.analyze_inbound and self.ai.config().mode != "off"

    def _received(self, event: MessageReceived) -> None:
        runner = self._runner
        if runner is None or runner.closed or not self.enabled():
            return
        runner.call_soon(self._schedule, event.chat_id)

    def _schedule(self, chat_id: str) -> None:
        if self._runner is None:
            return  # closed meanwhile
        previous = self._pending.pop(chat_id, None)
        if previous is not None:
            previous.cancel()
        self._pending[chat_id] = asyncio.get_running_loop().call_later(self.quiet_seconds, self._begin, chat_id)

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
