"""What the CLI checks and resolves before a request: empty IDs, template names.

Every command that takes a template accepts its name as well as its ID. The name is resolved
client-side through the list route (``GET /templates``), so the daemon's routes stay keyed by
ID and a CLI of this version works against an older daemon.
"""

from __future__ import annotations

import uuid

import typer

from vmsystem.client import Client

from .failures import CliError

__all__ = ["is_uuid", "non_empty", "template_id_of"]


def non_empty(value: str | None) -> str | None:
    """Argument callback: an empty or blank ID is a usage error (exit 2), before any request."""
    if value is not None and not value.strip():
        raise typer.BadParameter("must not be empty")
    return value


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID in any spelling the daemon accepts."""
    try:
        uuid.UUID(value.strip())
    except ValueError:
        return False
    return True


def template_id_of(client: Client, ref: str) -> str:
    """The ID of the template ``ref`` names: a UUID as is, else the template with that name.

    Raises :class:`CliError` when no template has that name.
    """
    if is_uuid(ref):
        return ref
    for template in client.list_templates():
        if template["name"] == ref:
            return template["id"]
    raise CliError(f'no template named "{ref}" (see `vm-system template list`)')
