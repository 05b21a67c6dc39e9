"""``vm-system ops ...``: daemon health, runtime summary, metrics and schema version."""

from __future__ import annotations

import typer

from .output import OutputFormat, OutputOption, echo, pretty, render
from .state import client_of

__all__ = ["app"]

app = typer.Typer(
    name="ops",
    help="Operate the daemon: health, runtime summary, Prometheus metrics, schema version.",
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
