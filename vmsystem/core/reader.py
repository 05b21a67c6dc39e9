"""The reader: executions and their events, running ones included, live or from the store.

Get, list, events, history, search and follow: everything that reads executions without
changing them. Running executions answer from :class:`~vmsystem.core.runs.ActiveRuns` and
the bus before the store has their final row.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator

from vmsystem.core.errors import ExecutionNotFound, ValidationError
from vmsystem.core.events import EventBus
from vmsystem.core.follow import ExecutionFollower, SessionFollower
from vmsystem.core.ids import normalize_id
from vmsystem.core.registry import RuntimeRegistry
from vmsystem.core.runs import ActiveRuns
from vmsystem.core.search import SearchPage, search
from vmsystem.models import Event, Execution
from vmsystem.store import Store

__all__ = ["MAX_EVENTS_PAGE", "MAX_EXECUTIONS_PAGE", "ExecutionReader"]

MAX_EVENTS_PAGE = 10000
MAX_EXECUTIONS_PAGE = 1000


class ExecutionReader:
    """Read executions and their events, and follow them live."""

    def __init__(
        self, store: Store, bus: EventBus, registry: RuntimeRegistry, active: ActiveRuns
    ) -> None:
        self._store = store
        self._bus = bus
        self._registry = registry
        self._active = active

    def get(self, execution_id: str) -> Execution:
        """One execution (running ones included)."""
        eid = normalize_id(execution_id, "execution_id")
        active = self._active.get(eid)
        if active is not None:
            return active
        row = self._store.get_execution(eid)
        if row is None:
            raise ExecutionNotFound(execution_id=eid)
        return row

    def list(self, session_id: str, *, limit: int = 50) -> builtins.list[Execution]:
        """Executions of a session, newest first."""
        sid = normalize_id(session_id, "session_id")
        if not 1 <= limit <= MAX_EXECUTIONS_PAGE:
            raise ValidationError(f"limit must be from 1 to {MAX_EXECUTIONS_PAGE}")
        return self._store.list_executions(sid, limit=limit)

    def history(self, session_id: str, *, page: int = 500) -> Iterator[Execution]:
        """Every execution of a session, oldest first, read ``page`` rows at a time (a whole
        history without holding it in memory; running ones as last committed)."""
        sid = normalize_id(session_id, "session_id")
        after = 0
        while rows := self._store.page_executions(sid, after=after, limit=page):
            yield from rows
            after = rows[-1].ordinal or 0

    def events(
        self, execution_id: str, *, after_seq: int = 0, limit: int = 1000
    ) -> builtins.list[Event]:
        """Events of an execution with ``seq > after_seq``, oldest first (live ones included)."""
        eid = normalize_id(execution_id, "execution_id")
        if after_seq < 0:
            raise ValidationError("after_seq must be >= 0")
        if not 1 <= limit <= MAX_EVENTS_PAGE:
            raise ValidationError(f"limit must be from 1 to {MAX_EVENTS_PAGE}")
        backlog = self._bus.backlog(eid, after_seq)
        if backlog is not None:
            return backlog[:limit]
        if not self._store.execution_exists(eid):
            raise ExecutionNotFound(execution_id=eid)
        return self._store.list_events(eid, after_seq=after_seq, limit=limit)

    def all_events(self, execution_id: str) -> Iterator[Event]:
        """Every event of an execution in ``seq`` order, read page by page."""
        after = 0
        while events := self.events(execution_id, after_seq=after, limit=MAX_EVENTS_PAGE):
            yield from events
            after = events[-1].seq

    def search(
        self, q: str, *, session_id: str | None = None, limit: int = 20, offset: int = 0
    ) -> SearchPage:
        """Full-text search of finished executions, best first (see :func:`search`)."""
        return search(self._store, q, session_id=session_id, limit=limit, offset=offset)

    def follow(
        self, execution_id: str, wake: Callable[[], None], *, after_seq: int = 0
    ) -> ExecutionFollower:
        """Follow an execution's events after ``after_seq`` up to its terminal event, live
        (see :class:`~vmsystem.core.follow.ExecutionFollower`); EXECUTION_NOT_FOUND first."""
        eid = normalize_id(execution_id, "execution_id")
        if after_seq < 0:
            raise ValidationError("after_seq must be >= 0")
        follower = ExecutionFollower(self._bus, self._store, eid, after_seq, wake)
        if self._bus.get(eid) is None and not self._store.execution_exists(eid):
            follower.close()
            raise ExecutionNotFound(execution_id=eid)
        return follower

    def follow_session(
        self,
        session_id: str,
        wake: Callable[[], None],
        *,
        resume: tuple[int | str, int] | None = None,
    ) -> SessionFollower:
        """Follow every event of a session's executions from now on, or after ``resume``
        (``(ordinal, seq)``: that execution's later events and every later execution's; an
        execution id in place of the ordinal is looked up first), until the session closes
        or crashes. Resuming is one indexed query, however long the history."""
        sid = normalize_id(session_id, "session_id")
        backlog: builtins.list[tuple[str, int, int]] = []
        if resume is not None:
            start, after_seq = resume
            if isinstance(start, str):
                found = self._store.execution_ordinal(normalize_id(start, "Last-Event-ID"))
                start = found[1] if found is not None and found[0] == sid else 0
            if start > 0:
                backlog = [
                    (eid, ordinal, after_seq if ordinal == start else 0)
                    for eid, ordinal in self._store.executions_from(sid, start)
                ]
        follower = SessionFollower(self._bus, self._store, sid, wake, backlog=backlog)
        if self._registry.get(sid) is None:
            follower.mark_ended()  # closed or crashed: nothing follows the backlog
        return follower
