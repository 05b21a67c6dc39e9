"""SessionService: start sessions from templates, close them, and read them back."""

from __future__ import annotations

import builtins
import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from vmsystem.core.capabilities import hidden_globals, session_environment
from vmsystem.core.errors import (
    InvalidPath,
    LibraryNotCached,
    LibraryNotFound,
    SessionActive,
    SessionBusy,
    SessionNotFound,
    SessionNotReady,
    StartupFailed,
    ValidationError,
    VmError,
)
from vmsystem.core.events import EventBus
from vmsystem.core.executions import ExecutionService
from vmsystem.core.files import DEFAULT_MAX_FILE_BYTES, read_source, seed_archive, worktree_call
from vmsystem.core.idle import own_idle_timeout
from vmsystem.core.ids import new_id, normalize_id, utcnow
from vmsystem.core.libraries import LibraryResolver, LoadedLibrary
from vmsystem.core.lost import RuntimeLoss
from vmsystem.core.modules import Grant, normalize_module_name, session_modules
from vmsystem.core.paths import check_worktree
from vmsystem.core.provenance import session_provenance
from vmsystem.core.registry import LiveSession, RuntimeRegistry
from vmsystem.core.session_cap import SessionCap, capped
from vmsystem.core.session_locks import SessionLocks
from vmsystem.core.settings import check_idle_timeout, check_memory_budget
from vmsystem.core.templates import TemplateService
from vmsystem.hosts import HostPool, RuntimeSpec, SessionRuntime
from vmsystem.models import (
    ExecutionKind,
    ExecutionStatus,
    Session,
    SessionStatus,
    TemplateSnapshot,
)
from vmsystem.modules.worktree import FileRequest
from vmsystem.runtime import ContextOptions, EngineError, OutcomeKind, RunLimits
from vmsystem.runtime.entries import library_binding
from vmsystem.store import Store

__all__ = ["SessionService"]

_log = logging.getLogger(__name__)
LIBRARY_LIMITS = RunLimits(wall_ms=10_000, cpu_ms=None)
SESSION_STATUSES = {s.value for s in SessionStatus}
#: Sessions whose history may be purged: nothing runs in them any more.
PURGEABLE = (SessionStatus.CLOSED, SessionStatus.CRASHED)
#: Pauses between the attempts of a rebuild whose runtime could not be started (its host
#: was dying): the pool notices a host death and starts another within them.
REBUILD_RETRY_S = (0.2, 0.5, 1.0, 2.0)


