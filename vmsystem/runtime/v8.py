"""The V8 engine: runs on an :class:`~vmsystem.runtime.isolate.Isolate` (mini-racer's C API).

While a run is in progress only tasks are posted to the isolate (``mr_eval``,
``mr_call_function``), never the synchronous helpers (``array_push``, ``get_object_item``...):
those block forever when stray JS (an endless loop in a promise callback or a timer) occupies
the isolate, whereas a task that never answers is detected and reported as ``LOST``.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import orjson

from vmsystem.runtime.base import (
    Completion,
    ConsoleLine,
    ConsoleSink,
    ContextOptions,
    EngineBusy,
    EngineError,
    Outcome,
    OutcomeKind,
    RunLimits,
)
from vmsystem.runtime.display import DISPLAY_LEVEL, bundle_text
from vmsystem.runtime.isolate import (
    MAILBOX_BYTES,
    REJECTION_KEY,
    STOP,
    Isolate,
    bundle_source,
)
from vmsystem.runtime.native import ERROR_TYPES, MrTypes, dll, handle_text, handle_type
from vmsystem.runtime.run import Run, RunClock
from vmsystem.runtime.schedule import (
    POLL_S,
    TERMINATE_GRACE_S,
    Phase,
    finish_deadline,
    running_wait,
    stop_patience,
)
from vmsystem.runtime.subtle import subtle

__all__ = ["V8Context", "V8Engine"]

#: Console levels the host accepts; anything else is reported as ``log``.
CONSOLE_LEVELS = frozenset({"log", "info", "warn", "error", "debug"})
#: How long a completion may take before it is given up (it walks property lists only).
COMPLETE_TIMEOUT_S = 2.0
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
        #: How the last run that threw ended (``{captured, error}``), for the prelude's `_error`.
        self.last_error: dict[str, Any] | None = None
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
            "rejection_key": REJECTION_KEY,
            "max_console_events": self._options.max_console_events,
            "max_events": self._options.max_events,
            "max_output_bytes": self._options.max_output_kb * 1024,
            "max_output_kb": self._options.max_output_kb,
            "mem_bytes": self._mem_bytes,
            "mem_mb": self._options.mem_mb,
            "console": self._options.console,
            "env": dict(self._options.env),
            "modules": dict(self._options.modules),
            # import/require of worktree files and packages (the host's module loader).
            "loader": "loader.resolve" in self._options.host_functions,
            "hidden_globals": list(self._options.hidden_globals),
            "deterministic_seed": self._options.deterministic_seed,
            "unhandled_rejections": self._options.unhandled_rejections,
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
        if op == "last_error":
            return self.last_error
        if op == "bundle":
            return bundle_source(str(payload))
        if op == "subtle":
            return subtle(payload)
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
            if level == DISPLAY_LEVEL:
                if bundle_text(text) is None:
                    continue
            elif level not in CONSOLE_LEVELS:
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
        self._run_started_ms = time.time() * 1000
        # mini-racer's "hard memory limit reached" flag is sticky (only setting the limit clears
        # it): without this, every JS exception after one OOM would be reported as MEMORY.
        if self._iso.memory_limit_reached():
            self._iso.set_memory_limit(self._mem_bytes)
        self._sink = sink
        start = time.monotonic()
        cpu_start = self.cpu_time_ms
        clock = RunClock(
            deadline=start + limits.wall_ms / 1000 if limits.wall_ms is not None else None,
            cpu_start=cpu_start,
            cpu_limit=limits.cpu_ms if cpu_start is not None else None,
        )
        try:
            outcome = Run(self, clock, filename).execute(code, args, env)
        finally:
            self._sink = None
            self.phase = Phase.IDLE
            with self._state_lock:
                self._running = False
        duration_ms = (time.monotonic() - start) * 1000
        cpu_end = self.cpu_time_ms
        if cpu_start is not None and cpu_end is not None:
            return replace(outcome, duration_ms=duration_ms, cpu_ms=round(cpu_end - cpu_start, 3))
        return replace(outcome, duration_ms=duration_ms)

    def complete(self, code: str, cursor: int) -> Completion:
        """Completions at ``cursor``; see :class:`~vmsystem.runtime.base.EngineContext`."""
        if not 0 <= cursor <= len(code):
            raise ValueError(f"cursor {cursor} is outside the code (0..{len(code)})")
        if not self._run_lock.acquire(blocking=False):
            raise EngineBusy("the context is running code")
        try:
            if self._closed:
                raise EngineError("context is closed")
            while not self._iso.results.empty():
                self._iso.results.get_nowait()
            with self._state_lock:
                self._stop_reason = None
            before = self._iso.str_handle(code[:cursor])
            clock = RunClock(time.monotonic() + COMPLETE_TIMEOUT_S, None, None)
            answer = self._await(
                lambda: self._iso.post_call(self._iso.complete, before), clock, cancelable=True
            )
            if answer is None:
                raise EngineError("the runtime was lost while completing")
            if self._stop_reason is not None or handle_type(answer) != MrTypes.str_utf8:
                return Completion((), cursor, cursor)
            parsed = orjson.loads(handle_text(answer))
        finally:
            self._run_lock.release()
        word = str(parsed.get("word", ""))
        return Completion(tuple(parsed.get("matches", ())), cursor - len(word), cursor)

    def _await(
        self,
        post: Callable[[], int],
        clock: RunClock,
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
        # reporting LOST.
        self._iso.results.put(STOP)
