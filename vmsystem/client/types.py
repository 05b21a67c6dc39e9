"""Typed shapes of the daemon's JSON (``docs/http-api.md``).

These are :class:`~typing.TypedDict` s: the SDK returns the decoded JSON as is, and the types
only describe it. Keys the daemon may omit are marked ``NotRequired``.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

__all__ = [
    "ArchiveUpload",
    "Capability",
    "CapabilityGrant",
    "CapabilityInfo",
    "CapabilityRemoved",
    "Completion",
    "DaemonInfo",
    "DbInfo",
    "DeterministicSettings",
    "DrainedSession",
    "EngineInfo",
    "Event",
    "Execution",
    "ExecutionMetrics",
    "ExecutionSearchHit",
    "ExecutionSearchPage",
    "ExecutionStatus",
    "ExportFormat",
    "FileEntry",
    "FileListing",
    "ForkDivergence",
    "Health",
    "HostDrain",
    "HostInfo",
    "LibraryDownload",
    "LibraryDownloadItem",
    "LibraryDownloadProgress",
    "LibraryInfo",
    "Limits",
    "ModuleInfo",
    "NameAdded",
    "NameRemoved",
    "Notebook",
    "Provenance",
    "ProvenanceEngine",
    "ProvenanceLibrary",
    "RecoverySettings",
    "RuntimeSettings",
    "RuntimeSummary",
    "Session",
    "SessionFork",
    "SessionPurged",
    "SessionStatus",
    "Settings",
    "SnapshotStartupFile",
    "StartupFile",
    "StartupFileRemoved",
    "Template",
    "TemplateDeleted",
    "TemplateDetail",
    "TemplateSettings",
    "TemplateSnapshot",
    "WorktreeSettings",
]

SessionStatus = Literal["starting", "ready", "crashed", "closed"]
ExecutionStatus = Literal["running", "ok", "error", "timeout", "cancelled"]
#: Formats of ``GET /sessions/{id}/export``.
ExportFormat = Literal["ipynb", "md", "jsonl"]
#: A Jupyter notebook (nbformat v4 JSON), as ``POST /sessions/{id}/notebook`` takes and returns.
Notebook = dict[str, Any]


class Limits(TypedDict, total=False):
    """``settings.limits``."""

    wall_ms: int
    cpu_ms: int
    mem_mb: int
    max_events: int
    max_output_kb: int


class RuntimeSettings(TypedDict, total=False):
    """``settings.runtime``."""

    strict: bool
    console: bool
    #: ``"javascript"`` or ``"typescript"``: the default language of REPL input.
    language: str
    #: ``"throw"`` (fail the execution, the default) or ``"warn"``: what an unhandled promise
    #: rejection does.
    unhandled_rejections: str


class DeterministicSettings(TypedDict):
    """``settings.deterministic``: with a ``seed``, random sources are seeded and the clock is
    virtual (``None``: off)."""

    seed: int | None


class RecoverySettings(TypedDict):
    """``settings.recovery``: ``policy`` is ``replay``, ``replay_if_pure`` or ``off``."""

    policy: str


class WorktreeSettings(TypedDict):
    """``settings.worktree``: ``seed`` names a directory or archive copied into every new
    managed worktree (``None``: empty)."""

    seed: str | None


class Settings(TypedDict, total=False):
    """A template's settings (daemons older than a part leave it out)."""

    limits: Limits
    runtime: RuntimeSettings
    resolver: dict[str, Any]
    deterministic: DeterministicSettings
    recovery: RecoverySettings
    worktree: WorktreeSettings
    #: ``{"idle_timeout_s": seconds | None}``: its sessions' idle timeout (0: never).
    session: dict[str, Any]


class TemplateSettings(Settings, total=False):
    """``TemplateDetail.settings``: the settings and the template they belong to."""

    template_id: str


class Template(TypedDict):
    """A template (runtime profile)."""

    id: str
    name: str
    engine: str
    is_active: bool
    settings: Settings
    exposed_modules: list[str]
    libraries: list[str]
    created_at: str
    updated_at: str
    #: 1 when created; every change adds one.
    revision: int


class Capability(TypedDict):
    """A capability configured on a template."""

    id: str
    template_id: str
    kind: str
    name: str
    enabled: bool
    config: dict[str, Any]


class StartupFile(TypedDict):
    """A startup file of a template."""

    id: str
    template_id: str
    path: str
    order_index: int
    mode: str


class CapabilityGrant(TypedDict):
    """A capability as a session's template snapshot keeps it."""

    kind: str
    name: str
    enabled: bool
    config: dict[str, Any]


class SnapshotStartupFile(TypedDict):
    """A startup file as a session's template snapshot keeps it."""

    path: str
    order_index: int
    mode: str


