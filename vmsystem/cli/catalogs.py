"""The catalogs the CLI prints without a daemon (``template list-available-*``)."""

from __future__ import annotations

from typing import Any

__all__ = ["MODULES", "library_catalog", "module_catalog"]

#: Native modules a template may expose to ``require()`` (spec section 4.6).
MODULES: tuple[dict[str, Any], ...] = (
    {
        "name": "fs",
        "kind": "native",
        "description": "File system access confined to the session worktree; writes need the "
        "capability fs:write.",
        "functions": ["readFileSync", "writeFileSync", "existsSync", "readdirSync", "mkdirSync"],
        "capabilities": ["fs:write"],
    },
    {
        "name": "exec",
        "kind": "native",
        "description": "Run allow-listed commands without a shell (capability exec:run with "
        'config {"allow": [...]}).',
        "functions": ["run"],
        "capabilities": ["exec:run"],
    },
    {
        "name": "database",
        "kind": "native",
        "description": "One SQLite connection per session (:memory: or a file inside the "
        "worktree).",
        "functions": ["configure", "query", "exec", "close"],
        "capabilities": [],
    },
)


def module_catalog() -> list[dict[str, Any]]:
    """The native module catalog as JSON-ready dicts."""
    return [dict(m) for m in MODULES]


def library_catalog() -> list[dict[str, Any]]:
    """The library catalog (from :mod:`vmsystem.libraries`) as JSON-ready dicts."""
    from .libs import catalog_entries

    return catalog_entries()
