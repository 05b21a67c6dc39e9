"""``vm-system session ...``: start, list, inspect and close sessions."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from vmsystem.client.types import Session

from .failures import CliError
from .output import Column, OutputFormat, OutputOption, echo, render, table
from .state import client_of

__all__ = ["app"]

app = typer.Typer(
    name="session",
    help="Manage sessions: long-lived JS contexts started from a template and bound to a "
    "worktree directory.",
    no_args_is_help=True,
)

SessionId = Annotated[
    str, typer.Argument(help="Session ID.", metavar="SESSION_ID", show_default=False)
]


def _created_lines(session: Session) -> None:
    echo(f"Created session: {session['id']}")
    echo(f"Status: {session['status']}")
    echo(f"Template ID: {session['template_id']}")
    echo(f"Workspace ID: {session['workspace_id']}")
    echo(f"Base Commit: {session['base_commit_oid']}")
    echo(f"Worktree Path: {session['worktree_path']}")


@app.command("create")
def create(
    ctx: typer.Context,
    worktree_path: Annotated[
        str,
        typer.Option(
            "--worktree-path",
            help="Directory the session works in (a relative path is taken from the current "
            "directory and sent absolute).",
        ),
    ],
    template: Annotated[
        str | None,
        typer.Option("--template", help="Template name or ID.", show_default=False),
    ] = None,
    template_id: Annotated[
        str | None,
        typer.Option(
            "--template-id",
            help="Template ID (the original's flag; a name works too).",
            show_default=False,
        ),
    ] = None,
    workspace_id: Annotated[
        str, typer.Option("--workspace-id", help="Workspace the session belongs to.")
    ] = "default",
    base_commit: Annotated[
        str, typer.Option("--base-commit", help="Commit the worktree is based on.")
    ] = "HEAD",
    output: OutputOption = OutputFormat.text,
) -> None:
    """Start a session: runs the template's libraries and startup files, then it is ready.

    Prints `Created session: ID` followed by `Status:`, `Template ID:`, `Workspace ID:`,
    `Base Commit:` and `Worktree Path:` lines.
    """
    if template is not None and template_id is not None and template != template_id:
        raise CliError("give either --template or --template-id, not both")
    chosen = template if template is not None else template_id
    if not chosen:
        raise CliError("missing template: give --template NAME_OR_ID (or --template-id ID)")
    session = client_of(ctx).create_session(
        chosen,
        os.path.abspath(os.path.expanduser(worktree_path)),
        workspace_id=workspace_id,
        base_commit_oid=base_commit,
    )
    render(output, session, lambda: _created_lines(session))


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only sessions in this status: starting, ready, crashed, closed.",
            show_default=False,
        ),
    ] = None,
    template_id: Annotated[
        str | None,
        typer.Option("--template-id", help="Only sessions of this template.", show_default=False),
    ] = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """List sessions, newest first."""
    sessions = client_of(ctx).list_sessions(status=status, template_id=template_id)

    def text() -> None:
        if not sessions:
            echo("No sessions found")
            return
        table(
            [
                Column("Session ID", 36),
                Column("Template ID", 36),
                Column("Status", 10),
                Column("Created", 20),
            ],
            ([s["id"], s["template_id"], s["status"], s["created_at"]] for s in sessions),
            dash=102,
        )

    render(output, sessions, text)


@app.command("get")
def get(
    ctx: typer.Context, session_id: SessionId, output: OutputOption = OutputFormat.text
) -> None:
    """Show a session (with `Closed:` and `Last Error:` when set)."""
    session = client_of(ctx).get_session(session_id)

    def text() -> None:
        echo(f"Session ID: {session['id']}")
        echo(f"Template ID: {session['template_id']}")
        echo(f"Workspace ID: {session['workspace_id']}")
        echo(f"Base Commit: {session['base_commit_oid']}")
        echo(f"Worktree Path: {session['worktree_path']}")
        echo(f"Status: {session['status']}")
        echo(f"Created: {session['created_at']}")
        if session.get("closed_at"):
            echo(f"Closed: {session['closed_at']}")
        if session.get("last_error"):
            echo(f"Last Error: {session['last_error']}")

    render(output, session, text)


@app.command("close")
def close(
    ctx: typer.Context, session_id: SessionId, output: OutputOption = OutputFormat.text
) -> None:
    """Close a session (cancels its running execution first; closing twice is fine)."""
    session = client_of(ctx).close_session(session_id)
    render(output, session, lambda: echo(f"Closed session: {session.get('id', session_id)}"))
