"""``vm-system serve``: the daemon (the only command that uses the core and the API)."""

from __future__ import annotations

import inspect
import ipaddress
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from vmsystem.cli.logs import JsonLineFormatter
from vmsystem.settings import SETTINGS, ServeSettings, Setting, default_db_path

__all__ = ["serve"]

_BY_NAME = {s.name: s for s in SETTINGS}


def _opt(name: str, **extra: Any) -> Any:
    """A typer option built from the setting's declaration (flag, env var and help)."""
    s = _BY_NAME[name]
    return typer.Option(s.flag, help=f"{s.help} [env: {s.env}]", show_default=False, **extra)


def _is_loopback(host: str) -> bool:
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _configure_logging(level: str) -> None:
    """One JSON object per line on stderr, for the daemon's own loggers and the libraries'.

    The core and the API log through the standard ``logging`` module (silent when embedded,
    unless the host configures logging); the daemon renders those records, with their
    ``extra`` fields (request, session and execution ids), as JSON lines.
    """
    numeric = getattr(logging, level.upper(), logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)
    # Migration chatter is not the daemon's business at info level.
    logging.getLogger("alembic").setLevel(max(numeric, logging.WARNING))


def _listen_hosts(host: str) -> tuple[str, ...]:
    """The listen address as an allowed ``Host`` (a wildcard address names no host)."""
    if host in {"0.0.0.0", "::", ""}:
        return ()
    return (host,)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


#: Settings that are the CLI's global options only (``vm-system --log-level debug serve``).
_GLOBAL_ONLY = frozenset({"log_level"})
#: Settings of serve that fall back to the global option of the same name.
_ALSO_GLOBAL = ("db", "auth_token")


def _annotation(s: Setting) -> Any:
    """The typer annotation of a setting's option (from its declaration)."""
    if s.multiple:
        return Annotated[list[s.type] | None, _opt(s.name)]  # type: ignore[name-defined]
    if s.type is bool:
        return Annotated[bool, _opt(s.name)]
    return Annotated[s.type | None, _opt(s.name)]


def serve(ctx: typer.Context, **given: Any) -> None:
    """Run the daemon: the REST API, live event streams and the web UI at /.

    With no flags it listens on 127.0.0.1:3210 with an embedded SQLite database in the user's
    data directory. Every flag can also be set with its VMSYSTEM_* environment variable.
    """
    root = ctx.obj
    flags: dict[str, Any] = {s.name: given.get(s.name) for s in SETTINGS}
    for name in _ALSO_GLOBAL:
        flags[name] = flags[name] or getattr(root, name, None)
    for name in _GLOBAL_ONLY:
        flags[name] = getattr(root, name, None)
    for s in SETTINGS:
        if s.multiple:
            flags[s.name] = tuple(flags[s.name] or ())
    _run(flags)


# serve's options are generated from SETTINGS: one declaration (flag, env var, help, type),
# one default (ServeSettings.resolve applies it).
_PARAMETERS = [
    inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
    *(
        inspect.Parameter(
            s.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=False if s.type is bool and not s.multiple else None,
            annotation=_annotation(s),
        )
        for s in SETTINGS
        if s.name not in _GLOBAL_ONLY
    ),
]
setattr(serve, "__signature__", inspect.Signature(_PARAMETERS, return_annotation=None))  # noqa: B010
serve.__annotations__ = {p.name: p.annotation for p in _PARAMETERS} | {"return": None}


