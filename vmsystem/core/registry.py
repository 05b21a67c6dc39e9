"""The runtime registry: the sessions whose runtime is live (on one of the system's hosts)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vmsystem.hosts import SessionRuntime
from vmsystem.models import Limits
from vmsystem.runtime import RunLimits

__all__ = ["LiveSession", "LostListener", "RuntimeRegistry"]

_log = logging.getLogger(__name__)


@dataclass(eq=False)
class LiveSession:
    """A ready session's runtime (on some host) and what it needs to run code."""

    session_id: str
    worktree: str
    runtime: SessionRuntime
    limits_of_snapshot: Limits
    #: The default REPL input language (``settings.runtime.language``).
    language: str = "javascript"
    busy: threading.Lock = field(default_factory=threading.Lock)
    current_execution: str | None = None
    #: What every execution's provenance takes from the session (set once libraries load).
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def host_id(self) -> str:
        """The host the session's runtime lives on."""
        return self.runtime.host_id

    @property
    def limits(self) -> RunLimits:
        """Wall and CPU limits of the session's template snapshot."""
        limits = self.limits_of_snapshot
        return RunLimits(wall_ms=limits.wall_ms, cpu_ms=limits.cpu_ms)

    @property
    def max_events(self) -> int:
        """The ``max_events`` limit of the session's template snapshot."""
        return self.limits_of_snapshot.max_events

    def interrupt(self) -> None:
        """Stop the current run, including a host call (exec, SQL) it is waiting in."""
        self.runtime.cancel()

    def dispose(self) -> None:
        """Close the runtime (its host releases what the session's modules opened)."""
        self.runtime.close()


#: Told when a live session's runtime is lost: ``(live session, why)``.
LostListener = Callable[[LiveSession, str], None]


class RuntimeRegistry:
    """Live sessions by id (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, LiveSession] = {}
        self._lost_listeners: list[LostListener] = []

    def on_lost(self, listener: LostListener) -> None:
        """Call ``listener`` whenever :meth:`mark_lost` unregisters a session."""
        self._lost_listeners.append(listener)

    def mark_lost(self, live: LiveSession, message: str) -> None:
        """The session's runtime is lost (wedged, or its host died): unregister and dispose
        it, then tell the listeners (the session service records it as ``crashed``).
        Idempotent: only the call that unregisters the session acts."""
        with self._lock:
            if self._sessions.get(live.session_id) is not live:
                return
            del self._sessions[live.session_id]
        live.dispose()
        for listener in self._lost_listeners:
            try:
                listener(live, message)
            except Exception:
                _log.exception("runtime-lost listener failed")

    def add(self, live: LiveSession) -> None:
        """Register a ready session."""
        with self._lock:
            self._sessions[live.session_id] = live

    def get(self, session_id: str) -> LiveSession | None:
        """The live session, if any."""
        with self._lock:
            return self._sessions.get(session_id)

    def pop(self, session_id: str) -> LiveSession | None:
        """Unregister and return a live session."""
        with self._lock:
            return self._sessions.pop(session_id, None)

    def ids(self) -> list[str]:
        """Sorted ids of live sessions whose runtime is alive."""
        with self._lock:
            return sorted(k for k, v in self._sessions.items() if v.runtime.alive)

    def all(self) -> list[LiveSession]:
        """Every registered live session."""
        with self._lock:
            return list(self._sessions.values())
