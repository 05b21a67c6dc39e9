"""Readable text for people (on a terminal) next to the original's lines for scripts."""

from __future__ import annotations

import pytest

from vmsystem.cli import output
from vmsystem.cli.output import error_text, event_text, excerpt, value_text

from .conftest import Run
from .fake_daemon import FakeDaemon


def event(kind: str, **payload: object) -> dict[str, object]:
    return {"seq": 1, "type": kind, "payload": payload}


def test_console_events_read_as_their_text() -> None:
    assert event_text(event("console", level="log", text="0")) == "0"
    assert event_text(event("console", level="error", text="a\nb")) == "a\nb"


def test_display_events_read_as_their_plain_text() -> None:
    shown = event("display", data={"image/svg+xml": "<svg/>", "text/plain": "chart"}, metadata={})
    assert event_text(shown) == "chart"


def test_values_prefer_the_inspect_form() -> None:
    assert value_text({"type": "object", "preview": "[object Object]", "inspect": "{ a: 1 }"}) == (
        "{ a: 1 }"
    )
    assert value_text({"type": "number", "preview": "42", "json": 42}) == "42"
    assert event_text(event("value", type="number", preview="42")) == "=> 42"


def test_stacks_keep_their_newlines() -> None:
    error = {"name": "Error", "message": "boom", "stack": "Error: boom\n    at <anonymous>:1:7"}
    assert error_text(error) == "Error: boom\n    at <anonymous>:1:7"
    assert error_text({"name": "Error", "message": "boom"}) == "Error: boom"
    assert error_text({"code": "WALL_TIME_EXCEEDED", "message": "wall-time limit"}) == (
        "WALL_TIME_EXCEEDED: wall-time limit"
    )
    assert event_text(event("exception", **error)).startswith("Uncaught Error: boom\n    at ")


def test_echoed_input_and_system_events() -> None:
    assert event_text(event("input_echo", text="f(\n1)")) == "> f(\n... 1)"
    shown = event_text(event("system", level="error", code="CANCELLED", message="cancelled"))
    assert shown == "[error] CANCELLED: cancelled"


def test_excerpt_is_one_line() -> None:
    assert excerpt("a\n  b\tc", 40) == "a b c"
    assert excerpt("x" * 50, 10) == "xxxxxxx..."
    assert excerpt(None, 10) == ""


def test_repl_block_on_a_terminal_is_readable(
    run: Run, daemon: FakeDaemon, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    tid = run("template", "create", "--name", "t").stdout.split("(ID: ")[1][:-2]
    out = run("session", "create", "--template-id", tid, "--worktree-path", str(tmp_path)).stdout
    sid = out.split()[2]
    monkeypatch.setattr(output, "_is_terminal", lambda: True)
    lines = run("exec", "repl", sid, 'console.log("hi"); 1 + 2').stdout.splitlines()
    assert lines[1:] == [  # the value once: the event shows it, the summary does not repeat it
        "Status: ok",
        "",
        "Events:",
        '> console.log("hi"); 1 + 2',
        "hi",
        "=> 3",
    ]
    monkeypatch.setattr(output, "_is_terminal", lambda: False)
    piped = run("exec", "repl", sid, "1 + 2").stdout.splitlines()
    expected = 'Result: {"type":"number","preview":"3","inspect":"3","json":3}'
    assert piped[2] == expected, "scripts see JSON"


def test_a_lone_surrogate_is_printed_as_its_escape() -> None:
    """A JavaScript string may hold a lone surrogate (the API's JSON carries it as
    ``\\ud800``): stdout cannot encode it, so it is printed as that escape."""
    import subprocess
    import sys

    code = (
        "from vmsystem.cli.output import compact, echo\n"
        "echo('a\\ud800b')\n"
        "echo(compact({'json': '\\udc00'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env={"PYTHONIOENCODING": "utf-8", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert done.stdout == b'a\\ud800b\n{"json":"\\udc00"}\n'
