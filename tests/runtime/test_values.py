"""Value payloads of a successful run (SPEC section 2: ``{type, preview, inspect, json?}``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vmsystem.runtime.v8 import V8Context

from .conftest import run


def payload(ctx: V8Context, code: str) -> dict[str, object]:
    outcome = run(ctx, code)
    assert outcome.kind == "ok", (outcome.kind, outcome.exception, outcome.message)
    assert outcome.value is not None
    return outcome.value


def test_number_payload_is_exactly_type_preview_inspect_json(ctx: V8Context) -> None:
    assert payload(ctx, "20+22") == {"type": "number", "preview": "42", "inspect": "42", "json": 42}


def test_float_and_negative_numbers(ctx: V8Context) -> None:
    assert payload(ctx, "1.5") == {
        "type": "number",
        "preview": "1.5",
        "inspect": "1.5",
        "json": 1.5,
    }
    assert payload(ctx, "-7") == {"type": "number", "preview": "-7", "inspect": "-7", "json": -7}


def test_string_preview_has_no_quotes(ctx: V8Context) -> None:
    assert payload(ctx, "'hello ' + 'world'") == {
        "type": "string",
        "preview": "hello world",
        "inspect": "'hello world'",
        "json": "hello world",
    }


def test_undefined_has_no_json_key(ctx: V8Context) -> None:
    undefined = {"type": "undefined", "preview": "undefined", "inspect": "undefined"}
    assert payload(ctx, "undefined") == undefined
    assert payload(ctx, "var declared = 1") == undefined
    assert payload(ctx, "let declaredToo = 1") == undefined


def test_null(ctx: V8Context) -> None:
    assert payload(ctx, "null") == {
        "type": "null",
        "preview": "null",
        "inspect": "null",
        "json": None,
    }


@pytest.mark.parametrize(("code", "expected"), [("true", True), ("1 > 2", False)])
def test_boolean(ctx: V8Context, code: str, expected: bool) -> None:
    assert payload(ctx, code) == {
        "type": "boolean",
        "preview": str(expected).lower(),
        "inspect": str(expected).lower(),
        "json": expected,
    }


def test_array(ctx: V8Context) -> None:
    assert payload(ctx, "[1, 'a', null, [2]]") == {
        "type": "array",
        "preview": "1,a,,2",
        "inspect": "[ 1, 'a', null, [ 2 ] ]",
        "json": [1, "a", None, [2]],
    }


def test_object(ctx: V8Context) -> None:
    assert payload(ctx, "({a: 1, b: {c: 'x'}})") == {
        "type": "object",
        "preview": "[object Object]",
        "inspect": "{ a: 1, b: { c: 'x' } }",
        "json": {"a": 1, "b": {"c": "x"}},
    }


def test_date_preview_is_string_of_date_and_json_is_iso(ctx: V8Context) -> None:
    value = payload(ctx, "new Date(0)")
    assert value["type"] == "date"
    assert value["preview"] == payload(ctx, "String(new Date(0))")["preview"]
    assert value["json"] == "1970-01-01T00:00:00.000Z"
    assert value["inspect"] == "1970-01-01T00:00:00.000Z"


def test_invalid_date_has_null_json(ctx: V8Context) -> None:
    assert payload(ctx, "new Date(NaN)") == {
        "type": "date",
        "preview": "Invalid Date",
        "inspect": "Invalid Date",
        "json": None,
    }


def test_error_value(ctx: V8Context) -> None:
    value = payload(ctx, "new RangeError('out of range')")
    assert value["type"] == "error"
    assert value["preview"] == "RangeError: out of range"
    assert str(value["inspect"]).startswith("RangeError: out of range\n    at ")


def test_function_has_no_json(ctx: V8Context) -> None:
    assert payload(ctx, "(function add(a, b) { return a + b })") == {
        "type": "function",
        "preview": "function add(a, b) { return a + b }",
        "inspect": "[Function: add]",
    }
    assert payload(ctx, "(x) => x")["type"] == "function"
    assert payload(ctx, "class K {}; K") == {
        "type": "function",
        "preview": "class K {}",
        "inspect": "[class K]",
    }


def test_symbol_has_no_json(ctx: V8Context) -> None:
    assert payload(ctx, "Symbol('tag')") == {
        "type": "symbol",
        "preview": "Symbol(tag)",
        "inspect": "Symbol(tag)",
    }


def test_bigint_type_without_json(ctx: V8Context) -> None:
    assert payload(ctx, "10n ** 20n") == {
        "type": "bigint",
        "preview": str(10**20),
        "inspect": f"{10**20}n",
    }
    assert payload(ctx, "10n") == {"type": "bigint", "preview": "10", "inspect": "10n"}


def test_bigint_from_a_statement_that_is_not_an_expression_is_typed(ctx: V8Context) -> None:
    # mini-racer cannot marshal a BigInt completion value; the REPL transform hands over the
    # last expression's value, but not an if statement's: only the type is known then.
    value = payload(ctx, "if (true) { 5n }")
    assert value["type"] == "bigint"
    assert "json" not in value


def test_bigint_inside_object_drops_json_but_keeps_preview(ctx: V8Context) -> None:
    assert payload(ctx, "({n: 1n})") == {
        "type": "object",
        "preview": "[object Object]",
        "inspect": "{ n: 1n }",
    }
    assert payload(ctx, "String(2n ** 70n)")["json"] == str(2**70)


@pytest.mark.parametrize("code", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_have_no_json(ctx: V8Context, code: str) -> None:
    assert payload(ctx, code) == {"type": "number", "preview": code, "inspect": code}


def test_circular_object_has_no_json(ctx: V8Context) -> None:
    assert payload(ctx, "var o = {name: 'loop'}; o.self = o; o") == {
        "type": "object",
        "preview": "[object Object]",
        "inspect": "<ref *1> { name: 'loop', self: [Circular *1] }",
    }


def test_object_with_throwing_tostring_still_reports(ctx: V8Context) -> None:
    value = payload(ctx, "({toString() { throw new Error('no') }, a: 1})")
    assert value["type"] == "object"
    assert value["json"] == {"a": 1}
    assert "a: 1" in str(value["preview"])


def test_tojson_is_honoured(ctx: V8Context) -> None:
    assert payload(ctx, "({toJSON() { return 'custom' }})")["json"] == "custom"


def test_map_set_and_typed_array_payloads(ctx: V8Context) -> None:
    assert payload(ctx, "new Map([[1, 2]])") == {
        "type": "map",
        "preview": "[object Map]",
        "inspect": "Map(1) { 1 => 2 }",
        "json": {},
    }
    assert payload(ctx, "new Set([1, 2])") == {
        "type": "set",
        "preview": "[object Set]",
        "inspect": "Set(2) { 1, 2 }",
        "json": {},
    }
    assert payload(ctx, "new Uint8Array([1, 2])") == {
        "type": "object",
        "preview": "1,2",
        "inspect": "Uint8Array(2) [ 1, 2 ]",
        "json": {"0": 1, "1": 2},
    }


def test_promise_value(ctx: V8Context) -> None:
    assert payload(ctx, "Promise.resolve(1)") == {
        "type": "object",
        "preview": "[object Promise]",
        "inspect": "Promise { 1 }",
        "json": {},
    }


def test_string_with_lone_surrogate_keeps_it(ctx: V8Context) -> None:
    value = payload(ctx, "'a\\ud800b'")
    assert value["type"] == "string"
    assert value["preview"] == "a\ud800b" and value["json"] == "a\ud800b"
    assert value["inspect"] == "'a\\ud800b'"  # shown escaped


def test_json_of_lone_surrogate_inside_object_keeps_it(ctx: V8Context) -> None:
    value = payload(ctx, "({s: 'x\\udc00', pair: '\\ud83d\\ude00'})")
    assert value["json"] == {"s": "x\udc00", "pair": "\U0001f600"}


def test_unicode_and_emoji_round_trip(ctx: V8Context) -> None:
    assert payload(ctx, "'héllo 😀 世界'") == {
        "type": "string",
        "preview": "héllo 😀 世界",
        "inspect": "'héllo 😀 世界'",
        "json": "héllo 😀 世界",
    }


def test_large_json_over_output_budget_is_dropped_but_preview_stays(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(max_output_kb=1)
    value = payload(ctx, "'x'.repeat(5000)")
    assert value["type"] == "string"
    assert value["preview"] == "x" * 5000
    assert "json" not in value
