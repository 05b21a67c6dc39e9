"""``vm-system session ...``: start, list, inspect and close sessions."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from vmsystem.client import APIError, Client, SessionNotFound
from vmsystem.client.types import Execution, Session

from . import notebooks
from .failures import CliError, kept_session_hint, report
from .output import (
    Column,
    OutputFormat,
    OutputOption,
    echo,
    error_text,
    excerpt,
    render,
    table,
    value_text,
)
from .refs import non_empty, template_id_of
from .state import client_of

__all__ = ["app"]

app = typer.Typer(
    name="session",
    help="Manage sessions: long-lived JS contexts started from a template and bound to a "
    "worktree directory.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SessionId = Annotated[
    str,
    typer.Argument(
        help="Session ID.", metavar="SESSION_ID", show_default=False, callback=non_empty
    ),
]
#: Statuses ``session prune`` may remove (nothing runs in them any more).
PRUNABLE = ("crashed", "closed")


def _managed(session: Session) -> str:
    return " (managed)" if session.get("worktree_managed") else ""


def _created_lines(session: Session) -> None:
    echo(f"Created session: {session['id']}")
    echo(f"Status: {session['status']}")
    echo(f"Template ID: {session['template_id']}")
    echo(f"Workspace ID: {session['workspace_id']}")
    echo(f"Base Commit: {session['base_commit_oid']}")
    echo(f"Worktree Path: {session['worktree_path']}{_managed(session)}")


def _idle_timeout(seconds: float | None) -> str:
    return "never" if not seconds else f"{seconds:g} s"


@app.command("create")
def create(
    ctx: typer.Context,
    worktree_path: Annotated[
        str | None,
        typer.Option(
            "--worktree-path",
            help="Directory the session works in, on the daemon's machine (a relative path is "
            "taken from the current directory and sent absolute); omitted: a managed worktree "
            "the daemon creates (fill it with `vm-system files put`).",
            show_default=False,
        ),
    ] = None,
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
    idle_timeout: Annotated[
        float | None,
        typer.Option(
            "--idle-timeout",
            help="Close the session after this many seconds without activity (0: never); "
            "omitted: the template's settings.session.idle_timeout_s, else the daemon's "
            "--session-idle-timeout.",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Start a session: runs the template's libraries and startup files, then it is ready.

    Prints `Created session: ID` followed by `Status:`, `Template ID:`, `Workspace ID:`,
    `Base Commit:` and `Worktree Path:` lines. A start that fails keeps the session as
    `crashed` (its startup executions are the log of what went wrong); its ID is printed on
    stderr after the error, and `session delete --purge ID` removes it.
    """
    if template is not None and template_id is not None and template != template_id:
        raise CliError("give either --template or --template-id, not both")
    chosen = template if template is not None else template_id
    if not chosen or not chosen.strip():
        raise CliError("missing template: give --template NAME_OR_ID (or --template-id ID)")
    try:
        session = client_of(ctx).create_session(
            chosen,
            os.path.abspath(os.path.expanduser(worktree_path)) if worktree_path else None,
            workspace_id=workspace_id,
            base_commit_oid=base_commit,
            idle_timeout_s=idle_timeout,
        )
    except APIError as exc:
        hint = kept_session_hint(exc)
        if hint is None:
            raise
        # A start that failed leaves the session crashed with its startup log: name it.
        ctx.exit(report(exc, [hint]))
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
        typer.Option(
            "--template-id",
            "--template",
            help="Only sessions of this template (ID or name).",
            show_default=False,
            callback=non_empty,
        ),
    ] = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """List sessions, newest first (the last column is the template's name)."""
    client = client_of(ctx)
    tid = template_id_of(client, template_id) if template_id is not None else None
    sessions = client.list_sessions(status=status, template_id=tid)

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
                Column("Template"),
            ],
            (
                [s["id"], s["template_id"], s["status"], s["created_at"], _template_name(s)]
                for s in sessions
            ),
            dash=102,
        )

    render(output, sessions, text)


def _template_name(session: Session) -> str:
    snapshot = session.get("template_snapshot")
    name = snapshot.get("name") if isinstance(snapshot, dict) else None
    return name if isinstance(name, str) else ""


@app.command("get")
def get(
    ctx: typer.Context, session_id: SessionId, output: OutputOption = OutputFormat.text
) -> None:
    """Show a session (with `Idle Timeout:`, `Closed:` and `Last Error:` when set)."""
    session = client_of(ctx).get_session(session_id)

    def text() -> None:
        echo(f"Session ID: {session['id']}")
        echo(f"Template ID: {session['template_id']}")
        if _template_name(session):
            echo(f"Template: {_template_name(session)}")
        echo(f"Workspace ID: {session['workspace_id']}")
        echo(f"Base Commit: {session['base_commit_oid']}")
        echo(f"Worktree Path: {session['worktree_path']}{_managed(session)}")
        echo(f"Status: {session['status']}")
        echo(f"Created: {session['created_at']}")
        if session.get("idle_timeout_s") is not None:
            echo(f"Idle Timeout: {_idle_timeout(session.get('idle_timeout_s'))}")
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


