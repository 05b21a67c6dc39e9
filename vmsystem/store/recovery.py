"""Restart recovery: nothing stays running after the daemon restarts, and no session stays
live except the ``ready`` ones the core rebuilds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from vmsystem.models import EventType, ExecutionStatus, SessionStatus
from vmsystem.store.database import Database
from vmsystem.store.rows import execution_from_row
from vmsystem.store.schema import daemons, events, executions, sessions
from vmsystem.store.search import SearchIndexer, execution_search
from vmsystem.store.sqltypes import UtcDateTime

__all__ = ["Reaped", "RecoveryStore"]

_LIVE = [str(SessionStatus.STARTING), str(SessionStatus.READY)]


@dataclass(frozen=True, slots=True)
class Reaped:
    """What :meth:`RecoveryStore.reap_daemons` changed."""

    sessions_closed: int
    executions_finished: int
    #: The dead daemons whose leases were removed.
    daemons: tuple[str, ...] = ()
    #: ``ready`` sessions kept for the heir to rebuild (now recorded as the heir's).
    claimed: tuple[str, ...] = ()


class RecoveryStore:
    """The ``recover`` and ``reap_daemons`` methods of :class:`vmsystem.store.Store`."""

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
        """Close live sessions and finish running executions, in one transaction: the
        restart of the only daemon of the store (:meth:`reap_daemons` with every row).

        ``starting``/``ready`` sessions become ``closed`` (``closed_at = now`` unless already
        set, ``last_error = session_message``); ``crashed``/``closed`` ones are untouched.
        ``keep_ready``: ``ready`` sessions whose template still exists stay ``ready`` (the
        core rebuilds them by replay); those whose template was deleted are closed.
        ``running`` executions become ``error`` with ``ended_at = now`` and
        ``error = execution_error``, and get one ``system`` event (``system_event_payload``)
        numbered after their last event. Returns ``(sessions_closed, executions_finished)``.
        """
        reaped = self.reap_daemons(
            None,
            heir=None,
            now=now,
            session_message=session_message,
            execution_error=execution_error,
            system_event_payload=system_event_payload,
            keep_ready=keep_ready,
        )
        return reaped.sessions_closed, reaped.executions_finished

    def reap_daemons(
        self,
        dead: Sequence[str] | None,
        *,
        heir: str | None,
        now: datetime,
        session_message: str,
        execution_error: dict[str, Any],
        system_event_payload: dict[str, Any],
        keep_ready: bool = False,
        index_missing: bool = True,
    ) -> Reaped:
        """Take over the rows of dead daemons, in one transaction, as :meth:`recover` does
        for all rows. The leases ``dead`` names are deleted first; then the rows taken over
        are those whose ``daemon_id`` is NULL or names no registered daemon (``dead=None``:
        every row).
        ``ready`` sessions kept (``keep_ready``) become ``heir``'s and are listed in
        :attr:`Reaped.claimed`; running executions are finished whoever reaps them (the
        update re-checks ``running`` under the row lock, so no execution is finished twice).
        ``index_missing``: also index every finished execution the search index lacks (a
        scan of the table: at start-up; the ones finished here are indexed regardless).
        """
        running = str(ExecutionStatus.RUNNING)
        with self._db.write() as connection:
            owners: ColumnElement[bool] | None = None
            session_owners: ColumnElement[bool] = sessions.c.id.is_not(None)
            gone: tuple[str, ...] = ()
            if dead is not None:
                if dead:  # delete first: of two daemons reaping at once, one gets each
                    gone = tuple(
                        row.id
                        for row in connection.execute(
                            delete(daemons)
                            .where(daemons.c.id.in_(list(dead)))
                            .returning(daemons.c.id)
                        )
                    )
                # The leases left after that delete are the live daemons' (and those of
                # daemons whose lease expired since the caller looked: the next pass reaps them).
                registered = select(daemons.c.id)
                owners = or_(
                    executions.c.daemon_id.is_(None), executions.c.daemon_id.not_in(registered)
                )
                session_owners = or_(
                    sessions.c.daemon_id.is_(None), sessions.c.daemon_id.not_in(registered)
                )
            stale: ColumnElement[bool] = sessions.c.status.in_(_LIVE)
            kept_ready: ColumnElement[bool] | None = None
            if keep_ready:
                kept_ready = and_(
                    sessions.c.status == str(SessionStatus.READY),
                    sessions.c.template_id.is_not(None),
                )
                stale = and_(stale, ~kept_ready)
            stale = and_(stale, session_owners)
            closed = connection.execute(
                update(sessions)
                .where(stale)
                .values(
                    status=str(SessionStatus.CLOSED),
                    closed_at=func.coalesce(
                        sessions.c.closed_at, bindparam("now", now, type_=UtcDateTime())
                    ),
                    last_error=session_message,
                )
            ).rowcount
            claimed: tuple[str, ...] = ()
            if kept_ready is not None and owners is not None:
                claimed = tuple(
                    row.id
                    for row in connection.execute(
                        update(sessions)
                        .where(kept_ready, session_owners)
                        .values(daemon_id=heir)
                        .returning(sessions.c.id)
                    )
                )
            finishing: ColumnElement[bool] = executions.c.status == running
            if owners is not None:
                finishing = and_(finishing, owners)
            # Finish first (the update takes the row locks and re-checks ``running``), then
            # number each one's system event after its last event.
            finished_ids = [
                row.id
                for row in connection.execute(
                    update(executions)
                    .where(finishing)
                    .values(status=str(ExecutionStatus.ERROR), ended_at=now, error=execution_error)
                    .returning(executions.c.id)
                )
            ]
            if finished_ids:
                last_seq = (
                    select(
                        executions.c.id, func.coalesce(func.max(events.c.seq), 0).label("last_seq")
                    )
                    .select_from(
                        executions.outerjoin(events, events.c.execution_id == executions.c.id)
                    )
                    .where(executions.c.id.in_(finished_ids))
                    .group_by(executions.c.id)
                )
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
                        for row in connection.execute(last_seq)
                    ],
                )
            if index_missing or finished_ids:
                # Only the dead daemons' rows: a live daemon's writer indexes its own.
                _index_missing(connection, owners)
            return Reaped(closed, len(finished_ids), gone, claimed)


def _index_missing(connection: Connection, owners: ColumnElement[bool] | None = None) -> None:
    """Index the finished executions the search index lacks (of ``owners`` only, when
    given): those the writer had not indexed yet when the process ended, and those recovery
    just finished."""
    known = select(execution_search.c.execution_id).where(
        execution_search.c.execution_id == executions.c.id
    )
    missing = [
        execution_from_row(row)
        for row in connection.execute(
            select(executions).where(
                executions.c.status != str(ExecutionStatus.RUNNING),
                ~known.exists(),
                owners if owners is not None else true(),
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
