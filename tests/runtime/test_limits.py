"""Limits enforced while code runs: wall time, CPU time, cancel, memory, output."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from vmsystem.runtime import RunLimits
from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, rss_kb, run, value

NO_LIMITS = RunLimits(wall_ms=None, cpu_ms=None)
#: Keeps copies of a 16 MB array until something stops it.
HOARD = "const a = new Uint8Array(16 * 2 ** 20); const keep = []; while (true) keep.push({})"


# ---------------------------------------------------------------- wall time
def test_endless_loop_hits_wall_timeout_and_state_survives(ctx: V8Context) -> None:
    run(ctx, "var keep = 'still here'; let lexical = 2")
    started = time.monotonic()
    outcome = run(ctx, "while (true) {}", limits=RunLimits(wall_ms=200, cpu_ms=None))
    elapsed_ms = (time.monotonic() - started) * 1000
    overshoot = elapsed_ms - 200
    print(f"\nwall_ms=200: returned after {elapsed_ms:.1f} ms (overshoot {overshoot:.1f} ms)")
    assert outcome.kind == "wall_timeout"
    assert outcome.message == "wall-time limit exceeded"
    assert outcome.value is None and outcome.exception is None
    assert 200 <= elapsed_ms < 1000
    assert 190 <= outcome.duration_ms < 1000
    assert value(ctx, "[keep, lexical]") == ["still here", 2]


def test_wall_timeout_cannot_be_caught_by_user_code(ctx: V8Context) -> None:
    outcome = run(
        ctx,
        "var caught = false; try { while (true) {} } catch (e) { caught = true }; 'escaped'",
        limits=RunLimits(wall_ms=100, cpu_ms=None),
    )
    assert outcome.kind == "wall_timeout"
    assert value(ctx, "caught") is False


def test_wall_timeout_keeps_lines_logged_before_it(ctx: V8Context) -> None:
    sink = Sink()
    outcome = run(
        ctx,
        "console.log('first'); while (true) {}",
        sink=sink,
        limits=RunLimits(wall_ms=100, cpu_ms=None),
    )
    assert outcome.kind == "wall_timeout"
    assert sink.texts == ["first"]


def test_repeated_timeouts_leave_the_context_usable(ctx: V8Context) -> None:
    for _ in range(3):
        assert (
            run(ctx, "for (;;) {}", limits=RunLimits(wall_ms=50, cpu_ms=None)).kind
            == "wall_timeout"
        )
    assert value(ctx, "'fine'") == "fine"


def test_timeout_in_tojson_of_the_result_keeps_the_session(ctx: V8Context) -> None:
    # Serializing the result runs user code too (toJSON): it obeys the deadline.
    outcome = run(
        ctx, "({toJSON() { while (true) {} }})", limits=RunLimits(wall_ms=200, cpu_ms=None)
    )
    assert outcome.kind == "wall_timeout"
    assert ctx.alive
    assert value(ctx, "3") == 3


# ---------------------------------------------------------------- CPU time
def test_cpu_limit_stops_busy_code(ctx: V8Context) -> None:
    assert ctx.cpu_time_ms is not None, "the isolate thread's CPU clock is measurable on Linux"
    outcome = run(ctx, "while (true) {}", limits=RunLimits(wall_ms=10_000, cpu_ms=150))
    print(f"\ncpu_ms=150: cpu {outcome.cpu_ms} ms, wall {outcome.duration_ms:.1f} ms")
    assert outcome.kind == "cpu_timeout"
    assert outcome.message == "CPU-time limit exceeded"
    assert outcome.cpu_ms is not None and 150 <= outcome.cpu_ms < 2000
    assert value(ctx, "1") == 1


def test_cpu_limit_does_not_count_waiting(ctx: V8Context) -> None:
    # Atomics.wait sleeps without using CPU: 300 ms of waiting under a 100 ms CPU limit is fine.
    code = "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300); 'rested'"
    outcome = run(ctx, code, limits=RunLimits(wall_ms=5000, cpu_ms=100))
    assert outcome.kind == "ok", outcome.message
    assert outcome.duration_ms >= 290
    assert outcome.cpu_ms is not None and outcome.cpu_ms < 100


def test_outcome_reports_cpu_and_duration(ctx: V8Context) -> None:
    outcome = run(ctx, "let s = 0; for (let i = 0; i < 1e6; i++) s += i; s")
    assert outcome.kind == "ok"
    assert outcome.duration_ms > 0
    assert outcome.cpu_ms is not None and outcome.cpu_ms >= 0


# ---------------------------------------------------------------- cancel
def _start(
    ctx: V8Context, code: str, sink: Sink, limits: RunLimits
) -> tuple[threading.Thread, dict[str, object]]:
    result: dict[str, object] = {}

    def target() -> None:
        result["outcome"] = ctx.run(code, limits=limits, sink=sink)
        result["ended"] = time.monotonic()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def test_cancel_from_another_thread_ends_the_run_promptly(ctx: V8Context) -> None:
    run(ctx, "var survivor = 'yes'")
    sink = Sink()
    thread, result = _start(
        ctx, "console.log('running'); while (true) {}", sink, RunLimits(wall_ms=20_000, cpu_ms=None)
    )
    assert sink.got_line.wait(5)
    time.sleep(0.05)
    asked = time.monotonic()
    assert ctx.cancel() is True
    thread.join(5)
    assert not thread.is_alive()
    ended = result["ended"]
    assert isinstance(ended, float)
    latency_ms = (ended - asked) * 1000
    print(f"\ncancel latency {latency_ms:.2f} ms")
    assert latency_ms < 500
    outcome = result["outcome"]
    assert getattr(outcome, "kind", None) == "cancelled"
    assert getattr(outcome, "message", None) == "execution cancelled"
    assert value(ctx, "survivor") == "yes"


def test_cancel_without_a_run_returns_false(ctx: V8Context) -> None:
    assert ctx.cancel() is False
    run(ctx, "1")
    assert ctx.cancel() is False


def test_cancel_during_a_host_call_takes_effect_when_it_returns(
    make_ctx: Callable[..., V8Context],
) -> None:
    entered = threading.Event()

    def slow(args: list[object]) -> object:
        entered.set()
        time.sleep(0.3)
        return "slept"

    ctx = make_ctx(
        modules={"m": "function (hostCall) { return { slow: () => hostCall('slow', []) } }"},
        host_functions={"m.slow": slow},
    )
    sink = Sink()
    thread, result = _start(
        ctx,
        "var got = require('m').slow(); while (true) {}",
        sink,
        RunLimits(wall_ms=20_000, cpu_ms=None),
    )
    assert entered.wait(5)
    assert ctx.cancel() is True
    thread.join(5)
    assert getattr(result.get("outcome"), "kind", None) == "cancelled"
    assert ctx.alive  # a slow host function is not a wedged runtime
    # Termination lands as soon as JS resumes, before the assignment.
    assert value(ctx, "typeof got") == "undefined"
    assert value(ctx, "require('m').slow()") == "slept"


def test_a_second_concurrent_run_is_refused(ctx: V8Context) -> None:
    from vmsystem.runtime import EngineError

    sink = Sink()
    thread, _result = _start(
        ctx, "console.log('x'); while (true) {}", sink, RunLimits(wall_ms=20_000, cpu_ms=None)
    )
    assert sink.got_line.wait(5)
    with pytest.raises(EngineError, match="already running"):
        run(ctx, "1")
    ctx.cancel()
    thread.join(5)
    assert value(ctx, "1") == 1


# ---------------------------------------------------------------- memory
def test_array_memory_bomb_hits_memory_limit_and_context_survives(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(mem_mb=48)
    run(ctx, "var keep = 'kept'")
    outcome = run(
        ctx,
        "(() => { const a = []; while (true) a.push(new Array(1e6).fill(1)) })()",
        limits=RunLimits(wall_ms=20_000, cpu_ms=None),
    )
    print(f"\narray bomb under 48 MB: {outcome.kind} after {outcome.duration_ms:.0f} ms")
    assert outcome.kind == "memory"
    assert "memory limit exceeded" in outcome.message
    assert value(ctx, "keep") == "kept"
    assert value(ctx, "new Array(1e5).fill(2).length") == 100_000


def test_memory_bomb_held_by_a_global_can_be_released(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(mem_mb=48)
    outcome = run(
        ctx,
        "var hog = []; while (true) hog.push(new Array(1e6).fill(1))",
        limits=RunLimits(wall_ms=20_000, cpu_ms=None),
    )
    assert outcome.kind == "memory"
    assert value(ctx, "hog.length > 0") is True
    assert value(ctx, "hog = null; 'released'") == "released"
    assert value(ctx, "new Array(2e6).fill(0).length") == 2_000_000


def test_exceptions_after_a_memory_error_are_exceptions(make_ctx: Callable[..., V8Context]) -> None:
    # mini-racer's OOM flag is sticky: a later exception must not be reported as MEMORY.
    ctx = make_ctx(mem_mb=48)
    bomb = "(() => { const a = []; while (true) a.push(new Array(1e6).fill(1)) })()"
    assert run(ctx, bomb, limits=RunLimits(wall_ms=20_000, cpu_ms=None)).kind == "memory"
    outcome = run(ctx, "throw new Error('plain')")
    assert outcome.kind == "exception"
    assert outcome.exception is not None and outcome.exception["message"] == "plain"
    assert (
        run(ctx, "while (true) {}", limits=RunLimits(wall_ms=50, cpu_ms=None)).kind
        == "wall_timeout"
    )


def test_typed_array_bomb_hits_memory_limit_with_bounded_rss(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(mem_mb=64)
    run(ctx, "var keep = 1")
    before = rss_kb()
    outcome = run(
        ctx,
        "var bufs = []; while (true) bufs.push(new Uint8Array(16 * 1024 * 1024).fill(7))",
        limits=RunLimits(wall_ms=20_000, cpu_ms=None),
    )
    grown_mb = (rss_kb() - before) / 1024
    print(f"\nUint8Array bomb under 64 MB: {outcome.kind}, RSS grew {grown_mb:.0f} MB")
    assert outcome.kind == "memory"
    assert outcome.message == "memory limit exceeded: ArrayBuffer allocations over 64 MB"
    assert value(ctx, "[keep, bufs.length]") == [1, 4]  # 4 x 16 MB fit, the 5th does not
    assert rss_kb() < 2 * 1024 * 1024
    assert rss_kb("VmHWM") < 2 * 1024 * 1024
    assert grown_mb < 512


def test_array_buffer_bomb_hits_memory_limit(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(mem_mb=64)
    outcome = run(ctx, "const held = []; while (true) held.push(new ArrayBuffer(8 * 1024 * 1024))")
    assert outcome.kind == "memory"
    assert value(ctx, "held.length") == 8


def test_one_huge_allocation_is_refused(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(mem_mb=64)
    outcome = run(ctx, "var big = new Float64Array(128 * 1024 * 1024)")
    assert outcome.kind == "memory"
    assert value(ctx, "typeof big") == "undefined"
    assert value(ctx, "new Uint8Array(1024).length") == 1024


def test_array_buffer_budget_comes_back_after_buffers_die(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(mem_mb=64)
    assert (
        run(ctx, "var bufs = []; while (true) bufs.push(new Uint8Array(16 << 20))").kind == "memory"
    )
    run(ctx, "bufs = null")
    # The budget is credited back once V8 has collected the dead buffers (a GC task that runs
    # between runs, usually within ~100 ms); poll rather than assume when.
    deadline = time.monotonic() + 10
    while True:
        outcome = run(ctx, "new Uint8Array(16 << 20).length")
        if outcome.kind == "ok" or time.monotonic() > deadline:
            break
        run(ctx, "Array.from({length: 1e5}, (_, i) => ({i})).length")  # some garbage, too
        time.sleep(0.05)
    assert outcome.kind == "ok", outcome.message


def test_length_is_read_once_so_valueof_cannot_lie(make_ctx: Callable[..., V8Context]) -> None:
    # The size used to be read by the guard and again by V8: a valueOf answering 0 and then
    # 256 MB slipped past the budget. Now V8 reads it once and the real byteLength is charged.
    ctx = make_ctx(mem_mb=64)
    code = (
        "new ArrayBuffer({valueOf: (() => { let n = 0; return () => n++ ? 256 * 2 ** 20 : 0 })()})"
        ".byteLength"
    )
    assert value(ctx, code) == 0
    big = "new ArrayBuffer({valueOf: () => 256 * 2 ** 20})"
    assert run(ctx, big).kind == "memory"


def test_views_on_one_buffer_are_not_charged_twice(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(mem_mb=64)
    code = """
    const buf = new ArrayBuffer(40 * 1024 * 1024);
    const views = [];
    for (let i = 0; i < 20; i++) {
      views.push(new Uint8Array(buf), new DataView(buf), new Float64Array(buf, 8, 16));
    }
    views.length
    """
    assert value(ctx, code) == 60


def test_small_typed_arrays_are_cheap_and_correct(ctx: V8Context) -> None:
    code = """
    let total = 0;
    for (let i = 0; i < 100000; i++) total += new Uint8Array([1, 2, 3]).length;
    class Bytes extends Uint8Array {}
    [total, new Bytes(4).length, new Uint8Array(2) instanceof Uint8Array,
     new Uint8Array(2).constructor === Uint8Array, Uint8Array.from([1, 2]).length,
     new Uint8Array(8).slice(2).length, new Int16Array(4).map((x) => x + 1)[0]]
    """
    assert value(ctx, code) == [300000, 4, True, True, 2, 6, 1]


@pytest.mark.parametrize(
    "code",
    [
        "new (new Uint8Array(1)).constructor(256 * 2 ** 20)",
        "new ArrayBuffer.prototype.constructor(256 * 2 ** 20)",
        "new Uint8Array({length: 2 ** 28, 0: 1})",
        "const r = new ArrayBuffer(8, {maxByteLength: 512 * 2 ** 20}); r.resize(256 * 2 ** 20)",
        "new ArrayBuffer(8).transfer(256 * 2 ** 20)",
        "const g = new SharedArrayBuffer(8, {maxByteLength: 512 * 2 ** 20}); g.grow(256 * 2 ** 20)",
        HOARD.format("a.slice()"),
        HOARD.format("a.toReversed()"),
        HOARD.format("a.with(0, 1)"),
        HOARD.format("a.map((x) => x)"),
        "const keep = []; while (true) keep.push(new Uint8Array(16 * 2 ** 20).buffer)",
    ],
    ids=[
        "constructor-property",
        "prototype-constructor",
        "array-like",
        "resize",
        "transfer",
        "grow",
        "slice",
        "toReversed",
        "with",
        "map",
        "buffer-of-view",
    ],
)
def test_array_buffer_accounting_has_no_side_doors(
    make_ctx: Callable[..., V8Context], code: str
) -> None:
    ctx = make_ctx(mem_mb=64)
    outcome = run(ctx, code, limits=RunLimits(wall_ms=20_000, cpu_ms=None))
    assert outcome.kind == "memory", (outcome.kind, outcome.exception, outcome.value)
    assert value(ctx, "'ok'") == "ok"


# ---------------------------------------------------------------- output
def test_max_console_events_stops_the_run_with_lines_up_to_the_limit(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(max_console_events=5, max_events=7)
    sink = Sink()
    outcome = run(
        ctx, "for (let i = 0; i < 100; i++) console.log('line', i); 'unreached'", sink=sink
    )
    assert outcome.kind == "output_limit"
    assert outcome.message == "output limit exceeded: more than 7 events"
    assert outcome.value is None
    assert sink.texts == [f"line {i}" for i in range(5)]
    assert outcome.console_events == 5


def test_max_output_kb_stops_the_run_with_lines_up_to_the_limit(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(max_output_kb=1)
    sink = Sink()
    outcome = run(
        ctx, "for (let i = 0; i < 100; i++) console.log(String(i).padStart(300, '.'))", sink=sink
    )
    assert outcome.kind == "output_limit"
    assert outcome.message == "output limit exceeded: more than 1 KB of console output"
    assert sink.texts == [str(i).rjust(300, ".") for i in range(3)]
    assert outcome.output_bytes == 900
    assert sum(len(t) for t in sink.texts) <= 1024


def test_try_catch_around_console_log_cannot_escape_the_output_limit(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(max_console_events=5)
    sink = Sink()
    code = """
    var swallowed = 0;
    for (let i = 0; i < 50; i++) { try { console.log('n', i) } catch (e) { swallowed++ } }
    'escaped'
    """
    outcome = run(ctx, code, sink=sink)
    assert outcome.kind == "output_limit"
    assert outcome.value is None
    assert sink.texts == [f"n {i}" for i in range(5)]
    assert value(ctx, "swallowed") == 0  # the run was stopped, not merely the call


def test_output_limit_resets_for_the_next_run(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(max_console_events=3)
    assert run(ctx, "for (;;) console.log('x')").kind == "output_limit"
    sink = Sink()
    outcome = run(ctx, "console.log('a'); console.log('b'); 1", sink=sink)
    assert outcome.kind == "ok"
    assert sink.texts == ["a", "b"]


def test_output_limit_from_console_in_tojson(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(max_console_events=2)
    sink = Sink()
    outcome = run(ctx, "({toJSON() { for (;;) console.log('j') }})", sink=sink)
    assert outcome.kind == "output_limit"
    assert sink.texts == ["j", "j"]
    assert value(ctx, "1") == 1


def test_replacing_array_push_cannot_forge_console_lines(
    make_ctx: Callable[..., V8Context],
) -> None:
    # User code may replace the built-ins (here Array.prototype.push, to add lines behind the
    # counter); the prelude took its own before user code ran.
    ctx = make_ctx(max_console_events=5)
    sink = Sink()
    code = """
    const push = Array.prototype.push;
    Array.prototype.push = function (...items) {
      const n = Reflect.apply(push, this, items);
      if (Array.isArray(items[0]) && items[0][0] === 'log' && !this.forged) {
        this.forged = true;
        for (let i = 0; i < 50; i++) Reflect.apply(push, this, [['log', 'forged ' + i, 0]]);
      }
      return n;
    };
    console.log('real');
    'done'
    """
    outcome = run(ctx, code, sink=sink)
    # The prelude appends with a push it took before user code ran: nothing is forged.
    assert outcome.kind == "ok"
    assert sink.texts == ["real"]


def test_unlimited_limits(ctx: V8Context) -> None:
    outcome = run(ctx, "let n = 0; for (let i = 0; i < 1e5; i++) n++; n", limits=NO_LIMITS)
    assert outcome.kind == "ok"
