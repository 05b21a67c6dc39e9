"""What the global object holds: nothing of the harness beyond console, require and process."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from py_mini_racer import MiniRacer

from vmsystem.runtime.v8 import V8Context

from .conftest import run, value

OWN_NAMES = "Reflect.ownKeys(globalThis).map(String)"


#: What the prelude adds to plain V8's globals: the host's (require, process), the event loop's,
#: the web APIs V8 lacks, and the REPL transform's helper (a registered symbol).
ADDED = {
    "require",
    "global",
    "Buffer",
    "display",
    "_",
    "_error",
    "$vmT",
    "$vmR",
    "CryptoKey",
    "process",
    "setTimeout",
    "setInterval",
    "clearTimeout",
    "clearInterval",
    "queueMicrotask",
    "URL",
    "URLSearchParams",
    "TextEncoder",
    "TextDecoder",
    "EventTarget",
    "Event",
    "AbortController",
    "AbortSignal",
    "DOMException",
    "structuredClone",
    "atob",
    "btoa",
    "crypto",
    "performance",
    "Symbol(vm-system.modules)",
}


def test_globals_differ_from_plain_v8_by_the_prelude_additions(ctx: V8Context) -> None:
    ours = set(value(ctx, OWN_NAMES))
    plain = MiniRacer()  # the same V8, without our prelude
    try:
        baseline = set(json.loads(str(plain.eval(f"JSON.stringify({OWN_NAMES})"))))
    finally:
        plain.close()
    baseline -= {
        "setTimeout",
        "clearTimeout",
        "__timer_manager",
    }  # MiniRacer's Python API adds these
    assert ours - baseline == ADDED
    assert baseline - ours == {"WebAssembly"}
    assert "console" in ours


def test_no_bridge_internals_are_reachable(ctx: V8Context) -> None:
    names = value(ctx, OWN_NAMES)
    suspicious = re.compile(
        r"^(__vm|_|bell$|sab$|mailbox|hostcall|finish|begin|prelude|internal)", re.IGNORECASE
    )
    # `_` and `_error` are Node's REPL variables (the last result and the last thrown value).
    assert [n for n in names if suspicious.search(n) and n not in ("_", "_error")] == []
    code = """
    const found = [];
    for (const [name, obj] of [['console', console], ['process', process], ['require', require]]) {
      for (const key of Reflect.ownKeys(obj)) found.push(name + '.' + String(key));
    }
    found
    """
    assert value(ctx, code) == [
        *(
            f"console.{name}"
            for name in [
                "log",
                "info",
                "debug",
                "warn",
                "error",
                "dirxml",
                "trace",
                "dir",
                "table",
                "group",
                "groupCollapsed",
                "groupEnd",
                "count",
                "countReset",
                "time",
                "timeEnd",
                "timeLog",
                "assert",
            ]
        ),
        "process.env",
        "require.length",
        "require.name",
        "require.prototype",
    ]


def test_prelude_globals_are_not_enumerable(ctx: V8Context) -> None:
    assert value(ctx, "Object.keys(globalThis)") == []
    run(ctx, "var mine = 1")
    assert value(ctx, "Object.keys(globalThis)") == ["mine"]


def test_webassembly_is_absent(ctx: V8Context) -> None:
    assert value(ctx, "typeof WebAssembly") == "undefined"
    outcome = run(ctx, "WebAssembly.Memory")
    assert outcome.kind == "exception"
    assert outcome.exception is not None and outcome.exception["name"] == "ReferenceError"


def test_standard_builtins_are_present(ctx: V8Context) -> None:
    code = "[typeof JSON, typeof Math, typeof Date, typeof Intl, typeof Promise, typeof BigInt]"
    assert value(ctx, code) == ["object", "object", "function", "object", "function", "function"]
    assert value(ctx, "[1, 2, 3].findLast((x) => x < 3)") == 2
    assert value(ctx, "Object.groupBy([1, 2, 3], (x) => x % 2 ? 'odd' : 'even')") == {
        "odd": [1, 3],
        "even": [2],
    }


def test_hidden_globals_are_removed(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(hidden_globals=("Intl", "SharedArrayBuffer", "Atomics", "eval"))
    assert value(ctx, "[typeof Intl, typeof SharedArrayBuffer, typeof Atomics, typeof eval]") == [
        "undefined",
        "undefined",
        "undefined",
        "undefined",
    ]
    # What the harness needs keeps working without them.
    assert value(ctx, "new Uint8Array([1, 2]).length") == 2
    assert value(ctx, "console.log('%d', 1); 'ok'") == "ok"


def test_hidden_unknown_global_is_harmless(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(hidden_globals=("NoSuchGlobal",))
    assert value(ctx, "1") == 1


def test_strict_mode_throws_on_undeclared_assignment(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(strict=True)
    outcome = run(ctx, "undeclared = 1")
    assert outcome.kind == "exception"
    assert outcome.exception is not None
    assert outcome.exception["name"] == "ReferenceError"
    assert outcome.exception["message"] == "undeclared is not defined"
    assert value(ctx, "(function () { return this })()") is None


def test_strict_mode_keeps_completion_values(make_ctx: Callable[..., V8Context]) -> None:
    ctx = make_ctx(strict=True)
    assert run(ctx, '"x"').value == {
        "type": "string",
        "preview": "x",
        "inspect": "'x'",
        "json": "x",
    }
    assert run(ctx, "var a = 1").value == {
        "type": "undefined",
        "preview": "undefined",
        "inspect": "undefined",
    }
    assert run(ctx, "a + 1").value == {"type": "number", "preview": "2", "inspect": "2", "json": 2}
    assert run(ctx, "'use strict'").value == {
        "type": "string",
        "preview": "use strict",
        "inspect": "'use strict'",
        "json": "use strict",
    }
    assert run(ctx, "if (true) { 5 }").value == {
        "type": "number",
        "preview": "5",
        "inspect": "5",
        "json": 5,
    }
    assert run(ctx, "").value == {
        "type": "undefined",
        "preview": "undefined",
        "inspect": "undefined",
    }


def test_sloppy_mode_by_default(ctx: V8Context) -> None:
    assert value(ctx, "sloppyGlobal = 3; sloppyGlobal") == 3
    assert value(ctx, "(function () { return typeof this })()") == "object"


def test_every_global_function_and_class_keeps_its_name(ctx: V8Context) -> None:
    # Loading every lazy global first: the web APIs and Buffer come from minified bundles.
    code = """
    const names = Object.getOwnPropertyNames(globalThis);
    for (const k of names) void globalThis[k];
    const wrong = [];
    for (const k of Object.getOwnPropertyNames(globalThis)) {
      const v = globalThis[k];
      if (typeof v === 'function' && v.name !== k) wrong.push(k + ' is named ' + v.name);
    }
    [wrong, new URL('https://a.example/').constructor.name, TextEncoder.name,
     typeof Buffer, Buffer.name, global === globalThis]
    """
    assert value(ctx, code) == [[], "URL", "TextEncoder", "function", "Buffer", True]
