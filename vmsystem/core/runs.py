"""What one execution is while it runs: its request, its bookkeeping, and how it ends.

:class:`RunRequest` is what the runner is asked to run; :class:`Recording` numbers and
publishes the events of one running execution; :func:`conclude` turns the runtime's
:class:`~vmsystem.runtime.Outcome` into the final row and the terminal event;
:class:`ActiveRuns` holds the executions running in this process, shared by the runner
(which adds and ends them) and the reader (which answers for them before the store can).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from vmsystem.core.display import line_event
from vmsystem.core.errors import StoreUnavailable
from vmsystem.core.events import EventBus, LiveExecution
from vmsystem.core.ids import utcnow
from vmsystem.models import Event, EventType, Execution, ExecutionKind, ExecutionStatus
from vmsystem.runtime import ConsoleLine, Outcome, OutcomeKind
from vmsystem.store.writer import FinishExecution

__all__ = [
    "ActiveRuns",
    "Recording",
    "RunRequest",
    "conclude",
    "not_stored",
    "within_event_limit",
]

#: Outcome -> (status, system code) for outcomes that end with a ``system`` event.
_SYSTEM_OUTCOMES: dict[OutcomeKind, tuple[ExecutionStatus, str]] = {
    OutcomeKind.WALL_TIMEOUT: (ExecutionStatus.TIMEOUT, "WALL_TIME_EXCEEDED"),
    OutcomeKind.CPU_TIMEOUT: (ExecutionStatus.TIMEOUT, "CPU_TIME_EXCEEDED"),
    OutcomeKind.MEMORY: (ExecutionStatus.ERROR, "MEMORY_LIMIT_EXCEEDED"),
    OutcomeKind.OUTPUT_LIMIT: (ExecutionStatus.ERROR, "OUTPUT_LIMIT_EXCEEDED"),
    OutcomeKind.CANCELLED: (ExecutionStatus.CANCELLED, "CANCELLED"),
    OutcomeKind.LOST: (ExecutionStatus.ERROR, "SESSION_CRASHED"),
}
_UNDEFINED = {"type": "undefined", "preview": "undefined", "inspect": "undefined"}


@dataclass(frozen=True, slots=True)
class RunRequest:
    """One piece of code to run in a live session, as validated by the runner.

    ``code`` is what the runtime runs: the REPL input, or the file's source for a run-file
    (``path`` is its worktree-relative name, ``args`` and ``env`` its ``__ARGS__`` and
    ``process.env``). ``wait``: return the finished execution (else the running one at once).
    ``replay_of``: the execution (of another session) this one replays, for a fork.
    """

    kind: ExecutionKind
    code: str
    input: str | None = None
    path: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    wait: bool = True
    execution_id: str | None = None
    replay_of: str | None = None

    @property
    def runs_file(self) -> bool:
        """Whether ``args`` and ``env`` reach the runtime (a run-file)."""
        return self.kind is ExecutionKind.RUN_FILE


def _ts(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class Recording:
    """Bookkeeping of one execution while it runs: seq numbers, events, the bus entry.

    ``write`` queues events to the store; events are published on the bus as they are
    queued (the bus keeps them until the final row is committed)."""

    def __init__(
        self,
        execution: Execution,
        live: LiveExecution,
        bus: EventBus,
        write: Callable[[list[Event]], object],
    ) -> None:
        self.execution = execution
        self.live = live
        self.seq = 0
        self.lock = threading.Lock()
        self.terminal: Event | None = None
        #: Why the final row could not be committed (None: it was): the run is not reported.
        self.unstored: StoreUnavailable | None = None
        #: A REPL run's ``input_echo`` event (published once the ``running`` row is committed).
        self.echo: Event | None = None
        self._bus = bus
        self._write = write

    def make(self, type_: EventType, payload: dict[str, Any], ts: datetime | None = None) -> Event:
        """The next event of the execution (not yet written or published)."""
        self.seq += 1
        return Event(self.execution.id, self.seq, ts or utcnow(), type_, payload)

    def sink(self, lines: list[ConsoleLine]) -> None:
        """Record console lines; called on the runtime's thread while JS waits: keep it short."""
        with self.lock:
            events = [self.make(*line_event(level, text), _ts(ms)) for level, text, ms in lines]
            self._write(events)
            self._bus.publish(self.live, events)


