"""What the MCP tools need from vm-system, in the REST API's wire form.

Two implementations: over the core in the daemon (``vmsystem.api.mcp``) and over the SDK in
``vm-system mcp`` (``vmsystem.cli.mcp``). Records are the JSON objects of
``docs/http-api.md`` (executions, events, sessions, templates), so a tool answers the same
whichever side serves it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

__all__ = ["Backend", "Json", "ToolFailure"]

#: A JSON object of the REST API (an execution, an event, a session, a template).
Json = dict[str, Any]


class ToolFailure(Exception):
    """A vm-system error (``code``, ``message``, ``details``), reported as a tool error."""

    def __init__(self, code: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(f"{code}: {message}")


class Backend(Protocol):
    """vm-system operations; every method raises :class:`ToolFailure` for an API error."""

    async def list_templates(self) -> list[Json]:
        """Templates, newest first."""
        ...

    async def create_session(self, template: str, worktree_path: str | None) -> Json:
        """Start a session from a template (ID or name); returns it ready. Without a
        ``worktree_path`` the daemon creates a managed worktree for it."""
        ...

    async def write_file(self, session_id: str, path: str, data: bytes) -> Json:
        """Write a worktree file (parents created); returns its entry."""
        ...

    async def read_file(self, session_id: str, path: str) -> bytes:
        """A worktree file's bytes."""
        ...

    async def list_files(self, session_id: str, path: str, recursive: bool) -> Json:
        """The entries under a worktree directory: ``{path, entries, truncated}``."""
        ...

    async def list_sessions(self, status: str | None) -> list[Json]:
        """Sessions, newest first."""
        ...

    async def get_session(self, session_id: str) -> Json:
        """One session."""
        ...

    async def close_session(self, session_id: str) -> Json:
        """Close a session (idempotent)."""
        ...

    async def start_repl(self, session_id: str, code: str, language: str | None = None) -> Json:
        """Start a REPL snippet (``language``: javascript or typescript, default the
        template's); returns the running execution at once."""
        ...

    async def start_file(
        self,
        session_id: str,
        path: str,
        args: Mapping[str, Any] | None,
        env: Mapping[str, str] | None,
    ) -> Json:
        """Start a worktree file; returns the running execution at once."""
        ...

    def follow(self, execution_id: str) -> AsyncIterator[Json]:
        """Every event of an execution, live, ending after its terminal event."""
        ...

    async def get_execution(self, execution_id: str) -> Json:
        """One execution."""
        ...

    async def list_executions(self, session_id: str, limit: int) -> list[Json]:
        """Executions of a session, newest first."""
        ...

    async def list_events(self, execution_id: str, after_seq: int, limit: int) -> list[Json]:
        """One page of an execution's events with ``seq > after_seq``."""
        ...

    async def cancel_execution(self, execution_id: str) -> Json:
        """Cancel a running execution; returns it as it ended."""
        ...
