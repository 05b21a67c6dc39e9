"""State persists across runs in the session's global scope (REPL, run-file, startup files)."""

from __future__ import annotations

from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run, value


def test_var_persists(ctx: V8Context) -> None:
    run(ctx, "var counter = 1")
    run(ctx, "counter += 1")
    assert value(ctx, "counter") == 2
    assert value(ctx, "globalThis.counter") == 2


def test_let_and_const_persist_across_runs(ctx: V8Context) -> None:
    run(ctx, "let mutable = 'a'; const fixed = {n: 1}")
    run(ctx, "mutable += 'b'; fixed.n++")
    assert value(ctx, "[mutable, fixed.n]") == ["ab", 2]
    # REPL mode: top-level bindings are (non-enumerable) properties of the global object.
    assert value(ctx, "Object.keys(globalThis)") == []
    outcome = run(ctx, "fixed = 2")
    assert outcome.kind == "exception"
    assert outcome.exception is not None and outcome.exception["name"] == "TypeError"
    assert outcome.exception["message"] == "Assignment to constant variable."
    assert value(ctx, "fixed.n") == 2


def test_a_later_run_may_redeclare_let_const_and_class(ctx: V8Context) -> None:
    run(ctx, "let once = 1; const c = 1; class K { get v() { return 1 } }")
    assert run(ctx, "let once = 2").kind == "ok"
    assert run(ctx, "const c = 2; class K { get v() { return 2 } }").kind == "ok"
    assert value(ctx, "[once, c, new K().v]") == [2, 2, 2]
    assert value(ctx, "const c = 3; c") == 3


def test_redeclaring_inside_one_run_is_still_a_syntax_error(ctx: V8Context) -> None:
    outcome = run(ctx, "const a = 1; const a = 2")
    assert outcome.kind == "exception"
    assert outcome.exception is not None
    assert outcome.exception["name"] == "SyntaxError"
    assert "already been declared" in outcome.exception["message"]
    assert run(ctx, "let b = 1; var b = 2").kind == "exception"


def test_destructuring_declarations_bind_every_name(ctx: V8Context) -> None:
    run(ctx, "const {a, b: [c, d = 4], ...rest} = {a: 1, b: [3], e: 5, f: 6}")
    assert value(ctx, "[a, c, d, rest]") == [1, 3, 4, {"e": 5, "f": 6}]


def test_declarations_keep_error_line_numbers(ctx: V8Context) -> None:
    outcome = run(ctx, "const x = 1;\nlet y = 2;\nthrow new Error('line 3')")
    assert outcome.exception is not None
    assert "<anonymous>:3:" in outcome.exception["stack"]


def test_function_and_class_declarations_persist(ctx: V8Context) -> None:
    run(ctx, "function square(x) { return x * x }")
    run(ctx, "class Box { constructor(v) { this.v = v } get double() { return this.v * 2 } }")
    assert value(ctx, "square(new Box(3).double)") == 36


def test_closures_keep_their_state(ctx: V8Context) -> None:
    run(ctx, "const next = (() => { let n = 0; return () => ++n })()")
    run(ctx, "next(); next()")
    assert value(ctx, "next()") == 3


def test_assignments_before_an_exception_are_kept(ctx: V8Context) -> None:
    outcome = run(ctx, "var before = 'kept'; throw new Error('x'); var after = 1")
    assert outcome.kind == "exception"
    assert value(ctx, "[before, typeof after]") == ["kept", "undefined"]


def test_microtasks_run_after_the_script(ctx: V8Context) -> None:
    run(ctx, "var resolved; Promise.resolve(5).then((v) => { resolved = v })")
    assert value(ctx, "resolved") == 5


def test_async_functions_complete_between_runs(ctx: V8Context) -> None:
    run(ctx, "var log = []; (async () => { log.push('a'); await null; log.push('b') })()")
    assert value(ctx, "log") == ["a", "b"]


def test_startup_like_sequence_builds_on_itself(ctx: V8Context) -> None:
    sink = Sink()
    files = [
        ("/wt/lib/util.js", "function slug(s) { return s.toLowerCase().replace(/\\s+/g, '-') }"),
        (
            "/wt/lib/store.js",
            "const store = new Map(); function put(k, v) { store.set(slug(k), v) }",
        ),
        ("/wt/startup.js", "put('Hello World', 1); console.log('ready', store.size)"),
    ]
    for filename, code in files:
        outcome = run(ctx, code, filename=filename, sink=sink)
        assert outcome.kind == "ok", (filename, outcome.exception)
    assert sink.texts == ["ready 1"]
    assert value(ctx, "[...store.keys()]") == ["hello-world"]


def test_run_file_args_are_a_global(ctx: V8Context) -> None:
    assert value(ctx, "__ARGS__.name + __ARGS__.n", args={"name": "x", "n": 1}) == "x1"
    # The latest run-file's args stay visible afterwards.
    assert value(ctx, "__ARGS__") == {"name": "x", "n": 1}
    assert value(ctx, "__ARGS__", args={}) == {}


def test_many_runs_in_a_row(ctx: V8Context) -> None:
    for i in range(300):
        assert value(
            ctx, f"var total = (typeof total === 'number' ? total : 0) + {i}; total"
        ) == sum(range(i + 1))
