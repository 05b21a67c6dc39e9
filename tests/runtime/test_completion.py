"""Completion in the real V8 runtime: globals, REPL bindings, keywords, properties along the
prototype chain, and never a user getter, Proxy trap or other side effect."""

from __future__ import annotations

import threading

import pytest

from vmsystem.runtime import EngineBusy
from vmsystem.runtime.v8 import V8Context

from .conftest import LIMITS, Sink, run, value


def matches(ctx: V8Context, code: str, cursor: int | None = None) -> list[str]:
    return list(ctx.complete(code, len(code) if cursor is None else cursor).matches)


def test_a_global_property_path_completes_with_its_span(ctx: V8Context) -> None:
    done = ctx.complete("x = Math.ma", 11)
    assert "max" in done.matches and "min" not in done.matches
    assert (done.cursor_start, done.cursor_end) == (9, 11)


def test_repl_bindings_and_keywords_complete_as_plain_words(ctx: V8Context) -> None:
    run(ctx, "const myVar = 1; let myOther = {deep: {inner: 1}}; class MyClass {}")
    assert {"myVar", "myOther"} <= set(matches(ctx, "my"))
    assert matches(ctx, "MyCl") == ["MyClass"]
    assert "typeof" in matches(ctx, "typ")
    assert matches(ctx, "myOther.deep.in") == ["inner"]
    assert matches(ctx, "") == []


def test_properties_come_from_the_whole_prototype_chain(ctx: V8Context) -> None:
    run(ctx, "class Base { baseMethod() {} }; class Kid extends Base { kidMethod() {} }")
    run(ctx, "const kid = new Kid(); kid.ownField = 1")
    found = matches(ctx, "kid.")
    assert {"ownField", "kidMethod", "baseMethod", "hasOwnProperty"} <= set(found)
    assert matches(ctx, "'text'.toUpp") == []  # a literal is not evaluated
    run(ctx, "const s = 'text'")
    assert "toUpperCase" in matches(ctx, "s.toUpp")


def test_the_cursor_may_sit_inside_the_code(ctx: V8Context) -> None:
    done = ctx.complete("Math.ma(1, 2)", 7)
    assert "max" in done.matches and (done.cursor_start, done.cursor_end) == (5, 7)


def test_completion_never_calls_a_getter_a_proxy_trap_or_a_function(ctx: V8Context) -> None:
    run(
        ctx,
        "globalThis.calls = 0;"
        "const risky = { get boom() { calls++; throw new Error('getter ran') }, safe: 1 };"
        "const trapped = new Proxy({}, { ownKeys() { calls++; return [] },"
        " getOwnPropertyDescriptor() { calls++ }, getPrototypeOf() { calls++; return null } });"
        "const revoked = Proxy.revocable({a: 1}, { ownKeys() { calls++; return [] } }).proxy;"
        "function sideEffect() { calls++; return {x: 1} }",
    )
    assert {"boom", "safe"} <= set(matches(ctx, "risky."))
    assert matches(ctx, "risky.boom.") == []
    assert matches(ctx, "trapped.") == []
    assert matches(ctx, "revoked.") == []
    assert matches(ctx, "sideEffect().") == []
    assert value(ctx, "calls") == 0
    assert value(ctx, "new Proxy({a: 1}, {}).a") == 1, "Proxy still works"
    assert value(ctx, "typeof Proxy") == "function"


def test_completion_is_refused_while_code_runs_and_works_after(ctx: V8Context) -> None:
    sink = Sink()
    worker = threading.Thread(
        target=lambda: ctx.run("console.log('go'); while (true) {}", limits=LIMITS, sink=sink)
    )
    worker.start()
    try:
        assert sink.got_line.wait(30)
        with pytest.raises(EngineBusy):
            ctx.complete("Math.ma", 7)
    finally:
        ctx.cancel()
        worker.join(30)
    assert "max" in matches(ctx, "Math.ma")
