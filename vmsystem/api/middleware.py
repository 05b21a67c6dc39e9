"""Pure ASGI middleware: request ids, bearer auth, body size limit, access log, metrics."""

from __future__ import annotations

import hmac
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vmsystem.api.errors import error_response
from vmsystem.api.metrics import HTTP_DURATION, HTTP_REQUESTS
from vmsystem.core.errors import PayloadTooLarge, Unauthorized

__all__ = ["RequestMiddleware"]

_log = structlog.get_logger("vmsystem.http")
_PUBLIC_API = {"/api/v1/health"}
_PROTECTED_PREFIXES = ("/api/", "/metrics", "/openapi.json", "/docs", "/redoc")


class _TooLarge(Exception):
    pass


class RequestMiddleware:
    """Adds ``X-Request-Id``, checks the bearer token, caps bodies, logs and counts requests."""

    def __init__(self, app: ASGIApp, *, auth_token: str | None, max_request_bytes: int) -> None:
        self.app = app
        self.token = auth_token.encode() if auth_token else None
        self.max_bytes = max_request_bytes

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

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid)]
            await send(message)

        early = self._reject(scope, headers, path)
        if early is not None:
            await early(scope, receive, send_with_id)
        else:
            try:
                await self.app(scope, self._limited(receive), send_with_id)
            except _TooLarge:
                await error_response(PayloadTooLarge(
                    f"request body is larger than {self.max_bytes} bytes"
                ))(scope, receive, send_with_id)
        self._observe(scope, path, status_holder[0], started, request_id)

    def _reject(self, scope: Scope, headers: dict[bytes, bytes], path: str) -> Any:
        if self.token is not None and scope["method"] != "OPTIONS" and path not in _PUBLIC_API and path.startswith(
            _PROTECTED_PREFIXES
        ):
            given = headers.get(b"authorization", b"")
            if not hmac.compare_digest(given, b"Bearer " + self.token):
                return error_response(
                    Unauthorized(), headers={"WWW-Authenticate": 'Bearer realm="vm-system"'}
                )
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return error_response(
                PayloadTooLarge(f"request body is larger than {self.max_bytes} bytes")
            )
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

    def _observe(self, scope: Scope, path: str, status: int, started: float, rid: str) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", None) or ("/api/*" if path.startswith("/api/") else "/*")
        method = scope["method"]
        HTTP_REQUESTS.labels(method, template, str(status)).inc()
        HTTP_DURATION.labels(method, template).observe(elapsed)
        params = scope.get("path_params") or {}
        _log.info(
            "request",
            request_id=rid,
            method=method,
            path=path,
            status=status,
            duration_ms=round(elapsed * 1000, 3),
            **{k: v for k, v in params.items() if k in {"session_id", "execution_id", "template_id"}},
        )
