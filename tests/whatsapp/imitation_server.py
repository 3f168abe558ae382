"""A local server for the WhatsApp Web imitation (``resources/whatsapp/imitation``): a test fixture and a demo.

The page (index.html, app.js, style.css) copies the hooks automation tools rely on (see
``/work/shared/reference/whatsapp-web-markup.md``). This server holds the "phone side" state (session, chats,
messages, acks) so the logged-in state survives a reload, and exposes a JSON control API:

- ``POST /__control/scan`` {ref?}: the phone scans the QR (409 if expired, already linked or ``ref`` mismatches).
- ``POST /__control/incoming`` {chat, name?, text, id?, timestamp?}: an inbound message.
- ``POST /__control/phone_send`` {chat, text}: a message the business typed on its phone (outgoing, not from the page).
- ``POST /__control/media`` {chat, kind, data (base64), mime, caption?, file_name?, duration?, unavailable?,
  latitude?, longitude?, place?, contact_name?, downloaded?, lost?, name?, id?, timestamp?}: an inbound media message
  (image, video, voice, audio, document, sticker, location, contact). The page renders it as WhatsApp Web does (see
  ``/work/shared/reference/whatsapp-web-media.md``) and gets the bytes from ``GET /__media/<id>`` (as the real page
  gets them from WhatsApp's CDN), turning them into a ``blob:`` URL; ``unavailable`` shows the "no longer
  available" bubble and serves no bytes; ``downloaded: false`` shows a photo's blurred thumbnail with a download
  control to click first; ``lost`` serves no bytes though the bubble looks normal (the page cannot get them).
- ``POST /__control/ack`` {id, level}: ack level of a message (-1 error, 0 clock, 1 check, 2 delivered, 3 read).
- ``POST /__control/phone`` {online}: the phone loses or regains its connection; while it is offline the page shows
  the side-pane banner "Trying to reach phone" (``[data-icon="alert-phone"]``).
- ``POST /__control/notice`` {kind}: WhatsApp's notice about the account, as the real page shows it (profile
  ``notices``): ``rate_limited`` ("You're sending too many messages…") and ``restricted`` are popups over the app,
  ``temp_banned`` and ``banned`` replace it (WAWebConflict) and stay across reloads; null clears it.
- ``POST /__control/unregistered`` {phone}: a number without a WhatsApp account: ``/send?phone=N`` shows the modal
  "Phone number shared via url is invalid." instead of the chat.
- ``POST /__control/logout``, ``POST /__control/reset``, ``POST /__control/config`` {option: value}.
- ``GET /__control/state``: session, config, QR (and how many QR series the page started), the open chat and how
  many times the page opened a chat, chats and their messages (incl. those the page sent, with ids).
- ``GET /__control/events?since=N``: long-poll used by the page; pushes appear in the page within ~100 ms.

Run ``python -m tests.whatsapp.imitation_server --port 8765`` for a demo.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import mimetypes
import re
import secrets
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

STATIC_DIR = Path(__file__).resolve().parents[2] / "resources" / "whatsapp" / "imitation"
STATIC_FILES = {"/app.js": "app.js", "/style.css": "style.css"}
PAGE_PATHS = {"/", "/index.html", "/send"}
LONG_POLL_SECONDS = 10.0
MEDIA_KINDS = frozenset({"image", "video", "voice", "audio", "document", "sticker", "location", "contact"})
MAX_EVENTS = 2000
NOTICE_KINDS = frozenset({"rate_limited", "restricted", "temp_banned", "banned"})

JsonDict = dict[str, Any]


@dataclass
class ImitationConfig:
    """Server-wide defaults; the page may override the first few per load with query parameters."""

    variant: str = "classic"  # "classic" (2022–23 hooks incl. data-testid) or "2026"
    qr_ms: int = 20_000  # QR data-ref rotation interval (?qr_ms=)
    qr_first_ms: int = 0  # first rotation; 0 means qr_ms (?qr_first_ms=)
    qr_rotations: int = 5  # rotations before "Click to reload QR code" (?qr_rotations=)
    slow_ms: int = 150  # time the #startup loading screen stays (?slow=)
    sync_ms: int = 300  # loading/sync after a scan (?sync_ms=)
    ack_delay_ms: int = 250  # page-sent message: clock -> check after this delay (server ack 1)
    me_name: str = "Parley Demo"  # own name in data-pre-plain-text of outgoing messages

    def update(self, values: JsonDict) -> None:
        known = {f.name: f.type for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown option {key!r}")
            current = getattr(self, key)
            setattr(self, key, type(current)(value))


def normalize_phone(value: str) -> str:
    """Digits of a phone number or JID user part ("+65 9000-0001", "6590000001@c.us" -> "6590000001")."""
    return re.sub(r"\D", "", value.split("@", 1)[0])


def web_message_id() -> str:
    """A web-sent message id: ``3EB0`` + 18 upper-case hex."""
    return "3EB0" + secrets.token_hex(9).upper()


def phone_message_id() -> str:
    """An iOS-shaped message id: ``3A`` + 18 upper-case hex."""
    return "3A" + secrets.token_hex(9).upper()


@dataclass
class Message:
    id: str
    chat: str  # JID, e.g. "6590000001@c.us"
    from_me: bool
    text: str
    timestamp: float
    ack: int
    author: str
    source: str  # "page" (typed in the page) or "control" (pushed by the control API)
    # media messages: kind, mime, file_name, size, duration, unavailable, latitude/longitude/place, contact_name
    # (``text`` is the caption); the bytes are kept apart (``ImitationState.media_bytes``), served by /__media/<id>
    media: JsonDict | None = None

    @property
    def serialized(self) -> str:
        return f"{str(self.from_me).lower()}_{self.chat}_{self.id}"

    def to_json(self) -> JsonDict:
        return {**asdict(self), "serialized": self.serialized}


@dataclass
class Chat:
    id: str  # JID
    phone: str
    name: str
    unread: int = 0
    messages: list[Message] = field(default_factory=list)

    @property
    def last_ts(self) -> float:
        return self.messages[-1].timestamp if self.messages else 0.0

    def summary(self) -> JsonDict:
        last = self.messages[-1].to_json() if self.messages else None
        return {"id": self.id, "phone": self.phone, "name": self.name, "unread": self.unread, "last": last}

    def to_json(self) -> JsonDict:
        return {**self.summary(), "messages": [m.to_json() for m in self.messages]}


class ControlError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class ImitationState:
    """Phone-side state shared by the page and the control API; every change is pushed as an event."""

    def __init__(self, config: ImitationConfig) -> None:
        self._defaults = ImitationConfig(**asdict(config))
        self._cond = threading.Condition()
        self._seq = 0
        self._events: list[JsonDict] = []
        self._timers: list[threading.Timer] = []
        self._closed = False
        self._reset_locked()

    def _reset_locked(self) -> None:
        self.config = ImitationConfig(**asdict(self._defaults))
        self.session = "unpaired"  # "unpaired" | "logged_in"
        self.phone_online = True
        self.notice: str | None = None  # WhatsApp's notice about the account (NOTICE_KINDS)
        self.unregistered: set[str] = set()  # numbers without WhatsApp
        self.chats: dict[str, Chat] = {}
        self.media_bytes: dict[str, bytes] = {}  # message id -> the media's bytes (what the phone would serve)
        self.open_chat: str | None = None
        self.chat_opens = 0  # chats the page opened (a click on a chat row, /send, ...)
        self.qr: JsonDict = {"ref": None, "expired": False, "rotations": 0}
        self.qr_series = 0  # QR series the page started (first load, and each "Click to reload QR code")
        for timer in self._timers:
            timer.cancel()
        self._timers = []

    # -- events -----------------------------------------------------------------------------------------------
    def _push(self, kind: str, **payload: Any) -> None:
        self._seq += 1
        self._events.append({"seq": self._seq, "type": kind, **payload})
        del self._events[:-MAX_EVENTS]
        self._cond.notify_all()

    def events_since(self, since: int, timeout: float) -> JsonDict:
        deadline = time.monotonic() + timeout
        with self._cond:
            if since > self._seq:  # the server restarted or was reset under the page: resync from now
                since = 0
            while self._seq <= since and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return {"seq": self._seq, "events": [e for e in self._events if e["seq"] > since]}

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for timer in self._timers:
                timer.cancel()
            self._cond.notify_all()

    # -- views ------------------------------------------------------------------------------------------------
    def _sorted_chats(self) -> list[Chat]:
        return sorted(self.chats.values(), key=lambda c: c.last_ts, reverse=True)

    def boot(self) -> JsonDict:
        with self._cond:
            return {
                "seq": self._seq,
                "session": self.session,
                "phone_online": self.phone_online,
                "notice": self.notice,
                "unregistered": sorted(self.unregistered),
                "config": asdict(self.config),
                "chats": [c.to_json() for c in self._sorted_chats()] if self.session == "logged_in" else [],
            }

    def snapshot(self) -> JsonDict:
        with self._cond:
            return {
                "seq": self._seq,
                "session": self.session,
                "phone_online": self.phone_online,
                "notice": self.notice,
                "config": asdict(self.config),
                "qr": dict(self.qr),
                "qr_series": self.qr_series,
                "open_chat": self.open_chat,
                "chat_opens": self.chat_opens,
                "chats": [c.to_json() for c in self._sorted_chats()],
            }

    # -- helpers ----------------------------------------------------------------------------------------------
    def _chat(self, phone_or_jid: str, name: str | None = None) -> Chat:
        phone = normalize_phone(phone_or_jid)
        if not phone:
            raise ControlError(HTTPStatus.BAD_REQUEST, "chat must be a phone number or JID")
        jid = f"{phone}@c.us"
        chat = self.chats.get(jid)
        if chat is None:
            chat = self.chats[jid] = Chat(id=jid, phone=phone, name=name or f"+{phone}")
        elif name:
            chat.name = name
        return chat

    def _find(self, message_id: str) -> Message:
        for chat in self.chats.values():
            for message in chat.messages:
                if message_id in (message.id, message.serialized):
                    return message
        raise ControlError(HTTPStatus.NOT_FOUND, f"no message {message_id!r}")

    def _set_ack(self, message: Message, level: int) -> None:
        message.ack = level
        self._push("ack", id=message.id, chat=message.chat, ack=level)

    # -- control API ------------------------------------------------------------------------------------------
    def scan(self, ref: str | None) -> JsonDict:
        with self._cond:
            if self.session == "logged_in":
                raise ControlError(HTTPStatus.CONFLICT, "already logged in")
            if self.qr["expired"]:
                raise ControlError(HTTPStatus.CONFLICT, "the QR code has expired")
            if ref is not None and ref != self.qr["ref"]:
                raise ControlError(HTTPStatus.CONFLICT, "ref does not match the QR code shown")
            self.session = "logged_in"
            self._push("scan", chats=[c.to_json() for c in self._sorted_chats()])
            return {"session": self.session}

    def logout(self) -> JsonDict:
        with self._cond:
            self.session = "unpaired"
            self.open_chat = None
            self.qr = {"ref": None, "expired": False, "rotations": 0}
            self._push("logout")
            return {"session": self.session}

    def set_phone(self, online: bool) -> JsonDict:
        with self._cond:
            self.phone_online = online
            self._push("phone", online=online)
            return {"phone_online": online}

    def set_notice(self, kind: str | None) -> JsonDict:
        if kind is not None and kind not in NOTICE_KINDS:
            raise ControlError(HTTPStatus.BAD_REQUEST, f"kind must be one of {sorted(NOTICE_KINDS)} or null")
        with self._cond:
            self.notice = kind
            self._push("notice", notice=kind)
            return {"notice": kind}

    def add_unregistered(self, phone: str) -> JsonDict:
        with self._cond:
            self.unregistered.add(normalize_phone(phone))
            self._push("unregistered", phones=sorted(self.unregistered))
            return {"unregistered": sorted(self.unregistered)}

    def reset(self) -> JsonDict:
        with self._cond:
            self._reset_locked()
            self._push("reset")
            return {"session": self.session}

    def set_config(self, values: JsonDict) -> JsonDict:
        with self._cond:
            try:
                self.config.update(values)
            except (ValueError, TypeError) as exc:
                raise ControlError(HTTPStatus.BAD_REQUEST, str(exc)) from exc
            return asdict(self.config)

    def add_chat(self, chat: str, name: str | None) -> JsonDict:
        with self._cond:
            found = self._chat(chat, name)
            self._push("chat", chat=found.summary())
            return found.summary()

    def incoming(self, chat: str, text: str, name: str | None, message_id: str | None, ts: float | None) -> JsonDict:
        with self._cond:
            target = self._chat(chat, name)
            message = Message(
                id=message_id or phone_message_id(),
                chat=target.id,
                from_me=False,
                text=text,
                timestamp=ts if ts is not None else time.time(),
                ack=1,
                author=target.name,
                source="control",
            )
            target.messages.append(message)
            if self.open_chat != target.id:
                target.unread += 1
            self._push("message", chat=target.summary(), message=message.to_json())
            return message.to_json()

    def phone_send(self, chat: str, text: str) -> JsonDict:
        """A message the business typed on its phone: the page shows it as its own (outgoing), not sent from it."""
        with self._cond:
            if self.session != "logged_in":
                raise ControlError(HTTPStatus.CONFLICT, "not logged in")
            target = self._chat(chat)
            message = Message(phone_message_id(), target.id, True, text, time.time(), 1, self.config.me_name, "phone")
            target.messages.append(message)
            self._push("message", chat=target.summary(), message=message.to_json())
            return message.to_json()

    def incoming_media(self, body: JsonDict) -> JsonDict:
        kind = str(body["kind"])
        if kind not in MEDIA_KINDS:
            raise ControlError(HTTPStatus.BAD_REQUEST, f"kind must be one of {', '.join(sorted(MEDIA_KINDS))}")
        data = base64.b64decode(str(body.get("data") or ""))
        media: JsonDict = {
            "kind": kind,
            "mime": str(body.get("mime") or ""),
            "size": len(data),
            "unavailable": bool(body.get("unavailable")),
            "downloaded": body.get("downloaded", True) is not False,
            "gif": kind == "video" and bool(body.get("gif")),
            "view_once": bool(body.get("view_once")),
        }
        for key in ("file_name", "place", "contact_name"):
            if body.get(key):
                media[key] = str(body[key])
        for key in ("duration", "latitude", "longitude"):
            if body.get(key) is not None:
                media[key] = float(body[key])
        with self._cond:
            target = self._chat(str(body["chat"]), body.get("name"))
            ts = body.get("timestamp")
            message = Message(
                id=str(body.get("id") or phone_message_id()),
                chat=target.id,
                from_me=False,
                text=str(body.get("caption") or ""),
                timestamp=float(ts) if ts else time.time(),
                ack=1,
                author=target.name,
                source="control",
                media=media,
            )
            if not media["unavailable"] and not media["view_once"] and not body.get("lost"):
                self.media_bytes[message.id] = data
            target.messages.append(message)
            if self.open_chat != target.id:
                target.unread += 1
            self._push("message", chat=target.summary(), message=message.to_json())
            return message.to_json()

    def media_of(self, message_id: str) -> tuple[bytes, str] | None:
        with self._cond:
            data = self.media_bytes.get(message_id)
            if data is None:
                return None
            message = self._find(message_id)
            return data, str((message.media or {}).get("mime") or "application/octet-stream")

    def ack(self, message_id: str, level: int) -> JsonDict:
        if level not in range(-1, 5):
            raise ControlError(HTTPStatus.BAD_REQUEST, "level must be -1..4")
        with self._cond:
            message = self._find(message_id)
            if not message.from_me:
                raise ControlError(HTTPStatus.BAD_REQUEST, "acks apply to outgoing messages")
            self._set_ack(message, level)
            return message.to_json()

    # -- page API ---------------------------------------------------------------------------------------------
    def page_send(self, chat: str, text: str, message_id: str | None, media: JsonDict | None = None) -> JsonDict:
        """A message sent from the page; ``media`` {kind, mime, file_name, data (base64)} for an attached file."""
        info: JsonDict | None = None
        data = b""
        if media is not None:
            data = base64.b64decode(str(media.get("data") or ""))
            kind = str(media.get("kind") or "document")
            info = {"kind": kind, "mime": str(media.get("mime") or ""), "size": len(data), "unavailable": False}
            if kind == "document":
                info["file_name"] = str(media.get("file_name") or "file")
        with self._cond:
            if self.session != "logged_in":
                raise ControlError(HTTPStatus.CONFLICT, "not logged in")
            target = self._chat(chat)
            mid = message_id if message_id and re.fullmatch(r"3EB0[0-9A-F]{18}", message_id) else web_message_id()
            message = Message(mid, target.id, True, text, time.time(), 0, self.config.me_name, "page", info)
            if info is not None:
                self.media_bytes[mid] = data
            target.messages.append(message)
            self._push("message", chat=target.summary(), message=message.to_json(), echo=True)
            timer = threading.Timer(self.config.ack_delay_ms / 1000, self._server_ack, (message,))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
            return message.to_json()

    def _server_ack(self, message: Message) -> None:
        with self._cond:
            if self._closed or message.ack != 0:
                return
            if self.chats.get(message.chat) is None or message not in self.chats[message.chat].messages:
                return
            self._set_ack(message, 1)

    def page_open(self, chat: str | None) -> JsonDict:
        with self._cond:
            if not chat:
                self.open_chat = None
                return {"open_chat": None}
            target = self._chat(chat)
            if self.open_chat != target.id:
                self.chat_opens += 1
            self.open_chat = target.id
            if target.unread:
                target.unread = 0
                self._push("chat", chat=target.summary())
            return target.to_json()

    def page_qr(self, ref: str | None, expired: bool, rotations: int) -> JsonDict:
        with self._cond:
            if ref and ref != self.qr["ref"] and rotations == 0 and not expired:
                self.qr_series += 1
            self.qr = {"ref": ref, "expired": expired, "rotations": rotations}
            self._push("qr", qr=dict(self.qr))
            return dict(self.qr)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes; Nagle held the body ~40 ms on kept-alive links
    post_routes: ClassVar[dict[str, str]] = {
        "/__control/scan": "scan",
        "/__control/logout": "logout",
        "/__control/phone": "phone",
        "/__control/notice": "notice",
        "/__control/unregistered": "unregistered",
        "/__control/reset": "reset",
        "/__control/config": "config",
        "/__control/chat": "chat",
        "/__control/incoming": "incoming",
        "/__control/phone_send": "phone_send",
        "/__control/ack": "ack",
        "/__control/media": "media",
        "/__page/send": "send",
        "/__page/open": "open",
        "/__page/qr": "qr",
    }

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, payload: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        state = self.server.state
        if url.path in PAGE_PATHS:
            self._send(HTTPStatus.OK, (STATIC_DIR / "index.html").read_bytes(), "text/html; charset=utf-8")
        elif url.path in STATIC_FILES:
            path = STATIC_DIR / STATIC_FILES[url.path]
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            self._send(HTTPStatus.OK, path.read_bytes(), f"{kind}; charset=utf-8")
        elif url.path == "/__control/state":
            self._json(state.snapshot())
        elif url.path == "/__page/boot":
            self._json(state.boot())
        elif url.path == "/__control/events":
            since = int(query.get("since", ["0"])[0])
            timeout = min(float(query.get("timeout", [str(LONG_POLL_SECONDS)])[0]), LONG_POLL_SECONDS)
            self._json(state.events_since(since, timeout))
        elif url.path.startswith("/__media/"):
            found = state.media_of(url.path.removeprefix("/__media/"))
            if found is None:
                self._json({"error": "media not found"}, HTTPStatus.NOT_FOUND)
            else:
                self._send(HTTPStatus.OK, found[0], found[1])
        elif url.path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        else:
            self._json({"error": "not found"}, HTTPStatus.NOT_FOUND)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        route = self.post_routes.get(urlsplit(self.path).path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if route is None:
            self._json({"error": "not found"}, HTTPStatus.NOT_FOUND)
            return
        try:
            body = json.loads(raw) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ControlError(HTTPStatus.BAD_REQUEST, "body must be a JSON object")
            self._json(self._dispatch(route, body))
        except ControlError as exc:
            self._json({"error": str(exc)}, exc.status)
        except (KeyError, ValueError, TypeError) as exc:
            self._json({"error": f"bad request: {exc!r}"}, HTTPStatus.BAD_REQUEST)

    def _dispatch(self, route: str, body: JsonDict) -> JsonDict:
        state = self.server.state
        match route:
            case "scan":
                return state.scan(body.get("ref"))
            case "logout":
                return state.logout()
            case "phone":
                return state.set_phone(bool(body["online"]))
            case "notice":
                kind = body.get("kind")
                return state.set_notice(str(kind) if kind else None)
            case "unregistered":
                return state.add_unregistered(str(body["phone"]))
            case "reset":
                return state.reset()
            case "config":
                return state.set_config(body)
            case "chat":
                return state.add_chat(str(body["chat"]), body.get("name"))
            case "incoming":
                ts = body.get("timestamp")
                return state.incoming(
                    str(body["chat"]), str(body["text"]), body.get("name"), body.get("id"), float(ts) if ts else None
                )
            case "phone_send":
                return state.phone_send(str(body["chat"]), str(body["text"]))
            case "ack":
                return state.ack(str(body["id"]), int(body["level"]))
            case "media":
                return state.incoming_media(body)
            case "send":
                media = body.get("media")
                return state.page_send(
                    str(body["chat"]), str(body["text"]), body.get("id"), media if isinstance(media, dict) else None
                )
            case "open":
                return state.page_open(body.get("chat"))
            case "qr":
                return state.page_qr(body.get("ref"), bool(body.get("expired")), int(body.get("rotations", 0)))
        raise ControlError(HTTPStatus.NOT_FOUND, route)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ImitationState

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # the browser went away mid-response (long-poll)
            return
        super().handle_error(request, client_address)


class ImitationServer:
    """Serves the imitation on 127.0.0.1 (ephemeral port by default); use as a context manager or start()/stop()."""

    def __init__(self, config: ImitationConfig | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or ImitationConfig()
        self._host = host
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> ImitationState:
        assert self._httpd is not None, "server not started"
        return self._httpd.state

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ImitationServer:
        httpd = _Server((self._host, self._port), _Handler)
        httpd.state = ImitationState(self.config)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="whatsapp-imitation", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.state.close()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> ImitationServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def control(self) -> ImitationControl:
        return ImitationControl(self.url)


class ImitationControl:
    """A small HTTP client for the control API (what tests and a demo script use)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, path: str, body: JsonDict | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - local test server
            self.base_url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return json.loads(response.read())

    def state(self) -> JsonDict:
        result: JsonDict = self.request("GET", "/__control/state")
        return result

    def wait_for(self, predicate: Callable[[JsonDict], bool], timeout: float = 5.0) -> JsonDict:
        """The state once ``predicate(state)`` holds; blocks on the event long-poll between checks (no sleeping)."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if predicate(state):
                return state
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s; last state: {state}")
            self.request("GET", f"/__control/events?since={state['seq']}&timeout={min(remaining, 1.0):.3f}")

    def scan(self, ref: str | None = None) -> JsonDict:
        result: JsonDict = self.request("POST", "/__control/scan", {"ref": ref} if ref else {})
        return result

    def incoming(
        self,
        chat: str,
        text: str,
        name: str | None = None,
        message_id: str | None = None,
        timestamp: float | None = None,
    ) -> JsonDict:
        """An inbound message (``timestamp``: Unix seconds, default now; give history ascending times)."""
        body: JsonDict = {"chat": chat, "text": text}
        if name:
            body["name"] = name
        if message_id:
            body["id"] = message_id
        if timestamp is not None:
            body["timestamp"] = timestamp
        result: JsonDict = self.request("POST", "/__control/incoming", body)
        return result

    def incoming_media(
        self,
        chat: str,
        kind: str,
        data: bytes = b"",
        mime: str = "",
        *,
        caption: str = "",
        name: str | None = None,
        message_id: str | None = None,
        timestamp: float | None = None,
        **details: Any,
    ) -> JsonDict:
        """An inbound media message from a customer: ``kind`` image/video/voice/audio/document/sticker/location/
        contact, its bytes and MIME type, a caption; ``details``: file_name, duration (seconds), unavailable (the
        "no longer available" bubble), latitude/longitude/place, contact_name, downloaded (False: a photo to click
        to download first), lost (the phone side serves no bytes), gif (a video WhatsApp shows as a GIF), view_once
        (a view-once photo or video: WhatsApp Web shows only a "View once" badge and never has the bytes)."""
        body: JsonDict = {"chat": chat, "kind": kind, "data": base64.b64encode(data).decode(), "mime": mime}
        body.update({"caption": caption, "name": name, "id": message_id, "timestamp": timestamp, **details})
        result: JsonDict = self.request("POST", "/__control/media", {k: v for k, v in body.items() if v is not None})
        return result

    def phone_send(self, chat: str, text: str) -> JsonDict:
        """The business types ``text`` in ``chat`` on its phone (WhatsApp Web shows it as an outgoing message)."""
        result: JsonDict = self.request("POST", "/__control/phone_send", {"chat": chat, "text": text})
        return result

    def add_chat(self, chat: str, name: str | None = None) -> JsonDict:
        result: JsonDict = self.request("POST", "/__control/chat", {"chat": chat, "name": name})
        return result

    def ack(self, message_id: str, level: int) -> JsonDict:
        result: JsonDict = self.request("POST", "/__control/ack", {"id": message_id, "level": level})
        return result

    def phone_online(self, online: bool) -> JsonDict:
        """The phone (dis)connects: the page shows or hides its "Trying to reach phone" banner."""
        result: JsonDict = self.request("POST", "/__control/phone", {"online": online})
        return result

    def notice(self, kind: str | None) -> JsonDict:
        """WhatsApp shows (or, with None, clears) a notice about the account: rate_limited, restricted, temp_banned,
        banned."""
        result: JsonDict = self.request("POST", "/__control/notice", {"kind": kind})
        return result

    def not_on_whatsapp(self, phone: str) -> JsonDict:
        """``phone`` has no WhatsApp account: /send?phone= shows "Phone number shared via url is invalid."."""
        result: JsonDict = self.request("POST", "/__control/unregistered", {"phone": phone})
        return result

    def logout(self) -> JsonDict:
        result: JsonDict = self.request("POST", "/__control/logout", {})
        return result

    def reset(self) -> JsonDict:
        result: JsonDict = self.request("POST", "/__control/reset", {})
        return result

    def configure(self, **values: Any) -> JsonDict:
        result: JsonDict = self.request("POST", "/__control/config", values)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the WhatsApp Web imitation (demo).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--variant", choices=["classic", "2026"], default="classic")
    args = parser.parse_args()
    with ImitationServer(ImitationConfig(variant=args.variant), port=args.port) as server:
        print(f"WhatsApp Web imitation at {server.url}/ (control API under /__control/); Ctrl+C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
