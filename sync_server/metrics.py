"""Counters, latency histograms, the per-request log line, ``GET /metrics`` (Prometheus text) and ``GET /health``.

Requests are labelled by route template (``/api/members/{id}``), never by the raw path, so ids cannot blow up the
label set or leak into a log; unmatched paths share one label. Other modules count their own events through
``context(request).metrics.inc(...)`` / ``.observe(...)`` / ``.set(...)``.
"""

from __future__ import annotations

import logging
import threading
import time
from bisect import bisect_left
from collections import defaultdict

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync_server import __version__, logs
from sync_server.server_context import context

log = logging.getLogger("sync_server.request")

PREFIX = "parley_"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Labels = tuple[tuple[str, str], ...]


def _labels(labels: dict[str, object]) -> Labels:
    return tuple(sorted((k, str(v)) for k, v in labels.items()))


def _render_labels(labels: Labels, extra: tuple[str, str] | None = None) -> str:
    pairs = [*labels, extra] if extra else list(labels)
    if not pairs:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, v in pairs)
    return "{" + ",".join(f'{k}="{v}"' for (k, _), v in zip(pairs, escaped, strict=True)) + "}"


class _Histogram:
    __slots__ = ("count", "counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.count = 0
        self.sum = 0.0

    def add(self, value: float) -> None:
        index = bisect_left(BUCKETS, value)
        if index < len(BUCKETS):
            self.counts[index] += 1
        self.count += 1
        self.sum += value


class Metrics:
    """Process-wide numbers; thread-safe because uvicorn's threads (and to_thread work) may touch them too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._gauges: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._histograms: dict[str, dict[Labels, _Histogram]] = defaultdict(dict)

    def inc(self, name: str, amount: float = 1.0, **labels: object) -> None:
        key = _labels(labels)
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: object) -> None:
        with self._lock:
            self._gauges[name][_labels(labels)] = value

    def add(self, name: str, delta: float, **labels: object) -> None:
        """Move a gauge (open sockets up and down)."""
        key = _labels(labels)
        with self._lock:
            series = self._gauges[name]
            series[key] = series.get(key, 0.0) + delta

    def observe(self, name: str, seconds: float, **labels: object) -> None:
        key = _labels(labels)
        with self._lock:
            series = self._histograms[name]
            hist = series.get(key)
            if hist is None:
                hist = series[key] = _Histogram()
            hist.add(seconds)

    def value(self, name: str, **labels: object) -> float:
        key = _labels(labels)
        with self._lock:
            return self._counters.get(name, {}).get(key, self._gauges.get(name, {}).get(key, 0.0))

    def render(self) -> str:
        out: list[str] = []
        with self._lock:
            for name, series in sorted(self._counters.items()):
                out.append(f"# TYPE {PREFIX}{name} counter")
                out.extend(f"{PREFIX}{name}{_render_labels(k)} {v:g}" for k, v in sorted(series.items()))
            for name, series in sorted(self._gauges.items()):
                out.append(f"# TYPE {PREFIX}{name} gauge")
                out.extend(f"{PREFIX}{name}{_render_labels(k)} {v:g}" for k, v in sorted(series.items()))
            for name, hists in sorted(self._histograms.items()):
                out.append(f"# TYPE {PREFIX}{name} histogram")
                for key, hist in sorted(hists.items()):
                    running = 0
                    for bound, count in zip(BUCKETS, hist.counts, strict=True):
                        running += count
                        out.append(f"{PREFIX}{name}_bucket{_render_labels(key, ('le', f'{bound:g}'))} {running}")
                    out.append(f"{PREFIX}{name}_bucket{_render_labels(key, ('le', '+Inf'))} {hist.count}")
                    out.append(f"{PREFIX}{name}_sum{_render_labels(key)} {hist.sum:.6f}")
                    out.append(f"{PREFIX}{name}_count{_render_labels(key)} {hist.count}")
        return "\n".join(out) + "\n"


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class RequestMetrics:
    """Times every HTTP request and logs one line for it: method, route template, status, milliseconds."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client sees when the app dies before answering

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.inc("http_requests_total", route=route, method=method, status=status)
            self.metrics.observe("http_request_duration_seconds", elapsed, route=route, method=method)
            logs.event(log, "request", method=method, route=route, status=status, ms=round(elapsed * 1000, 1))


async def health(request: Request) -> Response:
    ctx = context(request)
    ok = await ctx.db.ping()
    body = {"status": "ok" if ok else "unavailable", "database": ok, "version": __version__}
    return JSONResponse(body, status_code=200 if ok else 503)


async def metrics_text(request: Request) -> Response:
    return PlainTextResponse(context(request).metrics.render(), media_type="text/plain; version=0.0.4")


def routes() -> list[BaseRoute]:
    return [Route("/health", health, methods=["GET"]), Route("/metrics", metrics_text, methods=["GET"])]
