"""Following events: an execution's (or a session's) events, page by page, live.

A follower never queues events: the bus only *wakes* it ("execution X has news"), and it reads
the next page itself, from the bus while the execution runs, or from the store once it has
finished. The bus keeps a running execution's events until its final row is committed, so the
hand-over never leaves a gap. A slow reader therefore costs one page of memory, whatever the
size of the execution, and loses nothing: it falls behind and catches up page by page.

``wake`` is called on the producing thread (the engine's console sink, the execution's thread)
and must be quick: the HTTP layer only sets an event on its loop.

An execution running on another daemon over the same store is never on this bus: its
follower reads the store, where the other daemon's writer commits its events, and counts it
ended only once its row is final (read before the events, so none is missed) and the page is
short. It is woken by that daemon's commits (PostgreSQL ``NOTIFY``, see
:meth:`~vmsystem.core.events.EventBus.committed`) and, as a fallback, polls the store every
:data:`STORE_POLL_S` (:attr:`ExecutionFollower.polling`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from vmsystem.core.events import EventBus, Subscription
from vmsystem.models import Event
from vmsystem.store import Store

__all__ = ["PAGE_SIZE", "STORE_POLL_S", "ExecutionFollower", "SessionFollower"]

#: Events read at a time.
PAGE_SIZE = 1000
#: How often a follower of an execution running on another daemon reads the store without
#: being woken (the bound on its lag when no notification arrives: SQLite, a lost one).
STORE_POLL_S = 1.0


class ExecutionFollower:
    """One execution's events after ``after_seq``, up to and including its terminal event.

    ``wake()`` is called whenever new events may be readable. Call :meth:`read_live` first
    (it never blocks); when it answers None, call :meth:`read` off the event loop (it reads the
    store). :attr:`done` is set once the terminal event was returned.
    """

    def __init__(
        self,
        bus: EventBus,
        store: Store,
        execution_id: str,
        after_seq: int,
        wake: Callable[[], None],
    ) -> None:
        self._bus = bus
        self._store = store
        self.execution_id = execution_id
        self.last_seq = after_seq
        self.done = False
        self._wake = wake
        self._sub: Subscription | None = bus.watch_execution(execution_id, lambda _id: wake())
        self._committed: Subscription | None = None
        #: The execution runs elsewhere (another daemon): wait for news at most
        #: :data:`STORE_POLL_S` before reading the store again.
        self.polling = False

    def read_live(self, limit: int = PAGE_SIZE) -> list[Event] | None:
        """The next page from the bus; None when the execution is no longer live (read the
        store with :meth:`read`)."""
        if self.done:
            return []
        found = self._bus.page(self.execution_id, self.last_seq, limit)
        if found is None:
            return None
        page, reached_end = found
        self._advance(page)
        self.done = reached_end
        return page

    def read(self, limit: int = PAGE_SIZE) -> list[Event]:
        """The next page, from the bus or the store (may block on the store)."""
        page = self.read_live(limit)
        if page is not None:
            return page
        if self._committed is None:
            # Watch before reading: a commit after this read wakes the next one.
            self._committed = self._bus.watch_committed(self.execution_id, lambda _id: self._wake())
        # Off this bus: finished and committed here, or running on another daemon. Its row
        # is read before its events: once final, every event is committed.
        finished = self._store.execution_finished(self.execution_id)
        page = self._store.list_events(self.execution_id, after_seq=self.last_seq, limit=limit)
        self._advance(page)
        self.done = finished and len(page) < limit
        self.polling = not finished
        return page

    def _advance(self, page: list[Event]) -> None:
        if page:
            self.last_seq = page[-1].seq

    def close(self) -> None:
        """Stop being woken; idempotent."""
        if self._sub is not None:
            self._bus.unsubscribe(self._sub)
            self._sub = None
        if self._committed is not None:
            self._bus.unsubscribe(self._committed)
            self._committed = None


class SessionFollower:
    """Every event of a session's executions from now on (optionally resuming from a
    backlog), until the session closes or crashes.

    Executions of one session run one at a time, so events come execution by execution, in
    order. ``wake()`` is called whenever something may be readable. After each
    :meth:`read`, :attr:`ordinal` is the ordinal of the execution the page came from.
    """

    def __init__(
        self,
        bus: EventBus,
        store: Store,
        session_id: str,
        wake: Callable[[], None],
        *,
        backlog: list[tuple[str, int, int]] | None = None,
    ) -> None:
        self._bus = bus
        self._store = store
        self.session_id = session_id
        self.ended = False
        self._lock = threading.Lock()
        #: Executions with events still to read, oldest first:
        #: ``(execution_id, ordinal, after seq)``.
        self._pending: list[tuple[str, int, int]] = list(backlog or [])
        self._known = {eid for eid, _, _ in self._pending}
        self.ordinal = 0
        self._wake = wake
        self._current: ExecutionFollower | None = None
        sub, running = bus.watch_session(session_id, self._on_news)
        self._sub: Subscription | None = sub
        #: Where the executions running at subscription time start: after what they had.
        self._start_after = running

    def _on_news(self, execution_id: str | None) -> None:
        if execution_id is not None and execution_id not in self._known:
            live = self._bus.get(execution_id)
            ordinal = live.ordinal if live is not None else 0
        with self._lock:
            if execution_id is None:
                self.ended = True
            elif execution_id not in self._known:
                self._known.add(execution_id)
                after = self._start_after.get(execution_id, 0)
                self._pending.append((execution_id, ordinal, after))
        self._wake()

    def mark_ended(self) -> None:
        """The session is not live: nothing will follow what is pending."""
        self.ended = True
        self._wake()

    def read(self, limit: int = PAGE_SIZE) -> list[Event]:
        """The next page of the oldest execution with unread events (may read the store)."""
        while True:
            if self._current is None:
                with self._lock:
                    if not self._pending:
                        return []
                    execution_id, ordinal, after = self._pending[0]
                self._current = ExecutionFollower(
                    self._bus, self._store, execution_id, after, self._wake
                )
                self.ordinal = ordinal
            page = self._current.read(limit)
            if self._current.done:
                self._current.close()
                self._current = None
                with self._lock:
                    self._pending.pop(0)
            if page or self._current is not None:
                return page

    @property
    def finished(self) -> bool:
        """The session ended and every pending event was read."""
        with self._lock:
            return self.ended and not self._pending and self._current is None

    def close(self) -> None:
        """Stop being woken; idempotent."""
        if self._current is not None:
            self._current.close()
            self._current = None
        if self._sub is not None:
            self._bus.unsubscribe(self._sub)
            self._sub = None
