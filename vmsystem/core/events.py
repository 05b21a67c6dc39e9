"""The event bus: live events of running executions, fanned out to subscribers.

While an execution runs, all of its events live in memory here (so readers and streams never
wait for the database writer). The execution leaves the bus only after its final state is
committed, so a reader that does not find it here finds it complete in the store.
Subscribers receive events through a ``deliver`` callback called from the producing thread;
it must be quick and thread-safe (the HTTP layer hands events to its event loop).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from vmsystem.models import Event

__all__ = ["EventBus", "LiveExecution", "Subscription"]

Deliver = Callable[[Event | None], None]
#: Told that an execution (by id) may have new events, or ``None``: the session ended.
Wake = Callable[[str | None], None]


@dataclass(eq=False)
class Subscription:
    """A registered listener: ``deliver`` gets every event (``None``: the execution stream
    ended), or, for a watcher, ``wake`` is told which execution has news and reads the events
    itself (see :mod:`vmsystem.core.follow`)."""

    deliver: Deliver | None
    execution_id: str | None = None
    session_id: str | None = None
    wake: Wake | None = None
    #: Woken by :meth:`EventBus.committed` (another daemon's commits), not by this bus.
    committed: bool = False


@dataclass(eq=False)
class LiveExecution:
    """In-memory state of one running execution."""

    execution_id: str
    session_id: str
    #: Its position in its session (set once its row is committed, before any event).
    ordinal: int = 0
    events: list[Event] = field(default_factory=list)
    done: bool = False
    subscribers: list[Subscription] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        """The seq of the newest event (0 before the first)."""
        return self.events[-1].seq if self.events else 0


class EventBus:
    """Thread-safe registry of live executions and subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[str, LiveExecution] = {}
        self._session_subs: dict[str, list[Subscription]] = {}
        self._committed_subs: dict[str, list[Subscription]] = {}

    def open(self, execution_id: str, session_id: str) -> LiveExecution:
        """Start tracking a running execution."""
        live = LiveExecution(execution_id, session_id)
        with self._lock:
            self._live[execution_id] = live
        return live

    def get(self, execution_id: str) -> LiveExecution | None:
        """The live execution, if it is still running (or not yet committed)."""
        with self._lock:
            return self._live.get(execution_id)

    def publish(self, live: LiveExecution, events: list[Event], *, final: bool = False) -> None:
        """Append events to a live execution and deliver them to its subscribers."""
        with self._lock:
            live.events.extend(events)
            if final:
                live.done = True
            targets = list(live.subscribers) + list(self._session_subs.get(live.session_id, ()))
            if final:
                live.subscribers.clear()
        for sub in targets:
            if sub.wake is not None:
                sub.wake(live.execution_id)
                continue
            assert sub.deliver is not None
            for event in events:
                sub.deliver(event)
            if final and sub.execution_id is not None:
                sub.deliver(None)

    def close(self, live: LiveExecution) -> None:
        """Forget a finished execution (after its final state is committed)."""
        with self._lock:
            self._live.pop(live.execution_id, None)

    def backlog(self, execution_id: str, after_seq: int) -> list[Event] | None:
        """Events after ``after_seq`` of a live execution, or None if it is not live."""
        with self._lock:
            live = self._live.get(execution_id)
            if live is None:
                return None
            return [e for e in live.events if e.seq > after_seq]

    def subscribe_execution(
        self, execution_id: str, after_seq: int, deliver: Deliver
    ) -> tuple[list[Event], Subscription | None]:
        """Backlog after ``after_seq`` and a subscription, or ``([], None)`` if not live."""
        with self._lock:
            live = self._live.get(execution_id)
            if live is None:
                return [], None
            backlog = [e for e in live.events if e.seq > after_seq]
            if live.done:
                return backlog, None
            sub = Subscription(deliver, execution_id=execution_id)
            live.subscribers.append(sub)
            return backlog, sub

    def page(
        self, execution_id: str, after_seq: int, limit: int
    ) -> tuple[list[Event], bool] | None:
        """Up to ``limit`` events after ``after_seq`` of a live execution and whether they
        reach its terminal event; None when the execution is not (or no longer) live."""
        with self._lock:
            live = self._live.get(execution_id)
            if live is None:
                return None
            events = live.events
            # seqs are contiguous, so the position of seq n is n - first seq
            start = max(after_seq - events[0].seq + 1, 0) if events else 0
            page = events[start : start + limit]
            return page, live.done and start + len(page) >= len(events)

    def watch_execution(self, execution_id: str, wake: Wake) -> Subscription | None:
        """Call ``wake(execution_id)`` whenever the live execution gets events; None when it
        is not live or already has its terminal event (nothing more will come)."""
        with self._lock:
            live = self._live.get(execution_id)
            if live is None or live.done:
                return None
            sub = Subscription(None, execution_id=execution_id, wake=wake)
            live.subscribers.append(sub)
            return sub

    def watch_committed(self, execution_id: str, wake: Wake) -> Subscription:
        """Call ``wake(execution_id)`` whenever :meth:`committed` names the execution: its
        events or final row were committed by the daemon running it (another one)."""
        sub = Subscription(None, execution_id=execution_id, wake=wake, committed=True)
        with self._lock:
            self._committed_subs.setdefault(execution_id, []).append(sub)
        return sub

    def committed(self, execution_ids: Iterable[str]) -> None:
        """Another daemon committed events or final rows of these executions (PostgreSQL
        notifications): wake their :meth:`watch_committed` watchers."""
        with self._lock:
            targets = [s for eid in execution_ids for s in self._committed_subs.get(eid, ())]
        for sub in targets:
            assert sub.wake is not None
            sub.wake(sub.execution_id)

    def watch_session(self, session_id: str, wake: Wake) -> tuple[Subscription, dict[str, int]]:
        """Call ``wake(execution_id)`` whenever an execution of the session gets events, and
        ``wake(None)`` when the session closes or crashes. Also returns the session's live
        executions with their last seq at that moment (what "from now on" starts after)."""
        sub = Subscription(None, session_id=session_id, wake=wake)
        with self._lock:
            self._session_subs.setdefault(session_id, []).append(sub)
            now = {
                eid: live.last_seq
                for eid, live in self._live.items()
                if live.session_id == session_id
            }
        return sub, now

    def subscribe_session(self, session_id: str, deliver: Deliver) -> Subscription:
        """Receive every event of every execution of a session from now on."""
        sub = Subscription(deliver, session_id=session_id)
        with self._lock:
            self._session_subs.setdefault(session_id, []).append(sub)
        return sub

    def end_session(self, session_id: str) -> None:
        """The session closed or crashed: end its session streams (``deliver(None)``)."""
        with self._lock:
            subs = self._session_subs.pop(session_id, [])
        for sub in subs:
            if sub.wake is not None:
                sub.wake(None)
            elif sub.deliver is not None:
                sub.deliver(None)

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivering to ``sub``; idempotent."""
        with self._lock:
            if sub.committed and sub.execution_id is not None:
                watchers = self._committed_subs.get(sub.execution_id, [])
                if sub in watchers:
                    watchers.remove(sub)
                if not watchers:
                    self._committed_subs.pop(sub.execution_id, None)
                return
            if sub.session_id is not None:
                subs = self._session_subs.get(sub.session_id, [])
                if sub in subs:
                    subs.remove(sub)
                if not subs:
                    self._session_subs.pop(sub.session_id, None)
            if sub.execution_id is not None:
                live = self._live.get(sub.execution_id)
                if live is not None and sub in live.subscribers:
                    live.subscribers.remove(sub)
