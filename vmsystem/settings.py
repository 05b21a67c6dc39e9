"""Daemon configuration, declared once as data.

Each :class:`Setting` names its CLI flag, its ``VMSYSTEM_*`` environment variable, its default
and its help text. ``vm-system serve`` builds its options from :data:`SETTINGS`, and
``docs/configuration.md`` is rendered from the same table (a test keeps it in sync).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from vmsystem.libraries.cache import default_cache_dir

__all__ = ["SETTINGS", "ServeSettings", "Setting", "default_db_path", "render_settings_markdown"]


def default_db_path() -> Path:
    """The embedded default database: a SQLite file in the user's data directory."""
    return Path(platformdirs.user_data_dir("vm-system")) / "vm-system.db"


@dataclass(frozen=True)
class Setting:
    """One configuration value: flag, environment variable, type, default and help."""

    name: str
    flag: str
    env: str
    type: type
    default: Any
    help: str
    multiple: bool = False
    default_doc: str | None = None

    def parse(self, raw: str) -> Any:
        """Convert an environment variable's text to this setting's type."""
        if self.multiple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if self.type is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        if self.type is int:
            return int(raw)
        if self.type is float:
            return float(raw)
        return raw


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db",
        "--db",
        "VMSYSTEM_DB",
        str,
        None,
        "SQLite file path or SQLAlchemy URL (postgresql+psycopg://...).",
        default_doc="<user data dir>/vm-system/vm-system.db",
    ),
    Setting(
        "listen",
        "--listen",
        "VMSYSTEM_LISTEN",
        str,
        "127.0.0.1:3210",
        "Address to listen on (HOST:PORT).",
    ),
    Setting(
        "cors_origins",
        "--cors-origin",
        "VMSYSTEM_CORS_ORIGINS",
        str,
        (),
        "Allowed CORS origin; repeat the flag for several (env: comma-separated).",
        multiple=True,
    ),
    Setting(
        "allowed_hosts",
        "--allowed-host",
        "VMSYSTEM_ALLOWED_HOSTS",
        str,
        (),
        "Host name served besides localhost, 127.0.0.1, ::1 and the --listen address "
        "(requests with another Host header get 400 INVALID_HOST, a DNS-rebinding defence); "
        "'*.example.com' matches subdomains, '*' any host; repeat the flag for several "
        "(env: comma-separated).",
        multiple=True,
    ),
    Setting(
        "auth_token",
        "--auth-token",
        "VMSYSTEM_AUTH_TOKEN",
        str,
        None,
        "Require 'Authorization: Bearer TOKEN' on every request except /api/v1/health.",
    ),
    Setting(
        "insecure_no_auth",
        "--insecure-no-auth",
        "VMSYSTEM_INSECURE_NO_AUTH",
        bool,
        False,
        "Allow listening on a non-loopback address without an auth token.",
    ),
    Setting(
        "max_request_bytes",
        "--max-request-bytes",
        "VMSYSTEM_MAX_REQUEST_BYTES",
        int,
        1048576,
        "Largest accepted request body in bytes (larger: 413 PAYLOAD_TOO_LARGE).",
    ),
    Setting(
        "max_header_bytes",
        "--max-header-bytes",
        "VMSYSTEM_MAX_HEADER_BYTES",
        int,
        65536,
        "Largest accepted request head (request line and header fields together) in bytes; "
        "larger: 431 HEADERS_TOO_LARGE, answered before the rest is read.",
    ),
    Setting(
        "max_header_count",
        "--max-header-count",
        "VMSYSTEM_MAX_HEADER_COUNT",
        int,
        100,
        "Most header fields accepted in one request; more: 431 HEADERS_TOO_LARGE.",
    ),
    Setting(
        "max_file_bytes",
        "--max-file-bytes",
        "VMSYSTEM_MAX_FILE_BYTES",
        int,
        67108864,
        "Largest file or archive the files API accepts or serves in one request, and the most "
        "an uploaded archive (or a template's worktree seed) may unpack to (larger: 413 "
        "PAYLOAD_TOO_LARGE).",
    ),
    Setting(
        "max_sessions",
        "--max-sessions",
        "VMSYSTEM_MAX_SESSIONS",
        int,
        1000,
        "Most live (starting or ready) sessions; creating another is 429 TOO_MANY_SESSIONS.",
    ),
    Setting(
        "request_read_timeout",
        "--request-read-timeout",
        "VMSYSTEM_REQUEST_READ_TIMEOUT",
        float,
        10.0,
        "Close a connection whose request (head and body) has not fully arrived this many "
        "seconds after it opened or after the request's first byte; idle keep-alive "
        "connections close after 5 s.",
    ),
    Setting(
        "session_idle_timeout",
        "--session-idle-timeout",
        "VMSYSTEM_SESSION_IDLE_TIMEOUT",
        float,
        None,
        "Close a session after this many seconds without activity (an execution, a "
        "completion or a files request) when it has no idle timeout of its own (off by "
        "default). A session's own comes from its create request (idle_timeout_s), else its "
        "template's settings.session.idle_timeout_s, else --interactive-idle-timeout; 0 is "
        "never.",
    ),
    Setting(
        "interactive_idle_timeout",
        "--interactive-idle-timeout",
        "VMSYSTEM_INTERACTIVE_IDLE_TIMEOUT",
        float,
        3600.0,
        "Idle timeout in seconds of sessions created for a prompt (vm-system repl --new, MCP's "
        "create_session, the Jupyter kernel) when neither the request nor the template sets "
        "one, so that abandoned ones do not pile up (0: none of their own).",
    ),
    Setting(
        "worktrees_dir",
        "--worktrees-dir",
        "VMSYSTEM_WORKTREES_DIR",
        str,
        None,
        "Where sessions created without worktree_path get their managed worktree (one "
        "directory per session, created by the session's host: with --hosts ray, on the "
        "actor's node).",
        default_doc="~/.local/share/vm-system/worktrees",
    ),
    Setting(
        "worktree_retention",
        "--worktree-retention",
        "VMSYSTEM_WORKTREE_RETENTION",
        float,
        None,
        "Remove a closed session's managed worktree this many seconds after it closed (by "
        "default it is kept until the session is purged).",
    ),
    Setting(
        "session_recovery",
        "--session-recovery",
        "VMSYSTEM_SESSION_RECOVERY",
        str,
        "eager",
        "Sessions that were ready when the daemon stopped: eager (rebuilt by replay right after "
        "start, --recovery-concurrency at a time), lazy (rebuilt on first use) or off (closed "
        "at start). Each template's settings.recovery.policy still applies.",
    ),
    Setting(
        "recovery_concurrency",
        "--recovery-concurrency",
        "VMSYSTEM_RECOVERY_CONCURRENCY",
        int,
        2,
        "Sessions rebuilt by replay at the same time (after a host crash or a daemon restart).",
    ),
    Setting(
        "recovery_max_executions",
        "--recovery-max-executions",
        "VMSYSTEM_RECOVERY_MAX_EXECUTIONS",
        int,
        10000,
        "A session with more executions to replay than this is crashed instead of recovered.",
    ),
    Setting(
        "recovery_max_replay_s",
        "--recovery-max-replay-s",
        "VMSYSTEM_RECOVERY_MAX_REPLAY_S",
        float,
        60.0,
        "A session whose executions to replay took longer than this in all (their recorded run "
        "time) is crashed instead of recovered.",
    ),
    Setting(
        "daemon_lease",
        "--daemon-lease",
        "VMSYSTEM_DAEMON_LEASE",
        float,
        10.0,
        "Seconds without a heartbeat after which a daemon counts as dead (several daemons over "
        "one database): another daemon then ends its running executions DAEMON_LOST and "
        "rebuilds its ready sessions, within 4/3 of this. The heartbeat runs every third of it.",
    ),
    Setting(
        "cache_dir",
        "--cache-dir",
        "VMSYSTEM_CACHE_DIR",
        str,
        None,
        "Library cache directory.",
        default_doc="~/.cache/vm-system/libraries",
    ),
    Setting(
        "hosts",
        "--hosts",
        "VMSYSTEM_HOSTS",
        str,
        "process",
        "Where sessions' runtimes live: process (supervised worker processes), ray (actors on "
        "a Ray cluster) or inprocess (the daemon's own process: no isolation).",
    ),
    Setting(
        "host_processes",
        "--host-processes",
        "VMSYSTEM_HOST_PROCESSES",
        int,
        None,
        "Session hosts kept started (process and ray).",
        default_doc="the number of cores",
    ),
    Setting(
        "sessions_per_host",
        "--sessions-per-host",
        "VMSYSTEM_SESSIONS_PER_HOST",
        int,
        32,
        "Sessions one host holds before another host is started (1: a process per session).",
    ),
    Setting(
        "host_memory_mb",
        "--host-memory-mb",
        "VMSYSTEM_HOST_MEMORY_MB",
        int,
        4096,
        "Memory ceiling of each host process in MiB (RLIMIT_DATA; 0: none).",
    ),
    Setting(
        "host_memory_budget_mb",
        "--host-memory-budget-mb",
        "VMSYSTEM_HOST_MEMORY_BUDGET_MB",
        int,
        3072,
        "Sum of the sessions' mem_mb one host holds, in MiB (all isolates of a host share V8's "
        "~4 GiB heap cage): a session goes to a host with room, or a new host; a template whose "
        "mem_mb is larger is refused (MEMORY_BUDGET_EXCEEDED). 0: no budget.",
    ),
    Setting(
        "ray_address",
        "--ray-address",
        "VMSYSTEM_RAY_ADDRESS",
        str,
        None,
        "Ray cluster to place hosts on with --hosts ray (default: start a private local one, "
        "in a temporary directory of its own, stopped with the daemon).",
    ),
    Setting(
        "executor_threads",
        "--executor-threads",
        "VMSYSTEM_EXECUTOR_THREADS",
        int,
        256,
        "Threads for blocking work; a running execution holds one.",
    ),
    Setting(
        "access_log",
        "--access-log",
        "VMSYSTEM_ACCESS_LOG",
        bool,
        False,
        "Log one line per HTTP request (at info: method, path, status, duration, request id); "
        "per-execution lines are logged at debug.",
    ),
    Setting(
        "log_level",
        "--log-level",
        "VMSYSTEM_LOG_LEVEL",
        str,
        "info",
        "Log level: debug, info, warning, error.",
    ),
)