class TemplateSnapshot(TypedDict):
    """The template as a session keeps it (later template changes do not reach the session)."""

    id: str
    name: str
    engine: str
    settings: Settings
    modules: list[str]
    libraries: list[str]
    capabilities: list[CapabilityGrant]
    startup_files: list[SnapshotStartupFile]
    #: The template's revision when the snapshot was taken (None: taken before revisions).
    revision: int | None


class TemplateDetail(TypedDict):
    """``GET /templates/{id}``: the template with its settings, capabilities and startup files."""

    template: Template
    settings: TemplateSettings
    capabilities: list[Capability]
    startup_files: list[StartupFile]


class TemplateDeleted(TypedDict):
    """Answer of ``DELETE /templates/{id}``."""

    status: str
    template_id: str


class SessionPurged(TypedDict):
    """Answer of ``DELETE /sessions/{id}?purge=true``."""

    status: str
    session_id: str
    purged: bool


class CapabilityRemoved(TypedDict):
    """Answer of ``DELETE /templates/{id}/capabilities/{capability_id}``."""

    status: str
    template_id: str
    capability_id: str


class StartupFileRemoved(TypedDict):
    """Answer of ``DELETE /templates/{id}/startup-files/{startup_id}``."""

    status: str
    template_id: str
    startup_file_id: str


class NameAdded(TypedDict):
    """Answer of adding a module or a library.

    Adding a library also says whether the daemon's cache holds it (``cached``) and, when it
    does not, a ``warning`` naming the command that fetches it.
    """

    template_id: str
    name: str
    cached: NotRequired[bool]
    warning: NotRequired[str]


class NameRemoved(TypedDict):
    """Answer of removing a module or a library."""

    status: str
    template_id: str
    name: str


class Session(TypedDict):
    """A session: a live JS global context bound to a worktree."""

    id: str
    template_id: str
    workspace_id: str | None
    base_commit_oid: str | None
    worktree_path: str
    #: The daemon created the worktree (no ``worktree_path`` given) and removes it at purge.
    worktree_managed: NotRequired[bool]
    worktree_removed_at: NotRequired[str | None]
    status: SessionStatus
    created_at: str
    last_activity_at: str | None
    closed_at: str | None
    last_error: str | None
    #: None from no daemon of today (kept for readers of old answers).
    template_snapshot: TemplateSnapshot | None
    host_id: str | None
    recovered_at: str | None
    recovery_count: int
    #: Seconds without activity after which the daemon closes it (0: never; None: the
    #: daemon's ``--session-idle-timeout``).
    idle_timeout_s: NotRequired[float | None]


class FileEntry(TypedDict):
    """A worktree entry: ``type`` is ``file``, ``directory``, ``symlink`` or ``other``;
    ``mtime`` in seconds since the epoch."""

    path: str
    type: Literal["file", "directory", "symlink", "other"]
    size: int
    mtime: float


class FileListing(TypedDict):
    """``GET /sessions/{id}/files``: the entries under ``path``, sorted by path."""

    path: str
    entries: list[FileEntry]
    truncated: bool


class ArchiveUpload(TypedDict):
    """``POST /sessions/{id}/archive``: the files the archive wrote."""

    path: str
    files: list[FileEntry]


class ExecutionMetrics(TypedDict, total=False):
    """``execution.metrics``."""

    duration_ms: float
    cpu_ms: float | None
    event_count: int
    output_bytes: int


class ProvenanceEngine(TypedDict):
    """The engine an execution ran on."""

    name: str
    version: str | None


class ProvenanceLibrary(TypedDict):
    """A library loaded in the execution's session, as cached (``sha256`` of the file)."""

    name: str
    version: str
    sha256: str


class Provenance(TypedDict):
    """What an execution ran on (None for restarts and executions recorded before)."""

    template_id: str
    template_revision: int | None
    engine: ProvenanceEngine
    vm_system_version: str
    host_id: str
    libraries: list[ProvenanceLibrary]


class Execution(TypedDict):
    """An execution (REPL snippet, file run or startup file).

    ``result`` (on ``ok``) is the value payload: ``type`` (the JS kind: number, string,
    boolean, undefined, null, bigint, symbol, function, array, map, set, date, error, object),
    ``preview`` (``String(value)``), ``inspect`` (Node ``util.inspect``-style text) and
    ``json`` where the value has a JSON form.
    """

    id: str
    session_id: str
    kind: str
    input: str | None
    path: str | None
    args: dict[str, Any]
    env: dict[str, str]
    status: ExecutionStatus
    started_at: str
    ended_at: str | None
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    metrics: ExecutionMetrics
    provenance: Provenance | None
    #: The execution (of another session) this one replays, for a fork's replays.
    replay_of: str | None
    #: Its position in its session (1, 2, 3...): the order of the session's history.
    ordinal: int | None