def not_stored(run: Recording, final: Execution, exc: BaseException) -> FinishExecution:
    """The final row of ``run`` could not be committed: its terminal event is dropped (the
    streams end without it) and the caller gets :attr:`Recording.unstored`, STORE_UNAVAILABLE,
    instead of a result that can never be read back.

    Returns the write to try once more, without the result: the row ``error`` with code
    STORE_UNAVAILABLE (where the store takes it, say after one failing table or a brief
    outage, the row does not stay ``running`` until the next start)."""
    run.terminal = None
    message = f"the execution ran, but its result could not be stored, so it is not reported: {exc}"
    run.unstored = StoreUnavailable(message, execution_id=final.id, session_id=final.session_id)
    error = {"code": StoreUnavailable.code, "message": message}
    return FinishExecution(replace(final, status=ExecutionStatus.ERROR, result=None, error=error))


def within_event_limit(outcome: Outcome, kind: ExecutionKind, max_events: int) -> Outcome:
    """``outcome``, or an output-limit outcome when an ok or exception run of ``kind`` has more
    than ``max_events`` events (its console events, the REPL echo and the terminal event)."""
    echo = 1 if kind is ExecutionKind.REPL else 0
    if (
        outcome.kind in (OutcomeKind.OK, OutcomeKind.EXCEPTION)
        and echo + outcome.console_events + 1 > max_events
    ):
        return replace(
            outcome,
            kind=OutcomeKind.OUTPUT_LIMIT,
            message=f"output limit exceeded: more than {max_events} events",
        )
    return outcome


def conclude(run: Recording, outcome: Outcome) -> tuple[Execution, Event]:
    """The final row and the terminal event of ``run`` ended with ``outcome``. Call with
    ``run.lock`` held: it takes the terminal event's seq."""
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    if outcome.kind is OutcomeKind.OK:
        status = ExecutionStatus.OK
        result = outcome.value or dict(_UNDEFINED)
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
            # Only when the run called a side-effecting native module (exec, fs or
            # database writes): what settings.recovery.policy replay_if_pure reads.
            **({"side_effects": list(outcome.side_effects)} if outcome.side_effects else {}),
        },
    )
    return final, terminal


class ActiveRuns:
    """The executions running in this process (thread-safe): the ``running`` row of each, and
    an event per execution set once it has been announced (from then on, the store has its
    final row, and the session is free or marked lost)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, Execution] = {}
        self._finished: dict[str, threading.Event] = {}

    def add(self, execution: Execution) -> None:
        """Track a started execution."""
        with self._lock:
            self._rows[execution.id] = execution
            self._finished[execution.id] = threading.Event()

    def end(self, execution_id: str) -> None:
        """Stop tracking an execution and wake whoever waits for it."""
        with self._lock:
            self._rows.pop(execution_id, None)
            finished = self._finished.pop(execution_id, None)
        if finished is not None:
            finished.set()

    def get(self, execution_id: str) -> Execution | None:
        """The tracked row, if the execution is running here."""
        with self._lock:
            return self._rows.get(execution_id)

    def waiter(self, execution_id: str) -> threading.Event | None:
        """The event set when the execution ends (None if it is not running here)."""
        with self._lock:
            return self._finished.get(execution_id)

    def running(self) -> list[Execution]:
        """Executions still running (final row not yet recorded)."""
        with self._lock:
            return [e for e in self._rows.values() if e.status is ExecutionStatus.RUNNING]
