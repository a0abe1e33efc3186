"""The server's gate (a plain ASGI middleware, cheap on every request): the Host header, the
bearer token and the upload size limits, checked before any route runs.

* Without a token (loopback only), the ``Host`` header must name a loopback address: a web
  page elsewhere cannot reach the server through a DNS name that resolves to 127.0.0.1
  ("DNS rebinding").
* With a token, every request needs ``Authorization: Bearer <token>`` except the page's own
  static files (``/``, ``/static/…``, ``/docs``: public package files, no data). A WebSocket
  from a browser, which cannot set headers, may offer the sub-protocol
  ``bearer.<token in base64url>`` instead (the page does).
* A body larger than the limit of its route (``/v1/videos``: ``max_video_mb``; other routes:
  ``max_upload_mb``) is refused with 413 from its ``Content-Length`` before any of it is
  used; a body without one is counted while it is read and refused as soon as it passes the
  limit. Either way the rest of the body is read and dropped (up to :data:`DRAIN_MAX`), so
  the client gets the answer instead of a reset connection.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from hhpnet.serve.engine import TooLarge
from hhpnet.serve.settings import ServeSettings

__all__ = ["PUBLIC_PATHS", "BodyTooLarge", "Guard", "bearer_protocol"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: paths served without a token (the page's own files)
PUBLIC_PATHS = ("/", "/docs", "/favicon.ico")
PUBLIC_PREFIX = "/static/"
_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}
_BEARER_PREFIX = "bearer."
#: a refused body is read and dropped up to this many bytes before the 413 (then: closed)
DRAIN_MAX = 256 * 1024 * 1024


class BodyTooLarge(TooLarge):
    """Raised from ``receive`` when a body without Content-Length passes its limit."""


def bearer_protocol(token: str) -> str:
    """The WebSocket sub-protocol that carries ``token`` (what the page offers)."""
    return _BEARER_PREFIX + base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")


def _protocol_token(protocols: list[str]) -> str | None:
    for p in protocols:
        if p.startswith(_BEARER_PREFIX):
            raw = p[len(_BEARER_PREFIX) :]
            try:
                return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return None
    return None


class Guard:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, settings: ServeSettings) -> None:
        self.app = app
        self.settings = settings
        self.token = settings.token.encode() if settings.token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope.get("path", "")
        problem = self._refusal(scope, headers, path)
        if problem is not None:
            status, message = problem
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
            else:
                extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
                await _reply(send, status, message, extra)
            return
        if kind == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            limit = (
                self.settings.max_video_bytes
                if path.startswith("/v1/videos")
                else self.settings.max_upload_bytes
            )
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                await _drain(receive, int(length))
                await _reply(send, 413, _too_large(limit), [(b"connection", b"close")])
                return
            receive = _counted(receive, limit)
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope, headers: dict[str, str], path: str) -> tuple[int, str] | None:
        if self.token is None:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name.lower() not in _LOOPBACK_NAMES:
                return 400, "unexpected Host header: this server answers on the loopback only"
            return None
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIX):
            return None
        given: str | None = None
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        elif scope["type"] == "websocket":
            protocols = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
            given = _protocol_token(protocols)
        if given is None or not hmac.compare_digest(given.encode(), self.token):
            return 401, "missing or wrong token: send 'Authorization: Bearer <token>'"
        return None


def _too_large(limit: int) -> str:
    return f"upload too large (limit {limit / 1024 / 1024:g} MB)"


async def _drain(receive: Receive, length: int) -> None:
    """Read and drop a refused body (up to :data:`DRAIN_MAX` bytes) before answering: a server
    that closes a connection with unread data makes the client's TCP stack reset it, and the
    client may then lose the 413 answer itself."""
    seen = 0
    while seen < min(length, DRAIN_MAX):
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _counted(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                if message.get("more_body", False):
                    await _drain(receive, DRAIN_MAX)
                raise BodyTooLarge(_too_large(limit))
        return message

    return wrapped


async def _reply(
    send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
