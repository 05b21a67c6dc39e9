"""One run of a :class:`~vmsystem.runtime.v8.V8Context`, phase by phase (see
:mod:`vmsystem.runtime.schedule` for the phases and their waits).

:class:`Run` is the context's collaborator for the life of one ``run()``: the context owns the
isolate, the locks, the task primitive (``_await``) and the state ``cancel()`` and the bell
share; the run owns the order of the phases and how their answers become an outcome.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from vmsystem.runtime.base import ContextOptions, Outcome, OutcomeKind
from vmsystem.runtime.isolate import Isolate
from vmsystem.runtime.native import ERROR_TYPES, MrTypes, handle_text, handle_type, loads
from vmsystem.runtime.outcomes import outcome_of
from vmsystem.runtime.schedule import (
    SCRIPT_GRACE_S,
    TERMINATE_GRACE_S,
    Phase,
    finish_deadline,
    settle_wait,
)

__all__ = ["NO_LIMITS", "Run", "RunClock", "RunPort"]

#: Inputs that may need the REPL transform (``transform`` in js/prelude/8-repl.js): it is
#: skipped for the rest, which keeps a plain snippet as fast as before.
_MAY_TRANSFORM = re.compile(
    r"\b(?:let|const|class|await|import)\b|\b[0-9][0-9a-fA-F_xXoObB]*n\b|BigInt"
    # A surrogate escape: the result may be a lone surrogate, which the engine's own completion
    # value cannot carry (the transform hands the value over inside V8).
    r"|\\u\{?[dD][89a-fA-F]"
)
#: REPL input with a `throw` is transformed too (a top-level throw hands its value over, so
#: that it is shown as Node shows it); run-file code is not.
_THROWS = re.compile(r"\bthrow\b")
#: REPL input that Node's REPL tries as an object literal first (`{a: 1}`): it starts with `{`
#: and does not end with `;`.
_OBJECT_LITERAL = re.compile(r"^\s*\{")
_STATEMENT_END = re.compile(r";\s*$")
#: Larger inputs (libraries, bundles) run as they are, and are transformed only when V8 refuses
#: them for a top-level ``await``: acorn takes about 1.5 ms per KB in a fresh isolate, which
#: every session creation loading a library would pay.
TRANSFORM_MAX_CHARS = 32 * 1024


def _awaits_at_top_level(script: Any) -> bool:
    """Whether the script's result is V8's SyntaxError for a top-level ``await``."""
    if handle_type(script) != MrTypes.parse_exception:
        return False
    return "await is only valid in async functions" in handle_text(script)


def needs_transform(code: str) -> bool:
    """Whether ``code`` goes through the REPL transform (a cheap look at its text)."""
    return len(code) <= TRANSFORM_MAX_CHARS and _MAY_TRANSFORM.search(code) is not None


#: How long a wedge rescue waits for the one-byte heap limit to stop stray JS.
_SQUEEZE_S = 0.2
_STOP_MESSAGES = {
    OutcomeKind.WALL_TIMEOUT: "wall-time limit exceeded",
    OutcomeKind.CPU_TIMEOUT: "CPU-time limit exceeded",
    OutcomeKind.CANCELLED: "execution cancelled",
    OutcomeKind.MEMORY: "memory limit exceeded",
    OutcomeKind.OUTPUT_LIMIT: "output limit exceeded",
}


@dataclass(frozen=True, slots=True)
class RunClock:
    """The limits of one run, in the clocks they are measured with."""

    deadline: float | None  # time.monotonic() at which the wall-time limit hits
    cpu_start: float | None  # the isolate thread's CPU time at the start (ms)
    cpu_limit: float | None  # CPU budget (ms)


#: For the calls of the recovery, which have their own short deadline.
NO_LIMITS = RunClock(None, None, None)


def parse_report(item: Any) -> dict[str, Any]:
    try:
        parsed = loads(handle_text(item))
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {}


class RunPort(Protocol):
    """What a :class:`Run` uses of its context: the port
    :class:`~vmsystem.runtime.v8.V8Context` implements (so this module does not import it).

    The context's isolate, its options and run state (under ``_state_lock``), and the waits
    and stops a run needs.
    """

    _iso: Isolate
    _options: ContextOptions
    _state_lock: threading.Lock
    _stop_reason: OutcomeKind | None
    _stop_message: str
    _events: int
    _chained: Any
    _chain_armed: bool
    _closed: bool
    _close_requested: bool
    phase: Phase
    #: The last uncaught exception of the session (the REPL's ``_error``).
    last_error: dict[str, Any] | None

    @property
    def cpu_time_ms(self) -> float | None:
        """CPU time of the isolate's thread so far."""
        ...

    @property
    def _mem_bytes(self) -> int: ...

    def _await(
        self,
        post: Callable[[], int],
        clock: RunClock,
        *,
        cancelable: bool,
        deadline: float | None = ...,
        use_cpu: bool = ...,
        grace: float = ...,
        marked: bool = ...,
        script: bool = ...,
    ) -> Any: ...

    def _deliver(self, lines: Any) -> None: ...

    def _interrupt(self, reason: OutcomeKind | None) -> None: ...

    def _is_closed(self) -> bool: ...

    def _dispose(self) -> None: ...


