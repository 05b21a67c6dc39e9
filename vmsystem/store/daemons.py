"""Daemon leases: each daemon over the store registers a row and renews it (its heartbeat);
a daemon whose lease expired is dead, and another daemon takes over its rows
(:meth:`vmsystem.store.Store.reap_daemons`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row

from vmsystem.store.database import Database
from vmsystem.store.schema import daemons, sessions
from vmsystem.store.writer import Writer

__all__ = ["DaemonLease", "DaemonStore"]


@dataclass(frozen=True, slots=True)
class DaemonLease:
    """One daemon's row: who it is, where it listens, when it last renewed its lease."""

    id: str
    version: str
    hostname: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    address: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``GET /runtime/summary``)."""
        return {
            "id": self.id,
            "address": self.address,
            "version": self.version,
            "hostname": self.hostname,
            "pid": self.pid,
            "started_at": self.started_at.isoformat(),
            "heartbeat_at": self.heartbeat_at.isoformat(),
        }


def _lease(row: Row[Any]) -> DaemonLease:
    return DaemonLease(
        id=row.id,
        address=row.address,
        version=row.version,
        hostname=row.hostname,
        pid=row.pid,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
    )


class DaemonStore:
    """Lease methods of :class:`vmsystem.store.Store`."""

    _db: Database
    _writer: Writer
    #: The daemon this store writes for (set by :meth:`register_daemon`): new sessions and
    #: executions record it.
    daemon_id: str | None = None

    def register_daemon(self, lease: DaemonLease) -> None:
        """Insert ``lease`` and make it this store's daemon (see :attr:`daemon_id`)."""
        with self._db.write() as connection:
            connection.execute(
                insert(daemons).values(
                    id=lease.id,
                    address=lease.address,
                    version=lease.version,
                    hostname=lease.hostname,
                    pid=lease.pid,
                    started_at=lease.started_at,
                    heartbeat_at=lease.heartbeat_at,
                )
            )
        self.daemon_id = lease.id
        self._writer.stamp(lease.id)

    def heartbeat_daemon(self, daemon_id: str, now: datetime) -> bool:
        """Renew the lease; False if its row is gone (another daemon found it expired)."""
        with self._db.write() as connection:
            renewed = connection.execute(
                update(daemons).where(daemons.c.id == daemon_id).values(heartbeat_at=now)
            ).rowcount
        return bool(renewed)

    def list_daemons(self) -> list[DaemonLease]:
        """Every registered daemon, oldest first."""
        query = select(daemons).order_by(daemons.c.started_at, daemons.c.id)
        with self._db.read() as connection:
            return [_lease(row) for row in connection.execute(query)]

    def session_daemon(self, session_id: str) -> DaemonLease | None:
        """The registered daemon holding the session's runtime (None: none is)."""
        query = (
            select(daemons)
            .select_from(daemons.join(sessions, sessions.c.daemon_id == daemons.c.id))
            .where(sessions.c.id == session_id)
        )
        with self._db.read() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return _lease(row)

    def remove_daemon(self, daemon_id: str) -> None:
        """Delete the lease (a clean shutdown: its rows are free to take at once)."""
        with self._db.write() as connection:
            connection.execute(delete(daemons).where(daemons.c.id == daemon_id))
