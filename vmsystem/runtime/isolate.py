"""One mini-racer isolate, driven through its C API (private parts in :mod:`.native`).

mini-racer's Python API hops every call across an asyncio loop thread (about 0.2 ms per
eval, and it cannot be awaited from a foreign loop). This drives the C API directly instead:
``mr_eval`` and ``mr_call_function`` post a task to the isolate's own thread, and the result
comes back through the context's callback, so a task costs one thread hand-off. The same
callback receives the prelude's *bell*, a synchronous JS -> Python call whose data travels
through a SharedArrayBuffer mailbox (see ``js/prelude/`` and :mod:`.mailbox`).

:class:`Isolate` owns that plumbing: the native context and its thread, the callback, string
handles, task posting and the prelude's installation. What a *run* is (limits, stop reasons,
the finish call) belongs to :class:`~vmsystem.runtime.v8.V8Context`.
"""

from __future__ import annotations

import ctypes
import queue
import threading
import time
from collections.abc import Callable
from functools import cache
from itertools import count
from pathlib import Path
from typing import Any

import orjson

from vmsystem.runtime import rejections
from vmsystem.runtime.base import EngineError
from vmsystem.runtime.mailbox import Mailbox
from vmsystem.runtime.native import (
    MrContext,
    MrTypes,
    ObjectFactoryImpl,
    dll,
    idle_loop,
    mr_dll,
    thread_cpu_clock,
    thread_ids,
)

__all__ = ["BUNDLES", "MAILBOX_BYTES", "STOP", "Isolate", "bundle_source"]

_JS = Path(__file__).parent / "js"
#: The prelude: one closure, written in parts (js/prelude/<n>-<part>.js) joined in order. Its
#: frames are named ``vm-system:prelude`` so that stacks shown to users can leave them out.
_PRELUDE = (
    "".join(
        part.read_text(encoding="utf-8")
        for part in sorted((_JS / "prelude").glob("*.js"), key=lambda p: int(p.name.split("-")[0]))
    )
    + "\n//# sourceURL=vm-system:prelude\n"
)
#: The npm bundles the prelude loads on first use (built from ``runtime-js/``).
BUNDLES = frozenset({"modules", "repl", "webapi", "inspect", "buffer"})
_RESULT = 0  # callback id of task results (eval / call)
_BELL = 1  # callback id of the prelude's bell
_HOOK = 2  # callback id of the prelude's request for the rejection hook
#: The global object's index property that holds the prelude's rejection list while the
#: rejection hook is installed (before any user code runs).
REJECTION_KEY = 4_294_967_000
#: Size of the host-call mailbox the prelude allocates.
MAILBOX_BYTES = 1 << 20
#: Queued to wake whoever waits for a result: JS asked to be stopped, cancel() or close().
STOP = object()
_create_lock = threading.Lock()
#: How long free() waits for the isolate's thread to let its Python thread state go.
_UNPIN_WAIT_S = 0.5
_gil_ensure = ctypes.pythonapi.PyGILState_Ensure
_gil_ensure.restype = ctypes.c_int
_gil_ensure.argtypes = []
_gil_release = ctypes.pythonapi.PyGILState_Release
_gil_release.restype = None
_gil_release.argtypes = [ctypes.c_int]


@cache
def bundle_source(name: str) -> str:
    """The source of one of :data:`BUNDLES` (read once per process)."""
    if name not in BUNDLES:
        raise LookupError(f"unknown bundle {name!r}")
    return (_JS / f"bundle-{name}.js").read_text(encoding="utf-8")


def _decline(_handle: Any) -> bool:
    return False


