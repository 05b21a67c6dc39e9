"""Provenance of executions: what a session's code ran on, recorded with every execution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vmsystem import __version__
from vmsystem.core.libraries import LoadedLibrary
from vmsystem.hosts import EngineInfo
from vmsystem.models import TemplateSnapshot

__all__ = ["execution_provenance", "session_provenance"]


def session_provenance(
    snapshot: TemplateSnapshot, libraries: Sequence[LoadedLibrary], engine: EngineInfo
) -> dict[str, Any]:
    """The part of every execution's provenance a session fixes when it starts: its template
    snapshot's id and revision, the engine of its host, this vm-system's version, and each
    library it loaded with the version and sha256 of the cached file."""
    return {
        "template_id": snapshot.id,
        "template_revision": snapshot.revision,
        "engine": {"name": engine.name, "version": engine.version},
        "vm_system_version": __version__,
        "libraries": [
            {"name": lib.name, "version": lib.version, "sha256": lib.sha256} for lib in libraries
        ],
    }


def execution_provenance(session: dict[str, Any], host_id: str) -> dict[str, Any]:
    """An execution's provenance: its session's, plus the host the runtime is on now."""
    return {**session, "host_id": host_id}
