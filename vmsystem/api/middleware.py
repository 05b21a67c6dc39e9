"""Pure ASGI middleware, outermost first:

- :class:`RequestMiddleware`: ``X-Request-Id`` on every response, HEAD served as GET without a
  body, access log and metrics;
- (CORS, when origins are configured, so that its headers reach every answer below);
- :class:`GuardMiddleware`: bearer auth, body size limit, and the INTERNAL envelope for
  unexpected exceptions.
"""

from __future__ import annotations

import hmac
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vmsystem.api.errors import error_response
from vmsystem.api.metrics import HTTP_DURATION, HTTP_REQUESTS
from vmsystem.core.errors import InternalError, PayloadTooLarge, Unauthorized

__all__ = ["GuardMiddleware", "RequestMiddleware"]

_log = logging.getLogger("vmsystem.http")
_ID_PARAMS = frozenset({"session_id", "execution_id", "template_id"})
_PUBLIC_API = {"/api/v1/health"}
_PROTECTED_PREFIXES = ("/api/", "/mcp", "/metrics", "/openapi.json", "/docs", "/redoc")


class _TooLarge(Exception):
    pass


class RequestMiddleware:
    """Adds ``X-Request-Id`` (echoing the request's), answers HEAD like GET without a body,
    logs and counts requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:200] or str(uuid.uuid4())
        rid = request_id.encode("latin-1")
        path: str = scope["path"]
        status_holder = [500]
        head = scope["method"] == "HEAD"
        if head:
            scope["method"] = "GET"  # in place: the router's matches stay visible here
        finished = [False]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid)]
            elif head and message["type"] == "http.response.body":
                if finished[0]:
                    return  # a streaming body goes on until the client leaves: drop it
                finished[0] = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if head:
                scope["method"] = "HEAD"
            self._observe(scope, path, status_holder[0], started, request_id)

    def _observe(self, scope: Scope, path: str, status: int, started: float, rid: str) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", None) or ("/api/*" if path.startswith("/api/") else "/*")
        method = scope["method"]
        HTTP_REQUESTS.labels(method, template, str(status)).inc()
        HTTP_DURATION.labels(method, template).observe(elapsed)
        if not _log.isEnabledFor(logging.INFO):
            return
        params = scope.get("path_params") or {}
        extra = {k: v for k, v in params.items() if k in _ID_PARAMS}
        extra.update(
            request_id=rid,
            method=method,
            path=path,
            status=status,
            duration_ms=round(elapsed * 1000, 3),
        )
        _log.info("request", extra=extra)


class GuardMiddleware:
    """Checks the bearer token, caps request bodies, and turns an unexpected exception into
    the INTERNAL envelope (inside CORS, so that browsers can read these answers too)."""

    def __init__(self, app: ASGIApp, *, auth_token: str | None, max_request_bytes: int) -> None:
        self.app = app
        self.token = auth_token.encode() if auth_token else None
        self.max_bytes = max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        early = self._reject(scope, headers, scope["path"])
        if early is None and b"transfer-encoding" in headers and b"content-length" not in headers:
            # A chunked body has no declared size: read it (up to the limit) before the app
            # runs, so that an oversized one is refused with 413 rather than a parse error.
            receive, early = await self._buffer(receive)
        if early is not None:
            await early(scope, receive, send)
            return
        sent = [False]

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent[0] = True
            await send(message)

        try:
            await self.app(scope, self._limited(receive), send_tracked)
        except _TooLarge:
            await self._too_large()(scope, receive, send)
        except Exception as exc:
            # Without this the server-error fallback would answer outside the other
            # middleware (no X-Request-Id, no CORS); re-raised for the server's log.
            if not sent[0]:
                await error_response(InternalError(f"internal error: {type(exc).__name__}"))(
                    scope, receive, send
                )
            raise

    def _too_large(self) -> Any:
        return error_response(
            PayloadTooLarge(f"request body is larger than {self.max_bytes} bytes")
        )

    async def _buffer(self, receive: Receive) -> tuple[Receive, Any]:
        """Read the whole body (at most ``max_bytes``) and replay it to the app."""
        chunks: list[bytes] = []
        size = 0
        first: Message | None = None
        while True:
            message = await receive()
            if message["type"] != "http.request":
                first = message  # the client went away: hand that on
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return receive, self._too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        pending: list[Message] = [
            {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        ]
        if first is not None:
            pending = [first]

        async def replay() -> Message:
            if pending:
                return pending.pop(0)
            return await receive()

        return replay, None

    def _reject(self, scope: Scope, headers: dict[bytes, bytes], path: str) -> Any:
        if (
            self.token is not None
            and scope["method"] != "OPTIONS"
            and path not in _PUBLIC_API
            and path.startswith(_PROTECTED_PREFIXES)
        ):
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, b"Bearer " + self.token):
                return error_response(
                    Unauthorized(), headers={"WWW-Authenticate": 'Bearer realm="vm-system"'}
                )
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return self._too_large()
        return None

    def _limited(self, receive: Receive) -> Receive:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        return limited
