"""Pure ASGI middleware, outermost first:

- :class:`RequestMiddleware`: ``X-Request-Id`` on every response, HEAD served as GET without a
  body, metrics, and the access log when ``--access-log`` is on;
- (CORS, when origins are configured, so that its headers reach every answer below);
- :class:`GuardMiddleware`: the request head limits, the ``Host`` allowlist (DNS rebinding),
  the cross-site request check (CSRF), bearer auth, paths no file or route can have (a NUL
  byte), the body size limit, and the INTERNAL envelope for unexpected exceptions.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vmsystem.api.bodies import declares_json
from vmsystem.api.errors import error_response
from vmsystem.api.metrics import HTTP_DURATION, HTTP_REQUESTS
from vmsystem.core.errors import (
    CrossSiteRequest,
    HeadersTooLarge,
    InternalError,
    InvalidHost,
    PayloadTooLarge,
    RouteNotFound,
    Unauthorized,
)
from vmsystem.core.ids import new_id

__all__ = ["LOOPBACK_HOSTS", "GuardMiddleware", "HostPolicy", "RequestMiddleware"]

_log = logging.getLogger("vmsystem.http")
_ID_PARAMS = frozenset({"session_id", "execution_id", "template_id"})
_PUBLIC_API = {"/api/v1/health"}
#: Routes whose bodies are files or archives: limited by ``--max-file-bytes``.
_FILE_ROUTE = re.compile(r"^/api/v1/sessions/[^/]+/(files|archive)(/|$)")
_PROTECTED_PREFIXES = ("/api/", "/mcp", "/metrics", "/openapi.json", "/docs", "/redoc")


#: Host names always served: a page can only rebind its own name, never these.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Headers a web page can only send to another site after a CORS preflight (which only the
#: configured origins pass): a request carrying one was not forged by a foreign page.
_PREFLIGHTED_HEADERS = (b"x-requested-with", b"mcp-session-id", b"mcp-protocol-version")


class _TooLarge(Exception):
    pass


def _host_name(value: str) -> str:
    """The host part of a ``Host`` header or URL netloc (port and IPv6 brackets removed)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") > 1:
        return value  # a bare IPv6 address
    return value.partition(":")[0].rstrip(".")


class HostPolicy:
    """Which ``Host`` headers and ``Origin`` s are served.

    ``allowed_hosts`` adds names to :data:`LOOPBACK_HOSTS` (and every loopback address):
    exact names, ``*.suffix`` wildcards, or ``*`` for any host. ``cors_origins`` are origins
    whose pages may send state-changing requests (besides the daemon's own origin).
    """

    def __init__(self, allowed_hosts: Sequence[str] = (), cors_origins: Sequence[str] = ()):
        names = [_host_name(h) for h in (*LOOPBACK_HOSTS, *allowed_hosts) if h.strip()]
        self.any_host = "*" in names
        self.names = frozenset(n for n in names if not n.startswith("*"))
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*.") and len(n) > 2)
        self.origins = frozenset(o.strip().rstrip("/").lower() for o in cors_origins)
        self.any_origin = "*" in self.origins
        self.shown = ", ".join(dict.fromkeys(h.strip() for h in (*LOOPBACK_HOSTS, *allowed_hosts)))

    def host_allowed(self, host: str) -> bool:
        """Whether a ``Host`` header (name and optional port) is served."""
        name = _host_name(host)
        if self.any_host or name in self.names or any(name.endswith(s) for s in self.suffixes):
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def origin_allowed(self, origin: str, host: str) -> bool:
        """Whether a page of ``origin`` may change state: the daemon's own origin (the one
        the request's already-checked ``Host`` names) or a configured CORS origin."""
        normalized = origin.strip().rstrip("/").lower()
        if self.any_origin or normalized in self.origins:
            return True
        parts = urlsplit(normalized)
        return parts.scheme in {"http", "https"} and parts.netloc == host.strip().lower()