class Isolate:
    """A V8 isolate and context on its own native thread."""

    def __init__(self, host_call: Callable[[str, Any], Any]) -> None:
        """Create the isolate; ``host_call(op, payload)`` serves the prelude's bell."""
        self.dll = dll()
        #: Task results (value handles) and :data:`STOP` wake-ups, in arrival order.
        self.results: queue.Queue[Any] = queue.Queue()
        #: True while the isolate's thread is inside a Python host call.
        self.in_host_call = False
        #: Offered every task result first, on the isolate's thread; True when it took it.
        self.on_result: Callable[[Any], bool] = _decline
        self._host_call = host_call
        #: The v8::Isolate* once the rejection hook is installed (see :mod:`.rejections`).
        self.isolate_address: int | None = None
        # The isolate's thread keeps one Python thread state from the prelude's hook call to
        # free() (see _pin_thread_state).
        self._pinned: int | None = None
        self._unpin_requested = False
        self._unpinned = threading.Event()
        self._callback = mr_dll.mr_callback_func(self._on_callback)  # type: ignore[arg-type]
        with _create_lock:
            before = thread_ids()
            self.raw = self.dll.mr_init_context(self._callback)
            new = thread_ids() - before
        tid = min(new) if len(new) == 1 else None
        self._cpu_clock = thread_cpu_clock(tid) if tid is not None else None
        self.ctx = MrContext(self.dll, self.raw, idle_loop(), ObjectFactoryImpl(), count(2))

    # ------------------------------------------------------------------ setup
    def install_prelude(self, config: dict[str, Any]) -> None:
        """Run the prelude with ``config``; keeps the functions it hands back."""
        prelude: Any = self._eval_value(_PRELUDE)
        bell = self.ctx._value_handle_to_python(
            self.ctx._wrap_raw_handle(self.dll.mr_make_js_callback(self.raw, _BELL))
        )
        hook = self.ctx._value_handle_to_python(
            self.ctx._wrap_raw_handle(self.dll.mr_make_js_callback(self.raw, _HOOK))
        )
        argv: Any = self._eval_value("[]")
        self.ctx.array_push(argv, bell)
        self.ctx.array_push(argv, orjson.dumps(config).decode())
        self.ctx.array_push(argv, hook)
        internals: Any = self._call(prelude.raw_handle, argv.raw_handle)
        items: list[Any] = [self.ctx.get_object_item(internals, i) for i in range(7)]
        self.finish_ok, self.finish_err, self.begin, sab, self.tick, self.transform = items[:6]
        self.complete = items[6]
        self.mailbox = Mailbox(sab, self._host_call)
        self.no_args: Any = self._eval_value("[]")
        self.none: Any = self.ctx._python_to_value_handle(None)

    def _eval_value(self, code: str) -> Any:
        self.post_eval(self.str_handle(code))
        return self.ctx._value_handle_to_python(self._wait_forever())

    def _call(self, func: Any, argv: Any) -> Any:
        this = self.ctx._python_to_value_handle(None)
        self.dll.mr_call_function(self.raw, func.raw, this.raw, argv.raw, _RESULT)
        return self.ctx._value_handle_to_python(self._wait_forever())

    def _wait_forever(self) -> Any:
        while True:
            try:
                item = self.results.get(timeout=30)
            except queue.Empty:
                raise EngineError("the engine did not answer while setting up") from None
            if item is not STOP:
                return item

    # ------------------------------------------------------------------ tasks and handles
    def str_handle(self, text: str) -> Any:
        """A JS string handle for ``text``."""
        # Not mini-racer's own helper, which encodes strictly: a lone surrogate in the code
        # (valid in JSON input) must not raise; V8 decodes these bytes to U+FFFD.
        data = text.encode("utf-8", "surrogatepass")
        return self.ctx._wrap_raw_handle(
            self.dll.mr_alloc_string_val(self.raw, data, len(data), MrTypes.str_utf8)
        )

    def post_eval(self, code: Any) -> int:
        """Post a task evaluating the string handle ``code`` as a global script; its task id."""
        return int(self.dll.mr_eval(self.raw, code.raw, _RESULT))

    def post_call(self, func: Any, this: Any) -> int:
        """Post a task calling JS function ``func`` with ``this`` and no arguments."""
        return int(
            self.dll.mr_call_function(
                self.raw, func.raw_handle.raw, this.raw, self.no_args.raw_handle.raw, _RESULT
            )
        )

    def cancel_task(self, task: int) -> None:
        """Terminate (or drop, if not started) a posted task."""
        self.dll.mr_cancel_task(self.raw, task)

    def set_memory_limit(self, limit_bytes: int) -> None:
        """Set the heap limit (which also clears mini-racer's sticky "limit reached" flag)."""
        self.dll.mr_set_hard_memory_limit(self.raw, limit_bytes)

    def memory_limit_reached(self) -> bool:
        """Whether the heap limit was hit since it was last set."""
        return bool(self.dll.mr_hard_memory_limit_reached(self.raw))

    def free(self) -> None:
        """Dispose the isolate and stop its thread."""
        rejections.forget(self.isolate_address)
        if self._pinned is not None:
            # Any task's callback lets the thread state go, on the isolate's thread; a wedged
            # isolate never runs it, and its thread state is left behind.
            self._unpin_requested = True
            self.post_eval(self.str_handle(""))
            self._unpinned.wait(_UNPIN_WAIT_S)
        self.dll.mr_free_context(self.raw)

    @property
    def cpu_time_ms(self) -> float | None:
        """CPU time used by the isolate's thread so far (None where not measurable)."""
        if self._cpu_clock is None:
            return None
        try:
            return time.clock_gettime_ns(self._cpu_clock) / 1e6
        except OSError:
            return None

    # ------------------------------------------------------------------ the callback
    def _pin_thread_state(self) -> None:
        """Keep a Python thread state on the isolate's thread (call on that thread).

        Every call from the isolate's thread into Python (task results, the bell, V8's
        rejection hook) otherwise creates a Python thread state and deletes it again, which
        is most of its cost: about 30 us of 35 for the rejection hook. One more
        PyGILState_Ensure keeps the thread's state alive; free() releases it on that thread.
        """
        if self._pinned is None:
            self._pinned = int(_gil_ensure())

    def _on_callback(self, callback_id: int, raw_handle: Any) -> None:
        # Runs on the isolate's thread; it must never wait for the isolate (posting is fine).
        if self._unpin_requested and self._pinned is not None:
            state, self._pinned = self._pinned, None
            _gil_release(state)  # the call's own state is released after it, as usual
            self._unpinned.set()
        handle = self.ctx._wrap_raw_handle(raw_handle)
        if callback_id == _RESULT:
            if not self.on_result(handle):
                self.results.put(handle)
        elif callback_id == _HOOK:
            # The prelude asks once, while it runs: its rejection list is the global object's
            # property REJECTION_KEY for the length of this call.
            if self.isolate_address is None:
                self.isolate_address = rejections.install(REJECTION_KEY)
                self._pin_thread_state()
        elif callback_id == _BELL:
            self.in_host_call = True
            try:
                self.mailbox.serve()
            finally:
                self.in_host_call = False
