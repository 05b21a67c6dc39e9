"""Exception payloads from the engine's error text.

mini-racer reports an uncaught exception as text:
``<file>:<line>: <first line of String(e)>\n<source line>\n<caret>\n\n<e.stack>\n``;
the stack part is missing when the thrown value is not an Error. A SyntaxError's payload
carries the ``line`` and ``column`` (both from 1) V8 located it at: its caret's first ``^``.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["clean_stack", "parse_exception", "user_stack"]

_HEADER = re.compile(r"^(?P<where>[^\n]*?:\d+): (?P<message>[^\n]*)")
_NAMED = re.compile(r"^(?P<name>[A-Za-z_$][\w$]*): ?(?P<message>.*)$", re.DOTALL)
_FRAME = re.compile(r"^\s+at ")
_TOP_LEVEL_FRAME = re.compile(r"^\s+at (async )?[^ ()]*:\d+:\d+$")
_PRELUDE_FRAME = re.compile(r"\bvm-system:")
_LINE = re.compile(r":(?P<line>\d+)$")


def clean_stack(stack: str) -> str:
    """``stack`` without the prelude's frames (the stack of an exception event)."""
    lines = stack.split("\n")
    return "\n".join(
        line for line in lines if not (_FRAME.match(line) and _PRELUDE_FRAME.search(line))
    )


def user_stack(stack: str) -> str:
    """``stack`` with only the user's frames, as Node's REPL shows it: the frames of the
    input's own top level and below (the REPL wrapper) and the prelude's are removed (the
    same rule as ``userStack`` in js/prelude/3-inspect.js)."""
    lines = stack.split("\n")
    first = next((i for i, line in enumerate(lines) if _FRAME.match(line)), len(lines))
    end = len(lines)
    for i in range(len(lines) - 1, first - 1, -1):
        if _TOP_LEVEL_FRAME.match(lines[i]):
            end = i
            break
    return "\n".join(
        line for i, line in enumerate(lines[:end]) if i < first or not _PRELUDE_FRAME.search(line)
    )


def syntax_location(header: str) -> dict[str, int]:
    """``{line, column}`` (both from 1) of a SyntaxError from the header of the engine's text
    (``<file>:<line>: message``, the source line, the caret line); empty when it has none."""
    lines = header.split("\n")
    where = _HEADER.match(lines[0])
    line = _LINE.search(where["where"]) if where else None
    if line is None or len(lines) < 3 or "^" not in lines[2]:
        return {}
    return {"line": int(line["line"]), "column": lines[2].index("^") + 1}


def parse_exception(text: str, syntax: bool = False) -> dict[str, Any]:
    """The ``{name, message, inspect, stack?}`` payload of an uncaught exception (``inspect``:
    what Node's REPL prints after "Uncaught "); a SyntaxError's (``syntax``) has ``line`` and
    ``column`` too."""
    header, _, stack = text.partition("\n\n")
    stack = stack.rstrip("\n")
    payload = _payload(header, stack, syntax)
    if syntax:
        payload.update(syntax_location(header))
    return payload


def _payload(header: str, stack: str, syntax: bool) -> dict[str, Any]:
    if stack:
        head, sep, _frames = stack.partition("\n    at ")
        named = _NAMED.match(head)
        if named:
            payload: dict[str, Any] = {"name": named["name"], "message": named["message"]}
            if sep or not syntax:
                payload["stack"] = clean_stack(stack)
                payload["inspect"] = user_stack(stack)
            else:
                where = _HEADER.match(header)
                payload["stack"] = f"{stack}\n    at {where['where']}" if where else stack
                payload["inspect"] = stack
            return payload
    match = _HEADER.match(header)
    message = match["message"] if match else header.strip()
    payload = {"name": "Uncaught", "message": message, "inspect": message}
    if match:
        payload["stack"] = f"Uncaught {message}\n    at {match['where']}"
    return payload
