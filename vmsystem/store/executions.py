"""Execution and event reads (writes go through the writer, :mod:`vmsystem.store.writer`)."""

from __future__ import annotations

from sqlalchemy import select

from vmsystem.store.database import Database
from vmsystem.store.records import Event, Execution
from vmsystem.store.rows import event_from_row, execution_from_row
from vmsystem.store.schema import events, executions

__all__ = ["ExecutionStore"]


class ExecutionStore:
    """Execution/event read methods of :class:`vmsystem.store.Store` (thread-safe).

    Reads see committed writes only: call ``flush()`` first to read what was just submitted.
    """

    _db: Database

    def get_execution(self, execution_id: str) -> Execution | None:
        """The execution, or ``None``."""
        query = select(executions).where(executions.c.id == execution_id)
        with self._db.read() as connection:
            row = connection.execute(query).first()
            return None if row is None else execution_from_row(row)

    def list_executions(self, session_id: str, *, limit: int = 50) -> list[Execution]:
        """The session's executions, newest first (``started_at`` DESC, then ``id`` DESC)."""
        query = (
            select(executions)
            .where(executions.c.session_id == session_id)
            .order_by(executions.c.started_at.desc(), executions.c.id.desc())
            .limit(limit)
        )
        with self._db.read() as connection:
            return [execution_from_row(row) for row in connection.execute(query)]

    def list_events(
        self, execution_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[Event]:
        """The execution's events with ``seq > after_seq``, in ``seq`` order."""
        query = (
            select(events)
            .where(events.c.execution_id == execution_id, events.c.seq > after_seq)
            .order_by(events.c.seq)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as connection:
            return [event_from_row(row) for row in connection.execute(query)]

    def execution_exists(self, execution_id: str) -> bool:
        """Whether the execution exists (committed)."""
        query = select(executions.c.id).where(executions.c.id == execution_id)
        with self._db.read() as connection:
            return connection.execute(query).first() is not None