@app.command("restart")
def restart(
    ctx: typer.Context,
    session_id: SessionId,
    refresh_template: Annotated[
        bool,
        typer.Option(
            "--refresh-template",
            help="Use the template's current settings, modules, libraries, capabilities and "
            "startup files instead of the session's snapshot.",
        ),
    ] = False,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Restart a ready or crashed session: a fresh runtime under the same id, its startup
    files run again, its execution history kept."""
    session = client_of(ctx).restart_session(session_id, refresh_template=refresh_template)
    render(
        output,
        session,
        lambda: echo(f"Restarted session: {session.get('id', session_id)} ({session['status']})"),
    )


@app.command("fork")
def fork(
    ctx: typer.Context,
    session_id: SessionId,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            metavar="EXECUTION_ID",
            help="Replay up to and including this execution of the session (default: all).",
        ),
    ] = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Fork a session: a new session from its template snapshot and worktree (closed sessions
    too) with its successful REPL and run-file executions replayed in order; prints the
    executions whose replay diverged (replaying stops at the first that fails)."""
    client = client_of(ctx)
    result = client.fork_session(session_id, until_execution_id=until)

    def text() -> None:
        echo(
            f"Forked session: {result['session']['id']} "
            f"({result['replayed']} replayed, {len(result['diverged'])} diverged)"
        )
        for d in result["diverged"]:
            echo(f"diverged: {d['original']} -> {d['replay'] or 'not run'}: {d['reason']}")
            _divergence_lines(client, d["original"], d["replay"])

    render(output, result, text)


def _outcome(execution: Execution) -> str:
    """What an execution ended with, on one line: its value, its error, or its status."""
    result = execution.get("result")
    if execution["status"] == "ok" and result is not None:
        return excerpt(value_text(result), 70)
    error = execution.get("error")
    if error is not None:
        return f"{execution['status']}: " + excerpt(error_text(error).splitlines()[0], 60)
    return execution["status"]


def _divergence_lines(client: Client, original_id: str, replay_id: str | None) -> None:
    """The diverging input and what the original and its replay ended with."""
    original = client.get_execution(original_id)
    echo(f"  input:    {excerpt(original.get('input') or original.get('path'), 70)}")
    echo(f"  original: {_outcome(original)}")
    replay = client.get_execution(replay_id) if replay_id is not None else None
    echo(f"  replay:   {_outcome(replay) if replay is not None else 'not run'}")


app.command("export")(notebooks.export)
app.command("run-notebook")(notebooks.run_notebook)


@app.command("delete")
def delete(
    ctx: typer.Context,
    session_id: SessionId,
    purge: Annotated[
        bool,
        typer.Option(
            "--purge",
            help="Delete the session with its executions and events instead of closing it "
            "(a closed or crashed session; with --force a ready one is closed first).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="With --purge: close the session first if it is live."),
    ] = False,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Close a session, or with --purge delete a closed or crashed one and its history
    (`--purge --force` closes a live one, then purges it)."""
    if force and not purge:
        raise typer.BadParameter("--force only applies with --purge", param_hint="--force")
    client = client_of(ctx)
    if purge:
        if force and client.get_session(session_id)["status"] in ("starting", "ready"):
            client.delete_session(session_id)
        answer = client.purge_session(session_id)
        render(output, answer, lambda: echo(f"Purged session: {answer['session_id']}"))
        return
    session = client.delete_session(session_id)
    render(output, session, lambda: echo(f"Closed session: {session.get('id', session_id)}"))


@app.command("prune")
def prune(
    ctx: typer.Context,
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="Comma-separated statuses to remove: crashed, closed or both.",
        ),
    ] = "crashed,closed",
    output: OutputOption = OutputFormat.text,
) -> None:
    """Delete every session in the given statuses with its executions and events.

    Prints `Purged session: ID` per session and a count.
    """
    wanted = [part.strip() for part in status.split(",") if part.strip()]
    bad = [part for part in wanted if part not in PRUNABLE]
    if not wanted or bad:
        raise typer.BadParameter(
            f"{', '.join(bad) or 'nothing'}: prune removes only {' and '.join(PRUNABLE)} "
            "sessions (close ready ones first)",
            param_hint="--status",
        )
    client = client_of(ctx)
    purged: list[str] = []
    for one in dict.fromkeys(wanted):
        for session in client.list_sessions(status=one):
            try:
                purged.append(client.purge_session(session["id"])["session_id"])
            except SessionNotFound:  # removed meanwhile by someone else
                continue

    def text() -> None:
        for sid in purged:
            echo(f"Purged session: {sid}")
        echo(f"Purged {len(purged)} session{'' if len(purged) == 1 else 's'}")

    render(output, {"purged": purged}, text)
