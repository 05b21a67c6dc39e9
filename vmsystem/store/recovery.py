"""Restart recovery: nothing stays running after the daemon restarts, and no session stays
live except the ``ready`` ones the core rebuilds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from vmsystem.models import EventType, ExecutionStatus, SessionStatus
from vmsystem.store.database import Database
from vmsystem.store.rows import execution_from_row
from vmsystem.store.schema import events, executions, sessions
from vmsystem.store.search import SearchIndexer, execution_search
from vmsystem.store.sqltypes import UtcDateTime

__all__ = ["RecoveryStore"]

_LIVE = [str(SessionStatus.STARTING), str(SessionStatus.READY)]


class RecoveryStore:
    """The ``recover`` method of :class:`vmsystem.store.Store`."""

    _db: Database

    def recover(
        self,
        *,
        now: datetime,
        session_message: str,
        execution_error: dict[str, Any],
        system_event_payload: dict[str, Any],
        keep_ready: bool = False,
    ) -> tuple[int, int]:
        """Close live sessions and finish running executions, in one transaction.

        ``starting``/``ready`` sessions become ``closed`` (``closed_at = now`` unless already
        set, ``last_error = session_message``); ``crashed``/``closed`` ones are untouched.
        ``keep_ready``: ``ready`` sessions whose template still exists stay ``ready`` (the
        core rebuilds them by replay); those whose template was deleted are closed.
        ``running`` executions become ``error`` with ``ended_at = now`` and
        ``error = execution_error``, and get one ``system`` event (``system_event_payload``)
        numbered after their last event. Returns ``(sessions_closed, executions_finished)``.
        """
        running = str(ExecutionStatus.RUNNING)
        last_seq = (
            select(executions.c.id, func.coalesce(func.max(events.c.seq), 0).label("last_seq"))
            .select_from(executions.outerjoin(events, events.c.execution_id == executions.c.id))
            .where(executions.c.status == running)
            .group_by(executions.c.id)
        )
        with self._db.write() as connection:
            live: ColumnElement[bool] = sessions.c.status.in_(_LIVE)
            if keep_ready:
                live = or_(
                    sessions.c.status == str(SessionStatus.STARTING),
                    and_(
                        sessions.c.status == str(SessionStatus.READY),
                        sessions.c.template_id.is_(None),
                    ),
                )
            closed = connection.execute(
                update(sessions)
                .where(live)
                .values(
                    status=str(SessionStatus.CLOSED),
                    closed_at=func.coalesce(
                        sessions.c.closed_at, bindparam("now", now, type_=UtcDateTime())
                    ),
                    last_error=session_message,
                )
            ).rowcount
            stuck = list(connection.execute(last_seq))
            if not stuck:
                _index_missing(connection)
                return closed, 0
            connection.execute(
                insert(events),
                [
                    {
                        "execution_id": row.id,
                        "seq": row.last_seq + 1,
                        "ts": now,
                        "type": str(EventType.SYSTEM),
                        "payload": system_event_payload,
                    }
                    for row in stuck
                ],
            )
            finished = connection.execute(
                update(executions)
                .where(executions.c.status == running)
                .values(status=str(ExecutionStatus.ERROR), ended_at=now, error=execution_error)
            ).rowcount
            _index_missing(connection)
            return closed, finished


def _index_missing(connection: Connection) -> None:
    """Index the finished executions the search index lacks: those the writer had not
    indexed yet when the process ended, and those recovery just finished."""
    known = select(execution_search.c.execution_id).where(
        execution_search.c.execution_id == executions.c.id
    )
    missing = [
        execution_from_row(row)
        for row in connection.execute(
            select(executions).where(
                executions.c.status != str(ExecutionStatus.RUNNING), ~known.exists()
            )
        )
    ]
    if not missing:
        return
    cursor = connection.connection.cursor()
    try:
        SearchIndexer(connection.dialect.name).index(cursor, missing)
    finally:
        cursor.close()
