"""One session's runtime inside the current process, and the sessions of one host.

:class:`LocalRuntime` is a V8 context plus the session's module scope; :class:`HostCore` holds
the runtimes of one host. The in-process backend uses them directly; a worker process and a Ray
actor put a :class:`HostCore` behind their channel.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from vmsystem.hosts import wire
from vmsystem.hosts.base import OutcomeCallback, RuntimeSpec, deliver_outcome
from vmsystem.modules import ModuleScope, build_session_modules
from vmsystem.modules.fileops import perform
from vmsystem.modules.worktree import (
    FileReply,
    FileRequest,
    WorktreeError,
    create_worktree,
)
from vmsystem.runtime import (
    Completion,
    ConsoleSink,
    Engine,
    EngineBusy,
    EngineContext,
    EngineError,
    Outcome,
    OutcomeKind,
    RunLimits,
    get_engine,
)

__all__ = ["HostCore", "LocalRuntime", "build_runtime"]

_log = logging.getLogger(__name__)

#: How long a cancel waits for a run that is starting to reach the engine.
_CANCEL_START_WAIT_S = 1.0


class LocalRuntime:
    """A session's V8 context and module scope, in this process.

    ``run`` runs on the calling thread; ``start_run`` runs on the session's own run thread
    (started at the first ``start_run``, ended by ``close``), which then calls ``on_outcome``.
    """

    def __init__(self, host_id: str, context: EngineContext, scope: ModuleScope) -> None:
        self.host_id = host_id
        self.context = context
        self.scope = scope
        self._lock = threading.Lock()
        self._closed = False
        self._busy = False
        # A cancel that arrives after a run was claimed but before its code started (the run
        # waits on the session's thread): the run is then cancelled before it starts.
        self._cancel_pending = False
        self._starting = False  # between that check and the engine's run
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] | None = None

    @property
    def alive(self) -> bool:
        """False once closed or lost."""
        return not self._closed and self.context.alive

    def _claim(self) -> None:
        with self._lock:
            if self._closed:
                raise EngineError("context is closed")
            if self._busy:
                raise EngineError("context is already running code")
            self._busy = True
            self._cancel_pending = False

    def _release(self) -> None:
        with self._lock:
            self._busy = False
            self._starting = False

    def _execute(
        self,
        code: str,
        filename: str | None,
        limits: RunLimits,
        sink: ConsoleSink,
        args: Any,
        env: Mapping[str, str] | None,
    ) -> Outcome:
        # Host calls (exec, SQL) block the engine's thread where the engine cannot stop them,
        # so they watch the scope's deadline and interrupt flag instead.
        with self._lock:
            if self._cancel_pending:
                return Outcome(OutcomeKind.CANCELLED, message="execution cancelled")
            self._starting = True
        scope = self.scope
        scope.interrupt.clear()
        scope.side_effects.clear()
        scope.deadline = (
            time.monotonic() + limits.wall_ms / 1000 if limits.wall_ms is not None else None
        )
        try:
            outcome = self.context.run(
                code, filename=filename, limits=limits, sink=sink, args=args, env=env
            )
        finally:
            scope.deadline = None
        if scope.side_effects:
            return replace(outcome, side_effects=tuple(sorted(scope.side_effects)))
        return outcome

    def run(
        self,
        code: str,
        *,
        filename: str | None = None,
        limits: RunLimits,
        sink: ConsoleSink,
        args: Any = None,
        env: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Run ``code`` on the calling thread (no hand-off: the caller waits anyway)."""
        self._claim()
        try:
            return self._execute(code, filename, limits, sink, args, env)
        finally:
            self._release()

    def start_run(
        self,
        code: str,
        *,
        filename: str | None = None,
        limits: RunLimits,
        sink: ConsoleSink,
        args: Any = None,
        env: Mapping[str, str] | None = None,
        on_outcome: OutcomeCallback,
    ) -> None:
        """Run ``code`` on the session's run thread, which calls ``on_outcome`` with the
        outcome (see :meth:`vmsystem.hosts.base.SessionRuntime.start_run`)."""
        self._claim()

        def job() -> None:
            try:
                outcome = self._execute(code, filename, limits, sink, args, env)
            except EngineError as exc:
                outcome = Outcome(OutcomeKind.LOST, message=f"runtime lost: {exc}")
            except Exception as exc:
                _log.exception("a run failed inside the host")
                outcome = Outcome(OutcomeKind.LOST, message=f"internal error in the host: {exc}")
            self._release()
            deliver_outcome(on_outcome, outcome)

        with self._lock:
            if self._jobs is None:
                self._jobs = queue.SimpleQueue()
                threading.Thread(
                    target=_serve_jobs,
                    args=(self._jobs,),
                    name=f"session-{self.scope.session_id}",
                    daemon=True,
                ).start()
            self._jobs.put(job)

    def files(self, request: FileRequest) -> FileReply:
        """A file operation on the session's worktree (see :mod:`vmsystem.modules.worktree`);
        EngineError once the runtime is closed."""
        if self._closed:
            raise EngineError("the session's runtime is closed")
        return perform(self.scope.worktree, request)

    def complete(self, code: str, cursor: int) -> Completion:
        """Completions at ``cursor`` (see :meth:`EngineContext.complete`), on the calling
        thread; EngineBusy while a run is in progress."""
        with self._lock:
            if self._closed:
                raise EngineError("context is closed")
            if self._busy:
                raise EngineBusy("the session is running code")
            self._busy = True
        try:
            return self.context.complete(code, cursor)
        finally:
            self._release()

    def cancel(self) -> bool:
        """Stop the current run, including a host call (exec, SQL) it is waiting in.

        A run claimed but not started yet is cancelled before its code starts; one that is
        starting is cancelled as soon as the engine runs it. False if nothing runs."""
        deadline = time.monotonic() + _CANCEL_START_WAIT_S
        while True:
            self.scope.interrupt.set()
            if self.context.cancel():
                return True
            with self._lock:
                if not self._busy:
                    return False
                if not self._starting:
                    self._cancel_pending = True
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.0005)

    def close(self) -> None:
        """Release what host modules opened (database handles) and dispose the context."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            jobs = self._jobs
        self.scope.interrupt.set()
        run_cleanups(self.scope.cleanups)
        self.context.close()
        if jobs is not None:
            jobs.put(None)


def _serve_jobs(jobs: queue.SimpleQueue[Callable[[], None] | None]) -> None:
    """A session's run thread: run its jobs in order until told to end (None)."""
    while True:
        job = jobs.get()
        if job is None:
            return
        job()


