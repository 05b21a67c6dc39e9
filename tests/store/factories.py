"""Record factories for the store tests (unique ids and names, fixed timestamps)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from vmsystem.models import Limits, TemplateSettings, TemplateSnapshot
from vmsystem.store import (
    Capability,
    Event,
    EventType,
    Execution,
    ExecutionKind,
    ExecutionStatus,
    Session,
    SessionStatus,
    StartupFile,
    Template,
)

#: A timestamp with a non-zero microsecond part, to catch precision loss.
T0 = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


def new_id() -> str:
    """A fresh UUID v4 string."""
    return str(uuid.uuid4())


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def template(name: str | None = None, *, created: float = 0, **fields: Any) -> Template:
    """A template without children unless given."""
    values: dict[str, Any] = {
        "id": new_id(),
        "name": name or f"tpl-{uuid.uuid4().hex[:8]}",
        "engine": "v8",
        "settings": TemplateSettings(limits=Limits(wall_ms=4000)),
        "modules": [],
        "libraries": [],
        "created_at": at(created),
        "updated_at": at(created),
    }
    values.update(fields)
    return Template(**values)


def capability(
    template_id: str, name: str = "fs", *, kind: str = "module", **fields: Any
) -> Capability:
    """A capability of ``template_id``."""
    values: dict[str, Any] = {
        "id": new_id(),
        "template_id": template_id,
        "kind": kind,
        "name": name,
        "enabled": True,
        "config": {"ro": True},
    }
    values.update(fields)
    return Capability(**values)


def startup_file(template_id: str, path: str, order_index: int = 0) -> StartupFile:
    """An ``eval`` startup file of ``template_id``."""
    return StartupFile(
        id=new_id(), template_id=template_id, path=path, order_index=order_index, mode="eval"
    )


def session(
    template_id: str,
    *,
    status: SessionStatus = SessionStatus.READY,
    created: float = 0,
    **fields: Any,
) -> Session:
    """A session of ``template_id``."""
    values: dict[str, Any] = {
        "id": new_id(),
        "template_id": template_id,
        "workspace_id": "ws-1",
        "base_commit_oid": "0" * 40,
        "worktree_path": "/tmp/worktree",
        "status": status,
        "created_at": at(created),
        "last_activity_at": at(created),
        "closed_at": None,
        "last_error": None,
        "template_snapshot": TemplateSnapshot(
            id=template_id, name="snapshot", engine="v8", settings=TemplateSettings()
        ),
    }
    values.update(fields)
    return Session(**values)


def execution(
    session_id: str,
    *,
    status: ExecutionStatus = ExecutionStatus.RUNNING,
    started: float = 0,
    **fields: Any,
) -> Execution:
    """A REPL execution of ``session_id``."""
    values: dict[str, Any] = {
        "id": new_id(),
        "session_id": session_id,
        "kind": ExecutionKind.REPL,
        "input": "20 + 22",
        "path": None,
        "args": {},
        "env": {},
        "status": status,
        "started_at": at(started),
        "ended_at": None,
        "result": None,
        "error": None,
        "metrics": {},
    }
    values.update(fields)
    return Execution(**values)


def finished(e: Execution, *, ended: float = 1, **fields: Any) -> Execution:
    """``e`` as it is once it finished successfully."""
    values: dict[str, Any] = {
        "status": ExecutionStatus.OK,
        "ended_at": at(ended),
        "result": {"type": "number", "preview": "42", "json": 42},
        "metrics": {"duration_ms": 3, "event_count": 2, "output_bytes": 7},
    }
    values.update(fields)
    return dataclasses.replace(e, **values)


def event(
    execution_id: str, seq: int, *, kind: EventType = EventType.CONSOLE, **payload: Any
) -> Event:
    """Event ``seq`` of ``execution_id``."""
    return Event(
        execution_id=execution_id,
        seq=seq,
        ts=at(seq / 1000),
        type=kind,
        payload=payload or {"level": "log", "text": f"line {seq}"},
    )
