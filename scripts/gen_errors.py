"""Write the core's and the SDK's error classes from ``vmsystem/errorcodes.py``
(``python scripts/gen_errors.py``).

With ``--check``, write nothing and exit 1 when either generated module is out of date.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path

from vmsystem.errorcodes import ERROR_CODES, ErrorCode

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "vmsystem" / "core" / "errors.py"
CLIENT = ROOT / "vmsystem" / "client" / "errors.py"
WIDTH = 100

GENERATED = (
    "Generated from the table in ``vmsystem/errorcodes.py`` by ``python scripts/gen_errors.py``:"
    " edit the table (or the hand-written bases in ``{base}``), not this file."
)


def _children(parent: str | None) -> list[ErrorCode]:
    return [row for row in ERROR_CODES if row.parent == parent]


def _tree(label: Callable[[ErrorCode], str], indent: str) -> list[str]:
    """The rows as a tree under the root, each row's label aligned in one column."""
    lines: list[tuple[str, ErrorCode]] = []

    def walk(parent: str | None, prefix: str) -> None:
        rows = _children(parent)
        for i, row in enumerate(rows):
            last = i == len(rows) - 1
            lines.append((f"{prefix}{'└── ' if last else '├── '}{row.name}", row))
            walk(row.name, prefix + ("    " if last else "│   "))

    walk(None, indent)
    column = max(len(text) for text, _ in lines) + 1
    return [f"{text.ljust(column)}{label(row)}".rstrip() for text, row in lines]


def _docstring(text: str, indent: str = "    ") -> list[str]:
    """A docstring wrapped to the line length (the closing quotes on the last line when they
    fit)."""
    lines = textwrap.wrap(text, WIDTH - 3, initial_indent=f'{indent}"""', subsequent_indent=indent)
    if len(lines[-1]) + 3 <= WIDTH:
        lines[-1] += '"""'
    else:
        lines.append(f'{indent}"""')
    return lines


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH)


def _all(names: Iterable[str]) -> list[str]:
    # ruff's RUF022 order: SCREAMING_CASE first, then CamelCase, then the rest
    def key(name: str) -> tuple[int, str]:
        if name.isupper():
            return (0, name)
        return (1, name) if name[0].isupper() else (2, name)

    return ["__all__ = [", *(f'    "{n}",' for n in sorted(names, key=key)), "]"]


def _import(module: str, names: list[str]) -> list[str]:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= WIDTH:
        return [line]
    return [f"from {module} import (", *(f"    {n}," for n in names), ")"]


def _bases(row: ErrorCode, base: str | None, root: str) -> str:
    parent = row.parent or root
    return f"{base}, {parent}" if base else parent


def render_core() -> str:
    """The text of ``vmsystem/core/errors.py``."""
    bases = sorted({"VmError", *(r.core_base for r in ERROR_CODES if r.core_base)})
    lines = [
        '"""The one typed error tree of vm-system.',
        "",
        *_wrap(GENERATED.format(base="vmsystem/core/error_base.py")),
        "",
        *_wrap(
            "Every failure a user can cause or observe is a :class:`VmError` with a stable "
            "``code``. The HTTP layer gives each code the status of the same table "
            "(``vmsystem.api.errors``); the SDK maps codes back to its own typed errors, "
            "generated from the same table; the CLI prints them as one line."
        ),
        "",
        "::",
        "",
        "    VmError",
        *_tree(lambda row: "" if row.grouping else row.code, "    "),
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *_import(".error_base", bases),
        "",
        *_all([*(r.name for r in ERROR_CODES), *bases]),
    ]
    for row in ERROR_CODES:
        lines += [
            "",
            "",
            f"class {row.name}({_bases(row, row.core_base, 'VmError')}):",
            *_docstring(row.doc),
            "",
            f'    code = "{row.code}"',
            f"    default_message = {json.dumps(row.message)}",
        ]
    return "\n".join(lines) + "\n"


CLIENT_HEAD = """
The daemon answers every failure with one envelope,
``{"error": {"code": "...", "message": "...", "details": {...}}}``; the SDK turns it into the
:class:`APIError` subclass registered for that ``code``. The tree mirrors the daemon's::

    ClientError
    ├── TransportError                 the request did not get an HTTP answer
    │   └── DaemonUnavailable          nothing listens at the base URL
    ├── StreamError                    an SSE stream broke and could not be resumed
    └── APIError                       the daemon answered with an error status
"""

CLIENT_TAIL = '''

#: The error class for each envelope code.
ERRORS_BY_CODE: dict[str, type[APIError]] = {
%s
}


def api_error(
    status: int,
    code: str | None = None,
    message: str = "",
    details: dict[str, Any] | None = None,
) -> APIError:
    """Build the typed error for an envelope (plain :class:`APIError` for unknown codes)."""
    cls = ERRORS_BY_CODE.get(code, APIError) if code is not None else APIError
    return cls(status, code, message, details)
'''


def render_client() -> str:
    """The text of ``vmsystem/client/errors.py``."""
    head = ["APIError", "ClientError", "DaemonUnavailable", "StreamError", "TransportError"]
    bases = sorted({*head, *(r.client_base for r in ERROR_CODES if r.client_base)})

    def label(row: ErrorCode) -> str:
        return "" if row.grouping else f"{row.code} ({row.status})"

    lines = [
        '"""Errors raised by the vm-system SDK.',
        "",
        *_wrap(GENERATED.format(base="vmsystem/client/_error_base.py")),
        *CLIENT_HEAD.rstrip("\n").split("\n"),
        *_tree(label, "        "),
        "",
        *_wrap(
            "An unknown code gives a plain :class:`APIError` carrying that code; an error body "
            "that is not an envelope gives an :class:`APIError` with only ``status`` set "
            "(``code`` is ``None``)."
        ),
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        *_import("._error_base", bases),
        "",
        *_all([*(r.name for r in ERROR_CODES), *head, "ERRORS_BY_CODE", "api_error"]),
    ]
    for row in ERROR_CODES:
        if row.grouping:
            doc = f"Grouping of the {row.status} errors: {row.doc}"
        else:
            doc = f"{row.status} {row.code}: {row.doc}"
        if row.sdk_note:
            doc += f" {row.sdk_note}"
        lines += [
            "",
            "",
            f"class {row.name}({_bases(row, row.client_base, 'APIError')}):",
            *_docstring(doc),
        ]
        if not row.grouping:
            lines += ["", f'    error_code = "{row.code}"']
    table = "\n".join(f'    "{r.code}": {r.name},' for r in ERROR_CODES if not r.grouping)
    return "\n".join(lines) + "\n" + CLIENT_TAIL % table


def main(argv: list[str]) -> int:
    stale = []
    for path, text in ((CORE, render_core()), (CLIENT, render_client())):
        if path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if "--check" not in argv:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale and "--check" in argv:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        print(f"{names} out of date: run python scripts/gen_errors.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
