"""Rendering: ``--output text|json|yaml``, the original's fixed-width tables, event lines.

Text output keeps the original CLI's lines (scripts parse some of them). Tables are drawn with
Rich when stdout is a terminal and as the original's fixed-width text otherwise, so pipes and
scripts see stable, parseable columns.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
import yaml

__all__ = [
    "Column",
    "OutputFormat",
    "OutputOption",
    "compact",
    "echo",
    "event_line",
    "local_time",
    "pretty",
    "render",
    "table",
    "truncate",
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


def echo(line: str = "") -> None:
    """Print one line to stdout (flushed, so ``--follow`` output appears at once)."""
    typer.echo(line)
    sys.stdout.flush()


def render(fmt: OutputFormat, data: Any, text: Callable[[], None]) -> None:
    """Print ``data`` as JSON or YAML, or call ``text`` to print the text form."""
    if fmt is OutputFormat.json:
        echo(pretty(data))
    elif fmt is OutputFormat.yaml:
        typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
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


class Column:
    """A table column: header and the original's ``%-Ns`` width (``None``: last, unpadded)."""

    def __init__(self, header: str, width: int | None = None) -> None:
        self.header = header
        self.width = width


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def table(columns: Sequence[Column], rows: Iterable[Sequence[str]], dash: int) -> None:
    """Print a table: Rich on a terminal, else ``%-Ns`` columns under a dash line."""
    materialised = [list(row) for row in rows]
    if _is_terminal():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        rich_table = Table(*(c.header for c in columns), header_style="bold")
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
