"""The `inspect` field and console.log share one formatter in the style of Node's util.inspect."""

from __future__ import annotations

import pytest

from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run


def inspected(ctx: V8Context, code: str) -> str:
    outcome = run(ctx, code)
    assert outcome.kind == "ok", (outcome.kind, outcome.exception, outcome.message)
    assert outcome.value is not None
    return str(outcome.value["inspect"])


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("({a:1,b:[1,2]})", "{ a: 1, b: [ 1, 2 ] }"),
        ("[[1, 2], [3, 4]]", "[ [ 1, 2 ], [ 3, 4 ] ]"),
        ("new Map([[1,2]])", "Map(1) { 1 => 2 }"),
        ("new Set([1, 2])", "Set(2) { 1, 2 }"),
        ("10n", "10n"),
        ("Symbol('x')", "Symbol(x)"),
        ("(function f() {})", "[Function: f]"),
        ("(() => {})", "[Function (anonymous)]"),
        ("(async function af() {})", "[AsyncFunction: af]"),
        ("class Foo {}; Foo", "[class Foo]"),
        ("class Bar extends Array {}; Bar", "[class Bar extends Array]"),
        ("class Foo2 { constructor() { this.x = 1 } }; new Foo2()", "Foo2 { x: 1 }"),
        ("new Date(0)", "1970-01-01T00:00:00.000Z"),
        ("'it\\'s'", '"it\'s"'),
        ("[1, , 3]", "[ 1, <1 empty item>, 3 ]"),
        ("({'a-b': 1, [Symbol('s')]: 2})", "{ 'a-b': 1, [Symbol(s)]: 2 }"),
        ("({get g() { return 1 }, set s(v) {}})", "{ g: [Getter], s: [Setter] }"),
        ("Object.create(null)", "[Object: null prototype] {}"),
        ("new Uint8Array([1, 2])", "Uint8Array(2) [ 1, 2 ]"),
        ("/a+/g", "/a+/g"),
        ("-0", "-0"),
        ("new WeakMap()", "WeakMap { <items unknown> }"),
        ("({a: {b: {c: {d: 1}}}})", "{ a: { b: { c: [Object] } } }"),
    ],
)
def test_node_style(ctx: V8Context, code: str, expected: str) -> None:
    assert inspected(ctx, code) == expected


def test_circular_references_are_numbered(ctx: V8Context) -> None:
    code = "const o = {name: 'o'}; o.self = o; o.list = [o]; o"
    assert (
        inspected(ctx, code)
        == "<ref *1> { name: 'o', self: [Circular *1], list: [ [Circular *1] ] }"
    )


def test_errors_show_their_stack(ctx: V8Context) -> None:
    text = inspected(ctx, "new TypeError('bad')")
    assert text.startswith("TypeError: bad\n    at ")


def test_long_collections_are_cut_with_a_count(ctx: V8Context) -> None:
    text = inspected(ctx, "Array.from({length: 150}, (_, i) => i)")
    assert text.endswith("... 50 more items\n]")
    assert inspected(ctx, "new Set(Array.from({length: 101}, (_, i) => i))").endswith(
        "... 1 more item\n}"
    )


def test_long_number_arrays_are_grouped_in_columns_like_node(ctx: V8Context) -> None:
    assert inspected(ctx, "Array.from({length: 30}, (_, i) => i)") == (
        "[\n"
        "   0,  1,  2,  3,  4,  5,  6,  7,  8,\n"
        "   9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
        "  18, 19, 20, 21, 22, 23, 24, 25, 26,\n"
        "  27, 28, 29\n"
        "]"
    )


def test_long_objects_break_over_lines(ctx: V8Context) -> None:
    text = inspected(ctx, "({alpha: 'a'.repeat(30), beta: 'b'.repeat(30), gamma: 1})")
    assert text == (
        "{\n  alpha: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',\n  beta: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',\n"
        "  gamma: 1\n}"
    )


def test_console_log_uses_the_same_formatter(ctx: V8Context) -> None:
    sink = Sink()
    code = "const v = {m: new Map([[1, [1, 2]]]), n: 10n}; console.log(v); v"
    outcome = run(ctx, code, sink=sink)
    assert outcome.value is not None
    assert sink.texts == [outcome.value["inspect"]] == ["{ m: Map(1) { 1 => [ 1, 2 ] }, n: 10n }"]


def test_getters_are_not_called(ctx: V8Context) -> None:
    sink = Sink()
    code = "globalThis.calls = 0; console.log({get g() { calls++; return 1 }})"
    run(ctx, code, sink=sink)
    assert sink.texts == ["{ g: [Getter] }"]
    outcome = run(ctx, "calls")
    assert outcome.value is not None and outcome.value["json"] == 0


def test_preview_keeps_string_of_value(ctx: V8Context) -> None:
    outcome = run(ctx, "[1, [2, 3]]")
    assert outcome.value is not None
    assert (outcome.value["preview"], outcome.value["inspect"]) == ("1,2,3", "[ 1, [ 2, 3 ] ]")
    outcome = run(ctx, "'text'")
    assert outcome.value is not None
    assert (outcome.value["preview"], outcome.value["inspect"]) == ("text", "'text'")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("new Map()", "map"),
        ("new Set()", "set"),
        ("(() => 1)", "function"),
        ("1n", "bigint"),
        ("Symbol()", "symbol"),
        ("new Date()", "date"),
        ("new Error()", "error"),
        ("[]", "array"),
        ("({})", "object"),
    ],
)
def test_type_tells_kinds_apart(ctx: V8Context, code: str, kind: str) -> None:
    outcome = run(ctx, code)
    assert outcome.value is not None and outcome.value["type"] == kind


def test_a_promise_result_shows_its_state_without_being_awaited(ctx: V8Context) -> None:
    assert inspected(ctx, "Promise.resolve(1)") == "Promise { 1 }"
    assert inspected(ctx, "(async () => ({a: 1}))()") == "Promise { { a: 1 } }"
    assert inspected(ctx, "new Promise(() => {})") == "Promise { <pending> }"
    # A rejected one is also an unhandled rejection (watching it does not handle it): the
    # execution fails with it, and the exception keeps the input's result, as Node's REPL
    # prints both.
    outcome = run(ctx, "Promise.reject(new Error('x'))")
    assert outcome.exception is not None and outcome.exception["unhandled"] is True
    rejected = outcome.exception["result"]["inspect"]
    assert rejected.startswith("Promise {\n  <rejected> Error: x\n      at ")
    # Promises inside a value were not watched: their state is not known.
    assert inspected(ctx, "[Promise.resolve(2)]") == "[ Promise { <state unknown> } ]"
