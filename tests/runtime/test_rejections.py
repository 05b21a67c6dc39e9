"""Unhandled promise rejections, seen through V8's own rejection hook (runtime/rejections.py):
reported once the microtasks of a task have run, as Node reports them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vmsystem.runtime import OutcomeKind
from vmsystem.runtime.rejections import available
from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run, value


def test_the_engine_library_exports_the_rejection_hook() -> None:
    assert available()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("Promise.reject(new Error('x')); 1", "x"),
        ("async function f() { throw new Error('async') }; f(); 1", "async"),
        ("(async () => { await null; throw new Error('after await') })(); 1", "after await"),
        ("new Promise((_, reject) => reject(new Error('executor'))); 1", "executor"),
        ("Promise.reject(new Error('derived')).then((x) => x); 1", "derived"),
        ("Promise.all([Promise.reject(new Error('all'))]); 1", "all"),
        ("setTimeout(() => { Promise.reject(new Error('in a timer')) }, 5); 1", "in a timer"),
        (
            "queueMicrotask(() => { Promise.reject(new Error('in a microtask')) }); 1",
            "in a microtask",
        ),
        # Rejections made by the runtime's own APIs (dynamic import, Web Crypto).
        ("import('not-a-module'); 1", None),
        ("crypto.subtle.digest('NOT-A-HASH', new Uint8Array(1)); 1", None),
    ],
)
def test_an_unhandled_rejection_fails_the_run_marked_unhandled(
    ctx: V8Context, code: str, message: str | None
) -> None:
    outcome = run(ctx, code)
    assert outcome.kind is OutcomeKind.EXCEPTION
    assert outcome.exception is not None
    assert outcome.exception["unhandled"] is True
    if message is not None:
        assert outcome.exception["message"] == message
        assert outcome.exception["inspect"].startswith(f"Error: {message}")
    # The input's own result is kept: the rejection surfaced after its last line.
    assert outcome.exception["result"]["inspect"] == "1"
    assert value(ctx, "'the session goes on'") == "the session goes on"


@pytest.mark.parametrize(
    "code",
    [
        "Promise.reject(new Error('x')).catch(() => {}); 1",
        "const p = Promise.reject(new Error('x')); p.then(null, () => {}); 1",
        "(async () => { try { await Promise.reject(new Error('x')) } catch {} })(); 1",
        # Handled by a promise callback of the same tick: not unhandled yet, as in Node.
        "const q = Promise.reject(new Error('x')); Promise.resolve().then(() => q.catch(f)); 1",
        "Promise.allSettled([Promise.reject(new Error('x'))]); 1",
        "Promise.any([Promise.reject(new Error('x')), Promise.resolve(2)]); 1",
    ],
)
def test_a_handled_rejection_is_not_reported(ctx: V8Context, code: str) -> None:
    run(ctx, "function f() {}")
    outcome = run(ctx, code)
    assert outcome.kind is OutcomeKind.OK, outcome.exception
    assert outcome.value is not None and outcome.value["inspect"] == "1"


def test_a_rejected_top_level_await_is_the_runs_error_not_an_unhandled_one(
    ctx: V8Context,
) -> None:
    outcome = run(ctx, "await Promise.reject(new Error('awaited'))")
    assert outcome.exception is not None
    assert outcome.exception["message"] == "awaited"
    assert "unhandled" not in outcome.exception


def test_a_rejected_promise_result_is_shown_and_reported(ctx: V8Context) -> None:
    # Node's REPL prints `Promise { <rejected> 1 }` and then `Uncaught 1`.
    outcome = run(ctx, "Promise.reject(1)")
    assert outcome.exception is not None
    assert outcome.exception["inspect"] == "1"
    assert outcome.exception["unhandled"] is True
    assert outcome.exception["result"]["inspect"] == "Promise { <rejected> 1 }"


def test_a_rejection_handled_after_its_report_is_not_reported_again(ctx: V8Context) -> None:
    first = run(ctx, "globalThis.p = Promise.reject(new Error('once')); 1")
    assert first.exception is not None and first.exception["message"] == "once"
    # Handling it later (Node's rejectionHandled) neither reports it again nor fails the run.
    later = run(ctx, "p.catch(() => {}); 2")
    assert later.kind is OutcomeKind.OK
    assert run(ctx, "3").kind is OutcomeKind.OK


def test_the_first_unhandled_rejection_ends_the_run_and_drops_its_timers(
    ctx: V8Context,
) -> None:
    sink = Sink()
    code = (
        "Promise.reject(new Error('first')); Promise.reject(new Error('second')); "
        "setTimeout(() => console.log('never'), 50); 1"
    )
    outcome = run(ctx, code, sink=sink)
    assert outcome.exception is not None and outcome.exception["message"] == "first"
    assert sink.texts == []
    # The dropped timer does not fire in the next run either.
    waited = "await new Promise((r) => setTimeout(r, 100)); 'waited'"
    assert value(ctx, waited, sink=sink) == "waited"
    assert sink.texts == []


def test_a_throw_ends_the_run_before_rejections_are_read(ctx: V8Context) -> None:
    outcome = run(ctx, "Promise.reject(new Error('a')); throw new Error('b')")
    assert outcome.exception is not None and outcome.exception["message"] == "b"
    assert "unhandled" not in outcome.exception
    # Nothing of that run is reported by the next one.
    assert run(ctx, "1").kind is OutcomeKind.OK


def test_warn_mode_prints_a_warning_and_the_run_goes_on(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(unhandled_rejections="warn")
    sink = Sink()
    code = (
        "Promise.reject(new Error('w1')); Promise.reject({code: 2}); "
        "setTimeout(() => console.log('timer ran'), 5); 'done'"
    )
    outcome = run(ctx, code, sink=sink)
    assert outcome.kind is OutcomeKind.OK
    assert outcome.value is not None and outcome.value["inspect"] == "'done'"
    assert sink.texts == [
        "UnhandledPromiseRejectionWarning: Error: w1",
        "UnhandledPromiseRejectionWarning: { code: 2 }",
        "timer ran",
    ]
    assert [line[0] for line in sink.lines[:2]] == ["warn", "warn"]


def test_many_caught_rejections_are_all_accounted_for(ctx: V8Context) -> None:
    code = "for (let i = 0; i < 2000; i++) Promise.reject(i).catch(() => {}); 'ok'"
    outcome = run(ctx, code)
    assert outcome.kind is OutcomeKind.OK, outcome.exception
    assert run(ctx, "Promise.reject(new Error('after many')); 1").exception is not None


def test_each_session_has_its_own_hook(make_ctx: Callable[..., V8Context]) -> None:
    a, b = make_ctx(), make_ctx()
    run(a, "globalThis.pa = Promise.reject(new Error('in a')).catch(() => {}); 1")
    outcome = run(b, "Promise.reject(new Error('in b')); 1")
    assert outcome.exception is not None and outcome.exception["message"] == "in b"
    assert run(a, "1").kind is OutcomeKind.OK
    a.close()
    # A session created after one was disposed (its isolate's address may be reused).
    c = make_ctx()
    outcome = run(c, "Promise.reject(new Error('in c')); 1")
    assert outcome.exception is not None and outcome.exception["message"] == "in c"


def test_promises_keep_their_identity_and_subclasses_are_tracked(ctx: V8Context) -> None:
    # The hook is V8's: Promise itself is not replaced or wrapped.
    checks = (
        "const p = Promise.resolve(1); class Sub extends Promise {}; "
        "[p instanceof Promise, Promise.resolve(p) === p, "
        "Object.getPrototypeOf((async () => {})()) === Promise.prototype, "
        "Promise.prototype.then.toString().includes('[native code]'), "
        "Sub.resolve(1) instanceof Sub, (async () => {})() instanceof Promise]"
    )
    assert value(ctx, checks) == [True] * 6
    outcome = run(ctx, "class Mine extends Promise {}; Mine.reject(new Error('sub')); 1")
    assert outcome.exception is not None and outcome.exception["message"] == "sub"
    assert outcome.exception["unhandled"] is True


def test_a_run_file_reports_an_unhandled_rejection_with_its_file(ctx: V8Context) -> None:
    code = "async function main() {\n  throw new Error('in main')\n}\nmain()\n"
    outcome = run(ctx, code, filename="app.js")
    assert outcome.exception is not None and outcome.exception["unhandled"] is True
    assert "app.js:2:9" in outcome.exception["stack"]
