"""The runner: start, record, announce and cancel executions in live sessions.

One execution per session at a time (a second gets SESSION_BUSY at once). Every execution is
recorded: the ``running`` row is committed before the code starts, events stream through the
bus while they are written in batches, and the final row is committed before the terminal
event is published and the session is free again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import replace
from typing import Any

import orjson

from vmsystem.core.errors import (
    OutputLimitExceeded,
    SessionBusy,
    SessionNotFound,
    SessionNotReady,
    StoreUnavailable,
    ValidationError,
)
from vmsystem.core.events import EventBus
from vmsystem.core.files import read_source
from vmsystem.core.ids import new_id, normalize_id, utcnow
from vmsystem.core.lost import RuntimeLoss
from vmsystem.core.provenance import execution_provenance
from vmsystem.core.reader import ExecutionReader
from vmsystem.core.registry import LiveSession, RuntimeRegistry
from vmsystem.core.runs import (
    ActiveRuns,
    Recording,
    RunRequest,
    conclude,
    not_stored,
    within_event_limit,
)
from vmsystem.models import EventType, Execution, ExecutionKind, ExecutionStatus, SessionStatus
from vmsystem.runtime import EngineError, Outcome, OutcomeKind
from vmsystem.runtime.entries import LANGUAGES, module_entry, typescript_input
from vmsystem.store import Ordinals, Store, StoreError, WriteOp
from vmsystem.store.writer import (
    FinishExecution,
    InsertEvents,
    InsertExecution,
    TouchSession,
    WriteGroup,
)

__all__ = ["ExecutionRunner"]

_log = logging.getLogger(__name__)


class ExecutionRunner:
    """Run code in sessions and cancel it; reads go through ``reader``."""

    #: Asked for a session that has no runtime: waits for its recovery under way (or starts
    #: the recovery of a session left ready by the previous daemon); None: none.
    revive: Callable[[str], LiveSession | None] | None = None

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        registry: RuntimeRegistry,
        executor: Executor,
        active: ActiveRuns,
        reader: ExecutionReader,
        lost: RuntimeLoss,
    ) -> None:
        self._store = store
        self._lost = lost
        self._bus = bus
        self._registry = registry
        self._executor = executor
        self._active = active
        self._reader = reader
        self._refusing: str | None = None

    def refuse_new(self, reason: str) -> None:
        """From now on, new executions fail with SESSION_NOT_READY saying ``reason``."""
        self._refusing = reason

    def running(self) -> list[Execution]:
        """Executions currently running in this process."""
        return self._active.running()

    # ------------------------------------------------------------------ requests
    def repl(
        self,
        session_id: str,
        input: str,
        *,
        wait: bool = True,
        execution_id: str | None = None,
        replay_of: str | None = None,
        language: str | None = None,
    ) -> Execution:
        """Run a REPL snippet; returns the finished execution (or the running one if not ``wait``).
        ``replay_of``: the execution (of another session) this one replays, for a fork.
        ``language``: ``javascript`` or ``typescript`` (default: the template's
        ``settings.runtime.language``).

        Raises OUTPUT_LIMIT_EXCEEDED (with ``.execution``) when the output limit stopped it.
        """
        live, request = self.repl_request(
            session_id,
            input,
            wait=wait,
            execution_id=execution_id,
            replay_of=replay_of,
            language=language,
        )
        return self.start(live, request)

    def repl_request(
        self,
        session_id: str,
        input: str,
        *,
        wait: bool = True,
        execution_id: str | None = None,
        replay_of: str | None = None,
        language: str | None = None,
    ) -> tuple[LiveSession, RunRequest]:
        """The live session and the validated request of :meth:`repl` (quick: no I/O unless
        the session is not live)."""
        if not isinstance(input, str) or not input.strip():
            raise ValidationError("input is required")
        if language is not None and language not in LANGUAGES:
            raise ValidationError(
                f"language must be one of {', '.join(LANGUAGES)}", language=str(language)
            )
        live = self._live_session(session_id)
        typescript = (language or live.language) == "typescript"
        request = RunRequest(
            ExecutionKind.REPL,
            typescript_input(input) if typescript else input,
            input=input,
            wait=wait,
            execution_id=execution_id,
            replay_of=replay_of,
        )
        return live, request

    def run_file(
        self,
        session_id: str,
        path: str,
        *,
        args: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
        execution_id: str | None = None,
        replay_of: str | None = None,
    ) -> Execution:
        """Run a worktree file; ``args`` become ``__ARGS__`` and ``env`` ``process.env``."""
        live, request = self.run_file_request(
            session_id,
            path,
            args=args,
            env=env,
            wait=wait,
            execution_id=execution_id,
            replay_of=replay_of,
        )
        return self.start(live, request)

    def run_file_request(
        self,
        session_id: str,
        path: str,
        *,
        args: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
        execution_id: str | None = None,
        replay_of: str | None = None,
    ) -> tuple[LiveSession, RunRequest]:
        """The live session and the validated request of :meth:`run_file` (blocking: reads
        the file where the session's host keeps the worktree)."""
        if not isinstance(path, str) or not path.strip():
            raise ValidationError("path is required")
        if env is not None and not all(isinstance(v, str) for v in env.values()):
            raise ValidationError("env values must be strings")
        try:  # checked here, so that a bad value is the caller's error, not a lost runtime
            orjson.dumps(args or {})
        except TypeError as exc:
            raise ValidationError(f"args must be JSON (64-bit integers at most): {exc}") from None
        live = self._live_session(session_id)
        rel, code = read_source(live.runtime, path, live.session_id)
        request = RunRequest(
            ExecutionKind.RUN_FILE,
            module_entry(rel, code) or code,
            path=rel,
            args=dict(args or {}),
            env=dict(env or {}),
            wait=wait,
            execution_id=execution_id,
            replay_of=replay_of,
        )
        return live, request

    def run_startup(self, live: LiveSession, path: str, code: str) -> Execution:
        """Run a startup file in a session being created (recorded as kind ``startup``).

        The session is not registered yet, so a lost runtime is not marked here: the failed
        startup execution fails the session's creation."""
        request = RunRequest(ExecutionKind.STARTUP, module_entry(path, code) or code, path=path)
        run = self._open(self.new_execution(live, request))
        final = self._record(run, self._run_code(run, live, request))
        self.announce(run, final)
        if run.unstored is not None:
            raise run.unstored
        return final

    def record_restart(self, session_id: str, message: str) -> Execution:
        """Record a session's restart: an execution of kind ``restart`` with one ``system``
        event (``SESSION_RESTARTED``), published to the session's streams."""
        return self.record_system(
            session_id,
            ExecutionKind.RESTART,
            {"level": "info", "code": "SESSION_RESTARTED", "message": message},
        )

    def record_system(
        self, session_id: str, kind: ExecutionKind, payload: dict[str, Any]
    ) -> Execution:
        """Record something that happened to a session (a restart, a recovery) as an
        execution of ``kind`` without code: one ``system`` event with ``payload``, published
        to the session's streams."""
        started = self.new_execution(None, RunRequest(kind, ""), session_id=session_id)
        run = self._recording(started)
        event = run.make(EventType.SYSTEM, payload)
        final = replace(
            started,
            status=ExecutionStatus.OK,
            ended_at=event.ts,
            metrics={"duration_ms": 0.0, "cpu_ms": None, "event_count": 1, "output_bytes": 0},
        )
        try:
            group = WriteGroup((InsertExecution(final), InsertEvents([event])))
            ordinals = self._store.write(group)
            final = replace(final, ordinal=ordinals.get(final.id))
            run.live.ordinal = final.ordinal or 0
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
        if live is None and self.revive is not None:
            live = self.revive(sid)
        if live is not None:
            return live
        row = self._store.get_session(sid)
        if row is None:
            raise SessionNotFound(session_id=sid)
        holder = self._store.session_daemon(sid) if row.status is SessionStatus.READY else None
        if holder is not None and holder.id != self._store.daemon_id:
            raise SessionNotReady(
                f"Session is held by another daemon ({holder.address or holder.id}): "
                "send its requests there",
                session_id=sid,
                status=row.status.value,
                daemon_id=holder.id,
                daemon_address=holder.address,
            )
        raise SessionNotReady(
            f"Session is not ready (status {row.status.value})",
            session_id=sid,
            status=row.status.value,
        )

    # ------------------------------------------------------------------ one run
    def _write(self, op: WriteOp) -> Future[Ordinals]:
        """Queue a write; a closed store (daemon stopping) gives a failed future, not a raise,
        so the engine thread and the execution's bookkeeping always finish."""
        try:
            return self._store.submit(op)
        except StoreError as exc:
            failed: Future[Ordinals] = Future()
            failed.set_exception(exc)
            return failed

    def _recording(self, execution: Execution) -> Recording:
        live = self._bus.open(execution.id, execution.session_id)
        return Recording(execution, live, self._bus, lambda ev: self._write(InsertEvents(ev)))

    def new_execution(
        self, live: LiveSession | None, request: RunRequest, *, session_id: str = ""
    ) -> Execution:
        sid = live.session_id if live is not None else session_id
        return Execution(
            id=request.execution_id or new_id(),
            session_id=sid,
            kind=request.kind,
            input=request.input,
            path=request.path,
            args=request.args,
            env=request.env,
            status=ExecutionStatus.RUNNING,
            started_at=utcnow(),
            ended_at=None,
            result=None,
            error=None,
            metrics={},
            provenance=None
            if live is None
            else execution_provenance(live.provenance, live.host_id),
            replay_of=request.replay_of,
        )

    def _open(self, execution: Execution) -> Recording:
        """Commit a new execution's ``running`` row (with the REPL echo event), then track it.

        Committed before the code starts, on this thread when the writer is idle: a write
        queued to the writer thread would compete with the run for the GIL, which cost a
        ``1+1`` more than the commit itself. Raises StoreUnavailable if it cannot be recorded.
        """
        run, first = self.opening(execution)
        try:
            ordinals = self._store.write(first, timeout=30)
        except BaseException as exc:
            raise self.open_failed(run, exc) from exc
        self.opened(run, ordinals)
        return run

    def opening(self, execution: Execution) -> tuple[Recording, WriteOp]:
        """The recording of a new execution and the write of its ``running`` row (with the
        REPL echo event), to commit before the code starts."""
        run = self._recording(execution)
        insert = InsertExecution(execution)
        if execution.kind is not ExecutionKind.REPL:
            return run, insert
        run.echo = run.make(EventType.INPUT_ECHO, {"text": execution.input})
        return run, WriteGroup((insert, InsertEvents([run.echo])))

    def open_failed(self, run: Recording, exc: BaseException) -> BaseException:
        """What to raise when the ``running`` row could not be committed (the execution
        leaves the bus): never run code whose result could not be recorded."""
        self._bus.close(run.live)
        if isinstance(exc, StoreError):
            return StoreUnavailable(f"the store cannot record executions, so no code runs: {exc}")
        return exc

    def opened(self, run: Recording, ordinals: Ordinals) -> None:
        """The ``running`` row is committed: track the execution, publish its echo."""
        run.execution = replace(run.execution, ordinal=ordinals.get(run.execution.id))
        run.live.ordinal = run.execution.ordinal or 0
        self._active.add(run.execution)
        if run.echo is not None:
            self._bus.publish(run.live, [run.echo])

    def start(self, live: LiveSession, request: RunRequest) -> Execution:
        """Start ``request`` in ``live`` (SESSION_BUSY if it runs something); returns the
        finished execution, or the running one when the request does not wait."""
        if not live.busy.acquire(blocking=False):
            raise SessionBusy(session_id=live.session_id, execution_id=live.current_execution)
        try:
            execution = self.new_execution(live, request)
            live.current_execution = execution.id
            run = self._open(execution)
        except BaseException:
            live.current_execution = None
            live.busy.release()
            raise
        if not request.wait:
            try:
                self._executor.submit(self._execute_live, run, live, request)
            except RuntimeError as exc:  # the executor is shut down
                failed = Outcome(OutcomeKind.CANCELLED, message=f"not started: {exc}")
                self._execute_live(run, live, request, failed=failed)
                raise SessionNotReady(
                    f"Session is not ready: the execution could not start ({exc})",
                    session_id=live.session_id,
                    execution_id=execution.id,
                ) from exc
            return run.execution
        final, outcome_kind = self._execute_live(run, live, request)
        if outcome_kind is OutcomeKind.OUTPUT_LIMIT:
            raise OutputLimitExceeded(
                execution_id=final.id, session_id=final.session_id, execution=final
            )
        return final

    def _execute_live(
        self,
        run: Recording,
        live: LiveSession,
        request: RunRequest,
        *,
        failed: Outcome | None = None,
    ) -> tuple[Execution, OutcomeKind]:
        """Run in a live session and end it: record the final row, free the session (marking
        it lost when its runtime is), then publish the terminal event, in that order, so that
        a client reacting to the terminal event finds the session free (or crashed).

        ``failed``: the outcome of a run that could not be started."""
        try:
            outcome = failed or self._run_code(run, live, request)
            final = self._record(run, outcome)
        finally:
            live.current_execution = None
            live.touch()
            live.busy.release()
        if outcome.kind is OutcomeKind.LOST:
            self.lose(live, outcome, lambda: self.announce(run, final))
        else:
            self.announce(run, final)
        if run.unstored is not None:
            raise run.unstored
        return final, outcome.kind

    def lose(self, live: LiveSession, outcome: Outcome, announce: Callable[[], None]) -> None:
        """A run ended because the session's runtime is lost: record the crash, with
        ``announce`` (publishing the run's terminal event) in its place (blocking)."""
        self._lost.runtime_lost(
            live.session_id,
            outcome.message or "runtime lost",
            running=announce,
            runtime=live.runtime,
        )

    def _run_code(self, run: Recording, live: LiveSession, request: RunRequest) -> Outcome:
        """Run the code on the session's runtime; never raises (failures are outcomes)."""
        try:
            outcome = live.runtime.run(
                request.code,
                filename=request.path,
                limits=live.limits,
                sink=run.sink,
                args=request.args if request.runs_file else None,
                env=request.env if request.runs_file else None,
            )
            return within_event_limit(outcome, request.kind, live.max_events)
        except EngineError as exc:
            return Outcome(OutcomeKind.LOST, message=f"runtime lost: {exc}")
        except Exception as exc:  # a bug must not leave the row running
            _log.exception("execution %s failed internally", run.execution.id)
            return Outcome(OutcomeKind.LOST, message=f"internal error: {exc}")

    def _record(self, run: Recording, outcome: Outcome) -> Execution:
        """Commit the final row and the terminal event of ``run``; returns the final execution
        (the terminal event is published by :meth:`announce`). Never raises: a final row that
        cannot be committed sets :attr:`Recording.unstored`, raised once the run is over."""
        with run.lock:
            final, terminal = conclude(run, outcome)
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
                run.terminal = terminal
            except Exception as exc:
                _log.exception("could not persist execution %s", final.id)
                with contextlib.suppress(Exception):
                    self._store.write(not_stored(run, final, exc), timeout=5)
        return final

    def announce(self, run: Recording, final: Execution) -> None:
        """Publish the terminal event and let the execution leave the bus (its final row is
        committed)."""
        # Without a terminal event (its final row is not stored) the streams just end.
        terminal = [] if run.terminal is None else [run.terminal]
        self._bus.publish(run.live, terminal, final=True)
        if _log.isEnabledFor(logging.DEBUG):  # per execution: the hot path logs at debug
            _log.debug(
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
        self._active.end(final.id)

    # ------------------------------------------------------------------ cancel
    def cancel(self, execution_id: str, *, timeout: float = 5.0) -> Execution:
        """Stop a running execution (status ``cancelled``); a finished one is returned as is."""
        eid = normalize_id(execution_id, "execution_id")
        active = self._active.get(eid)
        finished = self._active.waiter(eid)
        if active is None:
            return self._reader.get(eid)
        live = self._registry.get(active.session_id)
        if live is not None and live.current_execution == eid:
            live.interrupt()
        if finished is not None:
            finished.wait(timeout)
        return self._reader.get(eid)
