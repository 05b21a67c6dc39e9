"""How the CLI fails: one line on stderr and an exit code.

- an API error: ``api error (status=S, code=C): message`` (``api error (status=S)`` when the
  body was not an error envelope), exit 1; what the error names follows on its own stderr
  lines (``Running execution: ID`` for ``SESSION_BUSY``, ``Session ID: ID`` for a failed
  session start);
- no daemon: ``no vm-system daemon at URL: start one with `vm-system serve```, exit 1;
- other transport or stream failures, library cache errors and bad local input:
  ``Error: ...``, exit 1 (the
  original exits 1 for every failure; usage errors detected by the parser exit 2);
- ``--fail-on-error`` and an execution whose status is not ``ok``: exit 3.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import typer

from vmsystem.client import APIError, ClientError, DaemonUnavailable, SessionBusy

__all__ = [
    "EXIT_EXECUTION_FAILED",
    "EXIT_FAILURE",
    "CliError",
    "is_library_error",
    "kept_session_hint",
    "parse_json_object",
    "report",
]

#: Exit code of every failure (as the original).
EXIT_FAILURE = 1
#: Exit code of ``--fail-on-error`` when the execution did not end ``ok``.
EXIT_EXECUTION_FAILED = 3


class CliError(Exception):
    """Bad local input or a local failure; printed as ``Error: <message>``."""


def parse_json_object(raw: str, what: str) -> dict[str, Any]:
    """Parse a flag's JSON object (``--args``, ``--env``, ``--config``) or fail with
    ``invalid <what> JSON: ...`` as the original did."""
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise CliError(f"invalid {what} JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise CliError(f"invalid {what} JSON: expected an object, got {type(value).__name__}")
    return value


def is_library_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a library-cache error (:class:`vmsystem.libraries.errors.LibraryError`),
    without importing the library modules in a command that never loaded them."""
    errors = sys.modules.get("vmsystem.libraries.errors")
    return errors is not None and isinstance(exc, errors.LibraryError)


def report(exc: Exception, hints: Sequence[str] = ()) -> int:
    """Print the one-line report of ``exc`` to stderr, then any ``hints`` (what the error's
    details name: a kept session, the running execution); return the exit code."""
    if isinstance(exc, APIError | DaemonUnavailable):
        typer.echo(str(exc), err=True)
        for line in [*hints, *_detail_hints(exc)]:
            typer.echo(line, err=True)
    elif isinstance(exc, ClientError | CliError) or is_library_error(exc):
        typer.echo(f"Error: {exc}", err=True)
    else:  # pragma: no cover - the caller only passes the types above
        raise exc
    return EXIT_FAILURE


def kept_session_hint(exc: APIError) -> str | None:
    """For a failed session start: the line naming the session kept as ``crashed``."""
    kept = exc.details.get("session_id")
    if not isinstance(kept, str):
        return None
    return (
        f"Session ID: {kept} (crashed; its startup log: `vm-system exec list {kept}`; "
        f"remove it: `vm-system session delete --purge {kept}`)"
    )


def _detail_hints(exc: Exception) -> list[str]:
    if isinstance(exc, SessionBusy) and exc.execution_id:
        return [
            f"Running execution: {exc.execution_id} "
            f"(stop it with `vm-system exec cancel {exc.execution_id}`)"
        ]
    return []
