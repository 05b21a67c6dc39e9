"""Draining a session host: its sessions move to other hosts by replay, then it is retired.

``POST /api/v1/runtime/hosts/{id}/drain`` and ``vm-system ops drain HOST``. The host takes no
new session from the start; each of its live sessions is rebuilt on another host from its
template snapshot, its startup files and a replay of its ``ok`` executions
(:meth:`RecoveryService.relocate <vmsystem.core.recovery.RecoveryService.relocate>`: the same
recovery as after a host crash, with its ``SESSION_RECOVERED`` event), then the host is
stopped. When it was the only host, the first session moved starts a new one. A pool that
keeps ``--host-processes`` hosts starts one in place of the drained host.
"""

from __future__ import annotations

import logging
from typing import Any

from vmsystem.core.errors import Conflict, HostNotFound
from vmsystem.core.recovery import RecoveryService
from vmsystem.core.registry import RuntimeRegistry
from vmsystem.hosts import KILL_GRACE_S, HostPool, UnknownHost
from vmsystem.runtime import EngineError
from vmsystem.store import Store

__all__ = ["HostDrain"]

_log = logging.getLogger(__name__)

#: How many times the host's sessions are listed again (sessions placed on it just before the
#: drain began register after the first listing).
_ROUNDS = 3
#: Beyond a run's wall limit and the last-resort kill's grace: how long a drain waits for a
#: session's run in flight before it leaves the session to the host's end (a lost runtime,
#: recovered by the crash path).
_BUSY_MARGIN_S = 5.0


class HostDrain:
    """Moves a host's sessions to other hosts and retires it (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        hosts: HostPool,
        registry: RuntimeRegistry,
        recoveries: RecoveryService,
    ) -> None:
        self._store = store
        self._hosts = hosts
        self._registry = registry
        self._recoveries = recoveries

    def drain(self, host_id: str) -> dict[str, Any]:
        """Drain ``host_id``: ``{"host_id", "retired", "sessions": [{"session_id", "status",
        "host_id", "replayed", "last_error"}]}``, one entry per session that was on it (its
        status and host after the move). HOST_NOT_FOUND for an unknown host; CONFLICT when
        the pool cannot move sessions (``inprocess``)."""
        try:
            self._hosts.drain(host_id)
        except UnknownHost:
            raise HostNotFound(f"No session host {host_id!r}", host_id=host_id) from None
        except EngineError as exc:
            raise Conflict(str(exc), host_id=host_id) from None
        cause = f"session host {host_id} was drained"
        _log.info("draining session host", extra={"host": host_id})
        moved: dict[str, int | None] = {}
        for _ in range(_ROUNDS):
            on_host = [
                live
                for live in self._registry.all()
                if live.host_id == host_id and live.session_id not in moved
            ]
            if not on_host:
                break
            for live in on_host:
                wall_ms = live.limits.wall_ms or 0
                recovery = self._recoveries.relocate(
                    live.session_id,
                    cause,
                    busy_timeout=wall_ms / 1000 + KILL_GRACE_S + _BUSY_MARGIN_S,
                )
                moved[live.session_id] = recovery.replayed if recovery is not None else None
        self._hosts.retire(host_id)
        return {
            "host_id": host_id,
            "retired": True,
            "sessions": [self._entry(sid, replayed) for sid, replayed in moved.items()],
        }

    def _entry(self, session_id: str, replayed: int | None) -> dict[str, Any]:
        row = self._store.get_session(session_id)
        live = self._registry.get(session_id)
        return {
            "session_id": session_id,
            "status": row.status.value if row is not None else None,
            "host_id": live.host_id if live is not None else None,
            "replayed": replayed,
            "last_error": row.last_error if row is not None else None,
        }
