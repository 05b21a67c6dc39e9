"""``vm-system ops ...``: daemon health, runtime summary, metrics and schema version."""

from __future__ import annotations

import typer

from .output import OutputFormat, OutputOption, echo, pretty, render
from .state import client_of

__all__ = ["app"]

app = typer.Typer(
    name="ops",
    help="Operate the daemon: health, runtime summary, host drain, Prometheus metrics, schema "
    "version.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("health")
def health(ctx: typer.Context, output: OutputOption = OutputFormat.text) -> None:
    """Print the daemon's health as JSON (`{"status": "ok"}`)."""
    answer = client_of(ctx).health()
    render(output, answer, lambda: echo(pretty(answer)))


@app.command("runtime-summary")
def runtime_summary(ctx: typer.Context, output: OutputOption = OutputFormat.text) -> None:
    """Print live sessions, running executions, engine, version, uptime and database as JSON."""
    summary = client_of(ctx).runtime_summary()
    render(output, summary, lambda: echo(pretty(summary)))


@app.command("drain")
def drain(
    ctx: typer.Context,
    host: str = typer.Argument(..., help="The host's id (as `ops runtime-summary` lists hosts)."),
    output: OutputOption = OutputFormat.text,
) -> None:
    """Move a session host's sessions to other hosts by replay, then retire the host.

    Each session is rebuilt on another host from its template, startup files and a replay of
    its executions (a template with recovery policy off leaves its session crashed); draining
    the only host starts a new one. Prints one line per session: id, status, new host.
    """
    answer = client_of(ctx).drain_host(host)

    def text() -> None:
        echo(f"host {answer['host_id']} drained and retired")
        for s in answer["sessions"]:
            where = f"on host {s['host_id']}" if s["host_id"] else s.get("last_error") or ""
            echo(f"{s['session_id']}  {s['status']}  {where}".rstrip())

    render(output, answer, text)


@app.command("metrics")
def metrics(ctx: typer.Context, output: OutputOption = OutputFormat.text) -> None:
    """Print the daemon's Prometheus metrics (text exposition format)."""
    text = client_of(ctx).metrics()
    render(output, {"metrics": text}, lambda: typer.echo(text, nl=not text.endswith("\n")))


@app.command("db-version")
def db_version(ctx: typer.Context, output: OutputOption = OutputFormat.text) -> None:
    """Print the database schema version (Alembic revision) the daemon runs on."""
    summary = client_of(ctx).runtime_summary()
    version = (summary.get("db") or {}).get("schema_version")
    render(output, {"schema_version": version}, lambda: echo(str(version or "unknown")))
