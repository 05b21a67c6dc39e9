"""The event-loop path of the runner: REPL and run-file executions awaited on the loop.

The same execution as :class:`~vmsystem.core.runner.ExecutionRunner` runs on a thread, without
a thread: the ``running`` row is committed (grouped with the tick's other writes, see
:mod:`vmsystem.core.tick_writes`) before the code starts; the run starts on the session's host
with :meth:`~vmsystem.hosts.SessionRuntime.start_run`, whose outcome the host's receiving
thread hands straight to the loop (``call_soon_threadsafe`` on a future); the final row is
committed before the terminal event is published and the session is free. A lone execution's
writes are committed on the loop itself when the store's writer is idle (SQLite), the others
are handed to the writer together. The little blocking
work left (reading a run-file's source, a lost runtime's bookkeeping) goes through AnyIO's
default thread limiter, which the daemon sizes by ``--executor-threads``.

Each execution is a task of its own: a client that goes away does not stop it half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from weakref import WeakKeyDictionary

import anyio.to_thread

from vmsystem.core.errors import OutputLimitExceeded, SessionBusy
from vmsystem.core.registry import LiveSession
from vmsystem.core.runner import ExecutionRunner
from vmsystem.core.runs import Recording, RunRequest, conclude, not_stored, within_event_limit
from vmsystem.core.tick_writes import TickWrites
from vmsystem.models import Execution
from vmsystem.runtime import EngineError, Outcome, OutcomeKind
from vmsystem.store import Store
from vmsystem.store.writer import FinishExecution, InsertEvents, TouchSession, WriteGroup

__all__ = ["AwaitedRuns"]

_log = logging.getLogger(__name__)


class AwaitedRuns:
    """REPL and run-file executions on the running event loop (see the module docstring)."""

    def __init__(self, runner: ExecutionRunner, store: Store) -> None:
        self._runner = runner
        self._store = store
        self._writes: WeakKeyDictionary[asyncio.AbstractEventLoop, TickWrites] = WeakKeyDictionary()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def repl(self, session_id: str, input: str, **options: Any) -> Execution:
        """:meth:`ExecutionRunner.repl`, awaited on the loop (same arguments and errors)."""
        live, request = self._runner.repl_request(session_id, input, **options)
        return await self.start(live, request)

    async def run_file(self, session_id: str, path: str, **options: Any) -> Execution:
        """:meth:`ExecutionRunner.run_file`, awaited on the loop (same arguments and errors)."""
        live, request = await anyio.to_thread.run_sync(
            lambda: self._runner.run_file_request(session_id, path, **options)
        )
        return await self.start(live, request)

    async def start(self, live: LiveSession, request: RunRequest) -> Execution:
        """Start ``request`` in ``live``: the finished execution, or the running one once its
        row is committed when the request does not wait."""
        if not live.busy.acquire(blocking=False):
            raise SessionBusy(session_id=live.session_id, execution_id=live.current_execution)
        loop = asyncio.get_running_loop()
        opened: asyncio.Future[Execution] = loop.create_future()
        task = loop.create_task(self._execute(live, request, opened))
        self._tasks.add(task)
        task.add_done_callback(self._done)
        if not request.wait:
            return await asyncio.shield(opened)
        final, kind = await asyncio.shield(task)
        if kind is OutcomeKind.OUTPUT_LIMIT:
            raise OutputLimitExceeded(
                execution_id=final.id, session_id=final.session_id, execution=final
            )
        return final

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: an open failure was raised to the caller already

    @property
    def _alone(self) -> bool:
        """Whether one execution is in flight on the loop (its writes go alone)."""
        return len(self._tasks) <= 1

    def _tick_writes(self) -> TickWrites:
        loop = asyncio.get_running_loop()
        writes = self._writes.get(loop)
        if writes is None:
            writes = self._writes[loop] = TickWrites(self._store, loop)
        return writes

    async def _execute(
        self, live: LiveSession, request: RunRequest, opened: asyncio.Future[Execution]
    ) -> tuple[Execution, OutcomeKind]:
        runner = self._runner
        try:
            execution = runner.new_execution(live, request)
            live.current_execution = execution.id
            run, first = runner.opening(execution)
            try:
                ordinals = await self._tick_writes().write(first, alone=self._alone)
            except BaseException as exc:
                raise runner.open_failed(run, exc) from exc
            runner.opened(run, ordinals)
        except BaseException as exc:
            live.current_execution = None
            live.busy.release()
            if not opened.done():
                opened.set_exception(exc)
            raise
        opened.set_result(run.execution)
        try:
            outcome = await self._run_code(run, live, request)
            final = await self._record(run, outcome)
        finally:
            live.current_execution = None
            live.touch()
            live.busy.release()
        if outcome.kind is OutcomeKind.LOST:
            await anyio.to_thread.run_sync(
                lambda: runner.lose(live, outcome, lambda: runner.announce(run, final))
            )
        else:
            runner.announce(run, final)
        if run.unstored is not None:
            raise run.unstored
        return final, outcome.kind

    async def _run_code(self, run: Recording, live: LiveSession, request: RunRequest) -> Outcome:
        """Run on the session's host; the outcome comes back on the loop. Never raises."""
        loop = asyncio.get_running_loop()
        arrived: asyncio.Future[Outcome] = loop.create_future()

        def on_outcome(outcome: Outcome) -> None:  # on the host's receiving thread
            try:
                loop.call_soon_threadsafe(_settle, arrived, outcome)
            except RuntimeError:  # the loop is closed (the daemon is gone)
                _log.warning("execution %s ended after its loop", run.execution.id)

        try:
            live.runtime.start_run(
                request.code,
                filename=request.path,
                limits=live.limits,
                sink=run.sink,
                args=request.args if request.runs_file else None,
                env=request.env if request.runs_file else None,
                on_outcome=on_outcome,
            )
        except EngineError as exc:
            return Outcome(OutcomeKind.LOST, message=f"runtime lost: {exc}")
        except Exception as exc:  # a bug must not leave the row running
            _log.exception("execution %s failed internally", run.execution.id)
            return Outcome(OutcomeKind.LOST, message=f"internal error: {exc}")
        return within_event_limit(await arrived, request.kind, live.max_events)

    async def _record(self, run: Recording, outcome: Outcome) -> Execution:
        """Commit the final row and the terminal event (with the tick's other writes); the
        host sent every console batch before the outcome, so nothing follows the terminal.
        A final row that cannot be committed sets :attr:`Recording.unstored`."""
        with run.lock:
            final, terminal = conclude(run, outcome)
            run.terminal = terminal
        ended = final.ended_at or final.started_at
        group = WriteGroup(
            (
                InsertEvents([terminal]),
                FinishExecution(final),
                TouchSession(final.session_id, ended),
            )
        )
        try:
            await self._tick_writes().write(group, alone=self._alone)
        except Exception as exc:
            _log.exception("could not persist execution %s", final.id)
            with contextlib.suppress(Exception):
                await self._tick_writes().write(not_stored(run, final, exc), alone=self._alone)
        return final


def _settle(future: asyncio.Future[Outcome], outcome: Outcome) -> None:
    if not future.done():
        future.set_result(outcome)
