"""Idle timeouts: sessions nobody uses are closed, so that abandoned ones do not pile up.

A session's timeout is, first found: the ``idle_timeout_s`` of the request that created it,
its template's ``settings.session.idle_timeout_s``, the daemon's ``--interactive-idle-timeout``
for a session created for a person or an agent at a prompt (``vm-system repl --new``, MCP's
``create_session``, the Jupyter kernel); it is kept on the session (``idle_timeout_s``, 0:
never). A session without one gets the daemon's ``--session-idle-timeout`` (None: never).

Activity is an execution (REPL input, run-file, its start and its end), a completion or a
files request; a session running something is never idle, and watching its stream is not
activity. Time is counted in the daemon process that holds the session's runtime (a session
rebuilt after a daemon restart counts from its rebuild). A session closed for idleness gets
a ``close`` execution whose one ``system`` event (``SESSION_IDLE_TIMEOUT``) reaches its
stream, then it is ``closed`` with the reason in ``last_error``.
"""

from __future__ import annotations

import time

from vmsystem.core.registry import RuntimeRegistry
from vmsystem.models import TemplateSnapshot

__all__ = ["MAX_CHECK_INTERVAL_S", "IdleWatch", "own_idle_timeout"]

#: The longest pause between two looks for idle sessions (a new session's timeout may be
#: shorter than the ones seen so far).
MAX_CHECK_INTERVAL_S = 1.0
#: The shortest pause.
MIN_CHECK_INTERVAL_S = 0.2


def own_idle_timeout(
    requested: float | None, snapshot: TemplateSnapshot, interactive: float | None
) -> float | None:
    """The idle timeout a new session keeps: ``requested``, else its template's, else
    ``interactive`` (the daemon's default for interactive sessions; 0 or None: none, so the
    daemon-wide default applies)."""
    if requested is not None:
        return requested
    if snapshot.settings.session.idle_timeout_s is not None:
        return snapshot.settings.session.idle_timeout_s
    return interactive or None


class IdleWatch:
    """Finds the live sessions idle past their timeout (``default_s`` for those without
    one of their own)."""

    def __init__(self, registry: RuntimeRegistry, default_s: float | None) -> None:
        self._registry = registry
        self.default_s = default_s or None

    def idle(self) -> list[tuple[str, float]]:
        """``(session id, timeout)`` of each live session idle for at least its timeout."""
        now = time.monotonic()
        found = []
        for live in self._registry.all():
            timeout = self._timeout_of(live.idle_timeout_s)
            if (
                timeout is not None
                and live.current_execution is None
                and now - live.last_active >= timeout
            ):
                found.append((live.session_id, timeout))
        return found

    def interval(self) -> float:
        """How long to wait before the next look: a quarter of the shortest timeout in force,
        between :data:`MIN_CHECK_INTERVAL_S` and :data:`MAX_CHECK_INTERVAL_S`."""
        timeouts = [self._timeout_of(live.idle_timeout_s) for live in self._registry.all()]
        shortest = min((t for t in timeouts if t is not None), default=MAX_CHECK_INTERVAL_S * 4)
        return min(max(shortest / 4, MIN_CHECK_INTERVAL_S), MAX_CHECK_INTERVAL_S)

    def _timeout_of(self, own: float | None) -> float | None:
        if own is None:
            return self.default_s
        return own or None