def run_cleanups(cleanups: list[Any]) -> None:
    """Run every cleanup; one failing must not stop the others (or the runtime's close)."""
    for cleanup in cleanups:
        try:
            cleanup()
        except Exception:
            _log.exception("session cleanup failed")


def build_runtime(spec: RuntimeSpec, engine: Engine, host_id: str) -> LocalRuntime:
    """A runtime for ``spec``: its modules' host functions wired to a fresh context.

    Raises EngineError if the modules or the context cannot be built (or a managed worktree
    cannot be created).
    """
    if spec.managed:
        try:
            create_worktree(spec.worktree)
        except OSError as exc:
            raise EngineError(f"cannot create the managed worktree {spec.worktree}: {exc}") from exc
    scope = ModuleScope(
        spec.session_id,
        Path(spec.worktree),
        list(spec.grants),
        environment=dict(spec.options.env),
        mem_mb=spec.options.mem_mb,
    )
    try:
        factories, functions = build_session_modules(list(spec.modules), scope)
        options = replace(
            spec.options,
            modules={**spec.options.modules, **factories},
            host_functions=functions,
        )
        context = engine.create_context(options)
    except EngineError:
        run_cleanups(scope.cleanups)
        raise
    except Exception as exc:
        run_cleanups(scope.cleanups)
        raise EngineError(f"cannot create the session's runtime: {exc}") from exc
    return LocalRuntime(host_id, context, scope)


