"""``vm-system libs ...``: the local library cache (no daemon needed)."""

from __future__ import annotations

from typing import Any

import typer

__all__ = ["app", "catalog_entries"]

app = typer.Typer(
    name="libs",
    help="Manage the local library cache (works without a daemon).",
    no_args_is_help=True,
)


def catalog_entries() -> list[dict[str, Any]]:
    """The library catalog as JSON-ready dicts."""
    return []


@app.command("list")
def list_() -> None:
    """List the library catalog."""
