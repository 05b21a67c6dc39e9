"""``vm-system exec ...``: run code in sessions and read executions and their events."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import typer

from vmsystem.client import Client
from vmsystem.client.types import Event, Execution

from .failures import EXIT_EXECUTION_FAILED, parse_json_object
from .output import (
    Column,
    OutputFormat,
    OutputOption,
    compact,
    echo,
    event_line,
    local_time,
    render,
    table,
    truncate,
)
from .state import client_of

__all__ = ["app"]

app = typer.Typer(
    name="exec",
    help="Run REPL snippets and files in sessions; list executions and their events.",
    no_args_is_help=True,
)

SessionId = Annotated[
    str, typer.Argument(help="Session ID.", metavar="SESSION_ID", show_default=False)
]
ExecutionId = Annotated[
    str, typer.Argument(help="Execution ID.", metavar="EXECUTION_ID", show_default=False)
]
Follow = Annotated[
    bool,
    typer.Option(
        "--follow",
        "-f",
        help="Start the execution in streaming mode and print its events as they happen, "
        "then the summary (events are not repeated).",
    ),
]
FailOnError = Annotated[
    bool,
    typer.Option(
        "--fail-on-error",
        help="Exit with code 3 when the execution does not end with status ok (a JS error "
        "is otherwise not a CLI failure).",
    ),
]
#: How long ``--follow`` waits for the stored row to leave ``running`` after the last event.
SETTLE_SECONDS = 5.0


def _summary(execution: Execution, *, with_result: bool) -> None:
    echo(f"Execution ID: {execution['id']}")
    echo(f"Status: {execution['status']}")
    if with_result and execution.get("result") is not None:
        echo(f"Result: {compact(execution['result'])}")
    if execution.get("error") is not None:
        echo(f"Error: {compact(execution['error'])}")


def _block(execution: Execution, events: list[Event], *, with_result: bool) -> None:
    _summary(execution, with_result=with_result)
    echo()
    echo("Events:")
    for event in events:
        echo(event_line(event))


def _settle(client: Client, execution_id: str) -> Execution:
    deadline = time.monotonic() + SETTLE_SECONDS
    execution = client.get_execution(execution_id)
    while execution["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        execution = client.get_execution(execution_id)
    return execution


def _run(
    ctx: typer.Context,
    start: Callable[[Client, bool], Execution],
    *,
    follow: bool,
    fail_on_error: bool,
    output: OutputFormat,
    with_result: bool,
) -> None:
    client = client_of(ctx)
    if follow:
        execution = start(client, True)
        events: list[Event] = []
        text = output is OutputFormat.text
        try:
            for event in client.stream_execution_events(execution["id"]):
                events.append(event)
                if text:
                    echo(event_line(event))
        except KeyboardInterrupt:
            client.cancel_execution(execution["id"])
            typer.echo(f"Cancelled execution: {execution['id']}", err=True)
            raise typer.Exit(130) from None
        execution = _settle(client, execution["id"])
        if text:
            echo()
            _summary(execution, with_result=with_result)
        else:
            render(output, {**execution, "events": events}, lambda: None)
    else:
        execution = start(client, False)
        events = list(client.iter_events(execution["id"]))
        render(
            output,
            {**execution, "events": events},
            lambda: _block(execution, events, with_result=with_result),
        )
    if fail_on_error and execution["status"] != "ok":
        raise typer.Exit(EXIT_EXECUTION_FAILED)


@app.command("repl")
def repl(
    ctx: typer.Context,
    session_id: SessionId,
    code: Annotated[
        str,
        typer.Argument(
            help="JavaScript to evaluate in the session's global scope.",
            metavar="CODE",
            show_default=False,
        ),
    ],
    follow: Follow = False,
    fail_on_error: FailOnError = False,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Evaluate a snippet; prints `Execution ID:`, `Status:`, `Result:`/`Error:` and the events.

    The result is the completion value of the snippet. json/yaml output is the execution
    with its `events` added.
    """
    _run(
        ctx,
        lambda client, stream: client.run_repl(session_id, code, stream=stream),
        follow=follow,
        fail_on_error=fail_on_error,
        output=output,
        with_result=True,
    )


