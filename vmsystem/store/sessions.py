"""Session persistence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from vmsystem.models import Session, SessionStatus, TemplateSnapshot
from vmsystem.store.database import Database
from vmsystem.store.rows import session_from_row, session_params
from vmsystem.store.schema import events, executions, sessions

__all__ = ["SessionStore"]

_INSERT_SESSION = insert(sessions)


class SessionStore:
    """Session methods of :class:`vmsystem.store.Store` (synchronous, thread-safe)."""

    _db: Database
    daemon_id: str | None

    def insert_session(self, s: Session) -> None:
        """Insert a session.

        Raises :class:`ForeignKeyViolation` if its template does not exist and
        :class:`UniqueViolation` (``constraint="session_id"``) if the id is taken.
        """
        with self._db.write() as connection:
            connection.execute(_INSERT_SESSION, {**session_params(s), "daemon_id": self.daemon_id})

    def get_session(self, session_id: str) -> Session | None:
        """The session, or ``None``."""
        with self._db.read() as connection:
            row = connection.execute(select(sessions).where(sessions.c.id == session_id)).first()
            return None if row is None else session_from_row(row)

    def list_sessions(
        self,
        *,
        status: str | None = None,
        template_id: str | None = None,
        limit: int | None = None,
    ) -> list[Session]:
        """Sessions, newest first (``created_at`` DESC, then ``id``), optionally filtered.

        ``template_id`` also matches sessions whose template has since been deleted.
        """
        query = select(sessions).order_by(sessions.c.created_at.desc(), sessions.c.id.desc())
        if status is not None:
            query = query.where(sessions.c.status == str(status))
        if template_id is not None:
            query = query.where(sessions.c.origin_template_id == template_id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as connection:
            return [session_from_row(row) for row in connection.execute(query)]

    def update_session(
        self,
        session_id: str,
        *,
        status: SessionStatus | None = None,
        closed_at: datetime | None = None,
        last_error: str | None = None,
        last_activity_at: datetime | None = None,
        clear_last_error: bool = False,
        template_snapshot: TemplateSnapshot | None = None,
        worktree_removed_at: datetime | None = None,
        recovered_at: datetime | None = None,
    ) -> None:
        """Change the given fields (``None`` = unchanged; ``clear_last_error`` sets it to
        NULL; ``recovered_at`` also adds one to ``recovery_count``). An unknown session is a
        no-op. A session made ``starting`` or ``ready`` is this store's daemon's from then on
        (``daemon_id``): its runtime lives there."""
        values: dict[str, Any] = {}
        if recovered_at is not None:
            values["recovered_at"] = recovered_at
            values["recovery_count"] = sessions.c.recovery_count + 1
        if clear_last_error:
            values["last_error"] = None
        if template_snapshot is not None:
            values["template_snapshot"] = template_snapshot.to_dict()
        if status is not None:
            values["status"] = str(status)
            if status in (SessionStatus.STARTING, SessionStatus.READY):
                values["daemon_id"] = self.daemon_id
        if closed_at is not None:
            values["closed_at"] = closed_at
        if last_error is not None:
            values["last_error"] = last_error
        if last_activity_at is not None:
            values["last_activity_at"] = last_activity_at
        if worktree_removed_at is not None:
            values["worktree_removed_at"] = worktree_removed_at
        if not values:
            return
        with self._db.write() as connection:
            connection.execute(update(sessions).where(sessions.c.id == session_id).values(values))

    def sessions_using_worktree(self, path: str, *, besides: str) -> int:
        """How many sessions other than ``besides`` have ``path`` as their worktree (a fork
        shares its source's)."""
        query = (
            select(func.count())
            .select_from(sessions)
            .where(sessions.c.worktree_path == path, sessions.c.id != besides)
        )
        with self._db.read() as connection:
            return int(connection.execute(query).scalar_one())

    def expired_worktrees(self, closed_before: datetime) -> list[Session]:
        """Closed sessions with a managed worktree still in place, closed before
        ``closed_before`` (oldest first)."""
        query = (
            select(sessions)
            .where(
                sessions.c.worktree_managed.is_(True),
                sessions.c.worktree_removed_at.is_(None),
                sessions.c.closed_at.is_not(None),
                sessions.c.closed_at < closed_before,
                sessions.c.status == str(SessionStatus.CLOSED),
            )
            .order_by(sessions.c.closed_at)
        )
        with self._db.read() as connection:
            return [session_from_row(row) for row in connection.execute(query)]

    def count_sessions(self, template_id: str, statuses: Sequence[SessionStatus]) -> int:
        """How many sessions of the template have one of ``statuses``."""
        if not statuses:
            return 0
        query = (
            select(func.count())
            .select_from(sessions)
            .where(
                sessions.c.origin_template_id == template_id,
                sessions.c.status.in_([str(s) for s in statuses]),
            )
        )
        with self._db.read() as connection:
            return int(connection.execute(query).scalar_one())

    def delete_session(self, session_id: str) -> bool:
        """Delete a session with its executions and their events, in one transaction.

        Returns ``False`` if the session does not exist. The caller flushes the writer first
        (``flush()``) so that no queued event of the session lands after the delete.
        """
        owned = select(executions.c.id).where(executions.c.session_id == session_id)
        with self._db.write() as connection:
            # Explicit rather than relying on ON DELETE CASCADE: the rows go whatever the
            # connection's foreign-key setting.
            connection.execute(delete(events).where(events.c.execution_id.in_(owned)))
            connection.execute(delete(executions).where(executions.c.session_id == session_id))
            result = connection.execute(delete(sessions).where(sessions.c.id == session_id))
            return result.rowcount > 0
