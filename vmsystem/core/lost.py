"""The one crash path: a session's runtime is lost.

Words, one per concept (``docs/hosts.md#words``): a host **dies** (its process or actor ends);
a runtime is **lost** when it cannot go on (its host died, or its engine cannot be recovered):
``OutcomeKind.LOST``, ``on_lost``, :meth:`RuntimeLoss.runtime_lost`; a session whose runtime was
lost is **crashed** (its status).

Both ways a loss is noticed end here: the host's callback (the runtime was lost while idle)
and the execution path (a run ended ``LOST``). Recovery plugs in before the crash is recorded
(:attr:`RuntimeLoss.keep`); listeners added with :meth:`RuntimeLoss.listen` are told after a
session was recorded crashed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from vmsystem.core.events import EventBus
from vmsystem.core.registry import RuntimeRegistry
from vmsystem.hosts import SessionRuntime
from vmsystem.models import SessionStatus
from vmsystem.store import Store

__all__ = ["LossListener", "RuntimeLoss"]

_log = logging.getLogger(__name__)

#: Told after a session was recorded crashed: ``(session_id, cause)``.
LossListener = Callable[[str, str], None]


class RuntimeLoss:
    """Records lost runtimes: unregister, dispose, mark ``crashed``, end the streams."""

    def __init__(self, store: Store, registry: RuntimeRegistry, bus: EventBus) -> None:
        self._store = store
        self._registry = registry
        self._bus = bus
        self._listeners: list[LossListener] = []
        #: Asked ``(session_id, cause)`` before a lost ``ready`` session is recorded crashed:
        #: True when recovery takes it over (it rebuilds the session and marks it
        #: ``starting``; its streams go on and get the recovery's event). None: never.
        self.keep: Callable[[str, str], bool] | None = None

    def listen(self, listener: LossListener) -> None:
        """Call ``listener(session_id, cause)`` after each session recorded crashed."""
        self._listeners.append(listener)

    def runtime_lost(
        self,
        session_id: str,
        cause: str,
        running: Callable[[], None] | None = None,
        *,
        runtime: SessionRuntime | None = None,
    ) -> bool:
        """The session's runtime is lost: unregister and dispose it, mark the session
        ``crashed`` with ``cause`` (unless :attr:`keep` hands it to recovery), then end the
        session's streams. Thread-safe and idempotent:
        only the call that unregisters the session records the crash (returns True).

        ``running``: the run the loss ended, as what publishes its terminal event; it is
        called (always, exactly once) after the crash is recorded and before the streams end,
        so a client reacting to that event finds the session crashed. ``runtime``: act only if
        the session's registered runtime is this one (a late report about a runtime the
        session no longer has, e.g. after a restart, changes nothing).
        """
        live = self._registry.discard(session_id, runtime)
        kept = False
        if live is not None:
            live.dispose()
            # Without the session's state lock (the loss may be reported from a run that a
            # close is waiting for), so a session already closed stays closed.
            row = self._store.get_session(session_id)
            if row is not None and row.status is not SessionStatus.CLOSED:
                kept = (
                    self.keep is not None
                    and row.status is SessionStatus.READY
                    and self.keep(session_id, cause)
                )
                if not kept:
                    self._store.update_session(
                        session_id, status=SessionStatus.CRASHED, last_error=cause
                    )
                    _log.warning(
                        "session crashed", extra={"session_id": session_id, "error": cause}
                    )
        try:
            if running is not None:
                running()
        finally:
            if live is not None and not kept:
                self._bus.end_session(session_id)
        if live is None or kept:
            return live is not None
        for listener in self._listeners:
            try:
                listener(session_id, cause)
            except Exception:
                _log.exception("runtime-lost listener failed")
        return True