class ForkDivergence(TypedDict):
    """A replayed execution whose status, value or console output differs from the original."""

    original: str
    #: None when the replay was refused before it ran (e.g. its file is gone).
    replay: str | None
    reason: str


class Completion(TypedDict):
    """``POST /sessions/{id}/complete``: names that may replace
    ``code[cursor_start:cursor_end]`` (offsets in characters)."""

    matches: list[str]
    cursor_start: int
    cursor_end: int


class SessionFork(TypedDict):
    """``POST /sessions/{id}/fork``: the new session, how many executions it replayed, and
    which replays diverged (the replay stops at the first that does not end ``ok``)."""

    session: Session
    replayed: int
    diverged: list[ForkDivergence]


class ExecutionSearchHit(TypedDict):
    """One full-text search hit: the execution, its session, its score (higher is better) and
    a snippet of the matched text with ``[start, end)`` offsets of the matched words."""

    execution: Execution
    session_id: str
    score: float
    snippet: str
    highlights: list[list[int]]


class ExecutionSearchPage(TypedDict):
    """``GET /executions/search``: hits best first; ``next_offset`` is None on the last page."""

    results: list[ExecutionSearchHit]
    next_offset: int | None


class Event(TypedDict):
    """One event of an execution (``seq`` is 1-based and contiguous)."""

    execution_id: str
    seq: int
    ts: str
    type: str
    payload: dict[str, Any]


class Health(TypedDict):
    """``GET /health``."""

    status: str


class DbInfo(TypedDict, total=False):
    """``runtime summary .db``."""

    url: str
    schema_version: str | None


class HostInfo(TypedDict):
    """A session host, as ``GET /runtime/summary`` lists it."""

    id: str
    kind: str
    pid: int | None
    sessions: int
    rss_bytes: int | None
    alive: bool
    restarts: int


class DrainedSession(TypedDict):
    """A session of a drained host, after the move."""

    session_id: str
    status: str | None
    host_id: str | None
    replayed: int | None
    last_error: str | None


class HostDrain(TypedDict):
    """``POST /runtime/hosts/{id}/drain``."""

    host_id: str
    retired: bool
    sessions: list[DrainedSession]


class DaemonInfo(TypedDict):
    """A daemon registered over the database, as ``GET /runtime/summary`` lists it."""

    id: str
    address: str | None
    version: str
    hostname: str
    pid: int
    started_at: str
    heartbeat_at: str
    #: Its lease holds.
    alive: bool
    #: It is the daemon that answered.
    self: bool


class RuntimeSummary(TypedDict):
    """``GET /runtime/summary``."""

    active_sessions: int
    active_session_ids: list[str]
    running_executions: int
    engine: dict[str, Any]
    version: str
    uptime_s: float
    db: DbInfo
    hosts: list[HostInfo]
    #: The answering daemon's id (None: an embedded system without a lease).
    daemon_id: str | None
    daemons: list[DaemonInfo]


class ModuleInfo(TypedDict):
    """An entry of ``GET /metadata/modules``."""

    name: str
    description: str
    functions: list[str]
    capabilities: list[Any]


#: An entry of ``GET /metadata/libraries`` (``global`` is a keyword, hence this spelling).
LibraryInfo = TypedDict(
    "LibraryInfo",
    {
        "name": str,
        "version": str,
        "file": str,
        "global": str,
        "description": str,
        # ``npm`` for the catalog; a local library's source (absent from older daemons)
        "source": NotRequired[str],
        "cached": bool,
    },
)


class LibraryDownloadItem(TypedDict):
    """One library of a download job."""

    name: str
    version: str
    state: Literal["pending", "downloading", "downloaded", "cached", "failed", "skipped"]
    error: str | None


class LibraryDownloadProgress(TypedDict):
    """How far a download job got."""

    total: int
    completed: int
    libraries: list[LibraryDownloadItem]


class LibraryDownload(TypedDict):
    """A library download job (``POST /libraries/downloads``)."""

    id: str
    names: list[str]
    status: Literal["running", "succeeded", "failed", "cancelled"]
    progress: LibraryDownloadProgress
    error: dict[str, str] | None
    created_at: str
    finished_at: str | None


class EngineInfo(TypedDict):
    """An entry of ``GET /metadata/engines``."""

    name: str
    version: str
    default: bool
    aliases: list[str]


class CapabilityInfo(TypedDict):
    """An entry of ``GET /metadata/capabilities``."""

    kind: str
    name: str
    description: str
    config_schema: NotRequired[dict[str, Any]]
    #: ``denied`` (granted by a template only) or what the capability does when not set.
    default: NotRequired[str]
    enabled_effect: NotRequired[str]
    disabled_effect: NotRequired[str]
    #: A capability ``config`` that fits ``config_schema``.
    example: NotRequired[dict[str, Any]]
    #: The names a kind takes, when it is a fixed list.
    names: NotRequired[list[str]]
