"""The event loop: timers, queueMicrotask and promises run, and a run ends when the work it
scheduled has settled (Node's semantics for a script), within the run's limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from vmsystem.runtime import RunLimits
from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run, value


def test_timer_lines_belong_to_the_run_that_scheduled_them(ctx: V8Context) -> None:
    sink = Sink()
    outcome = run(ctx, 'setTimeout(() => console.log("later"), 20); console.log("now")', sink=sink)
    assert outcome.kind == "ok"
    assert sink.texts == ["now", "later"]
    assert outcome.console_events == 2


def test_awaiting_a_timer_gives_its_value_after_its_delay(ctx: V8Context) -> None:
    start = time.monotonic()
    outcome = run(ctx, "await new Promise(r => setTimeout(() => r(5), 50))")
    assert time.monotonic() - start >= 0.05
    assert outcome.kind == "ok"
    assert outcome.value is not None and outcome.value["json"] == 5
    assert outcome.duration_ms >= 50


def test_timers_fire_in_due_order_with_microtasks_in_between(ctx: V8Context) -> None:
    sink = Sink()
    code = """
    setTimeout(() => console.log('t30'), 30);
    setTimeout(() => { console.log('t0a'); Promise.resolve().then(() => console.log('micro')) }, 0);
    setTimeout(() => console.log('t0b'), 0);
    queueMicrotask(() => console.log('queued'));
    console.log('sync');
    """
    assert run(ctx, code, sink=sink).kind == "ok"
    assert sink.texts == ["sync", "queued", "t0a", "micro", "t0b", "t30"]


def test_timer_arguments_and_clear(ctx: V8Context) -> None:
    sink = Sink()
    code = """
    const keep = setTimeout((a, b) => console.log(a + b), 5, 'x', 'y');
    const drop = setTimeout(() => console.log('dropped'), 5);
    clearTimeout(drop);
    typeof keep
    """
    outcome = run(ctx, code, sink=sink)
    assert outcome.value is not None and outcome.value["json"] == "number"
    assert sink.texts == ["xy"]


def test_interval_runs_until_cleared(ctx: V8Context) -> None:
    code = """
    let n = 0;
    const id = setInterval(() => { if (++n === 3) clearInterval(id) }, 5);
    await new Promise(r => setTimeout(r, 60));
    n
    """
    assert value(ctx, code) == 3


def test_a_pending_interval_hits_the_wall_limit_and_the_session_stays_usable(
    ctx: V8Context,
) -> None:
    sink = Sink()
    start = time.monotonic()
    outcome = run(
        ctx,
        "setInterval(() => console.log('tick'), 10)",
        sink=sink,
        limits=RunLimits(wall_ms=300, cpu_ms=None),
    )
    assert outcome.kind == "wall_timeout"
    assert 0.29 <= time.monotonic() - start < 2
    assert len(sink.texts) >= 5
    # The interval was cancelled: nothing of it runs in the next run.
    after = Sink()
    assert run(ctx, "await new Promise(r => setTimeout(r, 50)); 1", sink=after).kind == "ok"
    assert after.texts == []


def test_an_uncaught_exception_in_a_timer_ends_the_run_and_drops_the_other_timers(
    ctx: V8Context,
) -> None:
    sink = Sink()
    code = """
    setTimeout(() => { throw new TypeError('boom') }, 5);
    setTimeout(() => console.log('never'), 30);
    'scheduled'
    """
    outcome = run(ctx, code, sink=sink)
    assert outcome.kind == "exception"
    assert outcome.exception is not None
    assert (outcome.exception["name"], outcome.exception["message"]) == ("TypeError", "boom")
    assert "TypeError: boom" in outcome.exception["stack"]
    assert run(ctx, "await new Promise(r => setTimeout(r, 50)); 1").kind == "ok"
    assert sink.texts == []


def test_a_cpu_loop_inside_a_timer_hits_the_cpu_limit(ctx: V8Context) -> None:
    outcome = run(
        ctx, "setTimeout(() => { for (;;) {} }, 0); 1", limits=RunLimits(wall_ms=5000, cpu_ms=200)
    )
    assert outcome.kind == "cpu_timeout"
    assert value(ctx, "1 + 1") == 2


def test_a_timer_flood_hits_a_limit_and_the_session_stays_usable(ctx: V8Context) -> None:
    outcome = run(
        ctx, "const f = () => {}; for (;;) setTimeout(f, 0)", limits=RunLimits(wall_ms=500)
    )
    assert outcome.kind in ("wall_timeout", "cpu_timeout", "memory")
    assert value(ctx, "1 + 1") == 2


def test_a_timer_rescheduling_itself_forever_hits_the_wall_limit(ctx: V8Context) -> None:
    outcome = run(
        ctx, "function f() { setTimeout(f, 0) }; f()", limits=RunLimits(wall_ms=300, cpu_ms=None)
    )
    assert outcome.kind == "wall_timeout"
    assert value(ctx, "'usable'") == "usable"


@pytest.mark.parametrize(
    "storm",
    [
        "async function g() { await null; return g() }; g(); 3",
        "(async () => { for (;;) await null })(); 4",
        "Promise.resolve().then(function f() { return Promise.resolve().then(f) }); 5",
    ],
)
def test_a_promise_storm_never_leaks_into_the_next_runs(ctx: V8Context, storm: str) -> None:
    outcome = run(ctx, storm, limits=RunLimits(wall_ms=2000))
    assert outcome.kind in ("wall_timeout", "memory")
    for _ in range(3):
        assert value(ctx, "'harmless'") == "harmless"


def test_cancel_while_waiting_for_a_timer_ends_the_run_at_once(ctx: V8Context) -> None:
    sink = Sink()
    done: list[str] = []

    def work() -> None:
        code = "console.log('waiting'); setTimeout(() => console.log('never'), 10000)"
        done.append(run(ctx, code, sink=sink, limits=RunLimits(wall_ms=20000)).kind)

    worker = threading.Thread(target=work)
    worker.start()
    assert sink.got_line.wait(5)
    time.sleep(0.05)
    start = time.monotonic()
    assert ctx.cancel()
    worker.join(5)
    assert done == ["cancelled"]
    assert time.monotonic() - start < 1
    assert sink.texts == ["waiting"]


def test_timer_apis_reject_non_functions(ctx: V8Context) -> None:
    for code in ("setTimeout('1 + 1', 0)", "setInterval(null, 0)", "queueMicrotask(1)"):
        outcome = run(ctx, code)
        assert outcome.kind == "exception"
        assert outcome.exception is not None and outcome.exception["name"] == "TypeError"


def test_top_level_await_result_and_declarations(ctx: V8Context) -> None:
    assert value(ctx, "await Promise.resolve(41) + 1") == 42
    assert run(ctx, "const x = await Promise.resolve(7); var y = await 8").kind == "ok"
    assert value(ctx, "x * y") == 56
    assert run(ctx, "function later() { return x } await null").kind == "ok"
    assert value(ctx, "later()") == 7


def test_a_rejected_top_level_await_is_the_runs_exception(ctx: V8Context) -> None:
    outcome = run(ctx, "await Promise.reject(new RangeError('nope'))")
    assert outcome.kind == "exception"
    assert outcome.exception is not None
    assert (outcome.exception["name"], outcome.exception["message"]) == ("RangeError", "nope")


def test_a_top_level_await_that_can_never_settle_ends_the_run(ctx: V8Context) -> None:
    start = time.monotonic()
    outcome = run(ctx, "await new Promise(() => {})")
    assert time.monotonic() - start < 1
    assert outcome.kind == "exception"
    assert outcome.exception is not None
    assert "never settled" in outcome.exception["message"]


def test_for_await_at_top_level(ctx: V8Context) -> None:
    code = """
    async function* gen() { yield 1; yield 2 }
    let total = 0;
    for await (const v of gen()) total += v;
    total
    """
    assert value(ctx, code) == 3


def test_run_file_args_are_visible_to_awaiting_code(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx()
    outcome = run(ctx, "await null; __ARGS__.n * 2", args={"n": 21}, filename="main.js")
    assert outcome.value is not None and outcome.value["json"] == 42


def test_output_and_memory_limits_hold_inside_timers(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(max_console_events=5)
    sink = Sink()
    outcome = run(ctx, "setInterval(() => console.log('x'), 0)", sink=sink)
    assert outcome.kind == "output_limit"
    assert sink.texts == ["x"] * 5
    assert value(ctx, "'after output'") == "after output"
    small = make_ctx(mem_mb=64)
    code = "const keep = []; setInterval(() => keep.push(new Array(1e6).fill(1)), 0)"
    assert run(small, code, limits=RunLimits(wall_ms=10000)).kind == "memory"
    assert value(small, "'after memory'") == "after memory"


def test_an_exception_in_a_queued_microtask_ends_the_run(ctx: V8Context) -> None:
    sink = Sink()
    code = "queueMicrotask(() => { throw new SyntaxError('in micro') }); console.log('sync'); 1"
    outcome = run(ctx, code, sink=sink)
    assert outcome.kind == "exception"
    assert outcome.exception is not None
    assert (outcome.exception["name"], outcome.exception["message"]) == ("SyntaxError", "in micro")
    assert sink.texts == ["sync"]
    assert value(ctx, "'next run is clean'") == "next run is clean"
