"""Daemon leases: several daemons over one store, and what happens when one of them dies.

Each daemon registers a row in the store (id, address, version, host name, pid, start) and
renews it every ``lease_s / 3`` seconds (its heartbeat). A daemon is dead when its lease is
older than ``lease_s``, or at once when it ran on this machine and its pid is gone (a daemon
restarted after ``kill -9`` takes over its predecessor's rows without waiting for the lease).
The rows of a dead daemon, and rows that name no live daemon (a clean shutdown removes its
lease; rows written before leases existed name none), are taken over by whichever live daemon
looks first: its running executions end ``error`` with ``DAEMON_LOST`` (``DAEMON_RESTARTED``
during a daemon's start-up recovery), its ``starting`` sessions are closed and its ``ready``
ones become the taker's, which rebuilds them by replay (durable sessions). A surviving
daemon does this within ``lease_s * 4 / 3`` seconds of the dead one's last heartbeat.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from vmsystem import __version__
from vmsystem.core.ids import new_id, utcnow
from vmsystem.store import DaemonLease, Reaped, Store

#: Execution outcome code (``execution.error.code`` and its ``system`` event, not an HTTP
#: error): the daemon stopped while the execution ran; set by a daemon's start-up recovery.
DAEMON_RESTARTED = "DAEMON_RESTARTED"
#: Execution outcome code: the daemon running the execution stopped heartbeating (its lease
#: expired: killed, its machine lost); set by a surviving daemon over the same store.
DAEMON_LOST = "DAEMON_LOST"

__all__ = ["DAEMON_LOST", "DAEMON_RESTARTED", "DEFAULT_LEASE_S", "DaemonLeases", "DaemonStatus"]

_log = logging.getLogger(__name__)

#: Seconds without a heartbeat after which a daemon counts as dead (``--daemon-lease``).
DEFAULT_LEASE_S = 10.0
_MESSAGES = {
    DAEMON_RESTARTED: "the daemon restarted while this execution was running",
    DAEMON_LOST: "the daemon running this execution stopped (its lease expired)",
}


@dataclass(frozen=True, slots=True)
class DaemonStatus:
    """A registered daemon as an operator sees it."""

    lease: DaemonLease
    #: Its lease holds (recent heartbeat, and its pid alive when on this machine).
    alive: bool
    #: It is the daemon answering.
    current: bool

    @property
    def id(self) -> str:
        """The daemon's id."""
        return self.lease.id

    @property
    def address(self) -> str | None:
        """Where its API listens (``--listen``)."""
        return self.lease.address

    @property
    def version(self) -> str:
        """Its vm-system version."""
        return self.lease.version

    @property
    def heartbeat_at(self) -> datetime:
        """When it last renewed its lease."""
        return self.lease.heartbeat_at

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``GET /runtime/summary``: ``daemons``)."""
        return {**self.lease.to_dict(), "alive": self.alive, "self": self.current}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class DaemonLeases:
    """This daemon's lease, its heartbeat thread, and the reaping of dead daemons' rows."""

    def __init__(
        self,
        store: Store,
        *,
        lease_s: float = DEFAULT_LEASE_S,
        address: str | None = None,
        session_message: str,
        keep_ready: bool,
    ) -> None:
        self.lease_s = lease_s
        self._store = store
        self._session_message = session_message
        self._keep_ready = keep_ready
        self._hostname = socket.gethostname()
        now = utcnow()
        self.lease = DaemonLease(
            id=new_id(),
            address=address,
            version=__version__,
            hostname=self._hostname,
            pid=os.getpid(),
            started_at=now,
            heartbeat_at=now,
        )
        #: Called with the sessions this daemon took over from dead ones (to rebuild them).
        self.on_claimed: Callable[[tuple[str, ...]], None] = lambda ids: None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        store.register_daemon(self.lease)

    @property
    def id(self) -> str:
        """This daemon's id."""
        return self.lease.id

    def live(self) -> list[DaemonLease]:
        """The daemons whose lease has not expired (this one included)."""
        return [d for d in self._store.list_daemons() if not self._dead(d)]

    def alive(self, daemon_id: str) -> bool:
        """Whether ``daemon_id`` is a live daemon's."""
        return daemon_id == self.id or any(d.id == daemon_id for d in self.live())

    def describe(self) -> list[DaemonStatus]:
        """Every registered daemon, oldest first, and whether its lease holds."""
        return [
            DaemonStatus(d, alive=not self._dead(d), current=d.id == self.id)
            for d in self._store.list_daemons()
        ]

    def _dead(self, daemon: DaemonLease) -> bool:
        if daemon.id == self.id:
            return False
        if daemon.heartbeat_at < utcnow() - timedelta(seconds=self.lease_s):
            return True
        return daemon.hostname == self._hostname and not _pid_alive(daemon.pid)

    def reap(self, code: str = DAEMON_LOST) -> Reaped:
        """Take over the rows of dead daemons (and of none); execution error ``code``."""
        dead = [d.id for d in self._store.list_daemons() if self._dead(d)]
        message = _MESSAGES[code]
        reaped = self._store.reap_daemons(
            dead,
            heir=self.id,
            now=utcnow(),
            session_message=self._session_message,
            execution_error={"code": code, "message": message},
            system_event_payload={"level": "error", "code": code, "message": message},
            keep_ready=self._keep_ready,
            index_missing=code == DAEMON_RESTARTED,
        )
        if reaped.daemons or reaped.executions_finished or reaped.claimed:
            _log.warning(
                "took over from dead daemons %s: %d executions ended %s, %d sessions closed, "
                "%d to rebuild",
                list(reaped.daemons),
                reaped.executions_finished,
                code,
                reaped.sessions_closed,
                len(reaped.claimed),
            )
        if reaped.claimed:
            self.on_claimed(reaped.claimed)
        return reaped

    def start(self) -> None:
        """Start heartbeating (and reaping) in the background."""
        self._thread = threading.Thread(target=self._run, name="daemon-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            try:
                if not self._store.heartbeat_daemon(self.id, utcnow()):
                    # Another daemon found this one expired (a long pause) and took its rows:
                    # register again so they are not taken twice from now on.
                    _log.error("this daemon's lease had expired; registering again")
                    self.lease = replace(self.lease, heartbeat_at=utcnow())
                    self._store.register_daemon(self.lease)
                self.reap()
            except Exception:  # keep heartbeating through a store outage
                _log.exception("daemon lease heartbeat failed")

    def stop(self) -> None:
        """Stop heartbeating and remove the lease (its remaining rows are free to take)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self._store.remove_daemon(self.id)
        except Exception:
            _log.exception("could not remove this daemon's lease")
