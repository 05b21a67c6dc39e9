"""The shapes vm-system persists. The core re-exports them as its domain model.

Timestamps are aware UTC ``datetime`` objects with (at least) millisecond precision.
JSON-ish fields are plain ``dict``/``list`` values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "Capability",
    "Event",
    "EventType",
    "Execution",
    "ExecutionKind",
    "ExecutionStatus",
    "Session",
    "SessionStatus",
    "StartupFile",
    "Template",
]


class SessionStatus(StrEnum):
    """Session state machine: starting -> ready -> closed; starting/ready -> crashed -> closed."""

    STARTING = "starting"
    READY = "ready"
    CRASHED = "crashed"
    CLOSED = "closed"


class ExecutionKind(StrEnum):
    """What an execution ran."""

    REPL = "repl"
    RUN_FILE = "run_file"
    STARTUP = "startup"


class ExecutionStatus(StrEnum):
    """Execution outcome; ``running`` until the outcome is known."""

    RUNNING = "running"
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class EventType(StrEnum):
    """Types of execution events."""

    INPUT_ECHO = "input_echo"
    CONSOLE = "console"
    VALUE = "value"
    EXCEPTION = "exception"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Capability:
    """A capability grant of a template: ``(kind, name, enabled, config)``."""

    id: str
    template_id: str
    kind: str
    name: str
    enabled: bool
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StartupFile:
    """A file run (in ascending ``order_index``) when a session starts."""

    id: str
    template_id: str
    path: str
    order_index: int
    mode: str


@dataclass(frozen=True, slots=True)
class Template:
    """A runtime profile.

    ``settings`` = ``{"limits": {...}, "runtime": {...}, "resolver": {...}}``.
    """

    id: str
    name: str
    engine: str
    settings: dict[str, Any]
    modules: list[str]
    libraries: list[str]
    created_at: datetime
    updated_at: datetime
    capabilities: list[Capability] = field(default_factory=list)
    startup_files: list[StartupFile] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Session:
    """A live (or formerly live) JS global context bound to a worktree."""

    id: str
    template_id: str
    workspace_id: str
    base_commit_oid: str
    worktree_path: str
    status: SessionStatus
    created_at: datetime
    last_activity_at: datetime
    closed_at: datetime | None
    last_error: str | None
    template_snapshot: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Execution:
    """One REPL snippet, file run or startup file run inside a session."""

    id: str
    session_id: str
    kind: ExecutionKind
    input: str | None
    path: str | None
    args: dict[str, Any]
    env: dict[str, str]
    status: ExecutionStatus
    started_at: datetime
    ended_at: datetime | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    metrics: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    """One event of an execution; ``seq`` is 1-based and contiguous per execution."""

    execution_id: str
    seq: int
    ts: datetime
    type: EventType
    payload: dict[str, Any]
