"""Execution and event reads (writes go through the writer, :mod:`vmsystem.store.writer`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from vmsystem.models import Event, EventType, Execution, ExecutionStatus
from vmsystem.store import jsontext
from vmsystem.store.database import Database
from vmsystem.store.rows import execution_from_row
from vmsystem.store.schema import executions
from vmsystem.store.sqltypes import from_micros

__all__ = ["ExecutionStore"]

_EVENTS_PAGE = text(
    "SELECT seq, ts, type, payload FROM events"
    " WHERE execution_id = :eid AND seq > :after ORDER BY seq LIMIT :lim"
)
_FROM_ORDINAL = text(
    "SELECT id, ordinal FROM executions"
    " WHERE session_id = :sid AND ordinal >= :ordinal ORDER BY ordinal"
)
_EVENT_TYPES = {t.value: t for t in EventType}


def _timestamp(value: Any) -> datetime:
    """SQLite keeps integer microseconds; PostgreSQL returns an aware datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return from_micros(int(value))


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
        """The session's executions, newest first (``ordinal`` DESC)."""
        query = (
            select(executions)
            .where(executions.c.session_id == session_id)
            .order_by(executions.c.ordinal.desc())
            .limit(limit)
        )
        with self._db.read() as connection:
            return [execution_from_row(row) for row in connection.execute(query)]

    def page_executions(
        self, session_id: str, *, after: int = 0, limit: int = 500
    ) -> list[Execution]:
        """The session's executions oldest first (by ``ordinal``), those after the ordinal
        ``after``: page through a whole history with the last row's ordinal."""
        query = (
            select(executions)
            .where(executions.c.session_id == session_id, executions.c.ordinal > after)
            .order_by(executions.c.ordinal.asc())
            .limit(limit)
        )
        with self._db.read() as connection:
            return [execution_from_row(row) for row in connection.execute(query)]

    def executions_from(self, session_id: str, ordinal: int) -> list[tuple[str, int]]:
        """``(id, ordinal)`` of the session's executions from ``ordinal`` on, oldest first:
        where a session stream resumes (one query on the ``(session_id, ordinal)`` index)."""
        with self._db.read() as connection:
            rows = connection.execute(_FROM_ORDINAL, {"sid": session_id, "ordinal": ordinal})
            return [(eid, n) for eid, n in rows]

    def execution_ordinal(self, execution_id: str) -> tuple[str, int] | None:
        """``(session_id, ordinal)`` of an execution, or None."""
        query = select(executions.c.session_id, executions.c.ordinal).where(
            executions.c.id == execution_id
        )
        with self._db.read() as connection:
            row = connection.execute(query).first()
            return None if row is None else (row.session_id, row.ordinal)

    def list_events(
        self, execution_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[Event]:
        """The execution's events with ``seq > after_seq``, in ``seq`` order."""
        # The hot read of event pages (10,000 rows at a time): plain SQL returns raw column
        # values, converted here without SQLAlchemy's per-row type processing.
        params = {"eid": execution_id, "after": after_seq, "lim": -1 if limit is None else limit}
        with self._db.read() as connection:
            if connection.dialect.name == "postgresql" and limit is None:
                params["lim"] = None
            rows = connection.execute(_EVENTS_PAGE, params).all()
        return [
            Event(execution_id, seq, _timestamp(ts), _EVENT_TYPES[kind], jsontext.loads(payload))
            for seq, ts, kind, payload in rows
        ]

    def execution_finished(self, execution_id: str) -> bool:
        """Whether the execution's row is final (not ``running``); True for an unknown one."""
        query = select(executions.c.status).where(executions.c.id == execution_id)
        with self._db.read() as connection:
            status = connection.execute(query).scalar_one_or_none()
        return status != str(ExecutionStatus.RUNNING)

    def execution_exists(self, execution_id: str) -> bool:
        """Whether the execution exists (committed)."""
        query = select(executions.c.id).where(executions.c.id == execution_id)
        with self._db.read() as connection:
            return connection.execute(query).first() is not None
