"""The embeddable vm-system: one object that owns the store, the runtimes and the services.

from vmsystem.core import open_system

with open_system("/tmp/vm.db") as vm:
    t = vm.templates.create("demo")
    s = vm.sessions.create(t.id, "/tmp")
    ex = vm.executions.repl(s.id, "20 + 22")
    print(ex.result["preview"])            # 42
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from vmsystem import __version__
from vmsystem.core.completions import CompletionService
from vmsystem.core.downloads import LibraryDownloads
from vmsystem.core.drain import HostDrain
from vmsystem.core.events import EventBus
from vmsystem.core.executions import ExecutionService
from vmsystem.core.exports import ExportService
from vmsystem.core.files import DEFAULT_MAX_FILE_BYTES, FileService, default_worktrees_dir
from vmsystem.core.forks import ForkService
from vmsystem.core.idempotency import IdempotencyService
from vmsystem.core.idle import IdleWatch
from vmsystem.core.ids import utcnow
from vmsystem.core.leases import DAEMON_RESTARTED, DaemonLeases, DaemonStatus
from vmsystem.core.libraries import LibraryResolver
from vmsystem.core.lost import RuntimeLoss
from vmsystem.core.notebooks import NotebookService
from vmsystem.core.recovery import RecoveryConfig, RecoveryService
from vmsystem.core.registry import RuntimeRegistry
from vmsystem.core.session_cap import DEFAULT_MAX_SESSIONS, SessionCap
from vmsystem.core.sessions import SessionService
from vmsystem.core.templates import TemplateService
from vmsystem.hosts import EngineInfo, HostPool, open_hosts
from vmsystem.libraries.cache import default_cache_dir
from vmsystem.models import SessionStatus
from vmsystem.store import Store, open_store
from vmsystem.store.notify import CommitListener

__all__ = [
    "DEFAULT_EXECUTOR_THREADS",
    "RESTART_MESSAGE",
    "SHUTDOWN_MESSAGE",
    "RecoveryConfig",
    "RecoveryReport",
    "VmSystem",
    "open_system",
]

_log = logging.getLogger(__name__)
RESTART_MESSAGE = "daemon restarted: runtime state does not survive process restarts"
SHUTDOWN_MESSAGE = "daemon shutdown"
#: Threads of the system's executor: blocking core calls of the HTTP layer and ``wait=False``
#: executions (an execution holds one thread for its duration).
DEFAULT_EXECUTOR_THREADS = 256
#: How long shutdown waits for running executions to record their cancellation.
CANCEL_WAIT_S = 3.0


@dataclass(frozen=True)
class RecoveryReport:
    """What start-up recovery changed."""

    sessions_closed: int
    executions_finished: int
    #: Sessions that were ready, to be rebuilt by replay (eagerly or on first use).
    sessions_kept: int = 0


class VmSystem:
    """Templates, sessions, executions and the event bus over one store."""

    def __init__(
        self,
        store: Store,
        *,
        hosts: HostPool | None = None,
        cache_dir: Path | None = None,
        session_idle_timeout: float | None = None,
        interactive_idle_timeout: float | None = None,
        executor_threads: int = DEFAULT_EXECUTOR_THREADS,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        worktrees_dir: Path | None = None,
        worktree_retention: float | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        recovery: RecoveryConfig | None = None,
        daemon_lease_s: float | None = None,
        address: str | None = None,
    ) -> None:
        self.store = store
        #: The one pool for blocking work: the HTTP layer's core calls and background runs.
        #: The size of the executor, and of the daemon's one limiter of blocking work.
        self.executor_threads = executor_threads
        self.executor = ThreadPoolExecutor(
            max_workers=executor_threads, thread_name_prefix="vm-exec"
        )
        #: Where sessions' runtimes live (default: this process).
        self.hosts = hosts if hosts is not None else open_hosts("inprocess")
        self.bus = EventBus()
        self.registry = RuntimeRegistry()
        self.libraries = LibraryResolver(cache_dir or default_cache_dir())
        self.downloads = LibraryDownloads(self.libraries.cache)
        self.templates = TemplateService(store, self.libraries)
        self.templates.memory_budget_mb = self.hosts.memory_budget_mb
        #: The one crash path (see :mod:`vmsystem.core.lost`); recovery listens here.
        self.lost = RuntimeLoss(store, self.registry, self.bus)
        self.executions = ExecutionService(store, self.bus, self.registry, self.executor, self.lost)
        self.completions = CompletionService(store, self.registry)
        #: Idempotency-Key claims of the submitting routes (persisted, 24 h).
        self.idempotency = IdempotencyService(store)
        self.sessions = SessionService(
            store,
            self.hosts,
            self.registry,
            self.templates,
            self.executions,
            self.libraries,
            self.bus,
            self.lost,
            worktrees_dir or default_worktrees_dir(),
        )
        self.sessions.cap = SessionCap(self.registry, max_sessions)
        self.sessions.interactive_idle_timeout = interactive_idle_timeout or None
        #: Finds sessions idle past their timeout (closed by the culler thread).
        self.idle = IdleWatch(self.registry, session_idle_timeout)
        self.sessions.max_seed_bytes = max_file_bytes
        #: Live sessions' worktree files, through their hosts.
        self.files = FileService(store, self.registry, max_file_bytes)
        self.forks = ForkService(self.sessions, self.executions)
        #: Rebuilds sessions whose runtime was lost (host crash, daemon restart) by replay.
        self.recoveries = RecoveryService(
            store, self.sessions, self.executions, self.registry, self.lost, recovery
        )
        #: Moves a host's sessions to other hosts by replay and retires it.
        self.drains = HostDrain(store, self.hosts, self.registry, self.recoveries)
        self.notebooks = NotebookService(
            self.sessions, self.executions, lambda: self.engine.version
        )
        self.exports = ExportService(self.sessions, self.executions, self.notebooks)
        self.started_at = time.monotonic()
        #: With ``daemon_lease_s``: this daemon's lease in the store, one of several daemons
        #: over it (see :mod:`vmsystem.core.leases`); without, the store's only user.
        self.leases: DaemonLeases | None = None
        if daemon_lease_s is not None:
            self.leases = DaemonLeases(
                store,
                lease_s=daemon_lease_s,
                address=address,
                session_message=RESTART_MESSAGE,
                keep_ready=self.recoveries.config.restart != "off",
            )
            self.idempotency.owner = self.leases.id
            self.idempotency.alive = self.leases.alive
        self.recovery = self._recover()
        #: With leases on PostgreSQL: other daemons' commits wake this one's followers.
        self._commits: CommitListener | None = None
        if self.leases is not None:
            self.leases.on_claimed = self._adopt
            self.leases.start()
            self._commits = store.listen_commits(self.bus.committed)
        self._closed = False
        self._shutdown_lock = threading.Lock()
        self._stop = threading.Event()
        # Always running: any session may have an idle timeout of its own.
        self._culler = threading.Thread(
            target=self._cull, args=(worktree_retention,), name="idle-culler", daemon=True
        )
        self._culler.start()

    def _adopt(self, session_ids: tuple[str, ...]) -> None:
        """Sessions taken over from a dead daemon: rebuild them here by replay."""
        self.recoveries.adopt(session_ids, close_reason=RESTART_MESSAGE)

    def _recover(self) -> RecoveryReport:
        keep = self.recoveries.config.restart != "off"
        if self.leases is not None:
            # Only the rows of dead daemons (and of none): other daemons' runs go on.
            reaped = self.leases.reap(DAEMON_RESTARTED)
            executions = reaped.executions_finished
            kept = self.recoveries.adopt(reaped.claimed, close_reason=RESTART_MESSAGE)
            sessions = reaped.sessions_closed + len(reaped.claimed) - kept
        else:
            message = "the daemon restarted while this execution was running"
            sessions, executions = self.store.recover(
                keep_ready=keep,
                now=utcnow(),
                session_message=RESTART_MESSAGE,
                execution_error={"code": DAEMON_RESTARTED, "message": message},
                system_event_payload={
                    "level": "error",
                    "code": DAEMON_RESTARTED,
                    "message": message,
                },
            )
            kept = 0
            if keep:
                ready = self.store.list_sessions(status=SessionStatus.READY.value)
                kept = self.recoveries.adopt(
                    [s.id for s in reversed(ready)], close_reason=RESTART_MESSAGE
                )
                sessions += len(ready) - kept
        if sessions or executions or kept:
            _log.warning(
                "recovered after restart: %d sessions closed, %d to rebuild by replay, "
                "%d executions finished",
                sessions,
                kept,
                executions,
            )
        return RecoveryReport(sessions, executions, kept)

    def _cull(self, retention: float | None) -> None:
        """Close idle sessions (see :mod:`vmsystem.core.idle`) and remove expired managed
        worktrees, every so often."""
        every = min(max(retention / 4, 0.2), 30.0) if retention is not None else None
        expired_at = time.monotonic()
        while not self._stop.wait(self.idle.interval()):
            try:
                for session_id, timeout in self.idle.idle():
                    self.sessions.close_if_idle(session_id, timeout)
                due = every is not None and time.monotonic() - expired_at >= every
                if retention is not None and due:
                    expired_at = time.monotonic()
                    self.sessions.expire_worktrees(retention)
            except Exception:  # keep culling even if one pass fails
                _log.exception("idle session culling failed")

    @property
    def uptime_s(self) -> float:
        """Seconds since this system was opened."""
        return time.monotonic() - self.started_at

    @property
    def version(self) -> str:
        """The vm-system version."""
        return __version__

    @property
    def engine(self) -> EngineInfo:
        """The JavaScript engine of the hosts (named by the first host's Ready with process or
        Ray hosts: the daemon itself never loads V8 then)."""
        return self.hosts.engine()

    def summary(self) -> dict[str, object]:
        """Live runtimes and running executions of this process; with leases, every daemon
        registered over the store (``daemons``) and which one this is (``daemon_id``)."""
        ids = self.sessions.live_ids()
        return {
            "active_sessions": len(ids),
            "active_session_ids": ids,
            "running_executions": len(self.executions.running()),
            "engine": {"name": self.engine.name, "version": self.engine.version},
            "hosts": [h.to_dict() for h in self.hosts.hosts()],
            "version": __version__,
            "uptime_s": round(self.uptime_s, 3),
            "db": {"url": self.store.url, "schema_version": self.store.schema_version()},
            "daemon_id": self.leases.id if self.leases is not None else None,
            "daemons": [d.to_dict() for d in self.daemons()],
        }

    def daemons(self) -> list[DaemonStatus]:
        """Every daemon registered over the store (none without a lease)."""
        return self.leases.describe() if self.leases is not None else []

    def drain(self, timeout: float = CANCEL_WAIT_S) -> None:
        """First step of shutdown: refuse new executions, cancel the running ones and wait
        (at most ``timeout`` in all) until each has recorded its cancellation and published
        its terminal event. Reads keep working. Idempotent."""
        self.executions.refuse_new("the daemon is shutting down")
        deadline = time.monotonic() + timeout
        for execution in self.executions.running():
            try:
                self.executions.cancel(execution.id, timeout=max(deadline - time.monotonic(), 0.0))
            except Exception:  # shutdown goes on regardless
                _log.exception("could not cancel %s", execution.id)

    def shutdown(self, *, reason: str = SHUTDOWN_MESSAGE) -> None:
        """Stop everything, in order: :meth:`drain`, close live sessions (``last_error =
        reason``), stop the executor, flush events and close the store.

        Idempotent and thread-safe; a second caller waits until the first has finished.
        """
        with self._shutdown_lock:
            if self._closed:
                return
            self._stop.set()
            if threading.current_thread() is not self._culler:
                # A pass under way (closing an idle session) ends before the rest stops.
                self._culler.join(timeout=10)
            if self.leases is not None:
                self.leases.on_claimed = lambda ids: None
            if self._commits is not None:
                self._commits.close()
            self.downloads.cancel_all()
            self.recoveries.close()
            self.drain()
            durable = self.recoveries.config.restart != "off"
            for live in self.registry.all():
                try:
                    if durable and self._recoverable(live.session_id):
                        self.sessions.release(live.session_id)
                    else:
                        self.sessions.close(live.session_id, reason=reason)
                except Exception:
                    _log.exception("could not close session %s", live.session_id)
            self.hosts.close()
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.store.flush(timeout=5)
            if self.leases is not None:
                self.leases.stop()  # last: its sessions and executions are final by now
            self.store.close()
            self._closed = True

    def _recoverable(self, session_id: str) -> bool:
        """Whether the session stays ``ready`` across the shutdown (its policy is not off)."""
        row = self.store.get_session(session_id)
        return row is not None and row.template_snapshot.settings.recovery.policy != "off"

    def close(self, *, reason: str = SHUTDOWN_MESSAGE) -> None:
        """The same as :meth:`shutdown`."""
        self.shutdown(reason=reason)

    def __enter__(self) -> VmSystem:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_system(
    db: str,
    *,
    cache_dir: str | Path | None = None,
    session_idle_timeout: float | None = None,
    interactive_idle_timeout: float | None = None,
    hosts: HostPool | str = "inprocess",
    executor_threads: int = DEFAULT_EXECUTOR_THREADS,
    max_sessions: int = DEFAULT_MAX_SESSIONS,
    worktrees_dir: str | Path | None = None,
    worktree_retention: float | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    recovery: RecoveryConfig | None = None,
    daemon_lease_s: float | None = None,
    address: str | None = None,
) -> VmSystem:
    """Open (and migrate) the store at ``db`` (path or URL) and recover from a restart.

    ``hosts``: where sessions' runtimes live: a :class:`~vmsystem.hosts.HostPool`, or the name
    of a backend with its defaults (``inprocess``, the default; ``process``; ``ray``). A pool
    passed in is closed by the system's shutdown. ``worktrees_dir``: where sessions created
    without a worktree get theirs (default: ``worktrees`` in the user's data directory);
    ``worktree_retention``: seconds after which a closed session's managed worktree is removed
    (None: at purge); ``max_file_bytes``: the files API's per-request limit; ``recovery``: how
    sessions whose runtime is lost are rebuilt by replay (see :class:`RecoveryConfig`);
    ``session_idle_timeout`` and ``interactive_idle_timeout``: the idle timeouts of sessions
    without one of their own (see :mod:`vmsystem.core.idle`);
    ``daemon_lease_s``: register this system as one of several daemons over the store, with
    a lease of that many seconds (:mod:`vmsystem.core.leases`; ``address`` is shown to
    operators), instead of treating every row as its own at start."""
    store = open_store(db)
    pool = open_hosts(hosts) if isinstance(hosts, str) else hosts
    try:
        return VmSystem(
            store,
            hosts=pool,
            cache_dir=Path(cache_dir) if cache_dir else None,
            session_idle_timeout=session_idle_timeout,
            interactive_idle_timeout=interactive_idle_timeout,
            executor_threads=executor_threads,
            max_sessions=max_sessions,
            worktrees_dir=Path(worktrees_dir) if worktrees_dir else None,
            worktree_retention=worktree_retention,
            max_file_bytes=max_file_bytes,
            recovery=recovery,
            daemon_lease_s=daemon_lease_s,
            address=address,
        )
    except BaseException:
        pool.close()
        store.close()
        raise
