"""``vm-system files ...``: put, get, list and remove a session's worktree files, from any
machine that reaches the daemon (the files API: docs/http-api.md#files)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from .output import Column, OutputFormat, OutputOption, echo, render, table
from .refs import non_empty
from .state import client_of

__all__ = ["app"]

app = typer.Typer(
    name="files",
    help="Read and write a session's worktree files through the daemon (works for managed "
    "worktrees and from other machines).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

SessionId = Annotated[
    str,
    typer.Argument(
        help="Session ID.", metavar="SESSION_ID", show_default=False, callback=non_empty
    ),
]


@app.command("put")
def put(
    ctx: typer.Context,
    session_id: SessionId,
    local: Annotated[
        str,
        typer.Argument(
            help="A local file, a local directory (uploaded as one archive), or - for stdin.",
            metavar="LOCAL",
            show_default=False,
        ),
    ],
    remote: Annotated[
        str | None,
        typer.Argument(
            help="Worktree path: the file to write (default: LOCAL's name), or for a "
            "directory the worktree directory to unpack it into (default: the worktree).",
            metavar="REMOTE",
            show_default=False,
        ),
    ] = None,
    output: OutputOption = OutputFormat.text,
) -> None:
    """Upload a file or a whole directory into the session's worktree.

    A file is written to REMOTE (parents created, replaced atomically); a directory is sent as
    one tar archive and unpacked under REMOTE (symlinks in it are left out). Prints one
    `Wrote PATH (N bytes)` line per file.
    """
    client = client_of(ctx)
    if local != "-" and os.path.isdir(local):
        result = client.upload_directory(session_id, local, path=remote or "")
        files = result["files"]
    else:
        if local == "-":
            if not remote:
                raise typer.BadParameter("REMOTE is required when LOCAL is - (stdin)")
            data = sys.stdin.buffer.read()
        else:
            try:
                data = Path(local).read_bytes()
            except OSError as exc:
                raise typer.BadParameter(f"cannot read {local}: {exc.strerror or exc}") from None
        files = [client.write_file(session_id, remote or Path(local).name, data)]

    def text() -> None:
        for entry in files:
            echo(f"Wrote {entry['path']} ({entry['size']} bytes)")

    render(output, files, text)


@app.command("get")
def get(
    ctx: typer.Context,
    session_id: SessionId,
    remote: Annotated[
        str,
        typer.Argument(
            help="Worktree path of the file (with --archive: of the directory, '.' for the "
            "whole worktree).",
            metavar="REMOTE",
            show_default=False,
        ),
    ],
    local: Annotated[
        str | None,
        typer.Argument(
            help="Local file to write (default or -: stdout).",
            metavar="LOCAL",
            show_default=False,
        ),
    ] = None,
    archive: Annotated[
        bool,
        typer.Option("--archive", help="Download directory REMOTE as one archive."),
    ] = False,
    fmt: Annotated[
        str,
        typer.Option("--format", help="Archive format with --archive: tar (gzip) or zip."),
    ] = "tar",
    output: OutputOption = OutputFormat.text,
) -> None:
    """Download a worktree file (or, with --archive, a directory as a tar.gz or zip).

    Without LOCAL the bytes go to stdout as they are; with LOCAL they are saved there and a
    `Saved REMOTE to LOCAL (N bytes)` line is printed.
    """
    client = client_of(ctx)
    if archive:
        where = "" if remote in (".", "/") else remote
        data = client.download_archive(session_id, where, format=fmt)
    else:
        data = client.read_file(session_id, remote)
    if local in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    assert local is not None
    try:
        Path(local).write_bytes(data)
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {local}: {exc.strerror or exc}") from None
    saved = {"path": remote, "local": os.path.abspath(local), "size": len(data)}
    render(output, saved, lambda: echo(f"Saved {remote} to {local} ({len(data)} bytes)"))


def _mtime(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


@app.command("ls")
def ls(
    ctx: typer.Context,
    session_id: SessionId,
    path: Annotated[
        str,
        typer.Argument(
            help="Worktree directory (default: the worktree).", metavar="PATH", show_default=False
        ),
    ] = "",
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="List the whole tree under PATH.")
    ] = False,
    output: OutputOption = OutputFormat.text,
) -> None:
    """List a worktree directory: path, type, size and modification time (UTC)."""
    where = "" if path in (".", "/") else path
    listing = client_of(ctx).list_files(session_id, where, recursive=recursive)

    def text() -> None:
        table(
            [Column("Path", 40), Column("Type", 10), Column("Size", 10), Column("Modified")],
            (
                [e["path"], e["type"], str(e["size"]), _mtime(e["mtime"])]
                for e in listing["entries"]
            ),
            dash=80,
        )
        if listing["truncated"]:
            echo("(listing truncated)")

    render(output, listing, text)


@app.command("rm")
def rm(
    ctx: typer.Context,
    session_id: SessionId,
    path: Annotated[
        str,
        typer.Argument(
            help="Worktree path: a file, a symlink or a directory (removed with its contents).",
            metavar="PATH",
            show_default=False,
            callback=non_empty,
        ),
    ],
    output: OutputOption = OutputFormat.text,
) -> None:
    """Remove a worktree file, symlink or directory; prints `Removed PATH`."""
    client_of(ctx).delete_file(session_id, path)
    render(output, {"path": path, "removed": True}, lambda: echo(f"Removed {path}"))