class RequestMiddleware:
    """Adds ``X-Request-Id`` (echoing the request's), answers HEAD like GET without a body,
    logs and counts requests."""

    def __init__(self, app: ASGIApp, *, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log
        #: The metrics' children by (method, route, status): one dict lookup per request
        #: instead of prometheus_client's label resolution.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:200] or new_id()
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
        key = (method, template, status)
        children = self._children.get(key)
        if children is None:
            children = (
                HTTP_REQUESTS.labels(method, template, str(status)),
                HTTP_DURATION.labels(method, template),
            )
            if len(self._children) < 10000:  # routes are templates: few keys
                self._children[key] = children
        children[0].inc()
        children[1].observe(elapsed)
        if not self.access_log or not _log.isEnabledFor(logging.INFO):
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

    def __init__(
        self,
        app: ASGIApp,
        *,
        auth_token: str | None,
        max_request_bytes: int,
        hosts: HostPolicy | None = None,
        max_header_bytes: int = 65536,
        max_header_count: int = 100,
        max_file_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.token = auth_token.encode() if auth_token else None
        self.max_bytes = max_request_bytes
        self.max_header_bytes = max_header_bytes
        self.max_header_count = max_header_count
        #: The body limit of file and archive uploads (``--max-file-bytes``).
        self.max_file_bytes = max_file_bytes if max_file_bytes is not None else max_request_bytes
        self.hosts = hosts or HostPolicy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self.max_file_bytes if _FILE_ROUTE.match(scope["path"]) else self.max_bytes
        early = self._reject(scope, headers, scope["path"], limit)
        if early is None and b"transfer-encoding" in headers and b"content-length" not in headers:
            # A chunked body has no declared size: read it (up to the limit) before the app
            # runs, so that an oversized one is refused with 413 rather than a parse error.
            receive, early = await self._buffer(receive, limit)
        if early is not None:
            await early(scope, receive, send)
            return
        sent = [False]

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent[0] = True
            await send(message)

        try:
            await self.app(scope, self._limited(receive, limit), send_tracked)
        except _TooLarge:
            await self._too_large(limit)(scope, receive, send)
        except Exception as exc:
            # Without this the server-error fallback would answer outside the other
            # middleware (no X-Request-Id, no CORS); re-raised for the server's log.
            if not sent[0]:
                await error_response(InternalError(f"internal error: {type(exc).__name__}"))(
                    scope, receive, send
                )
            raise

    def _too_large(self, limit: int) -> Any:
        return error_response(PayloadTooLarge(f"request body is larger than {limit} bytes"))

    async def _buffer(self, receive: Receive, limit: int) -> tuple[Receive, Any]:
        """Read the whole body (at most ``limit`` bytes) and replay it to the app."""
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
            if size > limit:
                return receive, self._too_large(limit)
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

    def _reject(self, scope: Scope, headers: dict[bytes, bytes], path: str, limit: int) -> Any:
        # The daemon's protocol refuses such a head before reading it (vmsystem.api.protocol);
        # this check holds the same limits under any other ASGI server.
        fields = scope["headers"]
        head = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        head += sum(len(name) + len(value) + 4 for name, value in fields)
        if head > self.max_header_bytes or len(fields) > self.max_header_count:
            return error_response(
                HeadersTooLarge(
                    f"request head is larger than {self.max_header_bytes} bytes or has more "
                    f"than {self.max_header_count} header fields",
                    max_header_bytes=self.max_header_bytes,
                    max_header_count=self.max_header_count,
                )
            )
        host = headers.get(b"host", b"").decode("latin-1")
        if not self.hosts.host_allowed(host):
            return error_response(
                InvalidHost(
                    f"Host {host!r} is not served by this daemon (allowed: {self.hosts.shown}; "
                    f"add names with --allowed-host)",
                    host=host,
                )
            )
        if scope["method"] in _UNSAFE_METHODS and self._cross_site(headers, host):
            return error_response(
                CrossSiteRequest(
                    f"{scope['method']} {path} refused: a state-changing request must send "
                    f"Content-Type: application/json or an X-Requested-With header, and an "
                    f"Origin only if it is the daemon's own or a --cors-origin"
                )
            )
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
        if "\x00" in path:
            # No file or route has a NUL byte (the file system refuses one outright).
            return error_response(RouteNotFound(f"No route for {path!r}"))
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return self._too_large(limit)
        return None

    def _cross_site(self, headers: dict[bytes, bytes], host: str) -> bool:
        """Whether a web page of another site could have sent this request.

        A page can send a form-encoded or text body, or none, to any site without asking
        (a "simple" request); JSON, a bearer token and custom headers need a CORS preflight,
        which only the configured origins pass (browsers never add ``Bearer`` credentials by
        themselves). An ``Origin`` header, when present, must be allowed.
        """
        origin = headers.get(b"origin")
        if origin is not None:
            return not self.hosts.origin_allowed(origin.decode("latin-1"), host)
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        if declares_json(content_type) or any(h in headers for h in _PREFLIGHTED_HEADERS):
            return False
        return not headers.get(b"authorization", b"").lower().startswith(b"bearer ")

    def _limited(self, receive: Receive, limit: int) -> Receive:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        return limited
