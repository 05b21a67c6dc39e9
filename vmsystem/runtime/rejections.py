"""V8's promise-rejection hook, reached through the V8 API that mini-racer's library exports.

mini-racer has no Python API for ``Isolate::SetPromiseRejectCallback`` (the hook Node builds
its unhandled-rejection reports on), but its native library exports V8's C++ API, so the
hook is installed here with ctypes, by mangled name (pinned to mini-racer 0.14.1, see
:mod:`.native`). V8 calls it, on the isolate's thread, when a promise is rejected with no
handler (``kPromiseRejectWithNoHandler``) and when a rejected promise that had none gets one
(``kPromiseHandlerAddedAfterReject``). The hook only appends to a list the prelude owns
(``js/prelude/6-rejections.js``): ``[promise, reason]`` for the first event, ``[promise,
list]`` (the list itself as the marker) for the second. It runs no JavaScript; the prelude
reads the list once the microtasks of a task have run, as Node does after each tick.

Every call here runs on the isolate's thread while V8 is inside a task (the prelude calling
its hook callback, once, for :func:`install`; V8 itself for the hook), where a ``Local`` handle
is the address of a handle slot and a global handle's slot can be used as one.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from vmsystem.runtime.native import dll

__all__ = ["available", "forget", "install"]

_P = ctypes.c_void_p
#: v8::PromiseRejectEvent values the hook records.
_REJECT_WITH_NO_HANDLER = 0
_HANDLER_ADDED_AFTER_REJECT = 1


class _Message(ctypes.Structure):
    """v8::PromiseRejectMessage, passed by value: {Local<Promise>, PromiseRejectEvent,
    Local<Value>}."""

    _fields_ = (("promise", _P), ("event", ctypes.c_int), ("value", _P))


class _Api:
    """The V8 API functions used here (member functions take the object as first argument)."""

    def __init__(self, lib: Any) -> None:
        def fn(name: str, restype: Any, *argtypes: Any) -> Any:
            f = getattr(lib, name)
            f.restype = restype
            f.argtypes = list(argtypes)
            return f

        self.get_current = fn("_ZN2v87Isolate10GetCurrentEv", _P)
        self.set_callback = fn(
            "_ZN2v87Isolate24SetPromiseRejectCallbackEPFvNS_20PromiseRejectMessageEE",
            None,
            _P,
            _P,
        )
        self.current_context = fn("_ZN2v87Isolate17GetCurrentContextEv", _P, _P)
        self.context_global = fn("_ZN2v87Context6GlobalEv", _P, _P)
        self.get_index = fn(
            "_ZN2v86Object3GetENS_5LocalINS_7ContextEEEj", _P, _P, _P, ctypes.c_uint32
        )
        self.globalize = fn(
            "_ZN2v812api_internal18GlobalizeReferenceEPNS_8internal7IsolateEm",
            _P,
            _P,
            ctypes.c_uint64,
        )
        self.array_length = fn("_ZNK2v85Array6LengthEv", ctypes.c_uint32, _P)
        # Returns Maybe<bool> (two bytes), unused: a failed store only loses that report.
        self.create_data_property = fn(
            "_ZN2v86Object18CreateDataPropertyENS_5LocalINS_7ContextEEEjNS1_INS_5ValueEEE",
            ctypes.c_uint16,
            _P,
            _P,
            ctypes.c_uint32,
            _P,
        )


_api: _Api | None = None
_api_lock = threading.Lock()
#: v8::Isolate* -> the global handle slot of that isolate's rejection list.
_lists: dict[int, int] = {}


def _load() -> _Api | None:
    global _api
    with _api_lock:
        if _api is None:
            try:
                _api = _Api(dll())
            except AttributeError:  # a mini-racer build that does not export the V8 API
                return None
        return _api


def available() -> bool:
    """Whether the engine's library exports what the hook needs."""
    return _load() is not None


def _on_reject(message: _Message) -> None:
    # Called by V8 (isolate's thread, inside a handle scope). It must never raise.
    try:
        api = _api
        if api is None or message.event not in (
            _REJECT_WITH_NO_HANDLER,
            _HANDLER_ADDED_AFTER_REJECT,
        ):
            return
        isolate = api.get_current()
        log = _lists.get(isolate or 0)
        if log is None or not message.promise:
            return
        context = api.current_context(isolate)
        if not context:
            return
        n = api.array_length(log)
        second = message.value if message.event == _REJECT_WITH_NO_HANDLER else log
        if not second:
            return
        api.create_data_property(log, context, n, message.promise)
        api.create_data_property(log, context, n + 1, second)
    except Exception:  # a report is lost rather than an exception unwinding through V8
        return


_HOOK = ctypes.CFUNCTYPE(None, _Message)(_on_reject)


def install(index: int) -> int | None:
    """Install the hook for the current isolate; its rejection list is the global object's
    property ``index`` (the prelude defines it for the length of this call). Returns the
    isolate's address (to :func:`forget` it when it is disposed), or None when the hook is
    not available. Call only on the isolate's thread, inside a call from JS."""
    api = _load()
    if api is None or not 0 <= index < 2**32 - 1:
        return None
    isolate = api.get_current()
    if not isolate:
        return None
    context = api.current_context(isolate)
    if not context:
        return None
    found = api.get_index(api.context_global(context), context, index)
    # A Local is the address of a handle slot (8-byte aligned), whose content is a tagged heap
    # pointer (odd). Anything else is a V8 build this was not written for.
    if not found or found % 8 != 0:
        return None
    tagged = ctypes.c_uint64.from_address(found).value
    if tagged % 2 != 1:
        return None
    slot = api.globalize(isolate, tagged)
    if not slot:
        return None
    _lists[isolate] = slot
    api.set_callback(isolate, ctypes.cast(_HOOK, _P))
    return int(isolate)


def forget(isolate: int | None) -> None:
    """Drop the record of a disposed isolate (another one may get its address)."""
    if isolate is not None:
        _lists.pop(isolate, None)