def _run(flags: dict[str, Any]) -> None:
    """Resolve the settings and serve until stopped."""
    settings = ServeSettings.resolve(flags)
    try:
        host, port = settings.host, settings.port
    except ValueError:
        _fail(f"--listen must be HOST:PORT, got {settings.listen!r}")
    if not _is_loopback(host) and not settings.auth_token and not settings.insecure_no_auth:
        _fail(
            f"refusing to listen on non-loopback address {host} without an auth token: "
            "pass --auth-token TOKEN (or --insecure-no-auth to accept the risk)"
        )
    if settings.request_read_timeout <= 0:
        _fail(f"--request-read-timeout must be positive, got {settings.request_read_timeout}")
    if settings.max_header_bytes < 1024 or settings.max_header_count < 8:
        _fail(
            "--max-header-bytes must be at least 1024 and --max-header-count at least 8, got "
            f"{settings.max_header_bytes} and {settings.max_header_count}"
        )
    if settings.max_sessions < 1:
        _fail(f"--max-sessions must be at least 1, got {settings.max_sessions}")
    if settings.session_recovery not in ("eager", "lazy", "off"):
        _fail(f"--session-recovery must be eager, lazy or off, got {settings.session_recovery!r}")
    if settings.recovery_concurrency < 1:
        _fail(f"--recovery-concurrency must be at least 1, got {settings.recovery_concurrency}")
    from vmsystem.core.settings import MAX_IDLE_TIMEOUT_S

    for flag, seconds in (
        ("--session-idle-timeout", settings.session_idle_timeout),
        ("--interactive-idle-timeout", settings.interactive_idle_timeout),
    ):
        if seconds is not None and not 0 <= seconds <= MAX_IDLE_TIMEOUT_S:
            _fail(f"{flag} must be from 0 to {MAX_IDLE_TIMEOUT_S} seconds, got {seconds:g}")
    if settings.recovery_max_executions < 0 or settings.recovery_max_replay_s < 0:
        _fail("--recovery-max-executions and --recovery-max-replay-s must not be negative")
    if not settings.daemon_lease > 0:
        _fail(f"--daemon-lease must be positive, got {settings.daemon_lease}")
    if settings.db is None:
        default_db_path().parent.mkdir(parents=True, exist_ok=True)
    _configure_logging(settings.log_level)

    import uvicorn

    from vmsystem.api import create_app
    from vmsystem.api.protocol import http_protocol
    from vmsystem.core import EngineError, RecoveryConfig, open_hosts, open_system
    from vmsystem.store import StoreError

    try:
        pool = open_hosts(
            settings.hosts,
            processes=settings.host_processes,
            sessions_per_host=settings.sessions_per_host,
            memory_mb=settings.host_memory_mb,
            memory_budget_mb=settings.host_memory_budget_mb,
            ray_address=settings.ray_address,
        )
    except EngineError as exc:
        _fail(f"session hosts: {exc}")
    try:
        vm = open_system(
            settings.db_location,
            cache_dir=Path(settings.library_cache_dir),
            session_idle_timeout=settings.session_idle_timeout,
            interactive_idle_timeout=settings.interactive_idle_timeout,
            worktrees_dir=settings.managed_worktrees_dir,
            worktree_retention=settings.worktree_retention,
            max_file_bytes=settings.max_file_bytes,
            hosts=pool,
            executor_threads=settings.executor_threads,
            max_sessions=settings.max_sessions,
            recovery=RecoveryConfig(
                restart=settings.session_recovery,
                concurrency=settings.recovery_concurrency,
                max_executions=settings.recovery_max_executions,
                max_replay_s=settings.recovery_max_replay_s,
            ),
            daemon_lease_s=settings.daemon_lease,
            address=settings.listen,
        )
    except StoreError as exc:
        pool.close()
        _fail(f"open store: {exc}")
    app = create_app(
        vm,
        auth_token=settings.auth_token,
        cors_origins=settings.cors_origins,
        max_request_bytes=settings.max_request_bytes,
        max_header_bytes=settings.max_header_bytes,
        max_header_count=settings.max_header_count,
        max_file_bytes=settings.max_file_bytes,
        allowed_hosts=(*_listen_hosts(host), *settings.allowed_hosts),
        access_log=settings.access_log,
    )
    from vmsystem import __version__

    typer.echo(
        f"vm-system {__version__} listening on http://{settings.listen} "
        f"(database: {vm.store.url}; session hosts: {pool.kind}; web UI at /; API at /api/v1; "
        "MCP at /mcp)",
        err=True,
    )
    if vm.recovery.sessions_closed or vm.recovery.executions_finished or vm.recovery.sessions_kept:
        typer.echo(
            f"recovered after restart: {vm.recovery.sessions_closed} session(s) closed, "
            f"{vm.recovery.sessions_kept} to rebuild by replay "
            f"({settings.session_recovery}), "
            f"{vm.recovery.executions_finished} running execution(s) finished",
            err=True,
        )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        loop="auto",
        http=http_protocol(
            read_timeout=settings.request_read_timeout,
            max_head_bytes=settings.max_header_bytes,
            max_header_count=settings.max_header_count,
        ),
        timeout_graceful_shutdown=3,
        server_header=False,
        # A connection idle between requests is closed after this long (uvicorn); one whose
        # request is slow to arrive, by the protocol above.
        timeout_keep_alive=_KEEP_ALIVE_S,
    )
    # uvicorn handles SIGINT/SIGTERM (graceful shutdown), then restores the previous handlers
    # and raises the signal again; with the default handlers still in place that would kill
    # the process with -SIGTERM instead of exiting 0 after closing the system.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _already_handled)
    try:
        _server(config, vm).run()
    finally:
        vm.shutdown()


#: Seconds a connection may stay idle between requests.
_KEEP_ALIVE_S = 5


def _server(config: Any, vm: Any) -> Any:
    """A uvicorn server that drains the system (cancels running executions, each recording
    its cancellation and publishing its terminal event) when a shutdown signal comes, and
    only then stops serving: event streams end as soon as the server stops, so the
    ``CANCELLED`` events must be out first. A second signal stops at once. The rest of the
    shutdown (sessions, executor, store) is the app's lifespan calling ``vm.shutdown()``."""
    import uvicorn

    class Server(uvicorn.Server):
        draining = False

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.draining:
                super().handle_exit(sig, frame)
                return
            self.draining = True
            threading.Thread(
                target=self._drain_then_exit, args=(sig, frame), name="shutdown", daemon=True
            ).start()

        def _drain_then_exit(self, sig: int, frame: Any) -> None:
            try:
                vm.drain()
            finally:
                super().handle_exit(sig, frame)

    return Server(config)


def _already_handled(_signum: int, _frame: Any) -> None:
    """The shutdown signal uvicorn re-raises once it has stopped serving."""
