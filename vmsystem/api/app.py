"""The ASGI application: routes, error envelope, middleware, metrics and the web UI."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline

from vmsystem import __version__
from vmsystem.api.bodies import install_schemas
from vmsystem.api.deps import size_thread_limiter
from vmsystem.api.errors import document_errors, install_error_handlers
from vmsystem.api.mcp import mcp_route
from vmsystem.api.metrics import render_metrics
from vmsystem.api.middleware import GuardMiddleware, HostPolicy, RequestMiddleware
from vmsystem.api.routes import (
    executions,
    exports,
    files,
    forks,
    libraries,
    sessions,
    system,
    templates,
)
from vmsystem.api.webui import serve_ui
from vmsystem.core import VmSystem

__all__ = ["DOCS_ASSETS", "create_app"]

#: Where the daemon serves the Swagger UI and ReDoc assets of /docs and /redoc.
DOCS_ASSETS = "/docs-assets"


def create_app(
    vm: VmSystem,
    *,
    auth_token: str | None = None,
    cors_origins: tuple[str, ...] = (),
    max_request_bytes: int = 1048576,
    max_header_bytes: int = 65536,
    max_header_count: int = 100,
    max_file_bytes: int | None = None,
    close_on_shutdown: bool = True,
    allowed_hosts: tuple[str, ...] = (),
    access_log: bool = False,
) -> FastAPI:
    """An app serving ``vm``; the app's shutdown shuts the system down (``vm.shutdown()``:
    cancel, drain, close sessions, flush), so an app embedded in any ASGI server stops as
    cleanly as the daemon.

    Requests are served for loopback ``Host`` names and ``allowed_hosts`` only (see
    :class:`~vmsystem.api.middleware.HostPolicy`). ``access_log``: one log line per request.
    """

    mcp, mcp_endpoint = mcp_route(vm)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        size_thread_limiter(vm)
        # Everything loaded so far (about 180,000 objects: the app, its schemas, the store's
        # engine) lives as long as the process. Frozen, the cyclic collector no longer walks
        # it in every full collection, which took about a sixth of the daemon's CPU under load.
        gc.collect()
        gc.freeze()
        async with mcp_endpoint.running():
            yield
        if close_on_shutdown:
            # Off the loop: executions awaited on it end (cancelled) while the system drains.
            await anyio.to_thread.run_sync(vm.shutdown)

    # /docs (Swagger UI) and /redoc load their scripts and styles from the daemon itself
    # (fastapi-offline ships them), never from a CDN: they work on an offline server.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
        title="vm-system",
        version=__version__,
        description="Daemon-first JavaScript runtime service: templates, sessions, executions, "
        'events. Errors use the envelope {"error": {code, message, details}}.',
        lifespan=lifespan,
    )
    app.state.system = vm
    # Routes are matched in order: the execution routes (the hot path) go first.
    for router in (
        executions.router,
        sessions.router,
        forks.router,
        files.router,
        exports.router,
        templates.router,
        libraries.router,
        system.router,
    ):
        app.include_router(router)
    app.router.routes.append(mcp)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        body, content_type = render_metrics(request.app.state.system)
        return Response(body, media_type=content_type)

    install_error_handlers(app, serve_ui)
    install_schemas(app)
    document_errors(app)
    # The last one added runs first: request ids outermost, then CORS, then auth and limits,
    # so that 401/413/500 answers carry both X-Request-Id and the CORS headers.
    app.add_middleware(
        GuardMiddleware,
        auth_token=auth_token,
        max_request_bytes=max_request_bytes,
        max_header_bytes=max_header_bytes,
        max_header_count=max_header_count,
        max_file_bytes=max_file_bytes if max_file_bytes is not None else vm.files.max_file_bytes,
        hosts=HostPolicy(allowed_hosts, cors_origins),
    )
    if cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins),
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            # The Mcp-* headers: browser-based MCP clients of /mcp (docs/mcp.md).
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-Id",
                "X-Requested-With",
                "Last-Event-ID",
                "Mcp-Session-Id",
                "Mcp-Protocol-Version",
            ],
            expose_headers=["X-Request-Id", "Mcp-Session-Id"],
        )
    app.add_middleware(RequestMiddleware, access_log=access_log)
    return app