class SessionService:
    """Session lifecycle: ``starting -> ready -> closed``, ``crashed`` on failures.

    Changes of one session's state (create, restart, close, purge) are serialised by
    :attr:`locks`; anything else that changes a session's state (the recovery of sessions
    after a daemon restart) takes ``locks.hold(session_id)`` too.
    """

    #: The live-session cap (``--max-sessions``); None: no cap.
    cap: SessionCap | None = None
    #: The largest template seed unpacked into a new managed worktree (``--max-file-bytes``).
    max_seed_bytes: int = DEFAULT_MAX_FILE_BYTES
    #: The idle timeout of interactive sessions without one of their own
    #: (``--interactive-idle-timeout``; None: none).
    interactive_idle_timeout: float | None = None

    def __init__(
        self,
        store: Store,
        hosts: HostPool,
        registry: RuntimeRegistry,
        templates: TemplateService,
        executions: ExecutionService,
        libraries: LibraryResolver,
        bus: EventBus,
        lost: RuntimeLoss,
        worktrees_dir: Path,
    ) -> None:
        self._store = store
        self._lost = lost
        #: Where managed worktrees are created (on the machine of the host that holds each).
        self.worktrees_dir = Path(os.path.abspath(worktrees_dir))
        self._bus = bus
        self._hosts = hosts
        self._registry = registry
        self._templates = templates
        self._executions = executions
        self._libraries = libraries
        #: The per-session state locks.
        self.locks = SessionLocks()

    # ------------------------------------------------------------------ create
    @capped
    def create(
        self,
        template_id: str,
        worktree_path: str | None = None,
        *,
        workspace_id: str | None = None,
        base_commit_oid: str | None = None,
        session_id: str | None = None,
        snapshot: TemplateSnapshot | None = None,
        managed: bool = False,
        idle_timeout_s: float | None = None,
        interactive: bool = False,
    ) -> Session:
        """Start a session synchronously; on any failure the row is ``crashed`` and an error
        names the cause (nothing stays registered). ``worktree_path``: an existing absolute
        directory on the daemon's machine, or None for a managed worktree (a fresh directory
        ``<worktrees_dir>/<session id>`` created by the session's host, with the template's
        seed unpacked into it). ``managed``: ``worktree_path`` is another session's managed
        worktree, shared (a fork's). ``session_id``: the id to give it (an idempotent request
        chooses it up front). ``snapshot``: start from this template snapshot instead of the
        template's current state (a fork keeps its source's). ``idle_timeout_s``: the
        session's own idle timeout (0: never), over the template's
        ``settings.session.idle_timeout_s``; ``interactive``: the session is for a person or
        an agent at a prompt (``repl --new``, MCP, the Jupyter kernel), which gets
        :attr:`interactive_idle_timeout` when neither gives one (see :mod:`vmsystem.core.idle`)."""
        requested = check_idle_timeout("idle_timeout_s", idle_timeout_s)
        if snapshot is None:
            snapshot = TemplateSnapshot.of(self._templates.resolve(template_id))
        sid = session_id or new_id()
        fresh = worktree_path is None
        if fresh:
            worktree = str(self.worktrees_dir / sid)
        elif managed:
            worktree = str(worktree_path)
        else:
            worktree = str(check_worktree(worktree_path))
        now = utcnow()
        session = Session(
            id=sid,
            template_id=snapshot.id,
            workspace_id=(workspace_id or "").strip() or "default",
            base_commit_oid=(base_commit_oid or "").strip() or "HEAD",
            worktree_path=worktree,
            status=SessionStatus.STARTING,
            created_at=now,
            last_activity_at=now,
            closed_at=None,
            last_error=None,
            template_snapshot=snapshot,
            worktree_managed=fresh or managed,
            idle_timeout_s=own_idle_timeout(
                requested, snapshot, self.interactive_idle_timeout if interactive else None
            ),
        )
        spec = self._runtime_spec(session)
        with self.locks.hold(session.id):
            self._store.insert_session(session)
            self._boot(session, spec, seed=fresh)
            return self.get(session.id)

    def _boot(
        self,
        session: Session,
        spec: RuntimeSpec,
        *,
        seed: bool = False,
        prepare: Callable[[LiveSession], None] | None = None,
    ) -> None:
        """Give a ``starting`` session its runtime: the template's seed (``seed``: a new
        managed worktree), libraries, startup files, ``prepare`` (a recovery's replay), then
        ``ready`` and registered. On any failure the row is ``crashed`` with ``last_error``,
        the runtime disposed, and the error (naming the session) raised."""
        snapshot = session.template_snapshot
        live: LiveSession | None = None
        on_lost = _LostWhileIdle(self._lost, session.id)
        try:
            live = LiveSession(
                session_id=session.id,
                worktree=session.worktree_path,
                runtime=self._hosts.start_runtime(spec, on_lost),
                limits_of_snapshot=snapshot.settings.limits,
                language=snapshot.settings.runtime.language,
                idle_timeout_s=session.idle_timeout_s,
            )
            on_lost.runtime = live.runtime
            if seed and snapshot.settings.worktree.seed:
                self._unpack_seed(session, live.runtime, snapshot.settings.worktree.seed)
            loaded = self._load_libraries(live.runtime, list(snapshot.libraries))
            live.provenance = session_provenance(snapshot, loaded, self._hosts.engine())
            self._run_startup_files(session, live)
            if prepare is not None:
                prepare(live)
            self._store.update_session(session.id, status=SessionStatus.READY)
            self._registry.add(live)
            if not live.runtime.alive:
                # Lost between its last startup run and its registration: no report follows.
                self._lost.runtime_lost(
                    session.id, f"session host {live.host_id} died", runtime=live.runtime
                )
            _log.info(
                "session ready",
                extra={"session_id": session.id, "template_id": snapshot.id, "host": live.host_id},
            )
        except BaseException as exc:
            message = exc.message if isinstance(exc, VmError) else f"internal error: {exc}"
            if live is not None:
                live.dispose()
            self._store.update_session(session.id, status=SessionStatus.CRASHED, last_error=message)
            _log.warning("session crashed", extra={"session_id": session.id, "error": message})
            if isinstance(exc, VmError):
                exc.details.setdefault("session_id", session.id)
            raise

    # ------------------------------------------------------------------ restart
    def restart(self, session_id: str, *, refresh_template: bool = False) -> Session:
        """Give a ready or crashed session a fresh runtime under the same id: its template
        snapshot (or, with ``refresh_template``, the template's current state, which becomes
        the new snapshot) and its startup files run again. The execution history is kept and
        the restart is recorded as an execution of kind ``restart``.

        SESSION_NOT_READY for a closed (or still starting) session, SESSION_BUSY while an
        execution runs; a failed start leaves the session ``crashed`` as on creation. A close
        arriving meanwhile waits for the restart to end, then closes the session."""
        with self.locks.hold(normalize_id(session_id, "session_id")):
            return self._restart(session_id, refresh_template=refresh_template)

    def _restart(self, session_id: str, *, refresh_template: bool) -> Session:
        session = self.get(session_id)
        if session.status not in (SessionStatus.READY, SessionStatus.CRASHED):
            raise SessionNotReady(
                f"Session is {session.status.value}: only a ready or crashed session restarts",
                session_id=session.id,
                status=session.status.value,
            )
        snapshot = session.template_snapshot
        if refresh_template:
            snapshot = TemplateSnapshot.of(self._templates.get(session.template_id))
        live = self._registry.get(session.id)
        if live is not None:
            if not live.busy.acquire(blocking=False):
                raise SessionBusy(session_id=session.id, execution_id=live.current_execution)
            try:
                self._registry.pop(session.id)
                live.dispose()
            finally:
                live.busy.release()
        restarted = replace(
            session, status=SessionStatus.STARTING, last_error=None, template_snapshot=snapshot
        )
        spec = self._runtime_spec(restarted)
        self._store.update_session(
            session.id,
            status=SessionStatus.STARTING,
            clear_last_error=True,
            template_snapshot=snapshot if refresh_template else None,
        )
        how = "with the template's current settings" if refresh_template else "from its snapshot"
        self._executions.record_restart(session.id, f"session restarted {how}")
        self._boot(restarted, spec)
        return self.get(session.id)

    def rebuild(self, session_id: str, prepare: Callable[[LiveSession], None]) -> Session:
        """Give a session whose runtime was lost a new one under the same id, from its
        template snapshot: libraries, startup files, then ``prepare`` (the replay of its
        history) before it is ``ready`` again. A failure leaves it ``crashed`` (raised);
        SESSION_NOT_READY if it was closed (or got a runtime) meanwhile."""
        sid = normalize_id(session_id, "session_id")
        with self.locks.hold(sid):
            row = self.get(sid)
            if row.status not in (SessionStatus.STARTING, SessionStatus.READY) or (
                self._registry.get(sid) is not None
            ):
                raise SessionNotReady(
                    f"Session is {row.status.value}: it is not waiting for a runtime",
                    session_id=sid,
                    status=row.status.value,
                )
            session = replace(row, status=SessionStatus.STARTING, last_error=None)
            spec = self._runtime_spec(session)
            for pause in (*REBUILD_RETRY_S, None):
                self._store.update_session(
                    sid, status=SessionStatus.STARTING, clear_last_error=True
                )
                try:
                    self._boot(session, spec, prepare=prepare)
                    break
                except EngineError:
                    # The host it was placed on is dying too (its death not noticed yet):
                    # the pool starts another; try again on a live one.
                    if pause is None:
                        raise
                    time.sleep(pause)
            return self.get(sid)

    def release(self, session_id: str) -> None:
        """Let go of a live session's runtime but keep it ``ready`` (the daemon stops and
        the session is rebuilt by replay when it starts again)."""
        with self.locks.hold(session_id):
            live = self._registry.pop(session_id)
            if live is not None:
                self._dispose(live)
            self._bus.end_session(session_id)

    def crash(self, session_id: str, message: str) -> None:
        """Record that a session waiting for a runtime is ``crashed`` (a closed one stays
        closed) and end its streams."""
        with self.locks.hold(session_id):
            row = self._store.get_session(session_id)
            if row is not None and row.status is not SessionStatus.CLOSED:
                self._store.update_session(
                    session_id, status=SessionStatus.CRASHED, last_error=message
                )
            self._bus.end_session(session_id)

    def _runtime_spec(self, session: Session) -> RuntimeSpec:
        """What the host needs to build the session's runtime (plain data: the host may be
        another process or machine, so ``env:`` grants are resolved here, from the daemon's
        environment). Raises MODULE_NOT_ALLOWED for a module that does not exist, and
        MEMORY_BUDGET_EXCEEDED for a ``mem_mb`` no host can take."""
        snapshot = session.template_snapshot
        limits = snapshot.settings.limits
        check_memory_budget(limits.mem_mb, self._hosts.memory_budget_mb)
        grants = tuple(Grant.of(c) for c in snapshot.capabilities)
        modules = tuple(
            normalize_module_name(name) for name in session_modules(snapshot.modules, grants)
        )
        return RuntimeSpec(
            session_id=session.id,
            worktree=session.worktree_path,
            options=ContextOptions(
                mem_mb=limits.mem_mb,
                max_console_events=max(limits.max_events - 1, 0),
                max_events=limits.max_events,
                max_output_kb=limits.max_output_kb,
                console=snapshot.settings.runtime.console,
                strict=snapshot.settings.runtime.strict,
                unhandled_rejections=snapshot.settings.runtime.unhandled_rejections,
                env=session_environment(grants, os.environ),
                hidden_globals=hidden_globals(grants),
                deterministic_seed=snapshot.settings.deterministic.seed,
            ),
            modules=modules,
            grants=grants,
            managed=session.worktree_managed,
        )

    def _unpack_seed(self, session: Session, runtime: SessionRuntime, seed: str) -> None:
        """Copy the template's seed into the new managed worktree, through its host."""
        data = seed_archive(seed, self.max_seed_bytes)
        try:
            worktree_call(
                runtime,
                FileRequest("unpack", data=data, max_bytes=self.max_seed_bytes),
                session.id,
            )
        except VmError as exc:
            if isinstance(exc, StartupFailed):
                raise
            raise StartupFailed(
                f"startup failed: the worktree seed {seed}: {exc.message}", seed=seed
            ) from None

    def _load_libraries(self, runtime: SessionRuntime, specs: list[str]) -> list[LoadedLibrary]:
        loaded: list[LoadedLibrary] = []
        for spec in specs:
            try:
                library = self._libraries.load(spec)
            except (LibraryNotCached, LibraryNotFound) as exc:
                exc.message = f"failed to load libraries: {exc.message}"
                raise
            outcome = runtime.run(
                library.source + library_binding(library.name, library.global_name),
                filename=library.filename,
                limits=LIBRARY_LIMITS,
                sink=_discard,
            )
            if outcome.kind is not OutcomeKind.OK:
                detail = (outcome.exception or {}).get("message") or outcome.message
                raise StartupFailed(
                    f"failed to load libraries: {library.name}@{library.version} failed: {detail}",
                    library=spec,
                )
            loaded.append(library)
        return loaded

    def _run_startup_files(self, session: Session, live: LiveSession) -> None:
        startup = sorted(session.template_snapshot.startup_files, key=lambda s: s.order_index)
        for item in startup:
            try:
                rel, code = read_source(live.runtime, item.path, session.id)
            except InvalidPath as exc:
                exc.message = f"startup failed: {item.path}: {exc.message}"
                raise
            except VmError as exc:
                raise StartupFailed(
                    f"startup failed: startup file not found: {item.path}", path=item.path
                ) from exc
            execution = self._executions.run_startup(live, rel, code)
            if execution.status is not ExecutionStatus.OK:
                error = execution.error or {}
                detail = error.get("message") or execution.status.value
                name = error.get("name") or error.get("code") or "Error"
                raise StartupFailed(
                    f"startup failed: {rel}: {name}: {detail}",
                    path=rel,
                    execution_id=execution.id,
                )

    # ------------------------------------------------------------------ close
    def close(self, session_id: str, *, reason: str | None = None) -> Session:
        """Close a session (idempotent); a running execution is cancelled first, a restart
        or start under way is waited for."""
        sid = normalize_id(session_id, "session_id")
        with self.locks.hold(sid):
            return self._close(sid, reason)

    def _close(self, sid: str, reason: str | None) -> Session:
        live = self._registry.pop(sid)
        if live is not None:
            self._dispose(live)
        row = self._store.get_session(sid)
        if row is None:
            raise SessionNotFound(session_id=sid)
        if row.status is not SessionStatus.CLOSED:
            self._store.update_session(
                sid,
                status=SessionStatus.CLOSED,
                closed_at=utcnow(),
                last_error=reason if reason is not None else row.last_error,
            )
        self._bus.end_session(sid)
        return self.get(sid)

    # ------------------------------------------------------------------ purge
    def purge(self, session_id: str) -> Session:
        """Delete a closed or crashed session with its executions and events; returns the
        row as it was. A starting or ready session is refused (:class:`SessionActive`)."""
        with self.locks.hold(normalize_id(session_id, "session_id")):
            return self._purge(session_id)

    def _purge(self, session_id: str) -> Session:
        row = self.get(session_id)
        if row.status not in PURGEABLE or self._registry.get(row.id) is not None:
            raise SessionActive(
                f"session {row.id} is {row.status.value}: close it before purging",
                session_id=row.id,
                status=row.status.value,
            )
        # Queued event writes of its last execution must land before the rows go.
        self._store.flush()
        self._store.delete_session(row.id)
        _log.info("session purged", extra={"session_id": row.id})
        if row.worktree_managed and row.worktree_removed_at is None:
            self._remove_worktree(row)
        return row

    def _remove_worktree(self, row: Session) -> bool:
        """Delete a managed worktree unless another session (a fork) still uses it; whether it
        was deleted. An explicit worktree is never deleted."""
        if not row.worktree_managed or self._store.sessions_using_worktree(
            row.worktree_path, besides=row.id
        ):
            return False
        try:
            self._hosts.remove_worktree(row.worktree_path)
        except Exception:
            _log.exception("removing the managed worktree %s failed", row.worktree_path)
            return False
        _log.info("managed worktree removed", extra={"session_id": row.id})
        return True

    def expire_worktrees(self, retention_seconds: float) -> list[str]:
        """Remove the managed worktrees of sessions closed more than
        ``retention_seconds`` ago; the sessions stay, with ``worktree_removed_at`` set.
        Returns their ids."""
        cutoff = utcnow() - timedelta(seconds=retention_seconds)
        expired = []
        for row in self._store.expired_worktrees(cutoff):
            with self.locks.hold(row.id):
                if self._registry.get(row.id) is not None or not self._remove_worktree(row):
                    continue
                self._store.update_session(row.id, worktree_removed_at=utcnow())
                expired.append(row.id)
        return expired

    def _dispose(self, live: LiveSession) -> None:
        if live.current_execution is not None:
            live.interrupt()
        # The execution thread records the cancellation and lets go of the runtime first.
        acquired = live.busy.acquire(timeout=5)
        try:
            live.dispose()
        finally:
            if acquired:
                live.busy.release()

    def close_if_idle(self, session_id: str, timeout_s: float) -> bool:
        """Close a live session that has had no activity for ``timeout_s`` seconds and runs
        nothing: a ``close`` execution with the ``system`` event ``SESSION_IDLE_TIMEOUT`` goes
        to its stream first, and the reason becomes its ``last_error``. Whether it was closed
        (not when it was busy, active again or gone)."""
        with self.locks.hold(session_id):
            live = self._registry.get(session_id)
            if live is None or not live.busy.acquire(blocking=False):
                return False
            try:
                if time.monotonic() - live.last_active < timeout_s:
                    return False
                self._registry.pop(session_id)
                live.dispose()  # holding ``busy``: a run that found it just before waits
            finally:
                live.busy.release()
            reason = f"closed after {timeout_s:g} s without activity (idle timeout)"
            try:
                self._executions.record_system(
                    session_id,
                    ExecutionKind.CLOSE,
                    {
                        "level": "info",
                        "code": "SESSION_IDLE_TIMEOUT",
                        "message": f"session {reason}",
                        "idle_timeout_s": timeout_s,
                    },
                )
            finally:
                self._close(session_id, reason)
            _log.info("idle session closed", extra={"session_id": session_id})
            return True

    # ------------------------------------------------------------------ read
    def get(self, session_id: str) -> Session:
        """One session (any status); a live one with its ``host_id``."""
        sid = normalize_id(session_id, "session_id")
        row = self._store.get_session(sid)
        if row is None:
            raise SessionNotFound(session_id=sid)
        return self._with_host(row)

    def list(self, *, status: str | None = None, template_id: str | None = None) -> list[Session]:
        """Sessions, newest first, optionally filtered."""
        if status is not None and status not in SESSION_STATUSES:
            raise ValidationError(
                f"status must be one of {', '.join(sorted(SESSION_STATUSES))}", status=status
            )
        tid = normalize_id(template_id, "template_id") if template_id else None
        return [
            self._with_host(s) for s in self._store.list_sessions(status=status, template_id=tid)
        ]

    def _with_host(self, session: Session) -> Session:
        host = self.host_of(session.id)
        return replace(session, host_id=host) if host is not None else session

    def host_of(self, session_id: str) -> str | None:
        """The id of the host a live session's runtime is on (None when not live)."""
        live = self._registry.get(session_id)
        return live.host_id if live is not None else None

    def live_ids(self) -> builtins.list[str]:
        """Sessions whose runtime is really live in this process."""
        return self._registry.ids()


def _discard(_lines: builtins.list[tuple[str, str, float]]) -> None:
    """Library code's console output is not recorded."""


class _LostWhileIdle:
    """The ``on_lost`` a session's runtime is started with: the host reports the runtime lost
    between runs (its host died), which takes the one crash path."""

    def __init__(self, lost: RuntimeLoss, session_id: str) -> None:
        self._lost = lost
        self._session_id = session_id
        #: The runtime reported on (set once started): a report about another does nothing.
        self.runtime: SessionRuntime | None = None

    def __call__(self, cause: str) -> None:
        if self.runtime is not None:
            self._lost.runtime_lost(self._session_id, cause, runtime=self.runtime)
