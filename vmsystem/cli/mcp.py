"""``vm-system mcp``: the MCP server over stdio, for clients that launch tools as processes.

It serves the tools and resources of :mod:`vmsystem.mcp` and carries each call to the daemon
at ``--server-url`` through the SDK (``AsyncClient``), so the daemon's limits, journal and
auth apply exactly as over REST. The server starts whether or not the daemon is up: a call
that cannot reach it, or that the daemon refuses (a missing or wrong ``--auth-token``), is a
tool error with the code ``DAEMON_UNAVAILABLE`` or ``UNAUTHORIZED``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Mapping
from typing import Any, TypeVar, cast

import anyio
import typer

from vmsystem.cli.state import state_of
from vmsystem.client import (
    APIError,
    AsyncClient,
    DaemonUnavailable,
    StreamError,
    TransportError,
    Unauthorized,
)
from vmsystem.client.types import Event
from vmsystem.mcp.backend import Json, ToolFailure

__all__ = ["ClientBackend", "mcp"]

T = TypeVar("T")


def _failure(exc: Exception) -> ToolFailure:
    if isinstance(exc, Unauthorized):
        return ToolFailure(
            "UNAUTHORIZED",
            f"{exc.message or 'unauthorized'} (give `vm-system mcp` the daemon's token with "
            "--auth-token or VMSYSTEM_AUTH_TOKEN)",
            exc.details,
        )
    if isinstance(exc, APIError):
        return ToolFailure(exc.code or f"HTTP_{exc.status}", exc.message or str(exc), exc.details)
    if isinstance(exc, DaemonUnavailable):
        return ToolFailure("DAEMON_UNAVAILABLE", str(exc))
    if isinstance(exc, StreamError):
        return ToolFailure("STREAM_ERROR", str(exc))
    return ToolFailure("TRANSPORT_ERROR", str(exc))


_ERRORS = (APIError, TransportError, StreamError)


async def _call(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    except _ERRORS as exc:
        raise _failure(exc) from None


class ClientBackend:
    """The MCP tools' operations through the SDK, against a running daemon."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def list_templates(self) -> list[Json]:
        return cast(list[Json], await _call(self.client.list_templates()))

    async def create_session(self, template: str, worktree_path: str | None) -> Json:
        created = self.client.create_session(template, worktree_path, interactive=True)
        return cast(Json, await _call(created))

    async def write_file(self, session_id: str, path: str, data: bytes) -> Json:
        return cast(Json, await _call(self.client.write_file(session_id, path, data)))

    async def read_file(self, session_id: str, path: str) -> bytes:
        return await _call(self.client.read_file(session_id, path))

    async def list_files(self, session_id: str, path: str, recursive: bool) -> Json:
        listing = self.client.list_files(session_id, path, recursive=recursive)
        return cast(Json, await _call(listing))

    async def list_sessions(self, status: str | None) -> list[Json]:
        return cast(list[Json], await _call(self.client.list_sessions(status=status)))

    async def get_session(self, session_id: str) -> Json:
        return cast(Json, await _call(self.client.get_session(session_id)))

    async def close_session(self, session_id: str) -> Json:
        return cast(Json, await _call(self.client.close_session(session_id)))

    async def start_repl(self, session_id: str, code: str, language: str | None = None) -> Json:
        run = self.client.run_repl(session_id, code, stream=True, language=language)
        return cast(Json, await _call(run))

    async def start_file(
        self,
        session_id: str,
        path: str,
        args: Mapping[str, Any] | None,
        env: Mapping[str, str] | None,
    ) -> Json:
        run = self.client.run_file(session_id, path, args=args, env=env, stream=True)
        return cast(Json, await _call(run))

    async def follow(self, execution_id: str) -> AsyncIterator[Json]:
        events = cast(
            AsyncGenerator[Event, None], self.client.stream_execution_events(execution_id)
        )
        try:
            async for event in events:
                yield cast(Json, event)
        except _ERRORS as exc:
            raise _failure(exc) from None
        finally:
            await events.aclose()

    async def get_execution(self, execution_id: str) -> Json:
        return cast(Json, await _call(self.client.get_execution(execution_id)))

    async def list_executions(self, session_id: str, limit: int) -> list[Json]:
        return cast(list[Json], await _call(self.client.list_executions(session_id, limit=limit)))

    async def list_events(self, execution_id: str, after_seq: int, limit: int) -> list[Json]:
        page = self.client.list_events(execution_id, after_seq=after_seq, limit=limit)
        return cast(list[Json], await _call(page))

    async def cancel_execution(self, execution_id: str) -> Json:
        return cast(Json, await _call(self.client.cancel_execution(execution_id)))


async def _serve(server_url: str, token: str | None) -> None:
    from mcp.server.stdio import stdio_server

    from vmsystem.mcp.server import build_server

    async with AsyncClient(server_url, token=token, timeout=30) as client:
        from vmsystem import __version__

        server = build_server(ClientBackend(client), version=__version__)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())


def mcp(ctx: typer.Context) -> None:
    """Serve MCP over stdio (for desktop AI clients), calling the daemon at --server-url.

    Tools: list_templates, create_session, write_file, read_file, list_files, list_sessions,
    close_session, run_js, run_file, list_executions, get_execution, get_events,
    cancel_execution; resources: each session's
    transcript (vmsystem://sessions/{id}/transcript). Give --auth-token when the daemon has
    one: without it every call fails with UNAUTHORIZED. Logs go to stderr; stdout carries the
    protocol only.
    """
    state = state_of(ctx)
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="vm-system mcp: %(levelname)s %(message)s"
    )
    try:
        anyio.run(_serve, state.server_url, state.auth_token)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