@app.command("run-file")
def run_file(
    ctx: typer.Context,
    session_id: SessionId,
    path: Annotated[
        str,
        typer.Argument(
            help="File path relative to the session worktree.", metavar="PATH", show_default=False
        ),
    ],
    args: Annotated[
        str, typer.Option("--args", help="JSON object available to the script as `__ARGS__`.")
    ] = "{}",
    env: Annotated[
        str, typer.Option("--env", help="JSON object of strings available as `process.env`.")
    ] = "{}",
    follow: Follow = False,
    fail_on_error: FailOnError = False,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Run a file of the worktree; prints `Execution ID:`, `Status:`, `Error:` and the events."""
    args_object = parse_json_object(args, "args")
    env_object = parse_json_object(env, "env")
    _run(
        ctx,
        lambda client, stream: client.run_file(
            session_id, path, args=args_object, env=env_object, stream=stream
        ),
        follow=follow,
        fail_on_error=fail_on_error,
        output=output,
        with_result=False,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    session_id: SessionId,
    limit: Annotated[
        int, typer.Option("--limit", help="Most executions to list (1-1000).", min=1, max=1000)
    ] = 50,
    output: OutputOption = OutputFormat.text,
) -> None:
    """List a session's executions, newest first."""
    executions = client_of(ctx).list_executions(session_id, limit=limit)

    def text() -> None:
        if not executions:
            echo("No executions found")
            return
        table(
            [
                Column("Execution ID", 36),
                Column("Kind", 10),
                Column("Status", 10),
                Column("Started", 20),
            ],
            ([e["id"], e["kind"], e["status"], e["started_at"]] for e in executions),
            dash=80,
        )

    render(output, executions, text)


@app.command("get")
def get(
    ctx: typer.Context, execution_id: ExecutionId, output: OutputOption = OutputFormat.text
) -> None:
    """Show an execution."""
    execution = client_of(ctx).get_execution(execution_id)

    def text() -> None:
        echo(f"Execution ID: {execution['id']}")
        echo(f"Session ID: {execution['session_id']}")
        echo(f"Kind: {execution['kind']}")
        echo(f"Status: {execution['status']}")
        echo(f"Started: {execution['started_at']}")
        if execution.get("ended_at"):
            echo(f"Ended: {execution['ended_at']}")
        if execution.get("input"):
            echo(f"Input: {execution['input']}")
        if execution.get("path"):
            echo(f"Path: {execution['path']}")
        if execution.get("result") is not None:
            echo(f"Result: {compact(execution['result'])}")
        if execution.get("error") is not None:
            echo(f"Error: {compact(execution['error'])}")

    render(output, execution, text)


@app.command("events")
def events(
    ctx: typer.Context,
    execution_id: ExecutionId,
    after_seq: Annotated[
        int, typer.Option("--after-seq", help="Only events with a greater seq.", min=0)
    ] = 0,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            help="Most events to list (1-10000); all when omitted.",
            min=1,
            max=10000,
            show_default=False,
        ),
    ] = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """List an execution's events (seq, local time, type, payload)."""
    client = client_of(ctx)
    if limit is None:
        found = list(client.iter_events(execution_id, after_seq=after_seq))
    else:
        found = client.list_events(execution_id, after_seq=after_seq, limit=limit)

    def text() -> None:
        if not found:
            echo("No events found")
            return
        table(
            [Column("Seq", 5), Column("Timestamp", 20), Column("Type", 15), Column("Payload")],
            (
                [str(e["seq"]), local_time(e["ts"]), e["type"], truncate(compact(e["payload"]), 50)]
                for e in found
            ),
            dash=80,
        )

    render(output, found, text)


@app.command("cancel")
def cancel(
    ctx: typer.Context, execution_id: ExecutionId, output: OutputOption = OutputFormat.text
) -> None:
    """Cancel a running execution; the session stays ready with its state.

    A finished execution is left unchanged. Prints `Execution ID:` and `Status:`.
    """
    execution = client_of(ctx).cancel_execution(execution_id)
    render(output, execution, lambda: _summary(execution, with_result=True))
