"""One-line ``key=value`` logs for the server, with a last-line guard against secrets.

Routes log events with fields (``event(log, "login", org=..., status=...)``), never free text holding request data,
so a token or password cannot reach a log by accident; the redacting filter is the backstop for third-party
messages (a ``Bearer`` value or a ``password=``-like field is blanked wherever it appears).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

_SECRET_KEYS = ("password", "token", "authorization", "secret", "api_key", "key", "refresh")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_SECRET_PAIR = re.compile(r"(?i)\b(\w*(?:password|token|authorization|secret|api_key)\w*)(\s*[=:]\s*)(\"[^\"]*\"|\S+)")
_BARE = re.compile(r"^[A-Za-z0-9_.:/@+-]*$")
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def redact(text: str) -> str:
    text = _BEARER.sub(r"\1[redacted]", text)
    return _SECRET_PAIR.sub(r"\1\2[redacted]", text)


def _is_secret_key(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_KEYS) and lowered not in ("keys", "key_count")


def _quote(value: object) -> str:
    text = str(value)
    return text if text and _BARE.match(text) else json.dumps(text, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"
        parts = [f"ts={stamp}", f"level={record.levelname.lower()}", f"logger={record.name}"]
        parts.append(f"msg={_quote(redact(record.getMessage()))}")
        for name, value in record.__dict__.items():
            if name in _STANDARD or name.startswith("_"):
                continue
            shown = "[redacted]" if _is_secret_key(name) else redact(str(value))
            parts.append(f"{name}={_quote(shown)}")
        if record.exc_info:
            parts.append(f"exc={_quote(redact(self.formatException(record.exc_info)))}")
        return " ".join(parts)


def setup(level: int = logging.INFO) -> None:
    """Route every logger (ours, uvicorn's, psycopg's) through one stderr handler in the one-line format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The access log would repeat what RequestMetrics logs, and a URL is the one place a careless client puts secrets.
    logging.getLogger("uvicorn.access").disabled = True


def event(logger: logging.Logger, name: str, *, level: int = logging.INFO, **fields: object) -> None:
    logger.log(level, name, extra={k: v for k, v in fields.items() if k not in _STANDARD})
