"""``vm-system exec ...``: run code in sessions and read executions and their events."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from vmsystem.client import Client, OutputLimitExceeded
from vmsystem.client.types import Event, Execution

from .failures import EXIT_EXECUTION_FAILED, CliError, parse_json_object, report
from .output import (
    Column,
    OutputFormat,
    OutputOption,
    compact,
    echo,
    error_text,
    event_line,
    event_text,
    excerpt,
    local_time,
    readable,
    render,
    table,
    truncate,
    value_text,
)
from .refs import non_empty
from .state import client_of

__all__ = ["app"]


class Language(StrEnum):
    """REPL input languages (as the daemon takes them)."""

    javascript = "javascript"
    typescript = "typescript"


app = typer.Typer(
    name="exec",
    help="Run REPL snippets and files in sessions; list executions and their events.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SessionId = Annotated[
    str,
    typer.Argument(
        help="Session ID.", metavar="SESSION_ID", show_default=False, callback=non_empty
    ),
]
ExecutionId = Annotated[
    str,
    typer.Argument(
        help="Execution ID.", metavar="EXECUTION_ID", show_default=False, callback=non_empty
    ),
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


def _outcome_lines(
    execution: Execution, *, with_result: bool, events: list[Event] | None = None
) -> None:
    """``Result:``/``Error:``: compact JSON for scripts, readable text on a terminal.

    On a terminal a result or error that one of ``events`` already shows (``=> 42``,
    ``Uncaught ...``) is not repeated: one result line per run."""
    human = readable()
    shown = {e["type"] for e in events or ()} if human else set()
    result = execution.get("result")
    if with_result and result is not None and "value" not in shown:
        echo(f"Result: {value_text(result) if human else compact(result)}")
    error = execution.get("error")
    if error is not None and "exception" not in shown:
        echo(f"Error: {error_text(error) if human else compact(error)}")


def _summary(execution: Execution, *, with_result: bool, events: list[Event] | None = None) -> None:
    echo(f"Execution ID: {execution['id']}")
    echo(f"Status: {execution['status']}")
    _outcome_lines(execution, with_result=with_result, events=events)


def _event(event: Event) -> str:
    return event_text(event) if readable() else event_line(event)


def _block(execution: Execution, events: list[Event], *, with_result: bool) -> None:
    _summary(execution, with_result=with_result, events=events)
    echo()
    echo("Events:")
    for event in events:
        echo(_event(event))


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
                    echo(_event(event))
        except KeyboardInterrupt:
            client.cancel_execution(execution["id"])
            typer.echo(f"Cancelled execution: {execution['id']}", err=True)
            raise typer.Exit(130) from None
        execution = _settle(client, execution["id"])
        if text:
            echo()
            _summary(execution, with_result=with_result, events=events)
        else:
            render(output, {**execution, "events": events}, lambda: None)
    else:
        try:
            execution = start(client, False)
        except OutputLimitExceeded as exc:
            _limit_hit(client, exc, output, with_result=with_result)
        events = list(client.iter_events(execution["id"]))
        render(
            output,
            {**execution, "events": events},
            lambda: _block(execution, events, with_result=with_result),
        )
    if fail_on_error and execution["status"] != "ok":
        raise typer.Exit(EXIT_EXECUTION_FAILED)


def _limit_hit(
    client: Client, exc: OutputLimitExceeded, output: OutputFormat, *, with_result: bool
) -> NoReturn:
    """The daemon answered OUTPUT_LIMIT_EXCEEDED for a waiting run: show the stored execution
    and its events as ``--follow`` does, then report the API error (exit 1)."""
    if exc.execution_id:
        execution = client.get_execution(exc.execution_id)
        events = list(client.iter_events(exc.execution_id))
        render(
            output,
            {**execution, "events": events},
            lambda: _block(execution, events, with_result=with_result),
        )
    raise typer.Exit(report(exc))


def snippet(code: str | None, file: Path | None) -> str:
    """The code of ``exec repl``: the argument, stdin for ``-``, or a local file's text."""
    if file is not None:
        if code is not None:
            raise CliError("give either CODE or --file, not both")
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {file}: {exc}") from exc
    if code is None:
        raise CliError("missing code: give CODE, `-` to read stdin, or --file PATH")
    if code == "-":
        return sys.stdin.read()
    return code


