"""Whether a REPL input is an incomplete JavaScript statement (so the prompt asks for more).

Decided client-side, without a round trip to the daemon, by a deliberately simple heuristic:

- an open ``(``, ``[`` or ``{`` (also the ``${`` of a template literal),
- an open template literal (backticks), an open ``/* ...`` comment,
- a ``'...'`` or ``"..."`` string whose line ends with a backslash (a line continuation),
- or a trailing binary operator or separator (``+ - * / % & | ^ ! = < > ? : , .``; but
  ``x++`` and ``x--`` are complete).

Quotes and brackets inside comments and strings are skipped. Unbalanced closing brackets and
an unterminated plain string count as complete: the engine then reports the SyntaxError.
Regular-expression literals are not parsed, so a regex holding a lone bracket or quote may be
misjudged; an empty line always sends the input as it is.
"""

from __future__ import annotations

__all__ = ["is_incomplete"]

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = set(_OPENERS.values())
#: Characters that cannot end a complete statement.
_TRAILING_OPERATORS = set("+-*/%&|^!=<>?:,.~")
_TEMPLATE = "`"
_SUBSTITUTION = "${"


def is_incomplete(code: str) -> bool:
    """Whether ``code`` needs more lines before it is worth evaluating (see the module doc)."""
    stack: list[str] = []
    last = ""  # the last significant characters outside comments and whitespace
    i, n = 0, len(code)
    while i < n:
        c = code[i]
        top = stack[-1] if stack else ""
        if top == _TEMPLATE:
            if c == "\\":
                i += 2
                continue
            if c == "`":
                stack.pop()
                last = "`"
            elif code.startswith("${", i):
                stack.append(_SUBSTITUTION)
                i += 2
                continue
            i += 1
            continue
        if code.startswith("//", i):
            end = code.find("\n", i)
            i = n if end < 0 else end
            continue
        if code.startswith("/*", i):
            end = code.find("*/", i + 2)
            if end < 0:
                return True
            i = end + 2
            continue
        if c in "'\"":
            j = i + 1
            while j < n and code[j] != c and code[j] != "\n":
                j += 2 if code[j] == "\\" else 1
            if j >= n:
                # Open at the end: only a trailing backslash continues it on the next line.
                return code.endswith("\\")
            if code[j] == "\n":
                return False  # a newline inside a plain string: the engine's SyntaxError
            last = c
            i = j + 1
            continue
        if c == "`":
            stack.append(_TEMPLATE)
        elif c in _OPENERS:
            stack.append(_OPENERS[c])
        elif c in _CLOSERS:
            if top == c or (c == "}" and top == _SUBSTITUTION):
                stack.pop()
            else:
                return False  # unbalanced: let the engine report it
        if not c.isspace():
            last = (last + c)[-2:]
        i += 1
    if stack:
        return True
    if last in ("++", "--"):
        return False
    return bool(last) and last[-1] in _TRAILING_OPERATORS
