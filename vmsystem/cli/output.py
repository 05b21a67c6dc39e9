"""Rendering: ``--output text|json|yaml``, the original's fixed-width tables, event lines.

Text output keeps the original CLI's lines when stdout is not a terminal (scripts parse some
of them): fixed-width tables, ``[seq] type: <compact JSON>`` event lines, ``Result:`` and
``Error:`` as compact JSON. On a terminal it is written for a person: Rich tables, console
events as their text, values as their preview (or ``inspect`` form) and stacks with real
newlines. ``--output json`` is the API's JSON either way.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

__all__ = [
    "Column",
    "OutputFormat",
    "OutputOption",
    "compact",
    "echo",
    "error_text",
    "event_line",
    "event_text",
    "excerpt",
    "local_time",
    "pretty",
    "readable",
    "render",
    "table",
    "truncate",
    "value_text",
]


class OutputFormat(StrEnum):
    """Value of ``--output``."""

    text = "text"
    json = "json"
    yaml = "yaml"


OutputOption = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        help="Output format: text (the original CLI's lines and tables), json (the API's "
        "JSON, pretty printed) or yaml.",
        case_sensitive=False,
    ),
]


def compact(value: Any) -> str:
    """Compact JSON, as the original printed payloads (``{"preview":"42"}``)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def pretty(value: Any) -> str:
    """JSON indented by two spaces."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def echo(line: str = "", *, nl: bool = True) -> None:
    """Print one line to stdout (flushed, so ``--follow`` output appears at once).

    A lone surrogate (a JavaScript string may hold one, and the API's JSON carries it) cannot
    be encoded: it is printed as its ``\\udXXX`` escape, which inside JSON output is JSON's
    own escape for it."""
    try:
        typer.echo(line, nl=nl)
    except UnicodeEncodeError:
        typer.echo(line.encode("utf-8", "backslashreplace").decode("utf-8"), nl=nl)
    sys.stdout.flush()


def render(fmt: OutputFormat, data: Any, text: Callable[[], None]) -> None:
    """Print ``data`` as JSON or YAML, or call ``text`` to print the text form."""
    if fmt is OutputFormat.json:
        echo(pretty(data))
    elif fmt is OutputFormat.yaml:
        import yaml  # only for --output yaml: it is not free at every command's start-up

        echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
    else:
        text()


def truncate(text: str, width: int) -> str:
    """The original's truncation: over ``width`` chars, keep ``width - 3`` and add ``...``."""
    return text if len(text) <= width else text[: width - 3] + "..."


def local_time(ts: str | None) -> str:
    """``HH:MM:SS`` in local time for an RFC 3339 timestamp (the input when unparsable)."""
    if not ts:
        return ""
    try:
        return datetime.fromisoformat(ts).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return ts


def event_line(event: dict[str, Any] | Any) -> str:
    """``[seq] type: <compact payload>``, the original's event line."""
    return f"[{event['seq']}] {event['type']}: {compact(event.get('payload', {}))}"


def value_text(payload: dict[str, Any]) -> str:
    """A value payload as a person reads it: its ``inspect`` form when the daemon sent one
    (``{ a: 1 }``, ``[ 1, 2 ]``, ``'text'``), else its ``preview``."""
    shown = payload.get("inspect")
    if not isinstance(shown, str):
        shown = payload.get("preview")
    return shown if isinstance(shown, str) else compact(payload)


def error_text(error: dict[str, Any]) -> str:
    """An execution error as a person reads it: ``Name: message`` and the stack on its own
    lines for a JS exception (what Node's REPL prints after ``Uncaught``, when the runtime
    sent it), ``CODE: message`` for a limit, a cancellation or a crash."""
    if isinstance(error.get("inspect"), str) and error["inspect"]:
        return str(error["inspect"])
    if "name" in error:
        head = f"{error.get('name')}: {error.get('message', '')}"
        stack = error.get("stack")
        if not isinstance(stack, str) or not stack.strip():
            return head
        # V8 stacks start with the same "Name: message" line.
        return stack if stack.startswith(head) else f"{head}\n{stack}"
    return f"{error.get('code', 'ERROR')}: {error.get('message', '')}"


def event_text(event: dict[str, Any] | Any) -> str:
    """One event as a person reads it: console output as its text (a display bundle as its
    ``text/plain``), ``> code`` for the echoed
    input, ``=> value``, ``Uncaught Name: message`` (with the stack) and ``[level] CODE:
    message`` for system events."""
    payload: dict[str, Any] = event.get("payload") or {}
    kind = event["type"]
    if kind == "console":
        return str(payload.get("text", ""))
    if kind == "display":  # a MIME bundle: a terminal shows its text/plain
        return str((payload.get("data") or {}).get("text/plain", ""))
    if kind == "input_echo":
        lines = str(payload.get("text", "")).splitlines() or [""]
        return "\n".join(("> " if i == 0 else "... ") + line for i, line in enumerate(lines))
    if kind == "value":
        return f"=> {value_text(payload)}"
    if kind == "exception":
        return f"Uncaught {error_text(payload)}"
    if kind == "system":
        level, code = payload.get("level", "info"), payload.get("code", "")
        return f"[{level}] {code}: {payload.get('message', '')}"
    return event_line(event)


def excerpt(text: str | None, width: int) -> str:
    """One line of at most ``width`` characters: whitespace runs (newlines too) become one
    space."""
    return truncate(" ".join((text or "").split()), width)


class Column:
    """A table column: header and the original's ``%-Ns`` width (``None``: last, unpadded)."""

    def __init__(self, header: str, width: int | None = None) -> None:
        self.header = header
        self.width = width
        #: An id column (``ID``, ``Session ID``, ...): shown whole on a terminal.
        self.is_id = header == "ID" or header.endswith(" ID")


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def readable() -> bool:
    """Whether text output is for a person (stdout is a terminal) rather than for a script."""
    return _is_terminal()


def table(columns: Sequence[Column], rows: Iterable[Sequence[str]], dash: int) -> None:
    """Print a table: Rich on a terminal, else ``%-Ns`` columns under a dash line."""
    materialised = [list(row) for row in rows]
    if _is_terminal():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        rich_table = Table(header_style="bold")
        for i, c in enumerate(columns):
            if c.is_id:
                # An id is never wrapped nor cut (it must copy whole); other columns give way.
                longest = max((len(row[i]) for row in materialised), default=0)
                rich_table.add_column(c.header, no_wrap=True, min_width=max(longest, 1))
            else:
                rich_table.add_column(c.header, overflow="fold")
        for row in materialised:
            rich_table.add_row(*(Text(cell) for cell in row))
        Console().print(rich_table)
        return

    def fmt(cells: Sequence[str]) -> str:
        return " ".join(
            cell if col.width is None else cell.ljust(col.width)
            for col, cell in zip(columns, cells, strict=True)
        )

    echo(fmt([c.header for c in columns]))
    echo("-" * dash)
    for row in materialised:
        echo(fmt(row))