@app.command("repl")
def repl(
    ctx: typer.Context,
    session_id: SessionId,
    code: Annotated[
        str | None,
        typer.Argument(
            help="JavaScript to evaluate in the session's global scope; `-` reads it from stdin.",
            metavar="CODE",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Read the snippet from this local file (instead of CODE).",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    language: Annotated[
        Language | None,
        typer.Option(
            "--language",
            help="The snippet's language (default: the template's settings.runtime.language).",
            show_default=False,
        ),
    ] = None,
    follow: Follow = False,
    fail_on_error: FailOnError = False,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Evaluate a snippet; prints `Execution ID:`, `Status:`, `Result:`/`Error:` and the events.

    The result is the completion value of the snippet. json/yaml output is the execution
    with its `events` added. When the daemon answers OUTPUT_LIMIT_EXCEEDED, the stored
    execution and its events are printed before the error. For an interactive prompt, use
    `vm-system repl SESSION_ID`.
    """
    source = snippet(code, file)
    _run(
        ctx,
        lambda client, stream: client.run_repl(
            session_id,
            source,
            stream=stream,
            language=language.value if language is not None else None,
        ),
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
                Column("Duration", 10),
                Column("Input"),
            ],
            (
                [
                    e["id"],
                    e["kind"],
                    e["status"],
                    e["started_at"],
                    _duration(e),
                    excerpt(e.get("input") or e.get("path"), 40),
                ]
                for e in executions
            ),
            dash=80,
        )

    render(output, executions, text)


@app.command("search")
def search(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Argument(
            help="Plain words, all of which must occur (any case; no operators).",
            metavar="QUERY",
            show_default=False,
            callback=non_empty,
        ),
    ],
    session: Annotated[
        str | None,
        typer.Option("--session", help="Only this session's executions.", metavar="SID"),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Most results to show (1-100).", min=1, max=100)
    ] = 20,
    offset: Annotated[
        int, typer.Option("--offset", help="Skip this many results (paging).", min=0)
    ] = 0,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Full-text search of finished executions (input, console text, error message), best
    first."""
    page = client_of(ctx).search_executions(query, session_id=session, limit=limit, offset=offset)

    def text() -> None:
        if not page["results"]:
            echo("No matching executions")
            return
        table(
            [
                Column("Execution ID", 36),
                Column("Session ID", 36),
                Column("Status", 10),
                Column("Score", 8),
                Column("Match"),
            ],
            (
                [
                    hit["execution"]["id"],
                    hit["session_id"],
                    hit["execution"]["status"],
                    f"{hit['score']:.3f}",
                    excerpt(hit["snippet"], 60),
                ]
                for hit in page["results"]
            ),
            dash=120,
        )
        if page["next_offset"] is not None:
            echo(f"More results: --offset {page['next_offset']}")

    render(output, page, text)


def _duration(execution: Execution) -> str:
    metrics: dict[str, Any] = dict(execution.get("metrics") or {})
    ms = metrics.get("duration_ms")
    if execution["status"] == "running" or not isinstance(ms, int | float):
        return "-"
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


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
        _outcome_lines(execution, with_result=True)

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
    """List an execution's events (seq, local time, type, payload).

    With --limit, a full page ends with the command that prints the next one (on stderr).
    """
    client = client_of(ctx)
    if limit is None:
        found = list(client.iter_events(execution_id, after_seq=after_seq))
    else:
        found = client.list_events(execution_id, after_seq=after_seq, limit=limit)
    human = readable()

    def payload(event: Event) -> str:
        if human and event["type"] == "console":
            return excerpt(str(event["payload"].get("text", "")), 60)
        return truncate(compact(event["payload"]), 50)

    def text() -> None:
        if not found:
            echo("No events found")
            return
        table(
            [Column("Seq", 5), Column("Timestamp", 20), Column("Type", 15), Column("Payload")],
            ([str(e["seq"]), local_time(e["ts"]), e["type"], payload(e)] for e in found),
            dash=80,
        )

    render(output, found, text)
    if output is OutputFormat.text and limit is not None and len(found) == limit:
        typer.echo(
            f"More events may follow: vm-system exec events {execution_id} "
            f"--after-seq {found[-1]['seq']} --limit {limit}",
            err=True,
        )


@app.command("cancel")
def cancel(
    ctx: typer.Context, execution_id: ExecutionId, output: OutputOption = OutputFormat.text
) -> None:
    """Cancel a running execution; the session stays ready with its state.

    A finished execution is left unchanged, and the text output says there was nothing to
    cancel. Prints `Execution ID:` and `Status:`.
    """
    client = client_of(ctx)
    was_running = client.get_execution(execution_id)["status"] == "running"
    execution = client.cancel_execution(execution_id)
    render(output, execution, lambda: _summary(execution, with_result=True))
    if output is OutputFormat.text and not was_running:
        typer.echo(
            f"Nothing to cancel: the execution had already ended ({execution['status']})",
            err=True,
        )
