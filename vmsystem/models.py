"""The domain model: frozen, typed shapes of templates, sessions, executions and events.

A leaf module (it imports nothing else of vm-system). The core owns it and re-exports it from
:mod:`vmsystem.core`; the store maps database rows to and from it; the HTTP layer renders it.

Timestamps are aware UTC ``datetime`` objects with (at least) millisecond precision. Template
settings and a session's template snapshot are typed (:class:`TemplateSettings`,
:class:`TemplateSnapshot`); user-supplied JSON (execution args, results, event payloads, a
capability's config) stays plain ``dict`` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "RECOVERY_POLICIES",
    "UNHANDLED_REJECTIONS",
    "Capability",
    "CapabilityGrant",
    "DeterministicSettings",
    "Event",
    "EventType",
    "Execution",
    "ExecutionKind",
    "ExecutionMatch",
    "ExecutionStatus",
    "Limits",
    "ResolverSettings",
    "RuntimeSettings",
    "Session",
    "SessionSettings",
    "SessionStatus",
    "SnapshotStartupFile",
    "StartupFile",
    "Template",
    "TemplateSettings",
    "TemplateSnapshot",
    "WorktreeSettings",
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
    RESTART = "restart"  # a session's restart: one ``system`` event, no code
    RECOVERY = "recovery"  # a session rebuilt by replay: one ``system`` event, no code
    CLOSE = "close"  # a session closed by its idle timeout: one ``system`` event, no code


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
    DISPLAY = "display"


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits of every execution of a session (``settings.limits``)."""

    wall_ms: int = 5000
    cpu_ms: int = 2000
    mem_mb: int = 128
    max_events: int = 50000
    max_output_kb: int = 256


#: The values of ``settings.runtime.unhandled_rejections`` (the first is the default).
UNHANDLED_REJECTIONS = ("throw", "warn")


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """How a session's runtime behaves (``settings.runtime``)."""

    strict: bool = False
    console: bool = True
    #: The default language of REPL input: ``javascript`` or ``typescript``.
    language: str = "javascript"
    #: What an unhandled promise rejection does (one of :data:`UNHANDLED_REJECTIONS`): ``throw``
    #: fails the execution with it (Node's default), ``warn`` prints a warning and goes on.
    unhandled_rejections: str = "throw"


@dataclass(frozen=True, slots=True)
class ResolverSettings:
    """Kept for compatibility with the original (``settings.resolver``)."""

    roots: tuple[str, ...] = (".",)
    extensions: tuple[str, ...] = (".js", ".mjs")


@dataclass(frozen=True, slots=True)
class DeterministicSettings:
    """Deterministic mode (``settings.deterministic``): with a ``seed``, the session's random
    sources are seeded from it and its clock is virtual; ``None`` (the default) is off."""

    seed: int | None = None


#: The values of ``settings.recovery.policy``.
RECOVERY_POLICIES = ("replay", "replay_if_pure", "off")


@dataclass(frozen=True, slots=True)
class RecoverySettings:
    """What happens to a session whose runtime is lost while it is idle (its host died, the
    daemon restarted; ``settings.recovery``): ``replay`` (the default) rebuilds it by replaying
    its ``ok`` executions, ``replay_if_pure`` only when none of its runs called a
    side-effecting native module, ``off`` leaves it ``crashed`` (or ``closed``)."""

    policy: str = "replay"


@dataclass(frozen=True, slots=True)
class WorktreeSettings:
    """Managed worktrees (``settings.worktree``): ``seed`` names a directory or a tar/zip
    archive on the daemon's machine copied into every new managed worktree (None: empty)."""

    seed: str | None = None


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """The lifetime of a template's sessions (``settings.session``): ``idle_timeout_s`` is how
    many seconds a session may go without activity before the daemon closes it (0: never;
    None, the default: the daemon's defaults apply)."""

    idle_timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class TemplateSettings:
    """A template's settings: ``{"limits": {...}, "runtime": {...}, "resolver": {...},
    "deterministic": {...}, "worktree": {...}, "recovery": {...}, "session": {...}}``."""

    limits: Limits = field(default_factory=Limits)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    resolver: ResolverSettings = field(default_factory=ResolverSettings)
    deterministic: DeterministicSettings = field(default_factory=DeterministicSettings)
    worktree: WorktreeSettings = field(default_factory=WorktreeSettings)
    recovery: RecoverySettings = field(default_factory=RecoverySettings)
    session: SessionSettings = field(default_factory=SessionSettings)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (as stored and served)."""
        return {
            "limits": asdict(self.limits),
            "runtime": asdict(self.runtime),
            "resolver": {k: list(v) for k, v in asdict(self.resolver).items()},
            "deterministic": asdict(self.deterministic),
            "worktree": asdict(self.worktree),
            "recovery": asdict(self.recovery),
            "session": asdict(self.session),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TemplateSettings:
        """Settings from their JSON form; missing sections and keys take their defaults,
        unknown keys are ignored (validation of user input is the core's job)."""
        data = data or {}
        return cls(
            limits=_section(Limits, data.get("limits")),
            runtime=_section(RuntimeSettings, data.get("runtime")),
            resolver=_section(ResolverSettings, data.get("resolver")),
            deterministic=_section(DeterministicSettings, data.get("deterministic")),
            worktree=_section(WorktreeSettings, data.get("worktree")),
            recovery=_section(RecoverySettings, data.get("recovery")),
            session=_section(SessionSettings, data.get("session")),
        )


def _section(kind: Any, values: Any) -> Any:
    if not isinstance(values, Mapping):
        return kind()
    known = kind.__dataclass_fields__
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in known}
    return kind(**clean)


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
    """A runtime profile."""

    id: str
    name: str
    engine: str
    settings: TemplateSettings
    modules: list[str]
    libraries: list[str]
    created_at: datetime
    updated_at: datetime
    capabilities: list[Capability] = field(default_factory=list)
    startup_files: list[StartupFile] = field(default_factory=list)
    #: 1 when created; every change adds one.
    revision: int = 1


