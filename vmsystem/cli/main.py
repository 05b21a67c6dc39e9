"""The ``vm-system`` command: global flags, the command tree and failure reporting.

Global flags come before the subcommand, as with the original
(``vm-system --server-url URL template create ...``, ``vm-system --db PATH serve``). Like the
original's persistent flags they are also accepted after it (they are moved to the front before
parsing), except after ``serve``, which has flags of its own.

Each subcommand's module is imported when that command is used (or listed, by ``--help``): a
command starts without loading the others' dependencies (the server stack, the library cache,
asyncio, prompt_toolkit).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from vmsystem.cli.failures import CliError, is_library_error, report
from vmsystem.cli.state import CliState
from vmsystem.client import DEFAULT_SERVER_URL, ENV_AUTH_TOKEN, ENV_SERVER_URL, ClientError

__all__ = ["COMMANDS", "app", "main", "normalize_args"]

#: The subcommands in the order help lists them: name -> (module, attribute), the attribute a
#: Typer app (a command group) or a command function.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("vmsystem.cli.serve", "serve"),
    "template": ("vmsystem.cli.templates", "app"),
    "session": ("vmsystem.cli.sessions", "app"),
    "exec": ("vmsystem.cli.executions", "app"),
    "files": ("vmsystem.cli.files", "app"),
    "repl": ("vmsystem.cli.repl", "repl"),
    "ops": ("vmsystem.cli.ops", "app"),
    "libs": ("vmsystem.cli.libs", "app"),
    "mcp": ("vmsystem.cli.mcp", "mcp"),
    "kernel": ("vmsystem.cli.kernel", "app"),
}

#: Global flags that take a value.
GLOBAL_VALUE_FLAGS = ("--server-url", "--db", "--auth-token", "--log-level")
_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def normalize_args(args: Sequence[str]) -> list[str]:
    """Accept the original's spellings: global flags after the subcommand, ``--enabled=false``.

    Scanning stops at ``--``; nothing after ``serve`` is moved.
    """
    args = list(args)
    i = 0
    while i < len(args):  # skip the root's own options to find the subcommand
        token = args[i]
        if token in GLOBAL_VALUE_FLAGS:
            i += 2
        elif token.startswith("-"):
            i += 1
        else:
            break
    if i >= len(args) or args[i] == "serve":
        return args
    head, tail = args[:i], args[i:]
    moved: list[str] = []
    rest: list[str] = []
    j = 0
    while j < len(tail):
        token = tail[j]
        if token == "--":
            rest.extend(tail[j:])
            break
        if token in GLOBAL_VALUE_FLAGS and j + 1 < len(tail):
            moved.extend(tail[j : j + 2])
            j += 2
            continue
        if token.startswith(tuple(f"{flag}=" for flag in GLOBAL_VALUE_FLAGS)):
            moved.append(token)
        elif token.startswith("--enabled=") and token[10:].lower() in _BOOL_WORDS:
            rest.append("--enabled" if _BOOL_WORDS[token[10:].lower()] else "--disabled")
        else:
            rest.append(token)
        j += 1
    return moved + head + rest


def _load(name: str) -> Any:
    """The click command of subcommand ``name``, converted as the root converts its own: a
    throwaway root with the same settings holds only it."""
    module, attribute = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    holder = typer.Typer(
        pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None
    )
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    holder.callback()(_holder_callback)
    return typer.main.get_group(holder).commands[name]


def _holder_callback() -> None:
    """The throwaway root's (never run)."""


class RootGroup(TyperGroup):
    """The root command: normalises arguments, loads subcommands on use and turns SDK errors
    into one-line reports."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, normalize_args(args))

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(n for n in super().list_commands(ctx) if n not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.add_command(_load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (ClientError, CliError) as exc:
            ctx.exit(report(exc))
        except Exception as exc:
            if not is_library_error(exc):
                raise
            ctx.exit(report(exc))


app = typer.Typer(
    name="vm-system",
    cls=RootGroup,
    help="Daemon-first JavaScript runtime service: templates, long-lived sessions, executions "
    "and their events. Client commands talk to the daemon at --server-url; start it with "
    "`vm-system serve`.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help, the same text as docs/cli.md: Typer's Rich help shows `<bool>` after
    # boolean flags (`--follow <bool>`), which reads as if they took a value.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from vmsystem import __version__

        typer.echo(f"vm-system {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    server_url: Annotated[
        str,
        typer.Option(
            "--server-url",
            envvar=ENV_SERVER_URL,
            help="URL of the vm-system daemon (used by every client command).",
        ),
    ] = DEFAULT_SERVER_URL,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="VMSYSTEM_DB",
            help="Database of the daemon: SQLite file path or SQLAlchemy URL (used by serve only).",
            show_default=False,
        ),
    ] = None,
    auth_token: Annotated[
        str | None,
        typer.Option(
            "--auth-token",
            envvar=ENV_AUTH_TOKEN,
            help="Bearer token sent to a daemon started with --auth-token.",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            help="Log level of the daemon (debug, info, warning, error; used by serve).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Daemon-first JavaScript runtime service."""
    ctx.obj = CliState(
        server_url=server_url.rstrip("/") or DEFAULT_SERVER_URL,
        auth_token=auth_token or None,
        db=db,
        log_level=log_level,
    )


@app.command("help")
def help_(
    ctx: typer.Context,
    command: Annotated[
        list[str] | None,
        typer.Argument(
            help="Command path, for example `template create`.",
            metavar="COMMAND",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Show help for a command (`vm-system help exec repl`)."""
    root_ctx = ctx.find_root()
    current: Any = root_ctx
    cmd: Any = root_ctx.command
    for name in command or []:
        sub = cmd.get_command(current, name) if hasattr(cmd, "get_command") else None
        if sub is None:
            raise CliError(f"unknown command: {' '.join(command or [])}")
        current = typer.Context(sub, info_name=name, parent=current)
        cmd = sub
    typer.echo(current.get_help())


def main() -> None:
    """Console-script entry point."""
    app(prog_name="vm-system")
