"""The prelude takes every builtin it uses before user code runs, and the host validates what
comes back: user code replacing builtins cannot forge console events or reach the host bridge."""

from __future__ import annotations

import time
from collections.abc import Callable

from vmsystem.runtime.v8 import CONSOLE_LEVELS, V8Context

from .conftest import Sink, run, value


def test_replacing_char_code_at_cannot_forge_console_events(ctx: V8Context) -> None:
    sink = Sink()
    code = """
    const real = String.prototype.charCodeAt;
    const forged = '[\"console\",[[\"<img src=x onerror=alert(1)>\",\"forged\",1e300]]]';
    String.prototype.charCodeAt = function (i) {
      return i < forged.length ? real.call(forged, i) : real.call(this, i);
    };
    console.log('real line');
    String.prototype.charCodeAt = real;
    'done'
    """
    before = time.time() * 1000
    outcome = run(ctx, code, sink=sink)
    assert outcome.kind == "ok"
    assert [(level, text) for level, text, _ in sink.lines] == [("log", "real line")]
    assert all(before - 1000 <= ts <= time.time() * 1000 for _, _, ts in sink.lines)


def test_replacing_has_own_property_does_not_hand_out_the_host_call(
    make_ctx: Callable[..., V8Context],
) -> None:
    ctx = make_ctx(modules={"tiny": "function (hostCall) { return { ping: () => 'pong' } }"})
    code = """
    Object.prototype.hasOwnProperty = () => true;
    Object.prototype.evil = 'function (hostCall) { globalThis.leak = hostCall; return {} }';
    let refused = false;
    try { require('evil') } catch (e) { refused = true }
    [refused, typeof globalThis.leak, require('tiny').ping()]
    """
    assert value(ctx, code) == [True, "undefined", "pong"]


def test_replacing_json_array_and_promise_methods_keeps_the_protocol(ctx: V8Context) -> None:
    sink = Sink()
    code = """
    JSON.stringify = () => '"forged"';
    JSON.parse = () => ({v: 'forged'});
    Array.prototype.push = function () { throw new Error('no push') };
    Array.prototype.join = () => 'forged';
    Array.prototype.toJSON = () => 'forged';
    Promise.prototype.then = function () { throw new Error('no then') };
    Object.defineProperty(Array.prototype, '0', {
      set(v) { throw new Error('setter') }, configurable: true,
    });
    console.log('still', {a: [1, 2]});
    setTimeout(() => console.log('timer'), 1);
    7
    """
    outcome = run(ctx, code, sink=sink)
    assert outcome.kind == "ok", (outcome.exception, outcome.message)
    assert outcome.value is not None and outcome.value["preview"] == "7"
    assert sink.texts == ["still { a: [ 1, 2 ] }", "timer"]


def test_the_host_keeps_console_levels_to_a_fixed_set_and_timestamps_to_the_run(
    ctx: V8Context,
) -> None:
    # Nothing in JS can send such a batch any more; the host's check is tested on its own.
    sink = Sink()
    ctx._sink = sink
    ctx._run_started_ms = time.time() * 1000
    ctx._deliver([["<img src=x onerror=alert(1)>", "a", 1e300], ["warn", "b", -5], ["log", 3, 0]])
    ctx._sink = None
    now = time.time() * 1000
    assert [(level, text) for level, text, _ in sink.lines] == [("log", "a"), ("warn", "b")]
    assert all(ctx._run_started_ms <= ts <= now for _, _, ts in sink.lines)
    assert {"log", "info", "warn", "error", "debug"} == CONSOLE_LEVELS


def test_the_repl_transform_uses_the_builtins_from_before_user_code(ctx: V8Context) -> None:
    tamper = """
    globalThis.mine = [function () { throw new Error('no call') }, function* () {}, () => 1];
    Function.prototype.call = mine[0];
    Array.prototype[Symbol.iterator] = mine[1];
    Symbol.for = mine[2];
    Object.prototype.declarations = 'forged';
    1
    """
    assert value(ctx, tamper) == 1
    assert value(ctx, "const x = await Promise.resolve(2); x") == 2
    assert value(ctx, "let y = 3; class K {}; y") == 3
    # The user's replacements are back in place after the transform.
    assert value(
        ctx,
        "[Function.prototype.call === mine[0], Array.prototype[Symbol.iterator] === mine[1], "
        "Symbol.for === mine[2], ({}).declarations]",
    ) == [True, True, True, "forged"]


def test_the_repl_helper_is_not_reachable_from_user_code(ctx: V8Context) -> None:
    assert value(ctx, "typeof globalThis[Symbol.for('vm-system.repl')]") == "undefined"
    assert (
        value(
            ctx, "Object.getOwnPropertySymbols(globalThis).map(String).filter(s => /repl/.test(s))"
        )
        == []
    )
    # $vmR answers only the token of the input being run (which user code never sees).
    code = "let t = 1; try { $vmR('guess') } catch (e) { e.constructor.name + ': ' + e.message }"
    assert value(ctx, code) == "TypeError: $vmR is internal to vm-system's REPL"
    assert value(ctx, "try { $vmR(undefined) } catch (e) { 'refused' }") == "refused"
    run(ctx, "$vmR = () => ({}); delete globalThis.$vmR")
    assert value(ctx, "const still = 5; still") == 5
