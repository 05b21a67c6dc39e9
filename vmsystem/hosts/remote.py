"""What a runtime in another process (a host process or a Ray actor) keeps on the daemon's side.

The lifecycle bookkeeping shared by :class:`~vmsystem.hosts.process.ProcessRuntime` and
:class:`~vmsystem.hosts.ray.RayRuntime`: one run at a time, cancellation time, close, loss of
the host (``on_lost`` only for a runtime lost while idle: a run in flight reports ``WEDGED``
itself), and when a run is overdue so that its host must be killed (the last resort).
"""

from __future__ import annotations

import logging
import threading
import time

from vmsystem.hosts.base import KILL_GRACE_S, LostCallback
from vmsystem.runtime import EngineError, RunLimits

__all__ = ["RemoteRuntime"]

_log = logging.getLogger(__name__)


class RemoteRuntime:
    """Daemon-side state of a session's runtime that lives in another process."""

    def __init__(self, host_id: str, session_id: str, on_lost: LostCallback) -> None:
        self.host_id = host_id
        self.session_id = session_id
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._closed = False
        self._lost_cause: str | None = None
        self._running = False
        self._cancelled_at: float | None = None

    def _host_alive(self) -> bool:
        """Whether the process holding the runtime is alive (backends override)."""
        raise NotImplementedError

    @property
    def alive(self) -> bool:
        """False once closed or lost."""
        return not self._closed and self._lost_cause is None and self._host_alive()

    def _begin_run(self) -> None:
        """Mark a run in progress; EngineError if the runtime is lost, closed or busy."""
        with self._lock:
            if self._lost_cause is not None:
                raise EngineError(self._lost_cause)
            if self._closed:
                raise EngineError("context is closed")
            if self._running:
                raise EngineError("context is already running code")
            self._running = True
            self._cancelled_at = None

    def _end_run(self) -> None:
        with self._lock:
            self._running = False

    def _note_cancel(self) -> bool:
        """Record a cancel request; False when nothing runs (nothing to cancel)."""
        with self._lock:
            if not self._running or self._closed:
                return False
            if self._cancelled_at is None:
                self._cancelled_at = time.monotonic()
            return True

    def _begin_close(self) -> bool | None:
        """Mark the runtime closed: None if it already was, else whether a run is in flight
        (which then counts as cancelled from now)."""
        with self._lock:
            if self._closed:
                return None
            self._closed = True
            if self._running and self._cancelled_at is None:
                self._cancelled_at = time.monotonic()
            return self._running

    def _overdue(self, started: float, limits: RunLimits) -> str | None:
        """Why the run begun at ``started`` must be ended by killing its host (it went on
        :data:`KILL_GRACE_S` past its wall limit or its cancellation), or None."""
        now = time.monotonic()
        cancelled = self._cancelled_at
        if cancelled is not None and now > cancelled + KILL_GRACE_S:
            return f"a run did not stop within {KILL_GRACE_S:g} s of its cancellation"
        if limits.wall_ms is not None and now > started + limits.wall_ms / 1000 + KILL_GRACE_S:
            return (
                f"a run did not stop within {KILL_GRACE_S:g} s of its wall limit "
                f"({limits.wall_ms:g} ms)"
            )
        return None

    def _lost(self, cause: str, *, pool_closing: bool) -> None:
        """The host died: remember why; tell the owner if no run was in flight (a run in
        flight reports the loss as its outcome). At the pool's close nothing is lost: the
        owner is closing its sessions itself."""
        with self._lock:
            if self._closed or self._lost_cause is not None:
                return
            self._lost_cause = cause
            running = self._running
        if not running and not pool_closing:
            try:
                self._on_lost(cause)
            except Exception:
                _log.exception("on_lost callback failed")
