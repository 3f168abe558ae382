"""A real OpenAI-compatible HTTP server for tests: litellm talks to it over HTTP exactly as it would to a provider.

Standard library only (``ThreadingHTTPServer`` on a thread), so it starts in milliseconds on a free port. It serves
``POST /v1/chat/completions`` (JSON, or SSE chunks ending in ``data: [DONE]``, with usage), ``POST /v1/embeddings``
(deterministic hashed bag-of-words vectors: texts sharing words are near) and ``GET /v1/models``. It checks the
bearer key, logs every request (without the key) and plays scripted behaviours: per model a queue of one-shot
``Behaviour``s, then that model's standing behaviour, then the default.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict[str, Any]], str]
DIMS = 64


@dataclass(frozen=True)
class Behaviour:
    """What one request to a model gets. ``status`` other than 200 answers with an OpenAI-style error body."""

    status: int = 200
    retry_after: float | None = None  # seconds, sent as the Retry-After header (429)
    first_token_delay: float = 0.0  # before the first byte of the answer
    chunk_delay: float = 0.0  # between streamed chunks
    malformed_json: bool = False  # answer broken JSON when a JSON response_format was asked
    text: str | None = None  # a fixed answer (else the server's reply function)
    error_code: str | None = None  # e.g. "insufficient_quota"
    usage: bool = True  # False: a server that never reports usage (some local ones)


@dataclass
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]  # Authorization left out
    body: dict[str, Any]
    authorized: bool
    key_suffix: str = ""  # the last 4 characters of the bearer key, to tell entries apart
    at: float = field(default_factory=time.monotonic)  # when it arrived (a retry's wait is the gap between two)


def echo(body: dict[str, Any]) -> str:
    """The default answer: 'Echo: <last user message>'."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    last = users[-1]["content"] if users else ""
    if isinstance(last, list):
        last = " ".join(str(part.get("text", "")) for part in last if isinstance(part, dict))
    return f"Echo: {last}"


def embed_text(text: str) -> list[float]:
    """Hashed bag of words, L2-normalised: texts sharing words have a high cosine."""
    vector = [0.0] * DIMS
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % DIMS] += 1.0 if digest[1] % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


