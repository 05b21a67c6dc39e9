"""REPL input: re-declaring top-level let/const/class across runs (Chrome DevTools and Deno
semantics), JavaScript's own rules inside one run, and what the transform must not change."""

from __future__ import annotations

from collections.abc import Callable

from vmsystem.runtime.run import TRANSFORM_MAX_CHARS, needs_transform
from vmsystem.runtime.v8 import V8Context

from .conftest import run, value


def test_const_redeclared_in_a_later_run_replaces_the_old_binding(ctx: V8Context) -> None:
    assert run(ctx, "const a = 1").kind == "ok"
    assert value(ctx, "const a = 2; a") == 2


def test_the_workbench_example_runs_twice(ctx: V8Context) -> None:
    code = "const items = [3, 1, 2];\nitems.sort((a, b) => a - b)"
    assert value(ctx, code) == [1, 2, 3]
    assert value(ctx, code) == [1, 2, 3]


def test_a_function_declared_earlier_sees_the_new_binding(ctx: V8Context) -> None:
    run(ctx, "let n = 1; function get() { return n }")
    run(ctx, "let n = 2")
    assert value(ctx, "get()") == 2


def test_class_redeclaration_and_instances(ctx: V8Context) -> None:
    run(ctx, "class A { v() { return 1 } }")
    run(ctx, "class A extends Object { v() { return 2 } }")
    assert value(ctx, "new A().v()") == 2
    assert value(ctx, "A.name") == "A"


def test_declaration_completion_value_is_undefined(ctx: V8Context) -> None:
    outcome = run(ctx, "const z = 5")
    assert outcome.value == {"type": "undefined", "preview": "undefined", "inspect": "undefined"}


def test_names_in_strings_and_comments_do_not_matter(ctx: V8Context) -> None:
    assert value(ctx, "'let const class await' // let x = 1") == "let const class await"
    assert value(ctx, "var let_ = 1; let_ + 1") == 2


def test_redeclaring_a_var_or_function_as_let_is_refused(ctx: V8Context) -> None:
    run(ctx, "var v = 1")
    outcome = run(ctx, "let v = 2")
    # A var is a non-configurable global: the new binding is assigned to it.
    assert outcome.kind == "ok"
    assert value(ctx, "v") == 2


def test_a_syntax_error_is_v8s_own(ctx: V8Context) -> None:
    outcome = run(ctx, "let = = 1")
    assert outcome.kind == "exception"
    assert outcome.exception is not None and outcome.exception["name"] == "SyntaxError"


def test_strict_mode_contexts_redeclare_too(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(strict=True)
    run(ctx, "const s = 1")
    assert value(ctx, "const s = 2; s") == 2
    outcome = run(ctx, "s = 3")
    assert outcome.kind == "exception"
    assert outcome.exception is not None and outcome.exception["name"] == "TypeError"
    assert value(ctx, "await 1; s") == 2


def test_top_level_await_with_a_file_name_reports_its_lines(ctx: V8Context) -> None:
    outcome = run(ctx, "await null;\nconst q = 1;\nthrow new Error('x')", filename="app.js")
    assert outcome.exception is not None
    assert "app.js:3" in outcome.exception["stack"]


def test_bigint_results_from_any_last_expression(ctx: V8Context) -> None:
    run(ctx, "var big = 2n ** 64n")
    outcome = run(ctx, "const b2 = big; b2")
    assert outcome.value == {"type": "bigint", "preview": str(2**64), "inspect": f"{2**64}n"}
    assert run(ctx, "await 1; 7n").value == {"type": "bigint", "preview": "7", "inspect": "7n"}


def test_a_large_input_awaiting_at_top_level_is_transformed_when_v8_refuses_it(
    ctx: V8Context,
) -> None:
    filler = "\n".join(f"var filler{i} = {i};" for i in range(3000))
    assert len(filler) > TRANSFORM_MAX_CHARS
    code = filler + "\nconst late = await Promise.resolve(5);\nlate + filler2999"
    assert value(ctx, code) == 3004
    assert value(ctx, "late") == 5


def test_a_large_input_without_top_level_await_runs_as_a_plain_script(ctx: V8Context) -> None:
    filler = "\n".join(f"var pad{i} = {i};" for i in range(3000))
    assert not needs_transform(filler + "\nlet plain = 1")
    assert run(ctx, filler + "\nlet plain = 1").kind == "ok"
    assert value(ctx, "plain") == 1


def test_a_hashbang_file_may_await_at_top_level(ctx: V8Context) -> None:
    code = "#!/usr/bin/env node\nconst v = await Promise.resolve(3);\nv * 2"
    assert value(ctx, code, filename="tool.js") == 6
