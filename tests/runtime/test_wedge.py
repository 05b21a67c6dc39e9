"""Runtimes that cannot be recovered (JS left running after the script) are reported and freed."""

from __future__ import annotations

import os
import threading
import time

import pytest

from vmsystem.runtime import ContextOptions, EngineError, RunLimits
from vmsystem.runtime import run as run_module
from vmsystem.runtime.v8 import V8Context, V8Engine

from .conftest import Sink, run, settle, thread_count, value

MICROTASK_LOOP = "(async () => { await null; while (true) {} })(); 1"
# Atomics.waitAsync with a timeout schedules a V8 task that runs after the script has ended.
TIMER_LOOP = (
    "Atomics.waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100)"
    ".value.then(() => { while (true) {} }); 'armed'"
)


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """A script stuck behind stray JS is declared wedged after 5 s; 1 s keeps the suite fast."""
    monkeypatch.setattr(run_module, "SCRIPT_GRACE_S", 1.0)


def cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def test_endless_microtask_wedges_the_runtime_which_is_freed(engine: V8Engine) -> None:
    baseline = thread_count()

    ctx = engine.create_context(ContextOptions())
    try:
        assert thread_count() > baseline
        started = time.monotonic()
        outcome = run(ctx, MICROTASK_LOOP, limits=RunLimits(wall_ms=200, cpu_ms=None))
        elapsed = time.monotonic() - started
        print(f"\nwedge detected after {elapsed * 1000:.0f} ms")
        assert outcome.kind == "lost"
        assert "wedged" in outcome.message
        assert elapsed < 5
        assert ctx.alive is False
        # The isolate's thread is gone, so nothing keeps burning CPU.
        assert settle(thread_count, baseline) <= baseline
        before = cpu_seconds()
        time.sleep(0.3)
        assert cpu_seconds() - before < 0.15
        with pytest.raises(EngineError, match="closed"):
            run(ctx, "1")
        assert ctx.cancel() is False
    finally:
        ctx.close()
        ctx.close()


@pytest.mark.usefixtures("short_grace")
def test_wedge_from_a_timer_is_caught_by_the_next_run(ctx: V8Context) -> None:
    assert value(ctx, TIMER_LOOP) == "armed"
    time.sleep(0.3)  # the timer fires and loops between runs
    started = time.monotonic()
    outcome = run(ctx, "1 + 1", limits=RunLimits(wall_ms=200, cpu_ms=None))
    elapsed = time.monotonic() - started
    print(f"\ntimer wedge reported after {elapsed * 1000:.0f} ms")
    assert outcome.kind == "lost"
    assert ctx.alive is False
    assert elapsed < 10


def test_wedge_from_a_timer_with_run_file_args(ctx: V8Context) -> None:
    assert value(ctx, TIMER_LOOP) == "armed"
    time.sleep(0.3)
    outcome = run(ctx, "__ARGS__", args={"a": 1}, limits=RunLimits(wall_ms=200, cpu_ms=None))
    assert outcome.kind == "lost"
    assert ctx.alive is False


@pytest.mark.usefixtures("short_grace")
def test_cancel_of_a_run_stuck_behind_a_wedge_ends_it(ctx: V8Context) -> None:
    assert value(ctx, TIMER_LOOP) == "armed"
    time.sleep(0.3)
    result: dict[str, object] = {}

    def target() -> None:
        result["outcome"] = ctx.run("1", limits=RunLimits(wall_ms=None, cpu_ms=None), sink=Sink())

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    time.sleep(0.1)
    assert ctx.cancel() is True
    thread.join(15)
    assert not thread.is_alive(), "a run without limits behind a wedged isolate never ended"
    assert getattr(result["outcome"], "kind", None) == "lost"


@pytest.mark.usefixtures("short_grace")
def test_microtasks_queued_while_reporting_the_result_are_caught(ctx: V8Context) -> None:
    # toJSON runs while the result is serialized; the loop it queues starts after that.
    code = "({toJSON() { Promise.resolve().then(() => { while (true) {} }); return 1 }})"
    outcome = run(ctx, code, limits=RunLimits(wall_ms=300, cpu_ms=None))
    assert outcome.kind == "ok"
    outcome = run(ctx, "2", limits=RunLimits(wall_ms=200, cpu_ms=None))
    assert outcome.kind == "lost"
    assert not ctx.alive


def test_finite_microtasks_are_not_a_wedge(ctx: V8Context) -> None:
    code = (
        "var done = false;"
        "(async () => { await null; let n = 0; while (n < 3e6) n++; done = true })(); 1"
    )
    assert run(ctx, code, limits=RunLimits(wall_ms=2000, cpu_ms=None)).kind == "ok"
    assert value(ctx, "done") is True