@dataclass
class OpenAIServer:
    keys: set[str] = field(default_factory=lambda: {"sk-test-key-0001"})
    reply: Reply = echo
    default: Behaviour = field(default_factory=Behaviour)
    requests: list[LoggedRequest] = field(default_factory=list)
    _queues: dict[str, deque[Behaviour]] = field(default_factory=dict)
    _standing: dict[str, Behaviour] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # ---- control -------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def script(self, model: str, *behaviours: Behaviour) -> None:
        """The next requests to ``model`` get these behaviours, one each, then the standing one."""
        with self._lock:
            self._queues.setdefault(model, deque()).extend(behaviours)

    def always(self, model: str, behaviour: Behaviour) -> None:
        with self._lock:
            self._standing[model] = behaviour

    def calls(self, path: str = "/v1/chat/completions", model: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path and (model is None or r.body.get("model") == model)]

    def _next(self, model: str) -> Behaviour:
        with self._lock:
            queue = self._queues.get(model)
            if queue:
                return queue.popleft()
            return self._standing.get(model, self.default)

    def start(self) -> OpenAIServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        httpd = self._httpd
        self._thread = threading.Thread(
            target=lambda: httpd.serve_forever(poll_interval=0.02), name="openai-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIServer
    protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when the connection closes

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    # ---- plumbing ------------------------------------------------------------------------------------------
    def _log(self, body: dict[str, Any]) -> tuple[bool, LoggedRequest]:
        auth = self.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in {"authorization", "api-key"}}
        entry = LoggedRequest(self.command, self.path, headers, body, key in self.owner.keys, key[-4:])
        with self.owner._lock:
            self.owner.requests.append(entry)
        return entry.authorized, entry

    def _json(self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str, extra: dict[str, str] | None = None) -> None:
        kind = {401: "invalid_request_error", 429: "rate_limit_error"}.get(status, "server_error")
        self._json(status, {"error": {"message": message, "type": kind, "code": code, "param": None}}, extra)

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            value = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    # ---- routes --------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        authorized, _ = self._log({})
        if not authorized:
            return self._error(401, "Incorrect API key provided.", "invalid_api_key")
        if self.path.rstrip("/") == "/v1/models":
            return self._json(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})
        return self._error(404, "not found", "not_found")

    def do_POST(self) -> None:
        body = self._read_body()
        authorized, _ = self._log(body)
        if not authorized:
            return self._error(401, "Incorrect API key provided.", "invalid_api_key")
        behaviour = self.owner._next(str(body.get("model", "")))
        if behaviour.status != 200:
            time.sleep(behaviour.first_token_delay)
            extra = {"Retry-After": str(behaviour.retry_after)} if behaviour.retry_after is not None else None
            code = behaviour.error_code or {429: "rate_limit_exceeded"}.get(behaviour.status, "server_error")
            return self._error(behaviour.status, f"scripted {behaviour.status}", code, extra)
        if self.path == "/v1/chat/completions":
            return self._chat(body, behaviour)
        if self.path == "/v1/embeddings":
            return self._embeddings(body, behaviour)
        return self._error(404, "not found", "not_found")

    def _answer(self, body: dict[str, Any], behaviour: Behaviour) -> str:
        text = behaviour.text if behaviour.text is not None else self.owner.reply(body)
        format_ = body.get("response_format") or {}
        if behaviour.malformed_json and format_.get("type") in {"json_object", "json_schema"}:
            return '{"intent": "buy", "sentiment": '  # cut off mid-object
        return text

    def _chat(self, body: dict[str, Any], behaviour: Behaviour) -> None:
        text = self._answer(body, behaviour)
        prompt_tokens = sum(_tokens(str(m.get("content", ""))) for m in body.get("messages", []))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _tokens(text),
            "total_tokens": prompt_tokens + _tokens(text),
        }
        model = str(body.get("model", ""))
        created = int(time.time())
        time.sleep(behaviour.first_token_delay)
        if not body.get("stream"):
            return self._json(
                200,
                {
                    "id": "chatcmpl-test",
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                    ],
                    "usage": usage,
                },
            )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

        def send(payload: dict[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            self.wfile.write(f"data: {data}\n\n".encode())
            self.wfile.flush()

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        pieces = re.findall(r"\S+\s*|\s+", text) or [""]
        try:
            for i, piece in enumerate(pieces):
                if i:
                    time.sleep(behaviour.chunk_delay)
                send(chunk({"role": "assistant", "content": piece} if i == 0 else {"content": piece}))
            send(chunk({}, "stop"))
            if behaviour.usage and (body.get("stream_options") or {}).get("include_usage"):
                final = chunk({})
                final["choices"] = []
                final["usage"] = usage
                send(final)
            send("[DONE]")
        except (BrokenPipeError, ConnectionResetError):
            return None  # the client gave up (a timeout): nothing to finish

    def _embeddings(self, body: dict[str, Any], behaviour: Behaviour) -> None:
        raw = body.get("input", [])
        texts = [raw] if isinstance(raw, str) else [str(t) for t in raw]
        time.sleep(behaviour.first_token_delay)
        tokens = sum(_tokens(t) for t in texts)
        self._json(
            200,
            {
                "object": "list",
                "model": body.get("model", ""),
                "data": [{"object": "embedding", "index": i, "embedding": embed_text(t)} for i, t in enumerate(texts)],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


def main(argv: list[str] | None = None) -> None:
    """Serve from a process of its own (benchmarks: an in-process server would share the client's GIL, and a real
    provider never does). Prints ``listening <base url>`` once ready; runs until killed."""
    import argparse

    parser = argparse.ArgumentParser(description="a local OpenAI-compatible endpoint that answers at once")
    parser.add_argument("--key", action="append", required=True)
    parser.add_argument("--answer", default=None, help="the fixed answer (default: echo the last user message)")
    args = parser.parse_args(argv)
    _Handler.disable_nagle_algorithm = True  # each streamed chunk leaves at once, as from a provider's edge
    server = OpenAIServer(keys=set(args.key))
    if args.answer is not None:
        answer = args.answer
        server.reply = lambda body: answer
    server.start()
    print(f"listening {server.base_url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
