"""The V8 engine: runs on an :class:`~vmsystem.runtime.isolate.Isolate` (mini-racer's C API).

While a run is in progress only tasks are posted to the isolate (``mr_eval``,
``mr_call_function``), never the synchronous helpers (``array_push``, ``get_object_item``...):
those block forever when stray JS (an endless loop in a promise callback or a timer) occupies
the isolate, whereas a task that never answers is detected and reported as ``WEDGED``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from vmsystem.runtime.base import (
    ConsoleLine,
    ConsoleSink,
    ContextOptions,
    EngineError,
    Outcome,
    OutcomeKind,
    RunLimits,
)
from vmsystem.runtime.isolate import MAILBOX_BYTES, STOP, Isolate, bundle_source
from vmsystem.runtime.native import ERROR_TYPES, MrTypes, dll, handle_text, handle_type, loads
from vmsystem.runtime.outcomes import outcome_of
from vmsystem.runtime.schedule import (
    POLL_S,
    SCRIPT_GRACE_S,
    TERMINATE_GRACE_S,
    Phase,
    finish_deadline,
    running_wait,
    settle_wait,
    stop_patience,
)

__all__ = ["V8Context", "V8Engine"]

#: Inputs that may need the REPL transform (``transform`` in js/prelude/8-repl.js): it is
#: skipped for the rest, which keeps a plain snippet as fast as before.
_MAY_TRANSFORM = re.compile(r"\b(?:let|const|class|await)\b|[0-9_]n\b|BigInt")
#: Console levels the host accepts; anything else is reported as ``log``.
CONSOLE_LEVELS = frozenset({"log", "info", "warn", "error", "debug"})
#: How long a wedge rescue waits for the one-byte heap limit to stop stray JS.
_SQUEEZE_S = 0.2
_STOP_MESSAGES = {
    OutcomeKind.WALL_TIMEOUT: "wall-time limit exceeded",
    OutcomeKind.CPU_TIMEOUT: "CPU-time limit exceeded",
    OutcomeKind.CANCELLED: "execution cancelled",
    OutcomeKind.MEMORY: "memory limit exceeded",
    OutcomeKind.OUTPUT_LIMIT: "output limit exceeded",
}
#: Most random bytes one crypto.getRandomValues call may ask for (the Web Crypto limit).
_MAX_RANDOM_BYTES = 65536


class V8Engine:
    """Creates V8 contexts (one isolate and one native thread each)."""

    name = "v8"

    @property
    def version(self) -> str:
        """The V8 version string."""
        return str(dll().mr_v8_version().decode("utf-8"))

    def create_context(self, options: ContextOptions) -> V8Context:
        """A fresh context with the prelude installed."""
        return V8Context(options)


class V8Context:
    """One V8 isolate + context: a session's runtime."""

    def __init__(self, options: ContextOptions) -> None:
        self._options = options
        self._run_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._task: int | None = None
        self._cancelable = False  # may cancel() terminate the current task?
        self._running = False  # a run() is in progress
        self._stop_reason: OutcomeKind | None = None
        self._stop_message = ""
        self._sink: ConsoleSink | None = None
        self._events = 0  # console events / UTF-16-ish units delivered this run
        self._bytes = 0
        self._closed = False
        self._filename: str | None = None  # of the current run
        self._close_requested = False  # close() was called (as opposed to a wedge disposal)
        self._run_started_ms = 0.0  # wall clock (unix ms) at the start of the current run
        #: Where the current run is (see :mod:`vmsystem.runtime.schedule`).
        self.phase = Phase.IDLE
        # The finish call chained to the script (see _chain_finish): armed by the waiter, then
        # the script's result handle and when its finish call was posted.
        self._chain_armed = False
        self._chained: Any = None
        self._chained_at = 0.0
        self._iso = Isolate(self._host_call)
        self._iso.on_result = self._on_result
        try:
            self._iso.set_memory_limit(self._mem_bytes)
            self._iso.install_prelude(self._prelude_config())
        except BaseException:
            self._dispose()
            raise

    @property
    def _mem_bytes(self) -> int:
        return self._options.mem_mb * 1024 * 1024

    # ------------------------------------------------------------------ setup
    def _prelude_config(self) -> dict[str, Any]:
        return {
            "mailbox_bytes": MAILBOX_BYTES,
            "max_console_events": self._options.max_console_events,
            "max_events": self._options.max_events,
            "max_output_bytes": self._options.max_output_kb * 1024,
            "max_output_kb": self._options.max_output_kb,
            "mem_bytes": self._mem_bytes,
            "mem_mb": self._options.mem_mb,
            "console": self._options.console,
            "env": dict(self._options.env),
            "modules": dict(self._options.modules),
            "hidden_globals": list(self._options.hidden_globals),
        }

    # ------------------------------------------------------------------ callbacks
    def _on_result(self, handle: Any) -> bool:
        # The isolate's callback offers every task result here first (isolate's thread).
        if not self._chain_armed:
            return False
        self._chain_armed = False
        return self._chain_finish(handle)

    def _chain_finish(self, result: Any) -> bool:
        """Post the finish call for the script's ``result`` right here, on the isolate's thread.

        Posting a task from the callback is safe (it only queues it), and it saves a round
        trip through the waiting thread: one callback and one wake-up fewer per run. Not done
        when the run is stopping (the waiter then decides, as without chaining). Returns
        whether the finish call was posted; the waiter then receives its result instead.
        """
        with self._state_lock:
            if self._closed or not self._running or self._stop_reason is not None:
                return False
            failed = handle_type(result) in ERROR_TYPES
            self._iso.mailbox.started = False
            self._chained = result
            self._chained_at = time.monotonic()
            if failed:
                self._task = self._iso.post_call(self._iso.finish_err, self._iso.none)
            else:
                self._task = self._iso.post_call(self._iso.finish_ok, result)
            self._cancelable = True
            return True

    def _host_call(self, op: str, payload: Any) -> Any:
        if op == "console":
            self._deliver(payload)
            return None
        if op == "stop":
            reason, message = payload
            return self._request_stop(
                OutcomeKind.MEMORY if reason == "memory" else OutcomeKind.OUTPUT_LIMIT, str(message)
            )
        if op == "bundle":
            return bundle_source(str(payload))
        if op == "random":
            if not isinstance(payload, int) or not 0 <= payload <= _MAX_RANDOM_BYTES:
                raise ValueError("bad random byte count")
            return os.urandom(payload).hex()
        handler = self._options.host_functions.get(op)
        if handler is None:
            raise LookupError(f"unknown host function {op!r}")
        return handler(list(payload or []))

    def _request_stop(self, reason: OutcomeKind, message: str) -> bool:
        """Stop the run for a limit; True when its termination is already requested.

        Called on the isolate's thread (inside the bell), it terminates at once, so no user
        code runs after the limit (a try/catch around console.log must not keep looping), and
        a request coming just as the task ends cannot stay pending and terminate the next call.
        JS resumes only to be terminated (the prelude spins until it is)."""
        with self._state_lock:
            if self._stop_reason is None:
                self._stop_reason = reason
                self._stop_message = message
            task = self._task
            terminating = task is not None and self._cancelable and not self._closed
            if terminating and task is not None:
                self._iso.cancel_task(task)
        self._iso.results.put(STOP)
        return terminating

    def _deliver(self, lines: Any) -> None:
        """Hand console lines to the sink, validating them and enforcing the output limits.

        The prelude enforces the limits first and counts at least as much as this does (UTF-16
        units vs code points), and it builds the batch from builtins it took before user code
        ran. Still, nothing coming out of the isolate is trusted: levels come from a fixed set
        (others become ``log``), and a timestamp is clamped to this run's time span (a huge or
        forged one can neither fail nor lie)."""
        if not isinstance(lines, list):
            return
        out: list[ConsoleLine] = []
        max_bytes = self._options.max_output_kb * 1024
        now = time.time() * 1000
        for line in lines:
            try:
                level, text, ts = line[0], line[1], line[2]
            except (TypeError, IndexError, KeyError):
                continue
            if not isinstance(text, str):
                continue
            if level not in CONSOLE_LEVELS:
                level = "log"
            if not isinstance(ts, int | float) or not self._run_started_ms <= ts <= now:
                ts = now
            if self._events + 1 > self._options.max_console_events or (
                self._bytes + len(text) > max_bytes
            ):
                self._request_stop(OutcomeKind.OUTPUT_LIMIT, "output limit exceeded")
                break
            self._events += 1
            self._bytes += len(text)
            out.append((level, text, float(ts)))
        if out and self._sink is not None:
            self._sink(out)

    # ------------------------------------------------------------------ running code
    @property
    def alive(self) -> bool:
        """False once closed or lost."""
        return not self._closed

    def _is_closed(self) -> bool:
        return self._closed

    @property
    def cpu_time_ms(self) -> float | None:
        """CPU time used by the isolate's thread so far (None where not measurable)."""
        return self._iso.cpu_time_ms

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
        """Run ``code`` as a global script; see :class:`~vmsystem.runtime.base.EngineContext`."""
        if not self._run_lock.acquire(blocking=False):
            raise EngineError("context is already running code")
        try:
            if self._closed:
                raise EngineError("context is closed")
            return self._run(code, filename, limits, sink, args, env)
        finally:
            self._run_lock.release()

    def _run(
        self,
        code: str,
        filename: str | None,
        limits: RunLimits,
        sink: ConsoleSink,
        args: Any,
        env: Mapping[str, str] | None,
    ) -> Outcome:
        # Stale wake-ups from a cancel() that came after the previous run's code had ended.
        while not self._iso.results.empty():
            self._iso.results.get_nowait()
        with self._state_lock:
            self._stop_reason = None
            self._stop_message = ""
            self._running = True
        self._events = self._bytes = 0
        self._filename = filename
        self._run_started_ms = time.time() * 1000
        # mini-racer's "hard memory limit reached" flag is sticky (only setting the limit clears
        # it): without this, every JS exception after one OOM would be reported as MEMORY.
        if self._iso.memory_limit_reached():
            self._iso.set_memory_limit(self._mem_bytes)
        self._sink = sink
        start = time.monotonic()
        cpu_start = self.cpu_time_ms
        clock = _RunClock(
            deadline=start + limits.wall_ms / 1000 if limits.wall_ms is not None else None,
            cpu_start=cpu_start,
            cpu_limit=limits.cpu_ms if cpu_start is not None else None,
        )
        try:
            outcome = self._execute(code, filename, clock, args, env)
        finally:
            self._sink = None
            self.phase = Phase.IDLE
            with self._state_lock:
                self._running = False
        outcome.duration_ms = (time.monotonic() - start) * 1000
        cpu_end = self.cpu_time_ms
        if cpu_start is not None and cpu_end is not None:
            outcome.cpu_ms = round(cpu_end - cpu_start, 3)
        return outcome

    def _execute(
        self,
        code: str,
        filename: str | None,
        clock: _RunClock,
        args: Any,
        env: Mapping[str, str] | None,
    ) -> Outcome:
        if args is not None or env is not None:
            self.phase = Phase.PREPARE
            params: dict[str, Any] = {}
            if args is not None:
                params["args"] = args
            if env is not None:
                params["env"] = dict(env)
            this = self._iso.str_handle(orjson.dumps(params).decode())
            begun = self._await(
                lambda: self._iso.post_call(self._iso.begin, this), clock, cancelable=False
            )
            if begun is None:
                return self._lost()
            if handle_type(begun) in ERROR_TYPES:
                return self._settle(begun, clock)
        if _MAY_TRANSFORM.search(code):
            self.phase = Phase.TRANSFORM
            source = self._iso.str_handle(code)
            rewritten = self._await(
                lambda: self._iso.post_call(self._iso.transform, source),
                clock,
                cancelable=True,
                marked=True,
            )
            if rewritten is None:
                return self._lost()
            kind = handle_type(rewritten)
            if self._stop_reason is not None:
                return self._settle(rewritten, clock)
            if kind == MrTypes.str_utf8:
                code = handle_text(rewritten)
            # Otherwise acorn rejected the input (or user code broke it): V8 runs it as it is
            # and reports its own SyntaxError, if any.
        self.phase = Phase.SCRIPT
        if self._options.strict:
            code = '"use strict";void 0;' + code
        if filename:
            code += f"\n//# sourceURL={filename}"
        code_handle = self._iso.str_handle(code)
        self._chained = None
        self._chain_armed = True
        try:
            result = self._await(
                lambda: self._iso.post_eval(code_handle),
                clock,
                cancelable=True,
                grace=SCRIPT_GRACE_S,
                script=True,
            )
        finally:
            self._chain_armed = False
            chained, self._chained = self._chained, None
        if result is None:
            return self._lost()
        if chained is not None:  # ``result`` is what the chained finish call answered
            return self._settle(chained, clock, report=result)
        return self._settle(result, clock)

    def _await(
        self,
        post: Callable[[], int],
        clock: _RunClock,
        *,
        cancelable: bool,
        deadline: float | None = None,
        use_cpu: bool = True,
        grace: float = TERMINATE_GRACE_S,
        marked: bool = False,
        script: bool = False,
    ) -> Any:
        """Post a task and wait for its result handle, enforcing wall and CPU time.

        ``deadline`` replaces the run's own (the finish calls get a little past it);
        ``use_cpu``: the task counts against the CPU limit. Returns None when the runtime is
        lost: closed, or wedged (told to stop, the task did not answer within its patience, see
        :func:`~vmsystem.runtime.schedule.stop_patience`; with ``marked``, the task marks its
        start in the mailbox). ``script``: the user's script, cancelled at once when cancel()
        came before it was posted. Once the task is told to stop, it is only polled: it never
        spins on a zero timeout, and a task that cannot be terminated (not started) is given
        up after its patience.
        """
        if deadline is None:
            deadline = clock.deadline
        cpu_start = clock.cpu_start if use_cpu else None
        cpu_limit = clock.cpu_limit if use_cpu else None
        with self._state_lock:
            if self._closed:
                return None
            if marked:
                self._iso.mailbox.started = False
            self._task = post()
            self._cancelable = cancelable
            stopping = script and self._stop_reason is not None  # cancel() came first
            if stopping and cancelable:
                self._iso.cancel_task(self._task)
        stalled_since: float | None = time.monotonic() if stopping else None
        try:
            while True:
                if self._is_closed():  # another thread may close
                    return None
                now = time.monotonic()
                cpu_left: float | None = None
                # Once the finish call is chained to the script, the wait is the finish
                # call's: it marks its start, gets at least FINISH_MIN_S past the script's
                # end, and is not held to the CPU limit (as in _finish).
                chained = self._chained is not None
                if stalled_since is not None:
                    started = (marked or chained) and self._iso.mailbox.started
                    patience = stop_patience(started=started, finish_call=chained, grace=grace)
                    if self._iso.in_host_call:
                        stalled_since = now  # a host function runs; JS stops once it returns
                    elif now - stalled_since > patience:
                        return None
                    wait = POLL_S
                else:
                    if chained:
                        deadline = finish_deadline(self._chained_at, clock.deadline)
                    elif cpu_limit is not None and cpu_start is not None:
                        used = (self.cpu_time_ms or cpu_start) - cpu_start
                        cpu_left = cpu_limit - used
                    wait = running_wait(now, deadline, cpu_left)
                try:
                    item = self._iso.results.get(timeout=wait)
                except queue.Empty:
                    item = None
                if item is STOP:
                    if self._is_closed():  # another thread may close
                        return None
                    self._interrupt(None)
                    if stalled_since is None:
                        stalled_since = time.monotonic()
                    continue
                if item is not None:
                    return item
                if stalled_since is not None:
                    continue
                if deadline is not None and time.monotonic() >= deadline:
                    self._interrupt(OutcomeKind.WALL_TIMEOUT)
                    stalled_since = time.monotonic()
                elif cpu_left is not None and cpu_left <= 0 and self._chained is None:
                    self._interrupt(OutcomeKind.CPU_TIMEOUT)
                    stalled_since = time.monotonic()
        finally:
            with self._state_lock:
                self._task = None
                self._cancelable = False

    def _interrupt(self, reason: OutcomeKind | None) -> None:
        with self._state_lock:
            if reason is not None and self._stop_reason is None:
                self._stop_reason = reason
            if self._task is not None and self._cancelable and not self._closed:
                self._iso.cancel_task(self._task)

    def _settle(self, result: Any, clock: _RunClock, report: Any = None) -> Outcome:
        """Turn the script's result handle into an :class:`Outcome`: runs the finish call
        (unless ``report`` is the answer of the one chained to the script), then the event loop
        while the report says work is pending."""
        # Only the type is read: converting the result to a Python value just to classify it
        # would raise UnicodeDecodeError for a string with a lone surrogate.
        typ = handle_type(result)
        if typ in ERROR_TYPES:
            parsed = self._finish(self._iso.finish_err, None, clock, report)
        else:
            parsed = self._finish(self._iso.finish_ok, result, clock, report)
        self.phase = Phase.SETTLE
        while parsed is not None and "pending" in parsed:
            self._deliver(parsed.get("lines"))
            parsed = self._tick(parsed["pending"], clock)
        if parsed is None:
            return self._lost()
        self._deliver(parsed.get("lines"))
        if self._iso.memory_limit_reached():
            # The heap limit was hit, maybe by work that ran between tasks (a promise chain
            # after the script returned), which V8 then stopped: the run ends with MEMORY.
            with self._state_lock:
                if self._stop_reason is None:
                    self._stop_reason = OutcomeKind.MEMORY
                    self._stop_message = (
                        f"memory limit exceeded: V8 heap over {self._options.mem_mb} MB"
                    )
            absorbed = self._absorb_termination()
            if absorbed is None:
                return self._lost()
            self._deliver(absorbed.get("lines"))
        self.phase = Phase.DONE
        return outcome_of(
            typ,
            lambda: handle_text(result),
            parsed,
            console_events=self._events,
            stop=(self._stop_reason, self._stop_message),
            filename=self._filename,
            mem_mb=self._options.mem_mb,
        )

    def _tick(self, delay_ms: Any, clock: _RunClock) -> dict[str, Any] | None:
        """Sleep until the next timer is due, then fire it (``tick``); its report, or None
        when the runtime is lost. A limit or cancel() during the sleep ends the run."""
        delay = float(delay_ms) / 1000 if isinstance(delay_ms, int | float) else 0.0
        due = time.monotonic() + max(delay, 0.0)
        while True:
            if self._is_closed():
                return None
            if self._stop_reason is not None:
                return self._recover()
            wait = settle_wait(time.monotonic(), due, clock.deadline)
            if wait is None:
                self._interrupt(OutcomeKind.WALL_TIMEOUT)
                return self._recover()
            if clock.cpu_limit is not None and clock.cpu_start is not None:
                used = (self.cpu_time_ms or clock.cpu_start) - clock.cpu_start
                if used >= clock.cpu_limit:
                    self._interrupt(OutcomeKind.CPU_TIMEOUT)
                    return self._recover()
            if wait <= 0:
                break
            with contextlib.suppress(queue.Empty):
                self._iso.results.get(timeout=wait)  # STOP from cancel() or close()
        return self._finish(self._iso.tick, None, clock, hard=True)

    def _finish(
        self,
        func: Any,
        this: Any,
        clock: _RunClock,
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
            item = self._await(
                lambda: self._iso.post_call(func, this if this is not None else self._iso.none),
                clock,
                deadline=clock.deadline if hard else finish_deadline(now, clock.deadline),
                use_cpu=hard,
                cancelable=True,
                marked=True,
            )
            if item is None:
                return None
        if handle_type(item) in ERROR_TYPES:
            with self._state_lock:
                if self._stop_reason is None:
                    memory = (
                        handle_type(item) == MrTypes.oom_exception
                        or self._iso.memory_limit_reached()
                    )
                    late = clock.deadline is not None and time.monotonic() >= clock.deadline
                    self._stop_reason = (
                        OutcomeKind.MEMORY
                        if memory
                        else OutcomeKind.WALL_TIMEOUT
                        if late
                        else OutcomeKind.CANCELLED
                    )
            return self._recover()
        return _parse_report(item)

    def _recover(self) -> dict[str, Any] | None:
        """Phase RECOVER: finishErr collects the lines and resets the per-run state (pending
        timers included); None when the runtime is lost."""
        self.phase = Phase.RECOVER
        item = self._await(
            lambda: self._iso.post_call(self._iso.finish_err, self._iso.none),
            _NO_LIMITS,
            deadline=time.monotonic() + TERMINATE_GRACE_S,
            use_cpu=False,
            cancelable=False,
            marked=True,
        )
        if item is None or handle_type(item) in ERROR_TYPES:
            return None
        return _parse_report(item)

    def _lost(self) -> Outcome:
        """The outcome of a run whose runtime went away (closed by close(), or wedged).

        Before a wedged runtime is disposed, :meth:`_rescue` tries to stop the stray JS; when
        that works the run ends with its stop reason and the session stays usable."""
        if self._close_requested or self._closed:
            if self._close_requested:
                return Outcome(OutcomeKind.CANCELLED, message="execution cancelled: context closed")
            return Outcome(OutcomeKind.WEDGED, message=self._wedged_message())
        report = self._rescue()
        if report is not None:
            self._deliver(report.get("lines"))
            with self._state_lock:
                reason = self._stop_reason or OutcomeKind.WALL_TIMEOUT
            return Outcome(
                reason,
                message=f"{_STOP_MESSAGES.get(reason, reason.value)}: code kept running after "
                "the script returned (an endless chain of promise callbacks); it was stopped",
                console_events=self._events,
            )
        self._dispose()
        return Outcome(OutcomeKind.WEDGED, message=self._wedged_message())

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
        self._iso.set_memory_limit(1)
        with contextlib.suppress(queue.Empty):
            self._iso.results.get(timeout=_SQUEEZE_S)
        return self._absorb_termination()

    def _absorb_termination(self) -> dict[str, Any] | None:
        """Reset the heap limit, then call finishErr (which runs no user code) until it answers,
        at most three times: its report, or None when the runtime is lost.

        When V8's heap limit stopped JS running between tasks, the isolate may terminate the
        next task once more (the limit is checked again at the next garbage collection); that
        task must be one of these, never the next run's code."""
        self._iso.set_memory_limit(self._mem_bytes)
        for _attempt in range(3):
            item = self._await(
                lambda: self._iso.post_call(self._iso.finish_err, self._iso.none),
                _NO_LIMITS,
                deadline=time.monotonic() + TERMINATE_GRACE_S,
                use_cpu=False,
                cancelable=False,
                marked=True,
            )
            if item is None:
                return None
            if handle_type(item) not in ERROR_TYPES:
                return _parse_report(item)
        return None

    def _wedged_message(self) -> str:
        return (
            "runtime wedged: code kept running after the script returned (for example an "
            "endless loop in a promise callback); the runtime was disposed"
        )

    def cancel(self) -> bool:
        """Interrupt the current run; the run ends with ``OutcomeKind.CANCELLED``."""
        with self._state_lock:
            if not self._running or self._closed:
                return False
            if self._stop_reason is None:
                self._stop_reason = OutcomeKind.CANCELLED
            if self._task is not None and self._cancelable:
                self._iso.cancel_task(self._task)
        # Wake the waiter: if the isolate is wedged the task never answers, and the waiter
        # must notice that within the grace period rather than at its deadline (or never).
        self._iso.results.put(STOP)
        return True

    def close(self) -> None:
        """Dispose the isolate (stops even a wedged microtask) and its thread; idempotent.

        A run in progress in another thread ends with ``CANCELLED``."""
        self._close_requested = True
        self._dispose()

    def _dispose(self) -> None:
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            if self._task is not None:
                self._iso.cancel_task(self._task)
        self._iso.free()
        # Wake a run waiting in another thread, or it sits out its whole deadline before
        # reporting WEDGED.
        self._iso.results.put(STOP)


@dataclass(frozen=True, slots=True)
class _RunClock:
    """The limits of one run, in the clocks they are measured with."""

    deadline: float | None  # time.monotonic() at which the wall-time limit hits
    cpu_start: float | None  # the isolate thread's CPU time at the start (ms)
    cpu_limit: float | None  # CPU budget (ms)


_NO_LIMITS = _RunClock(None, None, None)


def _parse_report(item: Any) -> dict[str, Any]:
    try:
        parsed = loads(handle_text(item))
    except ValueError:
        parsed = None
    return parsed if isinstance(parsed, dict) else {}
