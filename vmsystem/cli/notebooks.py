"""``vm-system session export`` and ``vm-system session run-notebook`` (docs/notebooks.md)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from .failures import EXIT_FAILURE, CliError
from .output import OutputFormat, OutputOption, echo, render
from .refs import non_empty
from .state import client_of

__all__ = ["export", "run_notebook"]

SessionArg = Annotated[
    str,
    typer.Argument(
        help="Session ID.", metavar="SESSION_ID", show_default=False, callback=non_empty
    ),
]
OutFile = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Write to this file instead of stdout.",
        show_default=False,
        dir_okay=False,
    ),
]


class ExportFormat(StrEnum):
    """Formats of ``session export``."""

    ipynb = "ipynb"
    md = "md"
    jsonl = "jsonl"


def _write(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from exc


def export(
    ctx: typer.Context,
    session_id: SessionArg,
    format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="ipynb: a Jupyter notebook; md: a Markdown transcript; jsonl: one execution "
            "with its events a line.",
        ),
    ] = ExportFormat.ipynb,
    out: OutFile = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Export a session's whole history (every execution, oldest first) as a notebook, a
    transcript or JSON Lines, to stdout or --out FILE.

    With --out, prints `Exported session ID (FORMAT) to FILE` (--output json: `{session_id,
    format, file, bytes}`)."""
    text = client_of(ctx).export_session(session_id, format.value)
    _write(text, out)
    if out is not None:
        summary = {
            "session_id": session_id,
            "format": format.value,
            "file": str(out),
            "bytes": len(text.encode()),
        }
        render(
            output,
            summary,
            lambda: echo(f"Exported session {session_id} ({format.value}) to {out}"),
        )


def _failure(nb: dict[str, Any]) -> str | None:
    """``cell N: ename: evalue`` of the first failed cell, if any."""
    for index, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "error":
                return f"cell {index + 1}: {output.get('ename')}: {output.get('evalue')}"
    return None


def run_notebook(
    ctx: typer.Context,
    session_id: SessionArg,
    notebook: Annotated[
        Path,
        typer.Argument(help="The .ipynb file to run.", metavar="FILE.ipynb", show_default=False),
    ],
    out: OutFile = None,
    continue_on_error: Annotated[
        bool,
        typer.Option(
            "--continue-on-error",
            help="Run every code cell even after one fails.",
        ),
    ] = False,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Run a notebook's code cells in order in the session, like papermill, and write the
    executed notebook (outputs and execution counts filled) to stdout or --out FILE.

    Stops at the first failed cell unless --continue-on-error; exits 1 when a cell failed
    (the executed notebook is written first). With --out, prints `Ran N cells (M failed) in
    session ID: FILE` (--output json: the notebook's `metadata.vmsystem` with `file`)."""
    try:
        document = json.loads(notebook.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {notebook}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise CliError(f"{notebook} is not a JSON notebook: {exc}") from exc
    executed = client_of(ctx).run_notebook(
        session_id, document, continue_on_error=continue_on_error
    )
    _write(json.dumps(executed, indent=1, ensure_ascii=False), out)
    summary = {**executed.get("metadata", {}).get("vmsystem", {}), "file": str(out)}
    if out is not None:
        render(
            output,
            summary,
            lambda: echo(
                f"Ran {summary.get('executed', 0)} cells ({summary.get('failed', 0)} failed) "
                f"in session {session_id}: {out}"
            ),
        )
    failure = _failure(executed)
    if failure is not None:
        typer.echo(f"Error: {failure}", err=True)
        raise typer.Exit(EXIT_FAILURE)
