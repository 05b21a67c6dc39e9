"""Helpers for the runtime tests: every test drives the real V8 engine (no fakes)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vmsystem.runtime import ConsoleLine, ContextOptions, Outcome, RunLimits, get_engine
from vmsystem.runtime.v8 import V8Context, V8Engine

#: Small limits keep the suite fast; tests that need others pass their own.
LIMITS = RunLimits(wall_ms=2000, cpu_ms=2000)


class Sink:
    """Collects console lines (thread-safe) and remembers when each batch arrived."""

    def __init__(self) -> None:
        self.lines: list[ConsoleLine] = []
        self.arrivals: list[float] = []  # time.monotonic() of each line's delivery
        self.batches = 0
        self._lock = threading.Lock()
        self.got_line = threading.Event()

    def __call__(self, lines: list[ConsoleLine]) -> None:
        now = time.monotonic()
        with self._lock:
            self.batches += 1
            self.lines.extend(lines)
            self.arrivals.extend([now] * len(lines))
        self.got_line.set()

    @property
    def texts(self) -> list[str]:
        with self._lock:
            return [text for _level, text, _ts in self.lines]

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()
            self.arrivals.clear()
            self.batches = 0
        self.got_line.clear()


def run(
    ctx: V8Context,
    code: str,
    *,
    sink: Sink | None = None,
    limits: RunLimits = LIMITS,
    **kwargs: Any,
) -> Outcome:
    """Run code with the suite's default limits and a throwaway sink."""
    return ctx.run(code, limits=limits, sink=sink if sink is not None else Sink(), **kwargs)


def value(ctx: V8Context, code: str, **kwargs: Any) -> Any:
    """The ``json`` of a successful run (asserts success)."""
    outcome = run(ctx, code, **kwargs)
    assert outcome.kind == "ok", (outcome.kind, outcome.exception, outcome.message)
    assert outcome.value is not None
    return outcome.value.get("json")


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def settle(measure: Callable[[], int], target: int, timeout: float = 3.0) -> int:
    """Poll ``measure`` until it is <= target (threads end asynchronously); the last reading."""
    end = time.monotonic() + timeout
    current = measure()
    while current > target and time.monotonic() < end:
        time.sleep(0.02)
        current = measure()
    return current


def rss_kb(field: str = "VmRSS") -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} missing from /proc/self/status")


@pytest.fixture(scope="session")
def engine() -> V8Engine:
    eng = get_engine("v8")
    assert isinstance(eng, V8Engine)
    return eng


@pytest.fixture
def make_ctx(engine: V8Engine) -> Iterator[Callable[..., V8Context]]:
    """A factory of contexts (keyword arguments are ContextOptions); all closed afterwards."""
    made: list[V8Context] = []

    def make(**options: Any) -> V8Context:
        ctx = engine.create_context(ContextOptions(**options))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def ctx(make_ctx: Callable[..., V8Context]) -> V8Context:
    """A context with default options."""
    return make_ctx()