@dataclass(frozen=True)
class ServeSettings:
    """Resolved daemon settings (flag > environment > default), one field per entry of
    :data:`SETTINGS` (a test keeps them the same). Made by :meth:`resolve` only: the defaults
    are the declarations', nowhere else."""

    db: str | None
    listen: str
    cors_origins: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    auth_token: str | None
    insecure_no_auth: bool
    max_request_bytes: int
    max_header_bytes: int
    max_header_count: int
    max_file_bytes: int
    max_sessions: int
    request_read_timeout: float
    session_idle_timeout: float | None
    interactive_idle_timeout: float
    worktrees_dir: str | None
    worktree_retention: float | None
    session_recovery: str
    recovery_concurrency: int
    recovery_max_executions: int
    recovery_max_replay_s: float
    daemon_lease: float
    cache_dir: str | None
    hosts: str
    host_processes: int | None
    sessions_per_host: int
    host_memory_mb: int
    host_memory_budget_mb: int
    ray_address: str | None
    executor_threads: int
    access_log: bool
    log_level: str

    @classmethod
    def resolve(
        cls, flags: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> ServeSettings:
        """Merge explicit flag values (None/empty = not given) over ``VMSYSTEM_*`` and defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for s in SETTINGS:
            given = flags.get(s.name)
            # ``is False``, not ``==``: a flag given as 0 (``--host-memory-mb 0``) is a value.
            if given is not None and given is not False and given != ():
                values[s.name] = tuple(given) if s.multiple else given
            elif s.env in env and env[s.env] != "":
                values[s.name] = s.parse(env[s.env])
            else:
                values[s.name] = s.default
        return cls(**values)

    @property
    def host(self) -> str:
        """Host part of ``listen``."""
        host, _, _ = self.listen.rpartition(":")
        return host.strip("[]") or "127.0.0.1"

    @property
    def port(self) -> int:
        """Port part of ``listen``."""
        return int(self.listen.rpartition(":")[2])

    @property
    def db_location(self) -> str:
        """The database to open: the flag or the embedded default path."""
        return self.db or str(default_db_path())

    @property
    def managed_worktrees_dir(self) -> Path | None:
        """The managed worktrees' directory (None: the core's default)."""
        return Path(self.worktrees_dir).expanduser() if self.worktrees_dir else None

    @property
    def library_cache_dir(self) -> Path:
        """The library cache directory to use."""
        return Path(self.cache_dir).expanduser() if self.cache_dir else default_cache_dir()


def render_settings_markdown() -> str:
    """The configuration table of ``docs/configuration.md``."""
    lines = [
        "| flag | environment | default | meaning |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = s.default_doc or ("(none)" if s.default in (None, ()) else f"`{s.default}`")
        lines.append(f"| `{s.flag}` | `{s.env}` | {default} | {s.help} |")
    return "\n".join(lines) + "\n"
