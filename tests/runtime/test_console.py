"""console: levels, formatting (util.inspect short form), ordering and streaming."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from vmsystem.runtime import RunLimits
from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run


def logged(ctx: V8Context, code: str) -> list[str]:
    sink = Sink()
    outcome = run(ctx, code, sink=sink)
    assert outcome.kind == "ok", (outcome.kind, outcome.exception, outcome.message)
    return sink.texts


@pytest.mark.parametrize("level", ["log", "info", "warn", "error", "debug"])
def test_each_level_is_reported_with_its_name(ctx: V8Context, level: str) -> None:
    sink = Sink()
    outcome = run(ctx, f"console.{level}('at {level}')", sink=sink)
    assert outcome.kind == "ok"
    assert [(lvl, text) for lvl, text, _ts in sink.lines] == [(level, f"at {level}")]
    assert outcome.console_events == 1


def test_line_timestamp_is_unix_milliseconds(ctx: V8Context) -> None:
    sink = Sink()
    before = time.time() * 1000
    run(ctx, "console.log('t')", sink=sink)
    after = time.time() * 1000
    ((_level, _text, ts),) = sink.lines
    assert before - 1000 <= ts <= after + 1000


def test_arguments_are_joined_by_one_space_and_strings_are_raw(ctx: V8Context) -> None:
    assert logged(ctx, "console.log('a', 'b c', '', 'd')") == ["a b c  d"]
    assert logged(ctx, "console.log('quote\\'s', \"dq\\\"\")") == ["quote's dq\""]


def test_numbers_booleans_null_undefined(ctx: V8Context) -> None:
    assert logged(ctx, "console.log(1, -0, 2.5, true, null, undefined, NaN)") == [
        "1 -0 2.5 true null undefined NaN"
    ]


def test_objects_use_inspect_short_form(ctx: V8Context) -> None:
    assert logged(ctx, "console.log({a: 1, b: 'x', 'c-d': [1, 2]})") == [
        "{ a: 1, b: 'x', 'c-d': [ 1, 2 ] }"
    ]
    assert logged(ctx, "console.log([1, 'two', [3]], {})") == ["[ 1, 'two', [ 3 ] ] {}"]
    assert logged(ctx, "console.log([])") == ["[]"]


def test_nested_objects_are_cut_at_depth(ctx: V8Context) -> None:
    (text,) = logged(ctx, "console.log({a: {b: {c: {d: {e: 1}}}}})")
    assert text == "{ a: { b: { c: [Object] } } }"


def test_long_objects_break_over_lines(ctx: V8Context) -> None:
    (text,) = logged(ctx, "console.log({alpha: 'a'.repeat(30), beta: 'b'.repeat(30), gamma: 1})")
    assert text.startswith("{\n  alpha: '")
    assert text.endswith("\n}")


def test_circular_reference_is_marked(ctx: V8Context) -> None:
    (text,) = logged(ctx, "var o = {n: 1}; o.self = o; console.log(o)")
    assert text == "<ref *1> { n: 1, self: [Circular *1] }"


def test_functions_classes_symbols_bigints(ctx: V8Context) -> None:
    code = "function named() {}; class Cls {};console.log(named, () => 1, Cls, Symbol('s'), 12n)"
    assert logged(ctx, code) == [
        "[Function: named] [Function (anonymous)] [class Cls] Symbol(s) 12n"
    ]


def test_map_set_date_regexp_error(ctx: V8Context) -> None:
    texts = logged(
        ctx,
        "console.log(new Map([['k', 1]]));"
        "console.log(new Set([1, 2]));"
        "console.log(new Date(0));"
        "console.log(/ab+c/gi);"
        "console.log(new Error('bad'));",
    )
    assert texts[:4] == [
        "Map(1) { 'k' => 1 }",
        "Set(2) { 1, 2 }",
        "1970-01-01T00:00:00.000Z",
        "/ab+c/gi",
    ]
    assert texts[4].startswith("Error: bad\n    at ")


def test_class_instances_and_null_prototype(ctx: V8Context) -> None:
    code = (
        "class Point { constructor() { this.x = 1 } };console.log(new Point(), Object.create(null))"
    )
    assert logged(ctx, code) == ["Point { x: 1 } [Object: null prototype] {}"]


def test_long_arrays_are_truncated(ctx: V8Context) -> None:
    (text,) = logged(ctx, "console.log(Array.from({length: 150}, (_, i) => i))")
    assert text.endswith("... 50 more items\n]")


def test_format_substitutions(ctx: V8Context) -> None:
    assert logged(ctx, "console.log('%s is %d years', 'Bob', 42)") == ["Bob is 42 years"]
    assert logged(ctx, "console.log('%j', {a: [1, 'x']})") == ['{"a":[1,"x"]}']
    assert logged(ctx, "console.log('%i|%f|%d', '42.9px', '1.5', '7')") == ["42|1.5|7"]
    assert logged(ctx, "console.log('100%% %s', 'sure')") == ["100% sure"]
    assert logged(ctx, "console.log('%s and', 'a', 'extra', 3)") == ["a and extra 3"]
    assert logged(ctx, "console.log('%s %s', 'only')") == ["only %s"]
    assert logged(ctx, "console.log('%s', {a: 1})") == ["{ a: 1 }"]
    # %o is Node's inspect with showHidden (an array's length shows).
    assert logged(ctx, "console.log('%o|%O', [1], {b: 2})") == ["[ 1, [length]: 1 ]|{ b: 2 }"]
    assert logged(ctx, "console.log('%c styled', 'color: red')") == [" styled"]


def test_substitution_only_in_first_argument(ctx: V8Context) -> None:
    assert logged(ctx, "console.log(1, '%s', 2)") == ["1 %s 2"]


def test_console_helpers_trace_dir_table(ctx: V8Context) -> None:
    sink = Sink()
    run(ctx, "function where() { console.trace('t') }; where(); console.dir({d: 1})", sink=sink)
    run(ctx, "console.table([1])", sink=sink)
    assert [(level, text) for level, text, _ in sink.lines] == [
        ("error", "Trace: t\n    at where (<anonymous>:1:28)"),
        ("log", "{ d: 1 }"),
        (
            "log",
            "┌─────────┬────────┐\n│ (index) │ Values │\n├─────────┼────────┤\n"
            "│ 0       │ 1      │\n└─────────┴────────┘",
        ),
    ]


def test_lines_arrive_in_order_across_levels_and_batches(ctx: V8Context) -> None:
    sink = Sink()
    code = """
    for (let i = 0; i < 3000; i++) {
      const level = ['log', 'info', 'warn', 'error', 'debug'][i % 5];
      console[level]('line ' + i);
      if (i % 500 === 0) { const end = Date.now() + 6; while (Date.now() < end) {} }
    }
    """
    outcome = run(ctx, code, sink=sink)
    assert outcome.kind == "ok"
    assert sink.texts == [f"line {i}" for i in range(3000)]
    assert [level for level, _t, _ts in sink.lines[:5]] == ["log", "info", "warn", "error", "debug"]
    assert sink.batches > 1
    assert outcome.console_events == 3000


def test_ten_thousand_lines_are_all_delivered(ctx: V8Context) -> None:
    sink = Sink()
    outcome = run(ctx, "for (let i = 0; i < 10000; i++) console.log('n', i); 'done'", sink=sink)
    assert outcome.kind == "ok"
    assert outcome.value == {
        "type": "string",
        "preview": "done",
        "inspect": "'done'",
        "json": "done",
    }
    assert sink.texts == [f"n {i}" for i in range(10000)]
    assert outcome.console_events == 10000
    assert outcome.output_bytes == sum(len(t) for t in sink.texts)


def test_lines_of_a_failing_run_are_delivered(ctx: V8Context) -> None:
    sink = Sink()
    outcome = run(ctx, "console.log('before'); throw new Error('after')", sink=sink)
    assert outcome.kind == "exception"
    assert sink.texts == ["before"]


def _run_in_thread(
    ctx: V8Context, code: str, sink: Sink, limits: RunLimits
) -> tuple[threading.Thread, dict[str, object]]:
    result: dict[str, object] = {}

    def target() -> None:
        result["outcome"] = ctx.run(code, limits=limits, sink=sink)
        result["ended"] = time.monotonic()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def test_console_lines_stream_before_the_run_ends(ctx: V8Context) -> None:
    # Runs right after another run on purpose: the first line of a run must not wait for a
    # flush interval that started in the previous run.
    run(ctx, "console.log('warm-up')")
    sink = Sink()
    code = "console.log('early'); const end = Date.now() + 300; while (Date.now() < end) {}; 'late'"
    thread, result = _run_in_thread(ctx, code, sink, RunLimits(wall_ms=5000, cpu_ms=None))
    assert sink.got_line.wait(5), "the line never arrived"
    arrived = time.monotonic()
    still_running = thread.is_alive()
    thread.join(10)
    assert not thread.is_alive()
    ended = result["ended"]
    assert isinstance(ended, float)
    print(f"\nstreamed line arrived {1000 * (ended - arrived):.0f} ms before the run ended")
    assert still_running
    assert ended - arrived > 0.1
    assert sink.texts == ["early"]


def test_second_line_after_a_quiet_period_streams_too(ctx: V8Context) -> None:
    sink = Sink()
    code = """
    console.log('one');
    let end = Date.now() + 50; while (Date.now() < end) {}
    console.log('two');
    end = Date.now() + 300; while (Date.now() < end) {}
    """
    thread, result = _run_in_thread(ctx, code, sink, RunLimits(wall_ms=5000, cpu_ms=None))
    deadline = time.monotonic() + 5
    while len(sink.texts) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    arrived = time.monotonic()
    thread.join(10)
    ended = result["ended"]
    assert isinstance(ended, float)
    assert sink.texts == ["one", "two"]
    assert ended - arrived > 0.1


def test_console_disabled_drops_lines(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(console=False)
    sink = Sink()
    outcome = run(ctx, "for (let i = 0; i < 10; i++) console.log(i); 1", sink=sink)
    assert outcome.kind == "ok"
    assert sink.lines == []
    assert outcome.console_events == 0


def test_console_line_with_lone_surrogate_keeps_it(ctx: V8Context) -> None:
    assert logged(ctx, "console.log('a\\ud800b', '\\udc00')") == ["a\ud800b \udc00"]


def test_console_works_after_user_replaces_json_stringify(ctx: V8Context) -> None:
    sink = Sink()
    outcome = run(
        ctx,
        "JSON.stringify = () => 'null'; JSON.parse = () => null; console.log({a: 1}); [2]",
        sink=sink,
    )
    assert outcome.kind == "ok"
    assert sink.texts == ["{ a: 1 }"]
    assert outcome.value == {"type": "array", "preview": "2", "inspect": "[ 2 ]", "json": [2]}


def test_console_object_cannot_be_mutated_but_can_be_replaced(ctx: V8Context) -> None:
    sink = Sink()
    outcome = run(ctx, "console.log = () => {}; console.log('still logged')", sink=sink)
    assert outcome.kind == "ok"
    assert sink.texts == ["still logged"]
    outcome = run(
        ctx,
        "var saved = console; console = {log() {}}; console.log('gone'); console = saved; 1",
        sink=sink,
    )
    assert outcome.kind == "ok"
    assert sink.texts == ["still logged"]
