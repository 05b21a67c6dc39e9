"""The fidelity contract: what vm-system shows is what Node 20 shows, value for value.

Node (a build dependency of the runtime bundles) runs the corpus of
:mod:`tests.runtime.fidelity.corpus` through its own ``util.inspect`` and a real REPL
(``fidelity/node_reference.js``); the real V8 engine runs the same programs and inputs, and the
texts are compared. Stack frames of values are left out (Node's include its own internals), and
a REPL input's file name is ``<anonymous>`` here where Node says ``REPL<n>``. The accepted
differences are ``corpus.ACCEPTED``, each documented in docs/runtime.md.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vmsystem.runtime import Outcome
from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run
from .fidelity.corpus import ACCEPTED, SEQUENCES, VALUES

HERE = Path(__file__).parent / "fidelity"
_FRAME = re.compile(r"^ *at .*\n?", re.MULTILINE)
_REPL_FILE = re.compile(r"\bREPL\d+:")


@pytest.fixture(scope="module")
def node() -> dict[str, Any]:
    """Node's texts for the whole corpus (one run of node_reference.js)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    corpus = json.dumps({"values": VALUES, "sequences": SEQUENCES})
    done = subprocess.run(
        ["node", str(HERE / "node_reference.js")],
        input=corpus,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def shared(engine: Any) -> Iterator[V8Context]:
    """One context for all values (as one Node process evaluates them all)."""
    from vmsystem.runtime import ContextOptions

    ctx = engine.create_context(ContextOptions())
    yield ctx
    ctx.close()


def shown(outcome: Outcome, sink: Sink) -> str:
    """What a REPL shows for one input: its console lines, then the result or `Uncaught ...`
    (both, when an unhandled rejection surfaced after the input's last line: the exception
    event then carries the input's ``result``, as the CLI's REPL prints it)."""
    parts = list(sink.texts)
    if outcome.value is not None:
        parts.append(str(outcome.value["inspect"]))
    if outcome.exception is not None and isinstance(outcome.exception.get("result"), dict):
        parts.append(str(outcome.exception["result"]["inspect"]))
    if outcome.exception is not None:
        parts.append("Uncaught " + str(outcome.exception.get("inspect", "")))
    elif outcome.kind != "ok":
        parts.append(f"[{outcome.kind}] {outcome.message}")
    return "\n".join(parts)


def value_text(ctx: V8Context, code: str, options: dict[str, Any] | None) -> str:
    if options is None:
        sink = Sink()
        outcome = run(ctx, code, sink=sink)
        if outcome.kind == "ok" and outcome.value is not None:
            return str(outcome.value["inspect"])
        return "THREW " + shown(outcome, sink)
    sink = Sink()
    program = f"console.dir((0, eval)({json.dumps(code)}), {json.dumps(options)})"
    outcome = run(ctx, program, sink=sink)
    assert outcome.kind == "ok", (outcome.kind, outcome.exception, outcome.message)
    return "\n".join(sink.texts)


def without_frames(text: str) -> str:
    return _FRAME.sub("", text)


def accepted(key: str | int) -> list[Any]:
    reason = ACCEPTED.get(key)
    return [pytest.mark.xfail(reason=reason, strict=True)] if reason else []


@pytest.mark.parametrize(
    ("code", "options"),
    [pytest.param(code, options, marks=accepted(code)) for code, options in VALUES],
)
def test_value_is_shown_as_node_shows_it(
    node: dict[str, Any],
    shared: V8Context,
    code: str,
    options: dict[str, Any] | None,
) -> None:
    expected = node["values"][VALUES.index((code, options))]
    assert without_frames(value_text(shared, code, options)) == without_frames(expected)


@pytest.mark.parametrize(
    "index", [pytest.param(i, marks=accepted(i)) for i in range(len(SEQUENCES))]
)
def test_repl_sequence_prints_what_node_prints(
    node: dict[str, Any], make_ctx: Callable[..., V8Context], index: int
) -> None:
    ctx = make_ctx()
    expected = [_REPL_FILE.sub("<anonymous>:", text) for text in node["sequences"][index]]
    got = []
    for source in SEQUENCES[index]:
        sink = Sink()
        got.append(shown(run(ctx, source, sink=sink), sink))
    assert got == expected


def test_corpus_is_as_large_as_the_contract_says() -> None:
    assert len(VALUES) >= 120
    assert len(SEQUENCES) >= 50
