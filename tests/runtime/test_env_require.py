"""process.env, __ARGS__, require() of configured modules and the synchronous host bridge."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from vmsystem.runtime import HostError
from vmsystem.runtime.v8 import V8Context

from .conftest import run, value

ECHO_MODULE = """function (hostCall, name) {
  return {
    echo: (x) => hostCall('echo', [x]),
    fail: (kind) => hostCall('fail', [kind]),
    name: name,
  };
}"""


@pytest.fixture
def calls() -> list[list[Any]]:
    return []


@pytest.fixture
def mod_ctx(make_ctx: Callable[..., V8Context], calls: list[list[Any]]) -> V8Context:
    def echo(args: list[Any]) -> Any:
        calls.append(args)
        return args[0]

    def fail(args: list[Any]) -> Any:
        if args[0] == "type":
            raise HostError("nope", "TypeError")
        if args[0] == "host":
            raise HostError("plain host error")
        if args[0] == "weird-name":
            raise HostError("odd", "NotAnError")
        raise ValueError("boom")

    return make_ctx(
        modules={"m": ECHO_MODULE},
        host_functions={"m.echo": echo, "m.fail": fail},
    )


# ---------------------------------------------------------------- process.env and args
def test_process_env_is_only_the_configured_env(
    make_ctx: Callable[..., V8Context], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VMSYSTEM_DAEMON_SECRET", "must-not-leak")
    ctx = make_ctx(env={"APP_MODE": "test", "EMPTY": ""})
    assert value(ctx, "process.env") == {"APP_MODE": "test", "EMPTY": ""}
    assert value(ctx, "Object.keys(process.env)") == ["APP_MODE", "EMPTY"]
    assert value(ctx, "typeof process.env.VMSYSTEM_DAEMON_SECRET") == "undefined"
    assert value(ctx, "typeof process.env.PATH") == "undefined"
    assert value(ctx, "JSON.stringify(process)").find("must-not-leak") == -1


def test_default_env_is_empty(ctx: V8Context) -> None:
    assert value(ctx, "process.env") == {}


def test_process_env_cannot_be_changed_by_user_code(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(env={"A": "1"})
    assert value(ctx, "process.env.A = 'changed'; process.env.B = '2'; process.env") == {"A": "1"}
    assert value(ctx, "Object.isFrozen(process.env)") is True


def test_per_run_env_applies_to_that_run_only(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(env={"A": "1", "B": "base"})
    assert value(ctx, "process.env", env={"B": "run", "C": "3"}) == {"A": "1", "B": "run", "C": "3"}
    assert value(ctx, "process.env") == {"A": "1", "B": "base"}
    assert value(ctx, "process.env", env={}) == {"A": "1", "B": "base"}


def test_per_run_env_is_reset_after_failures(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(env={"A": "1"})
    assert run(ctx, "throw new Error(process.env.X)", env={"X": "x"}).kind == "exception"
    assert value(ctx, "process.env") == {"A": "1"}


def test_args_become_the_args_global(ctx: V8Context) -> None:
    args = {"n": 3, "list": [1, "two"], "nested": {"ok": True}, "text": "héllo 😀"}
    assert value(ctx, "__ARGS__", args=args) == args
    assert value(ctx, "__ARGS__.n * 2", args={"n": 21}) == 42


def test_env_and_args_together(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(env={"A": "1"})
    code = "[process.env.A, process.env.B, __ARGS__.k]"
    assert value(ctx, code, args={"k": "v"}, env={"B": "2"}) == ["1", "2", "v"]


# ---------------------------------------------------------------- require
def test_require_of_an_unconfigured_module_throws_invalid_module(ctx: V8Context) -> None:
    for name in ["fs", "child_process", "m", "../etc/passwd", ""]:
        outcome = run(ctx, f"require({name!r})")
        assert outcome.kind == "exception"
        assert outcome.exception is not None
        assert outcome.exception["name"] == "Error"
        assert "Invalid module" in outcome.exception["message"]


def test_require_error_is_catchable(ctx: V8Context) -> None:
    assert value(ctx, "try { require('fs') } catch (e) { e instanceof Error && e.message }") == (
        'Invalid module "fs": not configured for this session\'s template'
    )


def test_configured_module_gets_its_name_and_is_cached(mod_ctx: V8Context) -> None:
    assert value(mod_ctx, "require('m').name") == "m"
    assert value(mod_ctx, "require('m') === require('m')") is True
    assert value(mod_ctx, "Object.isFrozen(require('m'))") is True


def test_host_function_round_trips_values(mod_ctx: V8Context, calls: list[list[Any]]) -> None:
    assert value(mod_ctx, "const m = require('m'); m.echo('hi')") == "hi"
    assert calls == [["hi"]]
    assert value(mod_ctx, "m.echo({a: [1, null, true], b: 1.5})") == {
        "a": [1, None, True],
        "b": 1.5,
    }
    assert value(mod_ctx, "m.echo(null)") is None
    assert value(mod_ctx, "m.echo(undefined) === null") is True


@pytest.mark.parametrize(
    "text",
    ["", "plain ascii", "héllo wörld", "emoji 😀🎉 and 𝄞", "中文 русский עברית", 'quote " \\ \n\t'],
)
def test_host_function_round_trips_unicode(
    mod_ctx: V8Context, calls: list[list[Any]], text: str
) -> None:
    run(mod_ctx, "var m = require('m')")
    outcome = run(mod_ctx, "var got = m.echo(__ARGS__.t); got === __ARGS__.t", args={"t": text})
    assert outcome.value == {"type": "boolean", "preview": "true", "inspect": "true", "json": True}
    assert calls[-1] == [text]
    assert value(mod_ctx, "got") == text


def test_host_function_round_trips_lone_surrogates(
    mod_ctx: V8Context, calls: list[list[Any]]
) -> None:
    code = """
    var m = require('m');
    const odd = ['\\ud800', 'a\\udc00b', '\\udbff\\udbff', 'x\\ud83d'];
    odd.map((s) => m.echo(s) === s)
    """
    assert value(mod_ctx, code) == [True, True, True, True]
    assert [c[0] for c in calls] == ["\ud800", "a\udc00b", "\udbff\udbff", "x\ud83d"]


@pytest.mark.parametrize("size_mib", [1.5, 3])
def test_host_function_round_trips_large_payloads(
    mod_ctx: V8Context, calls: list[list[Any]], size_mib: float
) -> None:
    # The mailbox holds 512 Ki UTF-16 units: these go through several chunks in both directions.
    units = int(size_mib * 1024 * 1024)
    code = f"""
    var m = require('m');
    const piece = (i) => String(i % 10) + '😀ab\\u00e9xy';   // 8 UTF-16 units
    var big = Array.from({{length: {units} / 8}}, (_, i) => piece(i)).join('');
    const back = m.echo(big);
    [back.length, back === big]
    """
    assert value(mod_ctx, code) == [units, True]
    assert len(calls[-1][0].encode("utf-16-le")) // 2 == units


def test_large_structured_payload(mod_ctx: V8Context) -> None:
    code = """
    var m = require('m');
    const rows = Array.from({length: 20000}, (_, i) => ({id: i, name: 'row ' + i, tags: ['a']}));
    const back = m.echo(rows);
    back.length === rows.length && back[19999].name === 'row 19999'
    """
    assert value(mod_ctx, code) is True


def test_many_host_calls(mod_ctx: V8Context) -> None:
    code = "var m = require('m'); let s = 0; for (let i = 0; i < 2000; i++) s += m.echo(i); s"
    assert value(mod_ctx, code) == sum(range(2000))


def test_host_error_with_js_name_is_a_catchable_type_error(mod_ctx: V8Context) -> None:
    code = """
    var m = require('m');
    try { m.fail('type'); 'not thrown' } catch (e) { [e instanceof TypeError, e.name, e.message] }
    """
    assert value(mod_ctx, code) == [True, "TypeError", "nope"]


def test_uncaught_host_error_is_an_exception_outcome(mod_ctx: V8Context) -> None:
    outcome = run(mod_ctx, "require('m').fail('type')")
    assert outcome.kind == "exception"
    assert outcome.exception is not None
    assert outcome.exception["name"] == "TypeError"
    assert outcome.exception["message"] == "nope"


def test_host_error_defaults_to_error(mod_ctx: V8Context) -> None:
    code = "try { require('m').fail('host') } catch (e) { [e.constructor === Error, e.message] }"
    assert value(mod_ctx, code) == [True, "plain host error"]
    code = (
        "try { require('m').fail('weird-name') } catch (e) { [e.constructor === Error, e.message] }"
    )
    assert value(mod_ctx, code) == [True, "odd"]


def test_other_python_exceptions_surface_as_error(mod_ctx: V8Context) -> None:
    code = "try { require('m').fail('other') } catch (e) { [e.constructor === Error, e.message] }"
    assert value(mod_ctx, code) == [True, "ValueError: boom"]


def test_unknown_host_function_is_an_error(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(
        modules={"m": "function (hostCall) { return { nope: () => hostCall('nope', []) } }"}
    )
    code = "try { require('m').nope() } catch (e) { e.message }"
    assert "unknown host function 'm.nope'" in value(ctx, code)


def test_unserializable_host_result_is_an_error(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(
        modules={"m": "function (hostCall) { return { obj: () => hostCall('obj', []) } }"},
        host_functions={"m.obj": lambda args: object()},
    )
    assert "TypeError" in value(ctx, "try { require('m').obj() } catch (e) { e.message }")


def test_host_calls_from_two_contexts_in_parallel(make_ctx: Callable[..., V8Context]) -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def echo(args: list[Any]) -> Any:
        with lock:
            seen.append(threading.current_thread().name)
        return args[0]

    ctxs = [make_ctx(modules={"m": ECHO_MODULE}, host_functions={"m.echo": echo}) for _ in range(2)]
    results: list[Any] = [None, None]

    def work(i: int) -> None:
        code = (
            f"var m = require('m'); let s = ''; for (let i = 0; i < 300; i++) s = m.echo('c{i}'); s"
        )
        results[i] = run(ctxs[i], code).value

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [
        {"type": "string", "preview": "c0", "inspect": "'c0'", "json": "c0"},
        {"type": "string", "preview": "c1", "inspect": "'c1'", "json": "c1"},
    ]
    assert len(seen) == 600


def test_user_code_can_replace_json_without_breaking_host_calls(mod_ctx: V8Context) -> None:
    code = """
    var m = require('m');
    JSON.stringify = () => '"forged"';
    JSON.parse = () => 'forged';
    m.echo('real')
    """
    assert value(mod_ctx, code) == "real"
