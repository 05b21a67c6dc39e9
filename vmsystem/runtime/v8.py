"""The V8 engine, on mini-racer's native library.

mini-racer's Python API hops every call across an asyncio loop thread (about 0.2 ms per
eval, and it cannot be awaited from a foreign loop). We drive its C API directly instead:
``mr_eval`` posts a task to the isolate's own thread and the result arrives through the
context's callback into a per-context queue, so a call costs one thread hand-off. The same
callback receives the prelude's *bell*, a synchronous JS -> Python call whose data travels
through a SharedArrayBuffer mailbox (see ``js/prelude.js`` and :mod:`.mailbox`).

Pinned to mini-racer 0.14.1: ``py_mini_racer._dll``, ``_context`` and ``_objects`` are private
modules, so any upgrade must re-run ``tests/runtime``.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections.abc import Mapping
from functools import cache
from itertools import count
from pathlib import Path
from typing import Any

import orjson
from py_mini_racer import _dll as mr_dll
from py_mini_racer._context import Context as MrContext
from py_mini_racer._exc import (
    JSConversionException,
    JSEvalException,
    JSOOMException,
    JSParseException,
    JSTerminatedException,
)
from py_mini_racer._objects import ObjectFactoryImpl

from vmsystem.runtime.base import (
    ConsoleLine,
    ConsoleSink,
    ContextOptions,
    EngineError,
    Outcome,
    OutcomeKind,
    RunLimits,
)
from vmsystem.runtime.exceptions import parse_exception
from vmsystem.runtime.mailbox import Mailbox

__all__ = ["V8Context", "V8Engine"]

_PRELUDE = (Path(__file__).parent / "js" / "prelude.js").read_text(encoding="utf-8")
_RESULT = 0          # callback id of task results (eval / call)
_BELL = 1            # callback id of the prelude's bell
_MAILBOX_BYTES = 1 << 20
_STOP = object()     # queued by the bell to wake the waiter when JS asks to be stopped
_create_lock = threading.Lock()


@cache
def _dll() -> Any:
    return mr_dll.init_mini_racer(ignore_duplicate_init=True)


@cache
def _idle_loop() -> asyncio.AbstractEventLoop:
    # mini-racer's Context wants an event loop; we never schedule anything on it.
    return asyncio.new_event_loop()


def _thread_ids() -> set[int]:
    return {int(t) for t in os.listdir("/proc/self/task")}


def _thread_cpu_clock(tid: int) -> int | None:
    """The Linux CPU-time clock id of another thread of this process (MAKE_THREAD_CPUCLOCK)."""
    clock = ((~tid) << 3) | 6
    try:
        time.clock_gettime_ns(clock)
    except OSError:
        return None
    return clock


class V8Engine:
    """Creates V8 contexts (one isolate and one native thread each)."""

    name = "v8"

    @property
    def version(self) -> str:
        """The V8 version string."""
        return str(_dll().mr_v8_version().decode("utf-8"))

    def create_context(self, options: ContextOptions) -> V8Context:
        """A fresh context with the prelude installed."""
        return V8Context(options)


class V8Context:
    """One V8 isolate + context: a session's runtime."""

    def __init__(self, options: ContextOptions) -> None:
        self._dll = _dll()
        self._options = options
        self._results: queue.Queue[Any] = queue.Queue()
        self._run_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._task: int | None = None
        self._stop_reason: OutcomeKind | None = None
        self._stop_message = ""
        self._sink: ConsoleSink | None = None
        self._closed = False
        self._callback = mr_dll.mr_callback_func(self._on_callback)
        with _create_lock:
            before = _thread_ids()
            self._raw = self._dll.mr_init_context(self._callback)
            new = _thread_ids() - before
        self._tid = min(new) if len(new) == 1 else None
        self._cpu_clock = _thread_cpu_clock(self._tid) if self._tid is not None else None
        self._ctx = MrContext(self._dll, self._raw, _idle_loop(), ObjectFactoryImpl(), count(2))
        try:
            self._dll.mr_set_hard_memory_limit(self._raw, options.mem_mb * 1024 * 1024)
            self._install_prelude()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ setup
    def _install_prelude(self) -> None:
        config = {
            "mailbox_bytes": _MAILBOX_BYTES,
            "max_console_events": self._options.max_console_events,
            "max_events": self._options.max_events,
            "max_output_bytes": self._options.max_output_kb * 1024,
            "max_output_kb": self._options.max_output_kb,
            "mem_bytes": self._options.mem_mb * 1024 * 1024,
            "mem_mb": self._options.mem_mb,
            "console": self._options.console,
            "env": dict(self._options.env),
            "modules": dict(self._options.modules),
            "hidden_globals": list(self._options.hidden_globals),
        }
        prelude = self._eval_value(_PRELUDE)
        bell = self._ctx._value_handle_to_python(
            self._ctx._wrap_raw_handle(self._dll.mr_make_js_callback(self._raw, _BELL))
        )
        argv = self._eval_value("[]")
        self._ctx.array_push(argv, bell)
        self._ctx.array_push(argv, orjson.dumps(config).decode())
        internals = self._call(prelude.raw_handle, None, argv.raw_handle)
        items = [self._ctx.get_object_item(internals, i) for i in range(4)]
        self._finish_ok, self._finish_err, self._begin, sab = items
        self._mailbox = Mailbox(sab, self._host_call)
        self._no_args = self._eval_value("[]")

    def _eval_value(self, code: str) -> Any:
        handle = self._ctx._python_to_value_handle(code)
        self._dll.mr_eval(self._raw, handle.raw, _RESULT)
        return self._ctx._value_handle_to_python(self._wait_forever())

    def _call(self, func: Any, this: Any, argv: Any) -> Any:
        this_handle = this if this is not None else self._ctx._python_to_value_handle(None)
        self._dll.mr_call_function(self._raw, func.raw, this_handle.raw, argv.raw, _RESULT)
        return self._ctx._value_handle_to_python(self._wait_forever())

    def _wait_forever(self) -> Any:
        while True:
            item = self._results.get(timeout=30)
            if item is not _STOP:
                return item

    # ------------------------------------------------------------------ callbacks
    def _on_callback(self, callback_id: int, raw_handle: Any) -> None:
        # Runs on the isolate's thread; it must never call back into the isolate.
        handle = self._ctx._wrap_raw_handle(raw_handle)
        if callback_id == _RESULT:
            self._results.put(handle)
        elif callback_id == _BELL:
            self._mailbox.serve()

    def _host_call(self, op: str, payload: Any) -> Any:
        if op == "console":
            if self._sink is not None:
                self._sink([(str(line[0]), str(line[1]), float(line[2])) for line in payload])
            return None
        if op == "stop":
            reason, message = payload
            with self._state_lock:
                if self._stop_reason is None:
                    self._stop_reason = (
                        OutcomeKind.MEMORY if reason == "memory" else OutcomeKind.OUTPUT_LIMIT
                    )
                    self._stop_message = str(message)
            self._results.put(_STOP)
            return None
        handler = self._options.host_functions.get(op)
        if handler is None:
            raise LookupError(f"unknown host function {op!r}")
        return handler(list(payload or []))

    # ------------------------------------------------------------------ running code
    @property
    def alive(self) -> bool:
        """False once closed or lost."""
        return not self._closed

    @property
    def cpu_time_ms(self) -> float | None:
        """CPU time used by the isolate's thread so far (None where not measurable)."""
        if self._cpu_clock is None:
            return None
        try:
            return time.clock_gettime_ns(self._cpu_clock) / 1e6
        except OSError:
            return None

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
        self._sink = sink
        with self._state_lock:
            self._stop_reason = None
            self._stop_message = ""
        start = time.monotonic()
        cpu_start = self.cpu_time_ms
        try:
            if args is not None or env is not None:
                params: dict[str, Any] = {}
                if args is not None:
                    params["args"] = args
                if env is not None:
                    params["env"] = dict(env)
                argv = self._eval_value("[]")
                self._ctx.array_push(argv, orjson.dumps(params).decode())
                self._call(self._begin.raw_handle, None, argv.raw_handle)
            source = code
            if self._options.strict:
                source = '"use strict";void 0;' + source
            if filename:
                source += f"\n//# sourceURL={filename}"
            deadline = start + limits.wall_ms / 1000 if limits.wall_ms is not None else None
            result = self._run_task(
                lambda h: self._dll.mr_eval(self._raw, h.raw, _RESULT),
                self._ctx._python_to_value_handle(source),
                deadline,
                limits,
                cpu_start,
            )
            outcome = self._settle(result, deadline)
        finally:
            self._sink = None
        outcome.duration_ms = (time.monotonic() - start) * 1000
        cpu_end = self.cpu_time_ms
        if cpu_start is not None and cpu_end is not None:
            outcome.cpu_ms = round(cpu_end - cpu_start, 3)
        return outcome

    def _run_task(
        self,
        post: Any,
        arg: Any,
        deadline: float | None,
        limits: RunLimits,
        cpu_start: float | None,
    ) -> Any:
        """Post a task and wait for its result, enforcing wall and CPU time."""
        with self._state_lock:
            self._task = post(arg)
        try:
            while True:
                now = time.monotonic()
                wait = deadline - now if deadline is not None else 3600.0
                cpu_left: float | None = None
                if limits.cpu_ms is not None and cpu_start is not None:
                    used = (self.cpu_time_ms or cpu_start) - cpu_start
                    cpu_left = limits.cpu_ms - used
                    # CPU time of one thread cannot outrun wall time: sleep until it could.
                    wait = min(wait, max(cpu_left, 0.0) / 1000)
                try:
                    item = self._results.get(timeout=max(wait, 0.0))
                except queue.Empty:
                    item = None
                if item is _STOP:
                    self._interrupt(None)
                    continue
                if item is not None:
                    return item
                if deadline is not None and time.monotonic() >= deadline:
                    self._interrupt(OutcomeKind.WALL_TIMEOUT)
                elif cpu_left is not None and cpu_left <= 0:
                    self._interrupt(OutcomeKind.CPU_TIMEOUT)
        finally:
            with self._state_lock:
                self._task = None

    def _interrupt(self, reason: OutcomeKind | None) -> None:
        with self._state_lock:
            if reason is not None and self._stop_reason is None:
                self._stop_reason = reason
            if self._task is not None:
                self._dll.mr_cancel_task(self._raw, self._task)

    def _settle(self, result: Any, deadline: float | None) -> Outcome:
        """Turn the script's result handle into an :class:`Outcome` (runs the finish call)."""
        try:
            self._ctx._value_handle_to_python(result)
            failure: Exception | None = None
        except (JSEvalException, JSConversionException) as exc:
            failure = exc
        if failure is None or isinstance(failure, JSConversionException):
            finish, this = self._finish_ok, result
        else:
            finish, this = self._finish_err, None
        report = self._finish(finish, this, deadline)
        if report is None:
            return Outcome(OutcomeKind.WEDGED, message=self._wedged_message())
        lines: list[ConsoleLine] = report.get("lines") or []
        if lines and self._sink is not None:
            self._sink([(str(a), str(b), float(c)) for a, b, c in lines])
        stats = report.get("stats", {})
        outcome = Outcome(
            OutcomeKind.OK,
            console_events=int(stats.get("events", 0)),
            output_bytes=int(stats.get("bytes", 0)),
        )
        reason = self._stop_reason
        if reason is not None:
            outcome.kind = reason
            outcome.message = self._stop_message or _REASON_MESSAGES.get(reason, "")
        elif isinstance(failure, JSOOMException):
            outcome.kind = OutcomeKind.MEMORY
            outcome.message = f"memory limit exceeded: V8 heap over {self._options.mem_mb} MB"
        elif isinstance(failure, JSTerminatedException):
            outcome.kind = OutcomeKind.CANCELLED
            outcome.message = "execution terminated"
        elif failure is not None and not isinstance(failure, JSConversionException):
            outcome.kind = OutcomeKind.EXCEPTION
            outcome.exception = parse_exception(str(failure), isinstance(failure, JSParseException))
        elif isinstance(failure, JSConversionException):
            outcome.value = {"type": "bigint", "preview": "[BigInt: use String(value) to see it]"}
        else:
            outcome.value = report["value"]
        return outcome

    def _finish(self, func: Any, this: Any, deadline: float | None) -> dict[str, Any] | None:
        """Call a finish function. It queues behind any microtask the code left running, so
        it doubles as the wedge barrier: if it does not answer by the deadline (at least
        50 ms), the runtime is unrecoverable and is closed."""
        this_handle = this if this is not None else self._ctx._python_to_value_handle(None)
        with self._state_lock:
            self._task = self._dll.mr_call_function(
                self._raw, func.raw_handle.raw, this_handle.raw, self._no_args.raw_handle.raw, _RESULT
            )
        budget = max((deadline - time.monotonic()) if deadline is not None else 5.0, 0.05)
        try:
            item = self._get_result(budget)
            if item is None:
                with self._state_lock:
                    if self._stop_reason is None:
                        self._stop_reason = OutcomeKind.WALL_TIMEOUT
                    if self._task is not None:
                        self._dll.mr_cancel_task(self._raw, self._task)
                item = self._get_result(0.1)
            if item is None:
                self.close()
                return None
            try:
                text = self._ctx._value_handle_to_python(item)
            except JSEvalException:
                # The finish call itself was terminated (a loop in a promise callback).
                self.close()
                return None
            parsed: dict[str, Any] = orjson.loads(text)
            return parsed
        finally:
            with self._state_lock:
                self._task = None

    def _get_result(self, timeout: float) -> Any:
        end = time.monotonic() + timeout
        while True:
            try:
                item = self._results.get(timeout=max(end - time.monotonic(), 0.0))
            except queue.Empty:
                return None
            if item is not _STOP:
                return item

    def _wedged_message(self) -> str:
        return (
            "runtime wedged: code kept running after the script returned (for example an "
            "endless loop in a promise callback); the runtime was disposed"
        )

    def cancel(self) -> bool:
        """Interrupt the current run; the run ends with ``OutcomeKind.CANCELLED``."""
        with self._state_lock:
            if self._task is None:
                return False
            if self._stop_reason is None:
                self._stop_reason = OutcomeKind.CANCELLED
            self._dll.mr_cancel_task(self._raw, self._task)
            return True

    def close(self) -> None:
        """Dispose the isolate (stops even a wedged microtask) and its thread; idempotent."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            if self._task is not None:
                self._dll.mr_cancel_task(self._raw, self._task)
        self._dll.mr_free_context(self._raw)


_REASON_MESSAGES = {
    OutcomeKind.WALL_TIMEOUT: "wall-time limit exceeded",
    OutcomeKind.CPU_TIMEOUT: "CPU-time limit exceeded",
    OutcomeKind.CANCELLED: "execution cancelled",
}
