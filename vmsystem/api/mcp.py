"""``/mcp``: the MCP server (Streamable HTTP) over the core, in the daemon's app.

The tools and resources are defined once in :mod:`vmsystem.mcp`; here they act on the
daemon's own :class:`~vmsystem.core.VmSystem` (no HTTP round trip). The ``/mcp`` route sits
behind the same middleware as ``/api/v1``: bearer token, body size limit, request ids.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import aclosing, asynccontextmanager
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup, TaskStatus
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from vmsystem import __version__
from vmsystem.api.deps import run_in
from vmsystem.api.errors import error_response
from vmsystem.api.responses import (
    entry_json,
    event_json,
    execution_json,
    session_json,
    template_json,
)
from vmsystem.api.streams import follow_events
from vmsystem.core import VmSystem
from vmsystem.core.errors import InternalError, VmError
from vmsystem.core.ids import normalize_id
from vmsystem.mcp.backend import Json, ToolFailure

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

__all__ = ["MCP_PATH", "CoreBackend", "McpEndpoint", "mcp_route"]

MCP_PATH = "/mcp"
T = TypeVar("T")


class CoreBackend:
    """The MCP tools' operations on an in-process :class:`VmSystem`."""

    def __init__(self, vm: VmSystem) -> None:
        self.vm = vm

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A blocking core call off the event loop, its VmError turned into a ToolFailure."""
        try:
            return await run_in(self.vm, fn, *args, **kwargs)
        except VmError as exc:
            raise ToolFailure(exc.code, exc.message, exc.details) from None

    async def list_templates(self) -> list[Json]:
        return [template_json(t) for t in await self._call(self.vm.templates.list)]

    async def create_session(self, template: str, worktree_path: str | None) -> Json:
        return session_json(
            await self._call(self.vm.sessions.create, template, worktree_path, interactive=True)
        )

    async def write_file(self, session_id: str, path: str, data: bytes) -> Json:
        return entry_json(await self._call(self.vm.files.write, session_id, path, data))

    async def read_file(self, session_id: str, path: str) -> bytes:
        return (await self._call(self.vm.files.read, session_id, path)).data

    async def list_files(self, session_id: str, path: str, recursive: bool) -> Json:
        entries, truncated = await self._call(
            self.vm.files.list, session_id, path, recursive=recursive
        )
        return {
            "path": path or ".",
            "entries": [entry_json(e) for e in entries],
            "truncated": truncated,
        }

    async def list_sessions(self, status: str | None) -> list[Json]:
        return [session_json(s) for s in await self._call(self.vm.sessions.list, status=status)]

    async def get_session(self, session_id: str) -> Json:
        return session_json(await self._call(self.vm.sessions.get, session_id))

    async def close_session(self, session_id: str) -> Json:
        return session_json(await self._call(self.vm.sessions.close, session_id))

    async def start_repl(self, session_id: str, code: str, language: str | None = None) -> Json:
        return execution_json(
            await self._call(
                self.vm.executions.repl, session_id, code, wait=False, language=language
            )
        )

    async def start_file(
        self,
        session_id: str,
        path: str,
        args: Mapping[str, Any] | None,
        env: Mapping[str, str] | None,
    ) -> Json:
        execution = await self._call(
            self.vm.executions.run_file, session_id, path, args=args, env=env, wait=False
        )
        return execution_json(execution)

    async def follow(self, execution_id: str) -> AsyncIterator[Json]:
        try:
            eid = normalize_id(execution_id, "execution_id")
        except VmError as exc:
            raise ToolFailure(exc.code, exc.message, exc.details) from None
        async with aclosing(follow_events(self.vm, eid, 0)) as events:
            async for event in events:
                yield event_json(event)

    async def get_execution(self, execution_id: str) -> Json:
        return execution_json(await self._call(self.vm.executions.get, execution_id))

    async def list_executions(self, session_id: str, limit: int) -> list[Json]:
        rows = await self._call(self.vm.executions.list, session_id, limit=limit)
        return [execution_json(x) for x in rows]

    async def list_events(self, execution_id: str, after_seq: int, limit: int) -> list[Json]:
        rows = await self._call(
            self.vm.executions.events, execution_id, after_seq=after_seq, limit=limit
        )
        return [event_json(e) for e in rows]

    async def cancel_execution(self, execution_id: str) -> Json:
        return execution_json(await self._call(self.vm.executions.cancel, execution_id))


class McpEndpoint:
    """The ``/mcp`` ASGI endpoint: the MCP server behind a Streamable HTTP session manager.

    The MCP SDK (about 27 MiB of the daemon's memory) is loaded by the first request to
    ``/mcp``, not at start: most daemons never serve one. Its session manager then runs in
    the app's lifespan (:meth:`running`) until the app stops, which ends the MCP sessions; a
    manager runs once, so each run of the lifespan gets a new one. Requests outside a
    lifespan get the INTERNAL envelope.
    """

    def __init__(self, vm: VmSystem) -> None:
        self.vm = vm
        self._manager: StreamableHTTPSessionManager | None = None
        self._group: TaskGroup | None = None
        self._stop: anyio.Event | None = None
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve MCP sessions (once one is asked for) until the context exits."""
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            self._group, self._stop = group, stop
            try:
                yield
            finally:
                self._group = None
                stop.set()

    async def _serve(self, stop: anyio.Event, *, task_status: TaskStatus[None]) -> None:
        from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
        from mcp.server.transport_security import TransportSecuritySettings

        from vmsystem.mcp.server import build_server

        manager = StreamableHTTPSessionManager(
            app=build_server(CoreBackend(self.vm), version=__version__),
            # Host and Origin checks stay with the daemon (listen address, auth token, CORS),
            # as for /api/v1: the SDK's own check would refuse a daemon reached by host name.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        async with manager.run():
            self._manager = manager
            task_status.started()
            try:
                await stop.wait()
            finally:
                self._manager = None

    async def _started(self) -> StreamableHTTPSessionManager | None:
        async with self._lock:
            group, stop = self._group, self._stop
            if self._manager is None and group is not None and stop is not None:
                # The SDK's import takes a while: off the loop, so other requests go on.
                await anyio.to_thread.run_sync(import_module, "vmsystem.mcp.server")
                await group.start(self._serve, stop)
            return self._manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self._manager or await self._started()
        if manager is None:
            problem = InternalError("the MCP endpoint serves only while the app is running")
            await error_response(problem)(scope, receive, send)
            return
        await manager.asgi_app(scope, receive, send)


def mcp_route(vm: VmSystem) -> tuple[Route, McpEndpoint]:
    """The ``/mcp`` route and its endpoint (run ``endpoint.running()`` in the app's lifespan)."""
    endpoint = McpEndpoint(vm)
    return Route(MCP_PATH, endpoint, methods=["GET", "POST", "DELETE"]), endpoint
