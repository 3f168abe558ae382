"""The sync server's API as typed calls: one method per route of docs/sync.md, and the WebSocket of version notices.

Every failure becomes one of a few exceptions whose ``str()`` is a sentence for people, so the loop can decide
what to do by type (retry later, refresh, sign in again, sign out) and the UI can show the message as it is.
Nothing secret ever goes into a message: tokens and passwords travel only in bodies and headers.

The access token is attached to every call that needs it. When the server says it expired, the token is refreshed
once (the refresh token rotates, and the new one is saved at once: the old one is dead) and the call retried.
Refreshes are serialised by a lock: two concurrent refreshes with the same token would look like token theft to
the server, which revokes the device.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.errors import ParleyError
from app.sync.protocol import (
    PROTOCOL_VERSION,
    AcceptInviteRequest,
    DeviceInfo,
    ErrorBody,
    GatewayPolicy,
    GatewayUsage,
    Invite,
    InviteRequest,
    LoginRequest,
    MediaSettings,
    MediaSettingsChange,
    MemberInfo,
    PullResponse,
    PushRequest,
    PushResponse,
    RefreshRequest,
    Role,
    RoleChange,
    Session,
    SignupRequest,
    SocketAuth,
    VersionNotice,
)

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
L = TypeVar("L", bound=BaseModel)
_MEMBERS = TypeAdapter(list[MemberInfo])
_DEVICES = TypeAdapter(list[DeviceInfo])
_USAGE = TypeAdapter(list[GatewayUsage])
MEDIA_TIMEOUT_SECONDS = 300.0  # a media file of up to 100 MB on a slow line
LOGOUT_TIMEOUT_SECONDS = 5.0  # sign-out revokes the device on the server if it answers within this


# ---- errors -----------------------------------------------------------------------------------------------------
class SyncError(ParleyError):
    """Base of the sync client's errors; ``str()`` is fit to show to the user."""

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.status = status


class ServerUnreachable(SyncError):
    """No answer (connection refused, timeout) or a server-side failure (5xx): try again later."""


class TokenExpired(SyncError):
    """The access token is past its time: refresh and retry."""


class Unauthorized(SyncError):
    """The server does not accept this sign-in (wrong password, refresh token refused): the user must sign in."""


class DeviceRevoked(SyncError):
    """An admin removed this device (or its member): sign out, keep the local data."""


class Forbidden(SyncError):
    """The member's role does not allow this."""


class ProtocolMismatch(SyncError):
    """The server speaks another protocol version: one of the two must be updated."""


class RequestRefused(SyncError):
    """Any other refusal (bad input, e-mail taken, rate limited): the message is the server's own sentence."""


def error_for(status: int, body: ErrorBody | None) -> SyncError:
    """The exception for an error answer; ``body`` is the server's ``ErrorBody`` when it sent one."""
    code = body.code if body else None
    message = body.message if body and body.message else None
    if status >= 500:
        return ServerUnreachable(
            f"The sync server had a problem (HTTP {status}); Parley will try again.", code=code, status=status
        )
    if status == 401 and code == "token_expired":
        return TokenExpired("The sign-in to the sync server expired.", code=code, status=status)
    if status == 401:
        return Unauthorized(message or "The sync server did not accept the sign-in.", code=code, status=status)
    if status == 403 and code == "device_revoked":
        return DeviceRevoked(
            "This computer was removed from the team by an admin; your local data is kept.", code=code, status=status
        )
    if status == 403:
        return Forbidden(message or "Your role does not allow this.", code=code, status=status)
    if status == 426:
        supported = ", ".join(str(v) for v in (body.supported_protocols or [])) if body else ""
        return ProtocolMismatch(
            f"The sync server speaks protocol {supported or 'another version'}, this Parley speaks {PROTOCOL_VERSION}:"
            " update Parley (or the server).",
            code=code,
            status=status,
        )
    return RequestRefused(message or f"The sync server refused the request (HTTP {status}).", code=code, status=status)


# ---- tokens -----------------------------------------------------------------------------------------------------
class TokenSource(Protocol):
    """Where the API gets tokens and leaves a refreshed session (``credentials.Credentials``)."""

    def access_token(self) -> str | None: ...

    def refresh_token(self) -> str | None: ...

    def save_session(self, session: Session) -> None: ...


