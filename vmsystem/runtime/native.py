"""mini-racer's native library, reached through its private modules.

Pinned to mini-racer 0.14.1: ``py_mini_racer._dll``, ``_context`` and ``_objects`` are private,
so any upgrade must re-run ``tests/runtime``. Everything here reads native state without
calling into an isolate.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from functools import cache
from typing import Any

import orjson
from py_mini_racer import _dll as mr_dll
from py_mini_racer._context import Context as MrContext
from py_mini_racer._objects import ObjectFactoryImpl
from py_mini_racer._objects import _MiniRacerTypes as MrTypes

__all__ = [
    "ERROR_TYPES",
    "MrContext",
    "MrTypes",
    "ObjectFactoryImpl",
    "dll",
    "handle_text",
    "handle_type",
    "idle_loop",
    "loads",
    "mr_dll",
    "thread_cpu_clock",
    "thread_ids",
]

ERROR_TYPES = frozenset(
    {
        MrTypes.execute_exception,
        MrTypes.parse_exception,
        MrTypes.oom_exception,
        MrTypes.timeout_exception,
        MrTypes.terminated_exception,
        MrTypes.value_exception,
        MrTypes.key_exception,
    }
)


@cache
def dll() -> Any:
    """The initialised native library (once per process)."""
    return mr_dll.init_mini_racer(ignore_duplicate_init=True)


@cache
def idle_loop() -> asyncio.AbstractEventLoop:
    """An event loop for mini-racer's Context, which we never schedule anything on."""
    return asyncio.new_event_loop()


def thread_ids() -> set[int]:
    """Native thread ids of this process."""
    return {int(t) for t in os.listdir("/proc/self/task")}


def thread_cpu_clock(tid: int) -> int | None:
    """The Linux CPU-time clock id of another thread of this process (MAKE_THREAD_CPUCLOCK)."""
    clock = ((~tid) << 3) | 6
    try:
        time.clock_gettime_ns(clock)
    except OSError:
        return None
    return clock


def handle_type(handle: Any) -> int:
    """The mini-racer type tag of a value handle (read without converting the value)."""
    return int(handle.raw.contents.type)


def handle_text(handle: Any) -> str:
    """The text of a string or error handle. V8 writes lone surrogates as invalid UTF-8,
    which mini-racer's strict decoding turned into UnicodeDecodeError out of ``run``."""
    raw = handle.raw.contents
    return bytes(raw.value.bytes_val[0 : raw.len]).decode("utf-8", "replace")


def loads(text: str) -> Any:
    """JSON text from the engine (lone surrogates included)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)  # orjson rejects escaped lone surrogates; json accepts them