@dataclass(frozen=True, slots=True)
class CapabilityGrant:
    """A capability as a session's template snapshot keeps it (and a host enforces it)."""

    kind: str
    name: str
    enabled: bool
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SnapshotStartupFile:
    """A startup file as a session's template snapshot keeps it."""

    path: str
    order_index: int
    mode: str


@dataclass(frozen=True, slots=True)
class TemplateSnapshot:
    """The template as a session keeps it: later template changes do not reach the session."""

    id: str
    name: str
    engine: str
    settings: TemplateSettings
    modules: tuple[str, ...] = ()
    libraries: tuple[str, ...] = ()
    capabilities: tuple[CapabilityGrant, ...] = ()
    startup_files: tuple[SnapshotStartupFile, ...] = ()
    #: The template's revision when the snapshot was taken (None: taken before revisions).
    revision: int | None = None

    @classmethod
    def of(cls, template: Template) -> TemplateSnapshot:
        """The snapshot of ``template`` now."""
        return cls(
            id=template.id,
            name=template.name,
            engine=template.engine,
            settings=template.settings,
            modules=tuple(template.modules),
            libraries=tuple(template.libraries),
            capabilities=tuple(
                CapabilityGrant(c.kind, c.name, c.enabled, c.config) for c in template.capabilities
            ),
            startup_files=tuple(
                SnapshotStartupFile(s.path, s.order_index, s.mode) for s in template.startup_files
            ),
            revision=template.revision,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (as stored and served)."""
        return {
            "id": self.id,
            "name": self.name,
            "engine": self.engine,
            "settings": self.settings.to_dict(),
            "modules": list(self.modules),
            "libraries": list(self.libraries),
            "capabilities": [asdict(c) for c in self.capabilities],
            "startup_files": [asdict(s) for s in self.startup_files],
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TemplateSnapshot:
        """A snapshot from its JSON form (missing parts take their defaults)."""
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            engine=str(data.get("engine", "v8")),
            settings=TemplateSettings.from_dict(data.get("settings")),
            modules=tuple(data.get("modules") or ()),
            libraries=tuple(data.get("libraries") or ()),
            capabilities=tuple(
                CapabilityGrant(
                    kind=str(c.get("kind", "")),
                    name=str(c.get("name", "")),
                    enabled=bool(c.get("enabled", True)),
                    config=dict(c.get("config") or {}),
                )
                for c in data.get("capabilities") or ()
            ),
            startup_files=tuple(
                SnapshotStartupFile(
                    str(s.get("path", "")), int(s.get("order_index", 0)), str(s.get("mode", ""))
                )
                for s in data.get("startup_files") or ()
            ),
            revision=int(data["revision"]) if data.get("revision") is not None else None,
        )


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
    template_snapshot: TemplateSnapshot
    #: The worktree was created by the daemon (under ``--worktrees-dir``) and is removed when
    #: the last session using it is purged (or after the retention once closed).
    worktree_managed: bool = False
    #: When a managed worktree was removed after the retention (None: still there).
    worktree_removed_at: datetime | None = None
    #: The host a live session's runtime is on (not stored: None once the session is not live).
    host_id: str | None = None
    #: When the session was last rebuilt by replay after its runtime was lost (None: never).
    recovered_at: datetime | None = None
    #: How many times it was.
    recovery_count: int = 0
    #: Seconds without activity after which the daemon closes the session (0: never; None:
    #: the daemon's ``--session-idle-timeout``); see :mod:`vmsystem.core.idle`.
    idle_timeout_s: float | None = None


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
    #: Where and with what it ran: template id and revision of the session's snapshot,
    #: engine, vm-system version, host and libraries (None: recorded before provenance).
    provenance: dict[str, Any] | None = None
    #: The execution of another session this one replays (a fork's replay); None otherwise.
    replay_of: str | None = None
    #: Its position in its session (1, 2, 3...), assigned by the store when it is inserted
    #: (None before). Not compared: a record made before the insert is the same execution.
    ordinal: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ExecutionMatch:
    """A full-text search hit: the execution, its score (higher is better; comparable within
    one result list only) and a short snippet of the indexed text around the first match,
    with the ``(start, end)`` offsets of the matched words in it."""

    execution: Execution
    score: float
    snippet: str
    highlights: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Event:
    """One event of an execution; ``seq`` is 1-based and contiguous per execution."""

    execution_id: str
    seq: int
    ts: datetime
    type: EventType
    payload: dict[str, Any]
