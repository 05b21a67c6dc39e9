"""Conversions between records (``vmsystem.models``) and table rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Row

from vmsystem.models import (
    Capability,
    Event,
    EventType,
    Execution,
    ExecutionKind,
    ExecutionStatus,
    Session,
    SessionStatus,
    StartupFile,
    TemplateSnapshot,
)

__all__ = [
    "capability_from_row",
    "capability_params",
    "event_from_row",
    "execution_from_row",
    "session_from_row",
    "session_params",
    "startup_file_from_row",
    "startup_file_params",
]


def capability_params(c: Capability) -> dict[str, Any]:
    """Column values of a capability (without ``position``)."""
    return {
        "id": c.id,
        "template_id": c.template_id,
        "kind": c.kind,
        "name": c.name,
        "enabled": c.enabled,
        "config": c.config,
    }


def capability_from_row(row: Row[Any]) -> Capability:
    """A capability from a ``template_capabilities`` row."""
    return Capability(
        id=row.id,
        template_id=row.template_id,
        kind=row.kind,
        name=row.name,
        enabled=bool(row.enabled),
        config=row.config,
    )


def startup_file_params(s: StartupFile) -> dict[str, Any]:
    """Column values of a startup file (without ``position``)."""
    return {
        "id": s.id,
        "template_id": s.template_id,
        "path": s.path,
        "order_index": s.order_index,
        "mode": s.mode,
    }


def startup_file_from_row(row: Row[Any]) -> StartupFile:
    """A startup file from a ``template_startup_files`` row."""
    return StartupFile(
        id=row.id,
        template_id=row.template_id,
        path=row.path,
        order_index=row.order_index,
        mode=row.mode,
    )


def session_params(s: Session) -> dict[str, Any]:
    """Column values of a session."""
    return {
        "id": s.id,
        "template_id": s.template_id,
        "origin_template_id": s.template_id,
        "workspace_id": s.workspace_id,
        "base_commit_oid": s.base_commit_oid,
        "worktree_path": s.worktree_path,
        "status": str(s.status),
        "created_at": s.created_at,
        "last_activity_at": s.last_activity_at,
        "closed_at": s.closed_at,
        "last_error": s.last_error,
        "template_snapshot": s.template_snapshot.to_dict(),
        "worktree_managed": s.worktree_managed,
        "worktree_removed_at": s.worktree_removed_at,
        "recovered_at": s.recovered_at,
        "recovery_count": s.recovery_count,
        "idle_timeout_s": s.idle_timeout_s,
    }


def session_from_row(row: Row[Any]) -> Session:
    """A session from a ``sessions`` row (``template_id`` survives template deletion)."""
    return Session(
        id=row.id,
        template_id=row.origin_template_id,
        workspace_id=row.workspace_id,
        base_commit_oid=row.base_commit_oid,
        worktree_path=row.worktree_path,
        status=SessionStatus(row.status),
        created_at=row.created_at,
        last_activity_at=row.last_activity_at,
        closed_at=row.closed_at,
        last_error=row.last_error,
        template_snapshot=TemplateSnapshot.from_dict(row.template_snapshot),
        worktree_managed=bool(row.worktree_managed),
        worktree_removed_at=row.worktree_removed_at,
        recovered_at=row.recovered_at,
        recovery_count=row.recovery_count,
        idle_timeout_s=row.idle_timeout_s,
    )


def execution_from_row(row: Row[Any]) -> Execution:
    """An execution from an ``executions`` row."""
    return Execution(
        id=row.id,
        session_id=row.session_id,
        kind=ExecutionKind(row.kind),
        input=row.input,
        path=row.path,
        args=row.args,
        env=row.env,
        status=ExecutionStatus(row.status),
        started_at=row.started_at,
        ended_at=row.ended_at,
        result=row.result,
        error=row.error,
        metrics=row.metrics,
        provenance=row.provenance,
        replay_of=row.replay_of,
        ordinal=row.ordinal,
    )


def event_from_row(row: Row[Any]) -> Event:
    """An event from an ``events`` row."""
    return Event(
        execution_id=row.execution_id,
        seq=row.seq,
        ts=row.ts,
        type=EventType(row.type),
        payload=row.payload,
    )
