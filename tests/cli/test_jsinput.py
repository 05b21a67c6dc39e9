"""The REPL's client-side heuristic for incomplete JavaScript input."""

from __future__ import annotations

import pytest

from vmsystem.cli.jsinput import is_incomplete


@pytest.mark.parametrize(
    "code",
    [
        "function f() {",
        "foo(1,",
        "[1, 2",
        "const o = {\n  a: 1,",
        "`line one",
        "`a ${ {x: 1}.x",
        "/* a comment",
        "1 +",
        "a.",
        "x =>",
        "cond ?",
        "'continued \\",
        "if (x) {\n  // } not a closer\n",
    ],
)
def test_incomplete_inputs_ask_for_more(code: str) -> None:
    assert is_incomplete(code)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "1 + 41",
        "function f() { return 1 }",
        "i++",
        "i--",
        "`a ${1 + 1} b`",
        "'({['",
        '"a // b"',
        "x // trailing comment (",
        "/* ( */ 1",
        "f())",
        "'unterminated",
        "for (let i = 0; i < 3; i++) console.log(i)",
        "const f = () => {\n  return 2\n}",
    ],
)
def test_complete_inputs_are_sent(code: str) -> None:
    assert not is_incomplete(code)
