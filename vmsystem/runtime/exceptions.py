"""Exception payloads from the engine's error text.

mini-racer reports an uncaught exception as text:
``<file>:<line>: <first line of String(e)>\n<source line>\n<caret>\n\n<e.stack>\n``;
the stack part is missing when the thrown value is not an Error.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["parse_exception"]

_HEADER = re.compile(r"^(?P<where>[^\n]*?:\d+): (?P<message>[^\n]*)")
_NAMED = re.compile(r"^(?P<name>[A-Za-z_$][\w$]*): ?(?P<message>.*)$", re.DOTALL)


def parse_exception(text: str, syntax: bool = False) -> dict[str, Any]:
    """The ``{name, message, stack?}`` payload of an uncaught exception."""
    header, _, stack = text.partition("\n\n")
    stack = stack.rstrip("\n")
    if stack:
        head, sep, _frames = stack.partition("\n    at ")
        named = _NAMED.match(head)
        if named:
            payload: dict[str, Any] = {"name": named["name"], "message": named["message"]}
            if sep or not syntax:
                payload["stack"] = stack
            else:
                where = _HEADER.match(header)
                payload["stack"] = f"{stack}\n    at {where['where']}" if where else stack
            return payload
    match = _HEADER.match(header)
    message = match["message"] if match else header.strip()
    payload = {"name": "Uncaught", "message": message}
    if match:
        payload["stack"] = f"Uncaught {message}\n    at {match['where']}"
    return payload
