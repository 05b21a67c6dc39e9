"""Compact JSON responses (orjson) and the wire form of core records."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson
from fastapi.responses import Response

from vmsystem.core import (
    Capability,
    Event,
    Execution,
    ExecutionMatch,
    FileEntry,
    Session,
    StartupFile,
    Template,
)

__all__ = [
    "capability_json",
    "download_json",
    "entry_json",
    "event_json",
    "execution_json",
    "iso",
    "json_bytes",
    "json_response",
    "session_json",
    "startup_file_json",
    "template_detail_json",
    "template_json",
]


_SECOND_PREFIXES: dict[int, str] = {}


def iso(value: datetime | None) -> str | None:
    """RFC 3339 UTC with milliseconds: ``2026-11-22T10:00:00.123Z``."""
    if value is None:
        return None
    # Event pages format thousands of timestamps from the same few seconds: strftime once
    # per second (a bounded cache), then append the milliseconds.
    second = int(value.timestamp() // 1)
    prefix = _SECOND_PREFIXES.get(second)
    if prefix is None:
        if len(_SECOND_PREFIXES) > 4096:
            _SECOND_PREFIXES.clear()
        prefix = _SECOND_PREFIXES[second] = value.strftime("%Y-%m-%dT%H:%M:%S.")
    return f"{prefix}{value.microsecond // 1000:03d}Z"


def json_bytes(body: Any) -> bytes:
    """Compact JSON of ``body``. A string with a lone surrogate (a JavaScript string may hold
    one, e.g. a result ``'\\ud800'``) is written as JSON's ``\\ud800`` escape, which JSON
    allows and every JSON parser reads back as the same string: orjson refuses it, so the
    standard library writes those bodies (and integers beyond 64 bits)."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body, separators=(",", ":")).encode()


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response."""
    return Response(json_bytes(body), status, headers=headers, media_type="application/json")


def template_json(t: Template) -> dict[str, Any]:
    """Wire form of a template (``exposed_modules`` keeps the original's field name)."""
    return {
        "id": t.id,
        "name": t.name,
        "engine": t.engine,
        "is_active": True,
        "settings": t.settings.to_dict(),
        "exposed_modules": list(t.modules),
        "libraries": list(t.libraries),
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
        "revision": t.revision,
    }


def capability_json(c: Capability) -> dict[str, Any]:
    """Wire form of a capability."""
    return asdict(c)


def startup_file_json(s: StartupFile) -> dict[str, Any]:
    """Wire form of a startup file."""
    return asdict(s)


def template_detail_json(t: Template) -> dict[str, Any]:
    """``{template, settings, capabilities, startup_files}`` as the original returned it."""
    return {
        "template": template_json(t),
        "settings": {"template_id": t.id, **t.settings.to_dict()},
        "capabilities": [capability_json(c) for c in t.capabilities],
        "startup_files": [startup_file_json(s) for s in t.startup_files],
    }


def entry_json(entry: FileEntry) -> dict[str, Any]:
    """Wire form of a worktree file entry."""
    return {"path": entry.path, "type": entry.type, "size": entry.size, "mtime": entry.mtime}


def session_json(s: Session) -> dict[str, Any]:
    """Wire form of a session."""
    return {
        "id": s.id,
        "template_id": s.template_id,
        "workspace_id": s.workspace_id,
        "base_commit_oid": s.base_commit_oid,
        "worktree_path": s.worktree_path,
        "worktree_managed": s.worktree_managed,
        "worktree_removed_at": iso(s.worktree_removed_at),
        "status": s.status.value,
        "created_at": iso(s.created_at),
        "last_activity_at": iso(s.last_activity_at),
        "closed_at": iso(s.closed_at),
        "last_error": s.last_error,
        "template_snapshot": s.template_snapshot.to_dict(),
        "host_id": s.host_id,
        "recovered_at": iso(s.recovered_at),
        "recovery_count": s.recovery_count,
        "idle_timeout_s": s.idle_timeout_s,
    }


def execution_json(x: Execution) -> dict[str, Any]:
    """Wire form of an execution."""
    return {
        "id": x.id,
        "session_id": x.session_id,
        "kind": x.kind.value,
        "input": x.input,
        "path": x.path,
        "args": x.args,
        "env": x.env,
        "status": x.status.value,
        "started_at": iso(x.started_at),
        "ended_at": iso(x.ended_at),
        "result": x.result,
        "error": x.error,
        "metrics": x.metrics,
        "provenance": x.provenance,
        "replay_of": x.replay_of,
        "ordinal": x.ordinal,
    }


def match_json(m: ExecutionMatch) -> dict[str, Any]:
    """Wire form of a search hit."""
    return {
        "execution": execution_json(m.execution),
        "session_id": m.execution.session_id,
        "score": round(m.score, 6),
        "snippet": m.snippet,
        "highlights": [list(span) for span in m.highlights],
    }


def event_json(ev: Event) -> dict[str, Any]:
    """Wire form of an event."""
    return {
        "execution_id": ev.execution_id,
        "seq": ev.seq,
        "ts": iso(ev.ts),
        "type": ev.type.value,
        "payload": ev.payload,
    }


def download_json(job: dict[str, Any]) -> dict[str, Any]:
    """A library download job, timestamps in the API's format."""
    return {
        **job,
        "created_at": iso(job["created_at"]),
        "finished_at": iso(job["finished_at"]),
    }
