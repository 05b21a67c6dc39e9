"""The V8 engine: runs on an :class:`~vmsystem.runtime.isolate.Isolate` (mini-racer's C API).

While a run is in progress only tasks are posted to the isolate (``mr_eval``,
``mr_call_function``), never the synchronous helpers (``array_push``, ``get_object_item``...):
those block forever when stray JS (an endless loop in a promise callback or a timer) occupies
the isolate, whereas a task that never answers is detected and reported as ``WEDGED``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
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
from vmsystem.runtime.isolate import MAILBOX_BYTES, STOP, Isolate
from vmsystem.runtime.native import ERROR_TYPES, MrTypes, dll, handle_text, handle_type, loads
from vmsystem.runtime.outcomes import outcome_of

__all__ = ["V8Context", "V8Engine"]

# How long a task may go on after it was told to stop (deadline, cancel()) before the runtime
# counts as wedged. Termination normally lands within a millisecond, but some builtins do not
# check for it (``new Uint8Array({length: 2 ** 28})`` fills element by element for half a
# minute), while a task that never started waits behind stray JS (an endless loop in a promise
# callback or a timer) for good. Time spent inside a host function does not count.
#: ... for a task known not to have started (the finish calls mark their start in the mailbox).
_TERMINATE_GRACE_S = 0.5
#: ... for a task known to have started.
_LATE_TERMINATION_S = 60.0
#: ... for the user's script, which cannot mark its start (a probe task would cost ~20 us a run).
_SCRIPT_GRACE_S = 5.0
#: Budget of the finish call when the run has no wall-time limit.
_FINISH_BUDGET_S = 5.0
#: The finish call may run this long past the wall-time deadline when the script ended near it.
_FINISH_MIN_S = 0.05


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
        handler = self._options.host_functions.get(op)
        if handler is None:
            raise LookupError(f"unknown host function {op!r}")
        return handler(list(payload or []))

    def _request_stop(self, reason: OutcomeKind, message: str) -> bool:
        """Stop the run for a limit; True when its termination is already requested.

        Fix: the termination was requested by the waiting thread once it woke up, so user code
        went on running meanwhile (a try/catch around console.log kept looping), and when the
        request came just as the task ended it was left pending and terminated the next call.
        Called on the isolate's thread (inside the bell), it now terminates at once: JS resumes
        only to be terminated (the prelude spins until it is)."""
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
        """Hand console lines to the sink, enforcing the output limits once more.

        The prelude enforces them first and counts at least as much as this does (UTF-16 units
        vs code points), so this backstop only acts when user code tampered with the built-ins
        the prelude relies on and forged a console batch."""
        if not isinstance(lines, list):
            return
        out: list[ConsoleLine] = []
        max_bytes = self._options.max_output_kb * 1024
        for line in lines:
            try:
                level, text, ts = str(line[0]), str(line[1]), float(line[2])
            except (TypeError, ValueError, IndexError, KeyError):
                continue
            if self._events + 1 > self._options.max_console_events or (
                self._bytes + len(text) > max_bytes
            ):
                self._request_stop(OutcomeKind.OUTPUT_LIMIT, "output limit exceeded")
                break
            self._events += 1
            self._bytes += len(text)
            out.append((level, text, ts))
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
        # Fix: mini-racer's "hard memory limit reached" flag is sticky (only setting the limit
        # clears it), so after one OOM every later JS exception was reported as MEMORY.
        if self._iso.memory_limit_reached():
            self._iso.set_memory_limit(self._mem_bytes)
        self._sink = sink
        start = time.monotonic()
        cpu_start = self.cpu_time_ms
        try:
            outcome = self._execute(code, filename, limits, args, env, start, cpu_start)
        finally:
            self._sink = None
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
        limits: RunLimits,
        args: Any,
        env: Mapping[str, str] | None,
        start: float,
        cpu_start: float | None,
    ) -> Outcome:
        deadline = start + limits.wall_ms / 1000 if limits.wall_ms is not None else None
        cpu_limit = limits.cpu_ms if cpu_start is not None else None
        if args is not None or env is not None:
            params: dict[str, Any] = {}
            if args is not None:
                params["args"] = args
            if env is not None:
                params["env"] = dict(env)
            this = self._iso.str_handle(orjson.dumps(params).decode())
            begun = self._await(
                lambda: self._iso.post_call(self._iso.begin, this),
                deadline,
                cpu_start,
                cpu_limit,
                cancelable=False,
            )
            if begun is None:
                return self._lost()
            if handle_type(begun) in ERROR_TYPES:
                return self._settle(begun, deadline)
        source = code
        if self._options.strict:
            source = '"use strict";void 0;' + source
        if filename:
            source += f"\n//# sourceURL={filename}"
        code_handle = self._iso.str_handle(source)
        self._chained = None
        self._chain_armed = True
        try:
            result = self._await(
                lambda: self._iso.post_eval(code_handle),
                deadline,
                cpu_start,
                cpu_limit,
                cancelable=True,
                grace=_SCRIPT_GRACE_S,
                script=True,
            )
        finally:
            self._chain_armed = False
            chained, self._chained = self._chained, None
        if result is None:
            return self._lost()
        if chained is not None:  # ``result`` is what the chained finish call answered
            return self._settle(chained, deadline, report=result)
        return self._settle(result, deadline)

    def _await(
        self,
        post: Callable[[], int],
        deadline: float | None,
        cpu_start: float | None,
        cpu_limit: float | None,
        *,
        cancelable: bool,
        grace: float = _TERMINATE_GRACE_S,
        marked: bool = False,
        script: bool = False,
    ) -> Any:
        """Post a task and wait for its result handle, enforcing wall and CPU time.

        Returns None when the runtime is lost: closed, or wedged (told to stop, the task did
        not answer within ``grace``; with ``marked``, the task marks its start in the mailbox
        and gets :data:`_LATE_TERMINATION_S` once it has started). ``script``: the user's
        script, cancelled at once when cancel() came before it was posted.

        Fix: after the deadline this looped on ``get(timeout=0)`` forever, burning a CPU, when
        the task could not be terminated (it had not started); ``cancel()`` during the internal
        finish call terminated it and the context was disposed as wedged.
        """
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
                # call's: it marks its start, gets at least _FINISH_MIN_S past the script's
                # end, and is not held to the CPU limit (as in _finish).
                chained = self._chained is not None
                if stalled_since is not None:
                    started = (marked or chained) and self._iso.mailbox.started
                    patience = _TERMINATE_GRACE_S if chained else grace
                    if self._iso.in_host_call:
                        stalled_since = now  # a host function runs; JS stops once it returns
                    elif now - stalled_since > (_LATE_TERMINATION_S if started else patience):
                        return None
                    wait = 0.02
                else:
                    if chained:
                        at = self._chained_at
                        end = deadline if deadline is not None else at + _FINISH_BUDGET_S
                        deadline = max(end, at + _FINISH_MIN_S)
                    # Without a deadline, look again after a finish budget: the finish call
                    # may have been chained meanwhile, and it has a budget of its own.
                    wait = deadline - now if deadline is not None else _FINISH_BUDGET_S
                    if cpu_limit is not None and cpu_start is not None and not chained:
                        used = (self.cpu_time_ms or cpu_start) - cpu_start
                        cpu_left = cpu_limit - used
                        # CPU time of one thread cannot outrun wall time: sleep until it could.
                        wait = min(wait, max(cpu_left, 0.0) / 1000)
                try:
                    item = self._iso.results.get(timeout=max(wait, 0.0))
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

    def _settle(self, result: Any, deadline: float | None, report: Any = None) -> Outcome:
        """Turn the script's result handle into an :class:`Outcome`: runs the finish call,
        unless ``report`` is the answer of the one chained to the script."""
        # Fix: the result used to be converted to a Python value just to classify it, which
        # raised UnicodeDecodeError out of run() for a string with a lone surrogate.
        typ = handle_type(result)
        failed = typ in ERROR_TYPES
        if failed:
            report = self._finish(self._iso.finish_err, None, deadline, report)
        else:
            report = self._finish(self._iso.finish_ok, result, deadline, report)
        if report is None:
            return self._lost()
        self._deliver(report.get("lines"))
        return outcome_of(
            typ,
            lambda: handle_text(result),
            report,
            console_events=self._events,
            stop=(self._stop_reason, self._stop_message),
            filename=self._filename,
            mem_mb=self._options.mem_mb,
        )

    def _finish(
        self, func: Any, this: Any, deadline: float | None, item: Any = None
    ) -> dict[str, Any] | None:
        """Call a finish function and parse its report; None when the runtime is lost.

        ``item``: the finish call's answer when it was already chained to the script.

        It queues behind any microtask the code left running, so it doubles as the wedge
        barrier: if it does not answer by the deadline (at least 50 ms), the runtime is
        unrecoverable. finishOk may run user code (toJSON, toString, getters, Proxy traps),
        so it obeys the deadline and cancel(); when it was interrupted, finishErr (which runs
        no user code) collects the lines and resets the per-run state instead.

        Fix: an interrupted finishOk used to dispose the context as wedged, so
        ``({toJSON() { while (true) {} }})`` or a cancel() racing with the end of a run
        destroyed the session.
        """
        if item is None:
            now = time.monotonic()
            end = deadline if deadline is not None else now + _FINISH_BUDGET_S
            this_handle = this if this is not None else self._iso.none
            item = self._await(
                lambda: self._iso.post_call(func, this_handle),
                max(end, now + _FINISH_MIN_S),
                None,
                None,
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
                    late = deadline is not None and time.monotonic() >= deadline
                    self._stop_reason = (
                        OutcomeKind.MEMORY
                        if memory
                        else OutcomeKind.WALL_TIMEOUT
                        if late
                        else OutcomeKind.CANCELLED
                    )
            item = self._await(
                lambda: self._iso.post_call(self._iso.finish_err, self._iso.none),
                time.monotonic() + _TERMINATE_GRACE_S,
                None,
                None,
                cancelable=False,
                marked=True,
            )
            if item is None or handle_type(item) in ERROR_TYPES:
                return None
        try:
            parsed = loads(handle_text(item))
        except ValueError:
            parsed = None
        return parsed if isinstance(parsed, dict) else {}

    def _lost(self) -> Outcome:
        """The outcome of a run whose runtime went away (closed by close(), or wedged)."""
        if self._close_requested:
            return Outcome(OutcomeKind.CANCELLED, message="execution cancelled: context closed")
        self._dispose()
        return Outcome(OutcomeKind.WEDGED, message=self._wedged_message())

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
        # Fix: a run waiting in another thread was not woken and sat out its whole deadline
        # (5 s in the finish call) before reporting WEDGED.
        self._iso.results.put(STOP)