class HostCore:
    """The sessions of one host: create, run, cancel and close them by session id."""

    def __init__(self, host_id: str, engine: Engine | None = None) -> None:
        self.host_id = host_id
        self._engine = engine if engine is not None else get_engine("v8")
        self._lock = threading.Lock()
        self._runtimes: dict[str, LocalRuntime] = {}

    @property
    def sessions(self) -> int:
        """Live runtimes held."""
        with self._lock:
            return len(self._runtimes)

    def create(self, spec: RuntimeSpec) -> LocalRuntime:
        """Build and hold the runtime of ``spec`` (EngineError if it cannot be built)."""
        runtime = build_runtime(spec, self._engine, self.host_id)
        with self._lock:
            old = self._runtimes.pop(spec.session_id, None)
            self._runtimes[spec.session_id] = runtime
        if old is not None:
            old.close()
        return runtime

    def get(self, session_id: str) -> LocalRuntime:
        """The runtime of ``session_id``; EngineError if this host holds none."""
        with self._lock:
            runtime = self._runtimes.get(session_id)
        if runtime is None:
            raise EngineError(f"no runtime for session {session_id} on host {self.host_id}")
        return runtime

    def run(
        self,
        session_id: str,
        code: str,
        *,
        filename: str | None,
        limits: RunLimits,
        sink: ConsoleSink,
        args: Any = None,
        env: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Run code in a held runtime (EngineError if it is gone)."""
        return self.get(session_id).run(
            code, filename=filename, limits=limits, sink=sink, args=args, env=env
        )

    def files(self, session_id: str, request: FileRequest) -> FileReply:
        """A file operation on a held runtime's worktree (EngineError if it is gone)."""
        return self.get(session_id).files(request)

    def complete(self, session_id: str, code: str, cursor: int) -> Completion:
        """Completions in a held runtime (EngineBusy while it runs, EngineError if gone)."""
        return self.get(session_id).complete(code, cursor)

    def cancel(self, session_id: str) -> bool:
        """Cancel the session's run; False if none was running (or no such runtime)."""
        with self._lock:
            runtime = self._runtimes.get(session_id)
        return runtime.cancel() if runtime is not None else False

    def close(self, session_id: str) -> None:
        """Close and forget the session's runtime (idempotent)."""
        with self._lock:
            runtime = self._runtimes.pop(session_id, None)
        if runtime is not None:
            runtime.close()

    def close_all(self) -> None:
        """Close every runtime."""
        with self._lock:
            runtimes = list(self._runtimes.values())
            self._runtimes.clear()
        for runtime in runtimes:
            runtime.close()


def files_result(core: HostCore, message: wire.Files) -> wire.FilesResult:
    """Serve a :class:`~vmsystem.hosts.wire.Files` message on ``core`` (worker and Ray
    actor alike): the reply, the refusal, or the error."""
    try:
        reply = core.files(message.sid, message.request)
    except WorktreeError as exc:
        refusal = wire.Refusal(exc.code, exc.message, dict(exc.details))
        return wire.FilesResult(message.req, refusal=refusal)
    except Exception as exc:
        return wire.FilesResult(message.req, error=str(exc))
    return wire.FilesResult(message.req, reply=reply)


def complete_result(core: HostCore, message: wire.Complete) -> wire.CompleteResult:
    """Serve a :class:`~vmsystem.hosts.wire.Complete` message on ``core`` (worker and Ray
    actor alike): the completion, busy, or the error."""
    try:
        done = core.complete(message.sid, message.code, message.cursor)
    except EngineBusy as exc:
        return wire.CompleteResult(message.req, busy=True, error=str(exc))
    except Exception as exc:
        return wire.CompleteResult(message.req, error=str(exc))
    return wire.CompleteResult(message.req, completion=done)


def completion_of(result: wire.CompleteResult) -> Completion:
    """What :func:`complete_result` answered, on the daemon's side: the completion, or
    EngineBusy (a run is in progress) or EngineError (failed)."""
    if result.busy:
        raise EngineBusy(result.error or "the session is running code")
    if result.error is not None or result.completion is None:
        raise EngineError(result.error or "the host gave no answer to a completion")
    return result.completion


def files_reply(result: wire.FilesResult) -> FileReply:
    """What :func:`files_result` answered, on the daemon's side: the reply, or
    WorktreeError (refused) or EngineError (failed)."""
    if result.refusal is not None:
        r = result.refusal
        raise WorktreeError(r.code, r.message, **r.details)
    if result.error is not None or result.reply is None:
        raise EngineError(result.error or "the host gave no answer to a file operation")
    return result.reply


def ready_message() -> wire.Ready:
    """This host process's :class:`~vmsystem.hosts.wire.Ready` (worker and Ray actor alike):
    its pid, the protocol version, its engine and versions."""
    import vmsystem

    engine = get_engine("v8")
    return wire.Ready(
        pid=os.getpid(),
        protocol_version=wire.PROTOCOL_VERSION,
        engine=engine.name,
        engine_version=engine.version,
        vmsystem_version=vmsystem.__version__,
    )
