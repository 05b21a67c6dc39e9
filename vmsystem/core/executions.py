"""ExecutionService: REPL snippets and file runs inside live sessions.

One execution per session at a time (a second gets SESSION_BUSY at once). Every execution is
recorded: the ``running`` row is committed before the code starts, events stream
through the bus while they are written in batches, and the final row is committed before the
terminal event is published and the session is free again.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from vmsystem.core.errors import (
    ExecutionNotFound,
    OutputLimitExceeded,
    SessionBusy,
    SessionNotFound,
    SessionNotReady,
    StoreUnavailable,
    ValidationError,
)
from vmsystem.core.events import EventBus, LiveExecution
from vmsystem.core.follow import ExecutionFollower, SessionFollower
from vmsystem.core.ids import new_id, normalize_id, utcnow
from vmsystem.core.paths import read_worktree_file
from vmsystem.core.provenance import execution_provenance
from vmsystem.core.registry import LiveSession, RuntimeRegistry
from vmsystem.core.search import SearchPage, search
from vmsystem.models import (
    Event,
    EventType,
    Execution,
    ExecutionKind,
    ExecutionStatus,
)
from vmsystem.runtime import (
    ConsoleLine,
    EngineError,
    Outcome,
    OutcomeKind,
)
from vmsystem.store import Store, StoreError, WriteOp
from vmsystem.store.writer import (
    FinishExecution,
    InsertEvents,
    InsertExecution,
    TouchSession,
    WriteGroup,
)

__all__ = ["ExecutionService"]

_log = logging.getLogger(__name__)

#: Outcome -> (status, system code) for outcomes that end with a ``system`` event.
_SYSTEM_OUTCOMES: dict[OutcomeKind, tuple[ExecutionStatus, str]] = {
    OutcomeKind.WALL_TIMEOUT: (ExecutionStatus.TIMEOUT, "WALL_TIME_EXCEEDED"),
    OutcomeKind.CPU_TIMEOUT: (ExecutionStatus.TIMEOUT, "CPU_TIME_EXCEEDED"),
    OutcomeKind.MEMORY: (ExecutionStatus.ERROR, "MEMORY_LIMIT_EXCEEDED"),
    OutcomeKind.OUTPUT_LIMIT: (ExecutionStatus.ERROR, "OUTPUT_LIMIT_EXCEEDED"),
    OutcomeKind.CANCELLED: (ExecutionStatus.CANCELLED, "CANCELLED"),
    OutcomeKind.WEDGED: (ExecutionStatus.ERROR, "SESSION_CRASHED"),
}
MAX_EVENTS_PAGE = 10000
MAX_EXECUTIONS_PAGE = 1000


def _ts(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class _Run:
    """Bookkeeping of one execution while it runs: seq numbers, events, the bus entry."""

    def __init__(
        self,
        svc: ExecutionService,
        execution: Execution,
        live: LiveExecution,
    ) -> None:
        self.svc = svc
        self.execution = execution
        self.live = live
        self.seq = 0
        self.lock = threading.Lock()
        self.terminal: Event | None = None

    def make(self, type_: EventType, payload: dict[str, Any], ts: datetime | None = None) -> Event:
        self.seq += 1
        return Event(self.execution.id, self.seq, ts or utcnow(), type_, payload)

    def emit(self, events: list[Event]) -> None:
        self.svc._write(InsertEvents(events))
        self.svc._bus.publish(self.live, events)

    def sink(self, lines: list[ConsoleLine]) -> None:
        # Called on the engine's thread while JS waits: keep it short.
        with self.lock:
            events = [
                self.make(EventType.CONSOLE, {"level": level, "text": text}, _ts(ms))
                for level, text, ms in lines
            ]
            self.emit(events)


class ExecutionService:
    """Run code in sessions, cancel it, and read executions and their events."""

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        registry: RuntimeRegistry,
        executor: Executor,
    ) -> None:
        self._store = store
        self._bus = bus
        self._registry = registry
        self._executor = executor
        self._active: dict[str, Execution] = {}
        self._finished: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._refusing: str | None = None
        self._last_start: dict[str, datetime] = {}

    def refuse_new(self, reason: str) -> None:
        """From now on, new executions fail with SESSION_NOT_READY saying ``reason``."""
        self._refusing = reason

    def _write(self, op: WriteOp) -> Future[None]:
        """Queue a write; a closed store (daemon stopping) gives a failed future, not a raise,
        so the engine thread and the execution's bookkeeping always finish."""
        try:
            return self._store.submit(op)
        except StoreError as exc:
            failed: Future[None] = Future()
            failed.set_exception(exc)
            return failed

    # ------------------------------------------------------------------ running
    def repl(
        self,
        session_id: str,
        input: str,
        *,
        wait: bool = True,
        execution_id: str | None = None,
        replay_of: str | None = None,
    ) -> Execution:
        """Run a REPL snippet; returns the finished execution (or the running one if not ``wait``).
        ``replay_of``: the execution (of another session) this one replays, for a fork.

        Raises OUTPUT_LIMIT_EXCEEDED (with ``.execution``) when the output limit stopped it.
        """
        if not isinstance(input, str) or not input.strip():
            raise ValidationError("input is required")
        live = self._live_session(session_id)
        return self._start(
            live,
            ExecutionKind.REPL,
            input,
            input=input,
            wait=wait,
            execution_id=execution_id,
            replay_of=replay_of,
        )

    def run_file(
        self,
        session_id: str,
        path: str,
        *,
        args: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        wait: bool = True,
        execution_id: str | None = None,
        replay_of: str | None = None,
    ) -> Execution:
        """Run a worktree file; ``args`` become ``__ARGS__`` and ``env`` ``process.env``."""
        if not isinstance(path, str) or not path.strip():
            raise ValidationError("path is required")
        if env is not None and not all(isinstance(v, str) for v in env.values()):
            raise ValidationError("env values must be strings")
        try:  # checked here, so that a bad value is the caller's error, not a lost runtime
            orjson.dumps(args or {})
        except TypeError as exc:
            raise ValidationError(f"args must be JSON (64-bit integers at most): {exc}") from None
        live = self._live_session(session_id)
        rel, code = read_worktree_file(live.worktree, path, session_id=live.session_id)
        return self._start(
            live,
            ExecutionKind.RUN_FILE,
            code,
            path=rel,
            args=dict(args or {}),
            env=dict(env or {}),
            wait=wait,
            execution_id=execution_id,
            replay_of=replay_of,
        )

    def run_startup(self, live: LiveSession, path: str, code: str) -> Execution:
        """Run a startup file in a session being created (recorded as kind ``startup``).

        The session is not registered yet, so a lost runtime is not marked here: the failed
        startup execution fails the session's creation."""
        execution = self._new(live.session_id, ExecutionKind.STARTUP, path=path, live=live)
        run = self._open(execution)
        final = self._record(run, self._run_code(run, live, code, path, None, None), live)
        self._announce(run, final)
        return final

    def record_restart(self, session_id: str, message: str) -> Execution:
        """Record a session's restart: an execution of kind ``restart`` with one ``system``
        event (``SESSION_RESTARTED``), published to the session's streams."""
        started = self._new(session_id, ExecutionKind.RESTART)
        run = _Run(self, started, self._bus.open(started.id, session_id))
        event = run.make(
            EventType.SYSTEM, {"level": "info", "code": "SESSION_RESTARTED", "message": message}
        )
        final = replace(
            started,
            status=ExecutionStatus.OK,
            ended_at=event.ts,
            metrics={"duration_ms": 0.0, "cpu_ms": None, "event_count": 1, "output_bytes": 0},
        )
        try:
            self._store.write(WriteGroup((InsertExecution(final), InsertEvents([event]))))
            self._bus.publish(run.live, [event], final=True)
        finally:
            self._bus.close(run.live)
        return final

    def _live_session(self, session_id: str) -> LiveSession:
        sid = normalize_id(session_id, "session_id")
        if self._refusing is not None:
            raise SessionNotReady(
                f"Session is not ready: {self._refusing}", session_id=sid, status="closing"
            )
        live = self._registry.get(sid)
        if live is not None:
            return live
        row = self._store.get_session(sid)
        if row is None:
            raise SessionNotFound(session_id=sid)
        raise SessionNotReady(
            f"Session is not ready (status {row.status.value})",
            session_id=sid,
            status=row.status.value,
        )

    def _start_time(self, session_id: str) -> datetime:
        """Now, but strictly after the session's previous start: timestamps have millisecond
        precision, and a session's history is ordered by ``started_at`` (then ``id``), so two
        executions starting in the same millisecond must not tie."""
        now = utcnow()
        with self._lock:
            last = self._last_start.get(session_id)
            if last is not None and now <= last:
                now = last + timedelta(milliseconds=1)
            if len(self._last_start) > 10000:  # only the same millisecond matters
                self._last_start.clear()
            self._last_start[session_id] = now
        return now

    def _new(
        self,
        session_id: str,
        kind: ExecutionKind,
        *,
        input: str | None = None,
        path: str | None = None,
        args: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        live: LiveSession | None = None,
        execution_id: str | None = None,
        replay_of: str | None = None,
    ) -> Execution:
        return Execution(
            id=execution_id or new_id(),
            session_id=session_id,
            kind=kind,
            input=input,
            path=path,
            args=args or {},
            env=env or {},
            status=ExecutionStatus.RUNNING,
            started_at=self._start_time(session_id),
            ended_at=None,
            result=None,
            error=None,
            metrics={},
            provenance=None
            if live is None
            else execution_provenance(live.provenance, live.host_id),
            replay_of=replay_of,
        )

    def _open(self, execution: Execution) -> _Run:
        """Commit a new execution's ``running`` row (with the REPL echo event), then track it.

        Committed before the code starts, on this thread when the writer is idle: a write
        queued to the writer thread would compete with the run for the GIL, which cost a
        ``1+1`` more than the commit itself. Raises StoreError if it cannot be recorded.
        """
        run = _Run(self, execution, self._bus.open(execution.id, execution.session_id))
        insert = InsertExecution(execution)
        echo: list[Event] = []
        first: WriteOp = insert
        if execution.kind is ExecutionKind.REPL:
            echo = [run.make(EventType.INPUT_ECHO, {"text": execution.input})]
            first = WriteGroup((insert, InsertEvents(echo)))
        try:
            self._store.write(first, timeout=30)
        except StoreError as exc:
            # Never run code whose result could not be recorded (a corrupt or lost database).
            self._bus.close(run.live)
            raise StoreUnavailable(
                f"the store cannot record executions, so no code runs: {exc}"
            ) from exc
        except BaseException:
            self._bus.close(run.live)
            raise
        with self._lock:
            self._active[execution.id] = execution
            self._finished[execution.id] = threading.Event()
        if echo:
            self._bus.publish(run.live, echo)
        return run

    def _start(
        self,
        live: LiveSession,
        kind: ExecutionKind,
        code: str,
        *,
        input: str | None = None,
        path: str | None = None,
        args: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        wait: bool,
        execution_id: str | None = None,
        replay_of: str | None = None,
    ) -> Execution:
        if not live.busy.acquire(blocking=False):
            raise SessionBusy(session_id=live.session_id, execution_id=live.current_execution)
        try:
            execution = self._new(
                live.session_id,
                kind,
                input=input,
                path=path,
                args=args,
                env=env,
                live=live,
                execution_id=execution_id,
                replay_of=replay_of,
            )
            live.current_execution = execution.id
            run = self._open(execution)
        except BaseException:
            live.current_execution = None
            live.busy.release()
            raise
        job = (run, live, code, path, args, env)
        if not wait:
            try:
                self._executor.submit(self._execute_live, *job)
            except RuntimeError as exc:  # the executor is shut down
                self._execute_live(
                    *job, failed=Outcome(OutcomeKind.CANCELLED, message=f"not started: {exc}")
                )
                raise SessionNotReady(
                    f"Session is not ready: the execution could not start ({exc})",
                    session_id=live.session_id,
                    execution_id=execution.id,
                ) from exc
            return execution
        final, outcome_kind = self._execute_live(*job)
        if outcome_kind is OutcomeKind.OUTPUT_LIMIT:
            limit = OutputLimitExceeded(execution_id=final.id, session_id=final.session_id)
            limit.execution = final  # type: ignore[attr-defined]
            raise limit
        return final

    def _execute_live(
        self,
        run: _Run,
        live: LiveSession,
        code: str,
        path: str | None,
        args: dict[str, Any] | None,
        env: dict[str, str] | None,
        *,
        failed: Outcome | None = None,
    ) -> tuple[Execution, OutcomeKind]:
        """Run in a live session and end it: record the final row, free the session (marking
        it lost when its runtime is), then publish the terminal event, in that order, so that
        a client reacting to the terminal event finds the session free (or crashed).

        ``failed``: the outcome of a run that could not be started."""
        try:
            outcome = failed or self._run_code(run, live, code, path, args, env)
            final = self._record(run, outcome, live)
        finally:
            live.current_execution = None
            live.busy.release()
        if outcome.kind is OutcomeKind.WEDGED:
            self._registry.mark_lost(live, outcome.message or "runtime lost")
        self._announce(run, final, session_ended=outcome.kind is OutcomeKind.WEDGED)
        return final, outcome.kind

    def _run_code(
        self,
        run: _Run,
        live: LiveSession,
        code: str,
        filename: str | None,
        args: dict[str, Any] | None,
        env: dict[str, str] | None,
    ) -> Outcome:
        """Run the code on the session's runtime; never raises (failures are outcomes)."""
        run_file = run.execution.kind is ExecutionKind.RUN_FILE
        try:
            return live.runtime.run(
                code,
                filename=filename,
                limits=live.limits,
                sink=run.sink,
                args=args if run_file else None,
                env=env if run_file else None,
            )
        except EngineError as exc:
            return Outcome(OutcomeKind.WEDGED, message=f"runtime lost: {exc}")
        except Exception as exc:  # a bug must not leave the row running
            _log.exception("execution %s failed internally", run.execution.id)
            return Outcome(OutcomeKind.WEDGED, message=f"internal error: {exc}")

    def _record(self, run: _Run, outcome: Outcome, live: LiveSession) -> Execution:
        """Commit the final row and the terminal event of ``run``; returns the final execution
        (the terminal event is published by :meth:`_announce`). Never raises."""
        max_events = live.max_events
        with run.lock:
            echo = 1 if run.execution.kind is ExecutionKind.REPL else 0
            if (
                outcome.kind in (OutcomeKind.OK, OutcomeKind.EXCEPTION)
                and echo + outcome.console_events + 1 > max_events
            ):
                outcome.kind = OutcomeKind.OUTPUT_LIMIT
                outcome.message = f"output limit exceeded: more than {max_events} events"
            result: dict[str, Any] | None = None
            error: dict[str, Any] | None = None
            if outcome.kind is OutcomeKind.OK:
                status = ExecutionStatus.OK
                result = outcome.value or {
                    "type": "undefined",
                    "preview": "undefined",
                    "inspect": "undefined",
                }
                terminal = run.make(EventType.VALUE, result)
            elif outcome.kind is OutcomeKind.EXCEPTION:
                status = ExecutionStatus.ERROR
                error = outcome.exception or {"name": "Error", "message": "unknown error"}
                terminal = run.make(EventType.EXCEPTION, error)
            else:
                status, code = _SYSTEM_OUTCOMES[outcome.kind]
                error = {"code": code, "message": outcome.message or code}
                terminal = run.make(
                    EventType.SYSTEM, {"level": "error", "code": code, "message": error["message"]}
                )
            final = replace(
                run.execution,
                status=status,
                ended_at=utcnow(),
                result=result,
                error=error,
                metrics={
                    "duration_ms": round(outcome.duration_ms, 3),
                    "cpu_ms": outcome.cpu_ms,
                    "event_count": run.seq,
                    "output_bytes": outcome.output_bytes,
                },
            )
            # Committed before anyone can see the end (the terminal event, the free session),
            # and on this thread when the writer is idle: no hand-off on the common path.
            try:
                self._store.write(
                    WriteGroup(
                        (
                            InsertEvents([terminal]),
                            FinishExecution(final),
                            TouchSession(final.session_id, final.ended_at or utcnow()),
                        )
                    ),
                    timeout=30,
                )
            except Exception:
                _log.exception("could not persist execution %s", final.id)
            with self._lock:
                self._active[final.id] = final
            run.terminal = terminal
        return final

    def _announce(self, run: _Run, final: Execution, *, session_ended: bool = False) -> None:
        """Publish the terminal event, end the session's streams if its runtime was lost, and
        let the execution leave the bus (its final row is committed)."""
        if run.terminal is not None:
            self._bus.publish(run.live, [run.terminal], final=True)
        if session_ended:
            self._bus.end_session(final.session_id)
        if _log.isEnabledFor(logging.INFO):
            _log.info(
                "execution finished",
                extra={
                    "execution_id": final.id,
                    "session_id": final.session_id,
                    "kind": final.kind.value,
                    "status": final.status.value,
                    "duration_ms": final.metrics.get("duration_ms"),
                    "event_count": final.metrics.get("event_count"),
                },
            )
        self._bus.close(run.live)
        with self._lock:
            self._active.pop(final.id, None)
            finished = self._finished.pop(final.id, None)
        if finished is not None:
            finished.set()

    # ------------------------------------------------------------------ cancel
    def cancel(self, execution_id: str, *, timeout: float = 5.0) -> Execution:
        """Stop a running execution (status ``cancelled``); a finished one is returned as is."""
        eid = normalize_id(execution_id, "execution_id")
        with self._lock:
            active = self._active.get(eid)
            finished = self._finished.get(eid)
        if active is None:
            return self.get(eid)
        live = self._registry.get(active.session_id)
        if live is not None and live.current_execution == eid:
            live.interrupt()
        if finished is not None:
            finished.wait(timeout)
        return self.get(eid)

    def running(self) -> list[Execution]:
        """Executions currently running in this process."""
        with self._lock:
            return [e for e in self._active.values() if e.status is ExecutionStatus.RUNNING]

    # ------------------------------------------------------------------ reading
    def get(self, execution_id: str) -> Execution:
        """One execution (running ones included)."""
        eid = normalize_id(execution_id, "execution_id")
        with self._lock:
            active = self._active.get(eid)
        if active is not None:
            return active
        row = self._store.get_execution(eid)
        if row is None:
            raise ExecutionNotFound(execution_id=eid)
        return row

    def list(self, session_id: str, *, limit: int = 50) -> list[Execution]:
        """Executions of a session, newest first."""
        sid = normalize_id(session_id, "session_id")
        if not 1 <= limit <= MAX_EXECUTIONS_PAGE:
            raise ValidationError(f"limit must be from 1 to {MAX_EXECUTIONS_PAGE}")
        return self._store.list_executions(sid, limit=limit)

    def history(self, session_id: str, *, page: int = 500) -> Iterator[Execution]:
        """Every execution of a session, oldest first, read ``page`` rows at a time (a whole
        history without holding it in memory; running ones as last committed)."""
        sid = normalize_id(session_id, "session_id")
        after: tuple[datetime, str] | None = None
        while rows := self._store.page_executions(sid, after=after, limit=page):
            yield from rows
            after = (rows[-1].started_at, rows[-1].id)

    def all_events(self, execution_id: str) -> Iterator[Event]:
        """Every event of an execution in ``seq`` order, read page by page."""
        after = 0
        while events := self.events(execution_id, after_seq=after, limit=MAX_EVENTS_PAGE):
            yield from events
            after = events[-1].seq

    def search(
        self, q: str, *, session_id: str | None = None, limit: int = 20, offset: int = 0
    ) -> SearchPage:
        """Full-text search of finished executions, best first (see :func:`search`)."""
        return search(self._store, q, session_id=session_id, limit=limit, offset=offset)

    def follow(
        self, execution_id: str, wake: Callable[[], None], *, after_seq: int = 0
    ) -> ExecutionFollower:
        """Follow an execution's events after ``after_seq`` up to its terminal event, live
        (see :class:`~vmsystem.core.follow.ExecutionFollower`); EXECUTION_NOT_FOUND first."""
        eid = normalize_id(execution_id, "execution_id")
        if after_seq < 0:
            raise ValidationError("after_seq must be >= 0")
        follower = ExecutionFollower(self._bus, self._store, eid, after_seq, wake)
        if self._bus.get(eid) is None and not self._store.execution_exists(eid):
            follower.close()
            raise ExecutionNotFound(execution_id=eid)
        return follower

    def follow_session(
        self,
        session_id: str,
        wake: Callable[[], None],
        *,
        resume: tuple[str, int] | None = None,
    ) -> SessionFollower:
        """Follow every event of a session's executions from now on, or after ``resume``
        (``(execution_id, seq)``: that execution's later events and every later execution's),
        until the session closes or crashes."""
        sid = normalize_id(session_id, "session_id")
        backlog: builtins.list[tuple[str, int]] = []
        if resume is not None:
            # The resumed execution and every later one, read oldest first page by page.
            for execution in self.history(sid):
                if backlog:
                    backlog.append((execution.id, 0))
                elif execution.id == resume[0]:
                    backlog.append(resume)
        follower = SessionFollower(self._bus, self._store, sid, wake, backlog=backlog)
        if self._registry.get(sid) is None:
            follower.mark_ended()  # closed or crashed: nothing follows the backlog
        return follower

    def events(
        self, execution_id: str, *, after_seq: int = 0, limit: int = 1000
    ) -> builtins.list[Event]:
        """Events of an execution with ``seq > after_seq``, oldest first (live ones included)."""
        eid = normalize_id(execution_id, "execution_id")
        if after_seq < 0:
            raise ValidationError("after_seq must be >= 0")
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            raise ValidationError(f"limit must be from 1 to {MAX_EVENTS_PAGE}")
        backlog = self._bus.backlog(eid, after_seq)
        if backlog is not None:
            return backlog[:limit]
        if not self._store.execution_exists(eid):
            raise ExecutionNotFound(execution_id=eid)
        return self._store.list_events(eid, after_seq=after_seq, limit=limit)