class SyncApi:
    """The HTTP and WebSocket client of one server. ``tokens`` is ``None`` before sign-in (sign-up, login, invite)."""

    def __init__(
        self,
        server_url: str,
        tokens: TokenSource | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.tokens = tokens
        self._client = httpx.AsyncClient(base_url=self.server_url, timeout=timeout, transport=transport)
        self._refresh_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._client.aclose()

    # ---- auth ----------------------------------------------------------------------------------------------------
    async def signup(self, request: SignupRequest) -> Session:
        return _parse(Session, await self._call("POST", "/api/orgs", body=request, auth=False))

    async def login(self, request: LoginRequest) -> Session:
        return _parse(Session, await self._call("POST", "/api/auth/login", body=request, auth=False))

    async def accept_invite(self, request: AcceptInviteRequest) -> Session:
        return _parse(Session, await self._call("POST", "/api/invites/accept", body=request, auth=False))

    async def refresh(self) -> Session:
        """Trade the refresh token for a new session and save it (the old refresh token stops working)."""
        tokens = self._require_tokens()
        refresh_token = tokens.refresh_token()
        if not refresh_token:
            raise Unauthorized("This computer is not signed in to the sync server.")
        try:
            answer = await self._call(
                "POST", "/api/auth/refresh", body=RefreshRequest(refresh_token=refresh_token), auth=False
            )
        except TokenExpired as exc:  # an expired refresh token: the user signs in again
            raise Unauthorized("Your sign-in to the sync server expired: sign in again.") from exc
        session = _parse(Session, answer)
        tokens.save_session(session)
        return session

    async def logout(self) -> None:
        # Signing out is local first: a server that does not answer soon must not keep the person waiting for the
        # whole request timeout (the device stays listed until an admin revokes it).
        await self._call("POST", "/api/auth/logout", timeout=LOGOUT_TIMEOUT_SECONDS)

    # ---- team ----------------------------------------------------------------------------------------------------
    async def invite(self, email: str, role: Role = "staff") -> Invite:
        if role == "owner":
            raise RequestRefused("An invite is for an admin or a staff member; there is one owner.")
        return _parse(Invite, await self._call("POST", "/api/invites", body=InviteRequest(email=email, role=role)))

    async def members(self) -> list[MemberInfo]:
        return _parse_list(_MEMBERS, await self._call("GET", "/api/members"))

    async def set_role(self, member_id: str, role: Role) -> MemberInfo:
        answer = await self._call("PATCH", f"/api/members/{_segment(member_id)}", body=RoleChange(role=role))
        return _parse(MemberInfo, answer)

    async def remove_member(self, member_id: str) -> None:
        await self._call("DELETE", f"/api/members/{_segment(member_id)}")

    async def devices(self) -> list[DeviceInfo]:
        return _parse_list(_DEVICES, await self._call("GET", "/api/devices"))

    async def revoke_device(self, device_id: str) -> None:
        await self._call("DELETE", f"/api/devices/{_segment(device_id)}")

    # ---- AI gateway ----------------------------------------------------------------------------------------------
    async def ai_settings(self) -> GatewayPolicy:
        """The team's provider entries and limits (admin+); keys never come back, only ``key_set``/``key_last4``."""
        return _parse(GatewayPolicy, await self._call("GET", "/api/ai/settings"))

    async def put_ai_settings(self, settings: GatewayPolicy) -> GatewayPolicy:
        """Replace them (owner only); an entry without ``api_key`` keeps the stored key. Returns the new settings."""
        return _parse(GatewayPolicy, await self._call("PUT", "/api/ai/settings", body=settings))

    async def ai_usage(self) -> list[GatewayUsage]:
        """This month's gateway use per member (admin+)."""
        return _parse_list(_USAGE, await self._call("GET", "/api/ai/usage"))

    # ---- media through the team server (docs/sync.md, "Media") --------------------------------------------------
    async def media_settings(self) -> MediaSettings:
        return _parse(MediaSettings, await self._call("GET", "/api/media/settings"))

    async def put_media_settings(self, enabled: bool) -> MediaSettings:
        """Turn sharing media through the server on or off (owner only; off removes the team's copies there)."""
        body = MediaSettingsChange(enabled=enabled)
        return _parse(MediaSettings, await self._call("PUT", "/api/media/settings", body=body))

    async def put_media(self, blob_id: str, data: bytes, mime: str) -> None:
        await self._call(
            "PUT",
            f"/api/media/{_segment(blob_id)}",
            raw=(data, mime or "application/octet-stream"),
            timeout=MEDIA_TIMEOUT_SECONDS,
        )

    async def get_media(self, blob_id: str) -> tuple[bytes, str]:
        """The bytes and their type; ``RequestRefused`` with status 404 when the server does not have them."""
        answer = await self._call("GET", f"/api/media/{_segment(blob_id)}", timeout=MEDIA_TIMEOUT_SECONDS)
        return answer.content, answer.headers.get("content-type", "").split(";", 1)[0].strip()

    async def delete_media(self, blob_id: str) -> None:
        await self._call("DELETE", f"/api/media/{_segment(blob_id)}")

    # ---- sync ----------------------------------------------------------------------------------------------------
    async def push(self, request: PushRequest) -> PushResponse:
        return _parse(PushResponse, await self._call("POST", "/api/sync/push", body=request))

    async def pull(self, cursor: int, limit: int) -> PullResponse:
        params = {"protocol": PROTOCOL_VERSION, "cursor": cursor, "limit": limit}
        return _parse(PullResponse, await self._call("GET", "/api/sync/pull", params=params))

    async def notices(self) -> AsyncIterator[VersionNotice]:
        """Connect the WebSocket, authenticate in the first message, then yield each ``VersionNotice``.

        Ends when the server closes the socket; connection failures raise ``ServerUnreachable``.
        """
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

        token = await self._fresh_access_token()
        # changes=1: small writes come with their rows (VersionNotice), which spares most pulls in a busy org.
        url = "ws" + self.server_url.removeprefix("http") + "/api/sync/socket?changes=1"
        try:
            # close_timeout: leaving (sign-out, quit) waits at most 2 s for the server's half of the closing
            # handshake, not websockets' default 10 s.
            async with connect(url, open_timeout=10, close_timeout=2, max_size=64 * 1024) as socket:
                await socket.send(SocketAuth(access_token=token).model_dump_json())
                async for raw in socket:
                    try:
                        payload = json.loads(raw)
                    except ValueError:
                        continue
                    if isinstance(payload, dict) and payload.get("type") == "version":
                        yield VersionNotice.model_validate(payload)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            if code == 4403:
                raise error_for(403, ErrorBody(code="device_revoked", message="device revoked")) from None
            if code == 4401:  # the token expired on the way: refresh, and the caller reconnects
                await self._refresh_once(token)
                return
            raise ServerUnreachable("The sync server closed the live updates; Parley reconnects.") from None
        except InvalidStatus as exc:
            raise error_for(exc.response.status_code, None) from None
        except (OSError, TimeoutError, WebSocketException) as exc:
            log.info("live updates: %s", type(exc).__name__)
            raise ServerUnreachable("The sync server's live updates are not reachable; Parley reconnects.") from None

    # ---- plumbing ------------------------------------------------------------------------------------------------
    def _require_tokens(self) -> TokenSource:
        if self.tokens is None:
            raise Unauthorized("This computer is not signed in to the sync server.")
        return self.tokens

    async def _fresh_access_token(self) -> str:
        token = self._require_tokens().access_token()
        if token:
            return token
        await self._refresh_once(None)
        token = self._require_tokens().access_token()
        if not token:
            raise Unauthorized("This computer is not signed in to the sync server.")
        return token

    async def _refresh_once(self, stale: str | None) -> None:
        """Refresh unless another caller already did while we waited for the lock (the token changed)."""
        async with self._refresh_lock:
            current = self._require_tokens().access_token()
            if current and current != stale:
                return
            await self.refresh()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        timeout: float | None = None,
        raw: tuple[bytes, str] | None = None,
    ) -> httpx.Response:
        """Send, attaching the access token; on ``token_expired`` refresh once and send again. ``raw`` is a body of
        bytes with its content type (a media file) instead of a JSON ``body``."""
        token = await self._fresh_access_token() if auth else None
        try:
            return await self._send(method, path, body=body, params=params, token=token, timeout=timeout, raw=raw)
        except TokenExpired:
            if not auth:
                raise
        await self._refresh_once(token)
        token = await self._fresh_access_token()
        return await self._send(method, path, body=body, params=params, token=token, timeout=timeout, raw=raw)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None,
        params: dict[str, Any] | None,
        token: str | None,
        timeout: float | None = None,
        raw: tuple[bytes, str] | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        content = body.model_dump_json().encode("utf-8") if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        elif raw is not None:
            content, headers["Content-Type"] = raw
        try:
            response = await self._client.request(
                method,
                path,
                content=content,
                params=params,
                headers=headers,
                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
            )
        except httpx.TimeoutException:
            raise ServerUnreachable("The sync server did not answer in time; Parley will try again.") from None
        except httpx.TransportError as exc:
            log.info("sync request failed: %s", type(exc).__name__)
            why = "nothing answers there" if isinstance(exc, httpx.ConnectError) else "the connection broke"
            raise ServerUnreachable(
                f"The sync server at {self.server_url} cannot be reached ({why}); "
                "Parley keeps working offline and will try again."
            ) from None
        if response.status_code >= 400:
            raise error_for(response.status_code, _error_body(response))
        return response


def _parse(model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except (ValueError, ValidationError) as exc:
        log.info("unreadable %s from the sync server", model.__name__)
        raise RequestRefused(
            "The sync server sent an answer Parley does not understand; it may be a different version."
        ) from exc


def _parse_list(adapter: TypeAdapter[list[L]], response: httpx.Response) -> list[L]:
    try:
        return adapter.validate_json(response.content)
    except (ValueError, ValidationError) as exc:
        raise RequestRefused(
            "The sync server sent an answer Parley does not understand; it may be a different version."
        ) from exc


def _error_body(response: httpx.Response) -> ErrorBody | None:
    try:
        return ErrorBody.model_validate_json(response.content)
    except (ValueError, ValidationError):
        return None


def _segment(value: str) -> str:
    """An id as one URL path segment (ids are UUIDs, but never let one add path segments)."""
    from urllib.parse import quote

    return quote(value, safe="")
