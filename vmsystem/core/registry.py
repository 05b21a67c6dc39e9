"""The runtime registry: the sessions whose runtime is live (on one of the system's hosts)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from vmsystem.hosts import SessionRuntime
from vmsystem.models import Limits
from vmsystem.runtime import RunLimits

__all__ = ["LiveSession", "RuntimeRegistry"]

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
    #: The session's own idle timeout (0: never; None: the daemon's default applies).
    idle_timeout_s: float | None = None
    #: ``time.monotonic()`` of its last activity (see :meth:`touch`).
    last_active: float = field(default_factory=time.monotonic)

    def touch(self) -> None:
        """Record activity: an execution or a completion ended, a files request came in."""
        self.last_active = time.monotonic()

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


class RuntimeRegistry:
    """Live sessions by id (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, LiveSession] = {}

    def discard(self, session_id: str, runtime: SessionRuntime | None = None) -> LiveSession | None:
        """Unregister and return the live session (only if its runtime is ``runtime``, when
        given); None if it is not registered (or has another runtime)."""
        with self._lock:
            live = self._sessions.get(session_id)
            if live is None or (runtime is not None and live.runtime is not runtime):
                return None
            del self._sessions[session_id]
            return live

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