class Run:
    """One execution in a context (created by :meth:`V8Context.run`, under its run lock)."""

    def __init__(self, ctx: RunPort, clock: RunClock, filename: str | None) -> None:
        self.ctx = ctx
        self.clock = clock
        self.filename = filename
        #: Whether the script V8 parsed last is the input itself (not the REPL transform's
        #: rewrite): only then does a SyntaxError's line and column point into the input.
        self.parsed_input = True

    @property
    def phase(self) -> Phase:
        """Where the run is (mirrored on the context, for whoever looks at it)."""
        return self.ctx.phase

    @phase.setter
    def phase(self, value: Phase) -> None:
        self.ctx.phase = value

    def execute(self, code: str, args: Any, env: Mapping[str, str] | None) -> Outcome:
        """Run ``code`` through the phases; its outcome."""
        clock = self.clock
        given = code
        if args is not None or env is not None:
            self.phase = Phase.PREPARE
            params: dict[str, Any] = {}
            if args is not None:
                params["args"] = args
            if env is not None:
                params["env"] = dict(env)
            if self.filename:  # a run-file script's require() resolves from its directory
                params["filename"] = self.filename
            this = self.ctx._iso.str_handle(orjson.dumps(params).decode())
            begun = self.ctx._await(
                lambda: self.ctx._iso.post_call(self.ctx._iso.begin, this), clock, cancelable=False
            )
            if begun is None:
                return self._lost()
            if handle_type(begun) in ERROR_TYPES:
                return self._settle(begun)
        transform = needs_transform(code) or (
            self.filename is None
            and len(code) <= TRANSFORM_MAX_CHARS
            and _THROWS.search(code) is not None
        )
        if (
            self.filename is None
            and _OBJECT_LITERAL.match(code)
            and not _STATEMENT_END.search(code)
        ):
            # As Node's REPL: `{a: 1, b: 2}` is an object, when it parses as an expression.
            self.phase = Phase.TRANSFORM
            wrapped = self._transform(f"({code.strip()})")
            if wrapped is None:
                return self._lost()
            if handle_type(wrapped) == MrTypes.str_utf8:
                code, transform = handle_text(wrapped), False
        while True:
            source = code
            if transform:
                self.phase = Phase.TRANSFORM
                rewritten = self._transform(code)
                if rewritten is None:
                    return self._lost()
                if self.ctx._stop_reason is not None:
                    return self._settle(rewritten)
                if handle_type(rewritten) == MrTypes.str_utf8:
                    source = handle_text(rewritten)
                # Otherwise acorn rejected the input (or user code broke it): V8 runs it as it
                # is and reports its own SyntaxError, if any.
            self.parsed_input = source == given
            result, chained = self._script(source)
            if result is None:
                return self._lost()
            script = chained if chained is not None else result
            if not transform and _awaits_at_top_level(script):
                # A large input that awaits at top level: V8 refused it before running any
                # of it, so it is transformed and run again.
                transform = True
                continue
            if chained is not None:  # ``result`` is what the chained finish call answered
                return self._settle(chained, report=result)
            return self._settle(result)

    def _transform(self, code: str) -> Any:
        """Phase TRANSFORM: the prelude's rewrite of ``code`` (a handle), None when lost."""
        source = self.ctx._iso.str_handle(code)
        return self.ctx._await(
            lambda: self.ctx._iso.post_call(self.ctx._iso.transform, source),
            self.clock,
            cancelable=True,
            marked=True,
        )

    def _script(self, code: str) -> tuple[Any, Any]:
        """Phase SCRIPT: the script task, with the finish call chained to it; its result
        handle (None when lost) and, when the finish call was chained, the script's own."""
        self.phase = Phase.SCRIPT
        if self.ctx._options.strict:
            code = '"use strict";void 0;' + code
        if self.filename:
            code += f"\n//# sourceURL={self.filename}"
        code_handle = self.ctx._iso.str_handle(code)
        self.ctx._chained = None
        self.ctx._chain_armed = True
        try:
            result = self.ctx._await(
                lambda: self.ctx._iso.post_eval(code_handle),
                self.clock,
                cancelable=True,
                grace=SCRIPT_GRACE_S,
                script=True,
            )
        finally:
            self.ctx._chain_armed = False
            chained, self.ctx._chained = self.ctx._chained, None
        return result, chained

    def _settle(self, result: Any, report: Any = None) -> Outcome:
        """Turn the script's result handle into an :class:`Outcome`: runs the finish call
        (unless ``report`` is the answer of the one chained to the script), then the event loop
        while the report says work is pending."""
        # Only the type is read: converting the result to a Python value just to classify it
        # would raise UnicodeDecodeError for a string with a lone surrogate.
        typ = handle_type(result)
        if typ in ERROR_TYPES:
            parsed = self._finish(self.ctx._iso.finish_err, None, report)
        else:
            parsed = self._finish(self.ctx._iso.finish_ok, result, report)
        self.phase = Phase.SETTLE
        while parsed is not None and "pending" in parsed:
            self.ctx._deliver(parsed.get("lines"))
            parsed = self._tick(parsed["pending"])
        if parsed is None:
            return self._lost()
        self.ctx._deliver(parsed.get("lines"))
        if self.ctx._iso.memory_limit_reached():
            # The heap limit was hit, maybe by work that ran between tasks (a promise chain
            # after the script returned), which V8 then stopped: the run ends with MEMORY.
            with self.ctx._state_lock:
                if self.ctx._stop_reason is None:
                    self.ctx._stop_reason = OutcomeKind.MEMORY
                    self.ctx._stop_message = (
                        f"memory limit exceeded: V8 heap over {self.ctx._options.mem_mb} MB"
                    )
            absorbed = self._absorb_termination()
            if absorbed is None:
                return self._lost()
            self.ctx._deliver(absorbed.get("lines"))
        self.phase = Phase.DONE
        outcome = outcome_of(
            typ,
            lambda: handle_text(result),
            parsed,
            console_events=self.ctx._events,
            stop=(self.ctx._stop_reason, self.ctx._stop_message),
            filename=self.filename,
            mem_mb=self.ctx._options.mem_mb,
        )
        if typ == MrTypes.parse_exception and not self.parsed_input and outcome.exception:
            # V8 refused the transform's rewrite: its location is not in the input.
            outcome.exception.pop("line", None)
            outcome.exception.pop("column", None)
        if typ in ERROR_TYPES and outcome.exception is not None:
            # What `_error` becomes (the prelude asks for it when user code reads it): the value
            # of a top-level throw when that is what escaped, else the host's reading.
            thrown = parsed.get("thrown")
            self.ctx.last_error = {
                "captured": isinstance(thrown, dict)
                and outcome.exception.get("inspect") == thrown.get("inspect"),
                "error": outcome.exception,
            }
        return outcome

    def _tick(self, delay_ms: Any) -> dict[str, Any] | None:
        """Sleep until the next timer is due, then fire it (``tick``); its report, or None
        when the runtime is lost. A limit or cancel() during the sleep ends the run."""
        delay = float(delay_ms) / 1000 if isinstance(delay_ms, int | float) else 0.0
        due = time.monotonic() + max(delay, 0.0)
        while True:
            if self.ctx._is_closed():
                return None
            if self.ctx._stop_reason is not None:
                return self._recover()
            wait = settle_wait(time.monotonic(), due, self.clock.deadline)
            if wait is None:
                self.ctx._interrupt(OutcomeKind.WALL_TIMEOUT)
                return self._recover()
            if self.clock.cpu_limit is not None and self.clock.cpu_start is not None:
                used = (self.ctx.cpu_time_ms or self.clock.cpu_start) - self.clock.cpu_start
                if used >= self.clock.cpu_limit:
                    self.ctx._interrupt(OutcomeKind.CPU_TIMEOUT)
                    return self._recover()
            if wait <= 0:
                break
            with contextlib.suppress(queue.Empty):
                self.ctx._iso.results.get(timeout=wait)  # STOP from cancel() or close()
        return self._finish(self.ctx._iso.tick, None, hard=True)

    def _finish(
        self,
        func: Any,
        this: Any,
        item: Any = None,
        *,
        hard: bool = False,
    ) -> dict[str, Any] | None:
        """Call a finish function (or tick) and parse its report; None when the runtime is
        lost. ``item``: the finish call's answer when it was already chained to the script.

        It queues behind any microtask the code left running, so it doubles as the wedge
        barrier: if it does not answer by the deadline (a finish call: at least
        FINISH_MIN_S past the script's end), the runtime is unrecoverable. finishOk and tick
        run user code (toJSON, toString, getters, Proxy traps, timer callbacks), so they obey
        the deadline and cancel(), and tick the CPU limit too (``hard``); when one was
        interrupted, finishErr (which runs no user code) collects the lines and resets the
        per-run state instead, and the session stays usable.
        """
        if item is None:
            now = time.monotonic()
            item = self.ctx._await(
                lambda: self.ctx._iso.post_call(
                    func, this if this is not None else self.ctx._iso.none
                ),
                self.clock,
                deadline=self.clock.deadline if hard else finish_deadline(now, self.clock.deadline),
                use_cpu=hard,
                cancelable=True,
                marked=True,
            )
            if item is None:
                return None
        if handle_type(item) in ERROR_TYPES:
            with self.ctx._state_lock:
                if self.ctx._stop_reason is None:
                    memory = (
                        handle_type(item) == MrTypes.oom_exception
                        or self.ctx._iso.memory_limit_reached()
                    )
                    late = (
                        self.clock.deadline is not None and time.monotonic() >= self.clock.deadline
                    )
                    self.ctx._stop_reason = (
                        OutcomeKind.MEMORY
                        if memory
                        else OutcomeKind.WALL_TIMEOUT
                        if late
                        else OutcomeKind.CANCELLED
                    )
            return self._recover()
        return parse_report(item)

    def _recover(self) -> dict[str, Any] | None:
        """Phase RECOVER: finishErr collects the lines and resets the per-run state (pending
        timers included); None when the runtime is lost."""
        self.phase = Phase.RECOVER
        item = self.ctx._await(
            lambda: self.ctx._iso.post_call(self.ctx._iso.finish_err, self.ctx._iso.none),
            NO_LIMITS,
            deadline=time.monotonic() + TERMINATE_GRACE_S,
            use_cpu=False,
            cancelable=False,
            marked=True,
        )
        if item is None or handle_type(item) in ERROR_TYPES:
            return None
        return parse_report(item)

    def _lost(self) -> Outcome:
        """The outcome of a run whose runtime went away (closed by close(), or wedged).

        Before a wedged runtime is disposed, :meth:`_rescue` tries to stop the stray JS; when
        that works the run ends with its stop reason and the session stays usable."""
        if self.ctx._close_requested or self.ctx._closed:
            if self.ctx._close_requested:
                return Outcome(OutcomeKind.CANCELLED, message="execution cancelled: context closed")
            return Outcome(OutcomeKind.LOST, message=self._wedged_message())
        report = self._rescue()
        if report is not None:
            self.ctx._deliver(report.get("lines"))
            with self.ctx._state_lock:
                reason = self.ctx._stop_reason or OutcomeKind.WALL_TIMEOUT
            return Outcome(
                reason,
                message=f"{_STOP_MESSAGES.get(reason, reason.value)}: code kept running after "
                "the script returned (in promise callbacks); it was stopped",
                console_events=self.ctx._events,
            )
        self.ctx._dispose()
        return Outcome(OutcomeKind.LOST, message=self._wedged_message())

    def _rescue(self) -> dict[str, Any] | None:
        """Stop stray JS that keeps the isolate busy between tasks; the report of finishErr,
        or None when the runtime cannot be recovered.

        mini-racer runs microtasks after each task, outside any task that could be
        terminated, so a promise chain that never ends (``async function g() { await null;
        return g() }; g()``) keeps every later task from starting. Such a chain allocates, so
        a heap limit of one byte makes V8 terminate it at its next garbage collection. The
        termination may also hit the next task once; a few finishErr calls (which run no user
        code) absorb it, so nothing of it reaches the next run. A loop that does not allocate
        (``while (true) {}`` in a callback) cannot be stopped this way: the runtime is then
        disposed.
        """
        self.phase = Phase.RECOVER
        self.ctx._iso.set_memory_limit(1)
        with contextlib.suppress(queue.Empty):
            self.ctx._iso.results.get(timeout=_SQUEEZE_S)
        return self._absorb_termination()

    def _absorb_termination(self) -> dict[str, Any] | None:
        """Reset the heap limit, then call finishErr (which runs no user code) until it answers,
        at most three times: its report, or None when the runtime is lost.

        When V8's heap limit stopped JS running between tasks, the isolate may terminate the
        next task once more (the limit is checked again at the next garbage collection); that
        task must be one of these, never the next run's code."""
        self.ctx._iso.set_memory_limit(self.ctx._mem_bytes)
        for _attempt in range(3):
            item = self.ctx._await(
                lambda: self.ctx._iso.post_call(self.ctx._iso.finish_err, self.ctx._iso.none),
                NO_LIMITS,
                deadline=time.monotonic() + TERMINATE_GRACE_S,
                use_cpu=False,
                cancelable=False,
                marked=True,
            )
            if item is None:
                return None
            if handle_type(item) not in ERROR_TYPES:
                return parse_report(item)
        return None

    def _wedged_message(self) -> str:
        return (
            "runtime wedged: code kept running after the script returned (for example an "
            "endless loop in a promise callback); the runtime was disposed"
        )
