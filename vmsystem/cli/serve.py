"""``vm-system serve``: the daemon (the only command that uses the core and the API)."""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from vmsystem import __version__
from vmsystem.cli.logs import JsonLineFormatter
from vmsystem.settings import SETTINGS, ServeSettings, default_db_path

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


def serve(
    ctx: typer.Context,
    listen: Annotated[str | None, _opt("listen")] = None,
    cors_origin: Annotated[list[str] | None, _opt("cors_origins")] = None,
    allowed_host: Annotated[list[str] | None, _opt("allowed_hosts")] = None,
    max_request_bytes: Annotated[int | None, _opt("max_request_bytes")] = None,
    max_header_bytes: Annotated[int | None, _opt("max_header_bytes")] = None,
    max_header_count: Annotated[int | None, _opt("max_header_count")] = None,
    max_file_bytes: Annotated[int | None, _opt("max_file_bytes")] = None,
    max_sessions: Annotated[int | None, _opt("max_sessions")] = None,
    request_read_timeout: Annotated[float | None, _opt("request_read_timeout")] = None,
    session_idle_timeout: Annotated[float | None, _opt("session_idle_timeout")] = None,
    worktrees_dir: Annotated[str | None, _opt("worktrees_dir")] = None,
    worktree_retention: Annotated[float | None, _opt("worktree_retention")] = None,
    cache_dir: Annotated[str | None, _opt("cache_dir")] = None,
    hosts: Annotated[str | None, _opt("hosts")] = None,
    host_processes: Annotated[int | None, _opt("host_processes")] = None,
    sessions_per_host: Annotated[int | None, _opt("sessions_per_host")] = None,
    host_memory_mb: Annotated[int | None, _opt("host_memory_mb")] = None,
    ray_address: Annotated[str | None, _opt("ray_address")] = None,
    executor_threads: Annotated[int | None, _opt("executor_threads")] = None,
    insecure_no_auth: Annotated[bool, _opt("insecure_no_auth")] = False,
    access_log: Annotated[bool, _opt("access_log")] = False,
    db: Annotated[str | None, _opt("db")] = None,
    auth_token: Annotated[str | None, _opt("auth_token")] = None,
) -> None:
    """Run the daemon: the REST API, live event streams and the web UI at /.

    With no flags it listens on 127.0.0.1:3210 with an embedded SQLite database in the user's
    data directory. Every flag can also be set with its VMSYSTEM_* environment variable.
    """
    root = ctx.obj
    flags = {
        "db": db or getattr(root, "db", None),
        "listen": listen,
        "cors_origins": tuple(cors_origin or ()),
        "allowed_hosts": tuple(allowed_host or ()),
        "auth_token": auth_token or getattr(root, "auth_token", None),
        "insecure_no_auth": insecure_no_auth,
        "max_request_bytes": max_request_bytes,
        "max_header_bytes": max_header_bytes,
        "max_header_count": max_header_count,
        "max_file_bytes": max_file_bytes,
        "max_sessions": max_sessions,
        "request_read_timeout": request_read_timeout,
        "session_idle_timeout": session_idle_timeout,
        "worktrees_dir": worktrees_dir,
        "worktree_retention": worktree_retention,
        "cache_dir": cache_dir,
        "hosts": hosts,
        "host_processes": host_processes,
        "sessions_per_host": sessions_per_host,
        "host_memory_mb": host_memory_mb,
        "ray_address": ray_address,
        "executor_threads": executor_threads,
        "access_log": access_log,
        "log_level": getattr(root, "log_level", None),
    }
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
    if settings.db is None:
        default_db_path().parent.mkdir(parents=True, exist_ok=True)
    _configure_logging(settings.log_level)

    import uvicorn

    from vmsystem.api import create_app
    from vmsystem.api.protocol import http_protocol
    from vmsystem.core import EngineError, open_hosts, open_system
    from vmsystem.store import StoreError

    try:
        pool = open_hosts(
            settings.hosts,
            processes=settings.host_processes,
            sessions_per_host=settings.sessions_per_host,
            memory_mb=settings.host_memory_mb,
            ray_address=settings.ray_address,
        )
    except EngineError as exc:
        _fail(f"session hosts: {exc}")
    try:
        vm = open_system(
            settings.db_location,
            cache_dir=Path(settings.library_cache_dir),
            session_idle_timeout=settings.session_idle_timeout,
            worktrees_dir=settings.managed_worktrees_dir,
            worktree_retention=settings.worktree_retention,
            max_file_bytes=settings.max_file_bytes,
            hosts=pool,
            executor_threads=settings.executor_threads,
            max_sessions=settings.max_sessions,
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
    typer.echo(
        f"vm-system {__version__} listening on http://{settings.listen} "
        f"(database: {vm.store.url}; session hosts: {pool.kind}; web UI at /; API at /api/v1; "
        "MCP at /mcp)",
        err=True,
    )
    if vm.recovery.sessions_closed or vm.recovery.executions_finished:
        typer.echo(
            f"recovered after restart: {vm.recovery.sessions_closed} session(s) closed, "
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
