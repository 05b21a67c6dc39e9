"""Uncaught exceptions become ``{name, message, stack?}`` payloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vmsystem.runtime.v8 import V8Context

from .conftest import run, value


def exception(ctx: V8Context, code: str, **kwargs: Any) -> dict[str, Any]:
    outcome = run(ctx, code, **kwargs)
    assert outcome.kind == "exception", (outcome.kind, outcome.value, outcome.message)
    assert outcome.value is None
    assert outcome.exception is not None
    return outcome.exception


def test_error(ctx: V8Context) -> None:
    exc = exception(ctx, "throw new Error('boom')")
    assert exc["name"] == "Error"
    assert exc["message"] == "boom"
    assert exc["stack"].startswith("Error: boom\n    at ")


def test_type_error_with_stack_frames(ctx: V8Context) -> None:
    exc = exception(
        ctx, "function inner() { return null.prop }\nfunction outer() { inner() }\nouter()"
    )
    assert exc["name"] == "TypeError"
    assert "null" in exc["message"]
    assert "at inner" in exc["stack"]
    assert "at outer" in exc["stack"]


def test_multiline_message(ctx: V8Context) -> None:
    exc = exception(ctx, "throw new Error('line one\\nline two')")
    assert exc["message"] == "line one\nline two"


def test_syntax_error(ctx: V8Context) -> None:
    exc = exception(ctx, "let x = ;")
    assert exc["name"] == "SyntaxError"
    assert "Unexpected token" in exc["message"]


def test_a_syntax_error_carries_the_line_and_column_v8_located_it_at(ctx: V8Context) -> None:
    first = exception(ctx, "let x = ;")
    assert (first["line"], first["column"]) == (1, 9)
    second = exception(ctx, "const a = 1;\nconst b = {a: 1,, }")
    assert (second["line"], second["column"]) == (2, 17)
    in_file = exception(ctx, "\n\nfunction (", filename="/wt/broken.js")
    assert (in_file["line"], in_file["column"]) == (3, 1)


def test_only_a_syntax_error_carries_a_location(ctx: V8Context) -> None:
    thrown = exception(ctx, "null.prop")
    assert "line" not in thrown and "column" not in thrown


def test_syntax_error_names_the_file(ctx: V8Context) -> None:
    exc = exception(ctx, "\n\nfunction (", filename="/wt/broken.js")
    assert exc["name"] == "SyntaxError"
    assert "/wt/broken.js:3" in exc["stack"]


def test_reference_error(ctx: V8Context) -> None:
    exc = exception(ctx, "missingName + 1")
    assert exc == {
        "name": "ReferenceError",
        "message": "missingName is not defined",
        "inspect": "ReferenceError: missingName is not defined",
        "stack": exc["stack"],
    }


def test_throw_of_non_error_values(ctx: V8Context) -> None:
    assert exception(ctx, "throw 42")["message"] == "42"
    assert exception(ctx, "throw 'plain text'")["message"] == "plain text"
    assert exception(ctx, "throw {code: 7}")["message"] == "[object Object]"
    assert exception(ctx, "throw null")["message"] == "null"
    exc = exception(ctx, "throw 42")
    assert exc["name"] == "Uncaught"
    assert "Error" not in exc["stack"]


def test_custom_error_class(ctx: V8Context) -> None:
    code = """
    class ValidationError extends Error {
      constructor(field) {
        super(field + ' is invalid'); this.name = 'ValidationError'; this.field = field
      }
    }
    function check() { throw new ValidationError('email') }
    check()
    """
    exc = exception(ctx, code)
    assert exc["name"] == "ValidationError"
    assert exc["message"] == "email is invalid"
    assert exc["stack"].startswith("ValidationError: email is invalid\n")
    assert "at check" in exc["stack"]


def test_error_subclass_without_own_name(ctx: V8Context) -> None:
    exc = exception(ctx, "class Oops extends TypeError {}; throw new Oops('x')")
    assert exc["name"] == "TypeError"
    assert exc["message"] == "x"


def test_filename_appears_in_stack(ctx: V8Context) -> None:
    code = "function thrower() {\n  throw new TypeError('bad thing')\n}\nthrower()"
    exc = exception(ctx, code, filename="/wt/src/app.js")
    assert "at thrower (/wt/src/app.js:2:9)" in exc["stack"]
    assert "/wt/src/app.js:4:1" in exc["stack"]


def test_without_filename_stack_says_anonymous(ctx: V8Context) -> None:
    assert "<anonymous>" in exception(ctx, "throw new Error('x')")["stack"]


def test_exception_from_a_callback(ctx: V8Context) -> None:
    exc = exception(ctx, "[1, 2].map((x) => { if (x > 1) throw new RangeError('too big: ' + x) })")
    assert exc["name"] == "RangeError"
    assert exc["message"] == "too big: 2"


def test_caught_exception_is_not_an_outcome(ctx: V8Context) -> None:
    assert value(ctx, "try { null.x } catch (e) { e.name }") == "TypeError"


def test_context_works_after_exceptions(ctx: V8Context) -> None:
    for _ in range(5):
        exception(ctx, "throw new Error('again')")
    assert value(ctx, "1 + 1") == 2


def test_error_with_lone_surrogate_in_message(ctx: V8Context) -> None:
    exc = exception(ctx, "throw new Error('bad \\ud800 char')")
    assert exc["name"] == "Error"
    exc["message"].encode("utf-8")


def test_stack_overflow_is_a_range_error(ctx: V8Context) -> None:
    exc = exception(ctx, "function f() { return f() }; f()")
    assert exc["name"] == "RangeError"
    assert "call stack" in exc["message"]
    assert value(ctx, "2") == 2


def test_strict_mode_exceptions(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(strict=True)
    exc = exception(ctx, "undeclared = 1")
    assert exc["name"] == "ReferenceError"
