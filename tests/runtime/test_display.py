"""display(): MIME bundles out of the isolate, checked and counted like console output."""

from __future__ import annotations

import json
from collections.abc import Callable

from vmsystem.runtime.display import bundle_of, bundle_text
from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run


def _bundles(ctx: V8Context, code: str) -> list[dict[str, object]]:
    sink = Sink()
    outcome = run(ctx, code, sink=sink)
    assert outcome.kind == "ok", (outcome.kind, outcome.exception, outcome.message)
    return [json.loads(text) for level, text, _ts in sink.lines if level == "display"]


def test_a_bundle_of_mime_types_is_recorded_as_given(ctx: V8Context) -> None:
    code = "display({'image/svg+xml': '<svg/>', 'text/plain': 'chart'})"
    assert _bundles(ctx, code) == [{"image/svg+xml": "<svg/>", "text/plain": "chart"}]


def test_any_other_value_is_shown_as_its_inspect_text(ctx: V8Context) -> None:
    assert _bundles(ctx, "display([1, 'a']); display(new Map([[1, 2]]))") == [
        {"text/plain": "[ 1, 'a' ]"},
        {"text/plain": "Map(1) { 1 => 2 }"},
    ]


def test_the_display_symbol_supplies_a_bundle_and_text_plain_is_always_there(
    ctx: V8Context,
) -> None:
    code = (
        "class Chart { [Symbol.for('Jupyter.display')]() { return {'text/html': '<i>c</i>'} } }"
        "; display(new Chart())"
    )
    (bundle,) = _bundles(ctx, code)
    assert bundle["text/html"] == "<i>c</i>"
    assert bundle["text/plain"] == "Chart {}"


def test_the_display_symbol_also_gives_a_result_its_bundle(ctx: V8Context) -> None:
    outcome = run(ctx, "({[Symbol.for('Jupyter.display')]() { return {'text/markdown': '# t'} }})")
    assert outcome.kind == "ok"
    assert outcome.value is not None
    assert outcome.value["display"]["text/markdown"] == "# t"
    plain = run(ctx, "({a: 1})")
    assert plain.value is not None and "display" not in plain.value


def test_a_malformed_bundle_throws_a_type_error_in_js(ctx: V8Context) -> None:
    for code in (
        "display({'text/html': 42})",
        "display({[Symbol.for('Jupyter.display')]() { return 'x' }})",
        "display({[Symbol.for('Jupyter.display')]() { return {'not a mime': 'x'} }})",
    ):
        outcome = run(ctx, code)
        assert outcome.kind == "exception", code
        assert outcome.exception is not None and outcome.exception["name"] == "TypeError"


def test_display_output_counts_against_the_output_limit(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(max_output_kb=1)
    outcome = run(ctx, "display({'text/html': 'x'.repeat(2000), 'text/plain': 'big'})")
    assert outcome.kind == "output_limit"


def test_the_host_accepts_only_well_formed_bundles() -> None:
    assert bundle_of('{"text/plain": "a", "application/json": {"k": [1]}}') == {
        "text/plain": "a",
        "application/json": {"k": [1]},
    }
    for bad in (
        "[]",
        "{}",
        '{"text/html": "a"}',
        '{"text/plain": 1}',
        '{"x": "a", "text/plain": "a"}',
        "{",
    ):
        assert bundle_text(bad) is None, bad


def test_a_result_reads_its_display_method_once(ctx: V8Context) -> None:
    code = (
        "globalThis.reads = 0; const v = {};"
        " Object.defineProperty(v, Symbol.for('Jupyter.display'),"
        " { get() { reads++; return () => ({'text/html': '<b>x</b>'}) } }); v"
    )
    outcome = run(ctx, code)
    assert outcome.kind == "ok", outcome
    assert outcome.value is not None and outcome.value["display"]["text/html"] == "<b>x</b>"
    reads = run(ctx, "reads").value
    assert reads is not None and reads["json"] == 1
