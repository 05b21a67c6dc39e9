"""Idempotency keys: which request of a key came first, what it created, and whether it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, select, update

from vmsystem.store.database import Database
from vmsystem.store.errors import UniqueViolation
from vmsystem.store.schema import idempotency_keys

__all__ = ["IdempotencyRecord", "IdempotencyStore"]

_T = idempotency_keys


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The first request of a key: its fingerprint, the resource it creates and its state."""

    scope: str
    key: str
    fingerprint: str
    resource_id: str
    status: str  # in_progress | done
    response_status: int | None
    owner: str
    created_at: datetime
    expires_at: datetime


def _where(scope: str, key: str) -> list[ColumnElement[bool]]:
    return [_T.c.scope == scope, _T.c.key == key]


class IdempotencyStore:
    """Idempotency-key methods of :class:`vmsystem.store.Store` (thread-safe)."""

    _db: Database

    def claim_idempotency_key(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Record ``record`` as the first request of its key, unless a live (unexpired) one
        exists: then return that one instead (an expired one is replaced)."""
        for _attempt in range(2):
            try:
                with self._db.write() as connection:
                    connection.execute(
                        delete(_T).where(
                            *_where(record.scope, record.key), _T.c.expires_at <= record.created_at
                        )
                    )
                    row = connection.execute(
                        select(_T).where(*_where(record.scope, record.key))
                    ).first()
                    if row is not None:
                        return IdempotencyRecord(**row._mapping)
                    connection.execute(insert(_T).values(**_values(record)))
                    return None
            except UniqueViolation:
                continue  # a concurrent first request won (PostgreSQL): read it
        raise UniqueViolation("idempotency_key")

    def finish_idempotency_key(self, scope: str, key: str, response_status: int) -> None:
        """The first request ended with ``response_status``: later ones replay it."""
        with self._db.write() as connection:
            connection.execute(
                update(_T)
                .where(*_where(scope, key))
                .values(status="done", response_status=response_status)
            )

    def release_idempotency_key(self, scope: str, key: str, owner: str) -> None:
        """Forget a key whose first request failed before creating anything."""
        with self._db.write() as connection:
            connection.execute(
                delete(_T).where(*_where(scope, key), _T.c.owner == owner, _T.c.status != "done")
            )

    def take_over_idempotency_key(self, scope: str, key: str, old: str, new: str) -> bool:
        """Make ``new`` the owner of an unfinished key ``old`` owned (its daemon is gone);
        False if someone else took it first."""
        with self._db.write() as connection:
            result = connection.execute(
                update(_T)
                .where(*_where(scope, key), _T.c.owner == old, _T.c.status != "done")
                .values(owner=new)
            )
            return result.rowcount == 1

    def purge_idempotency_keys(self, now: datetime) -> int:
        """Delete expired keys; how many."""
        with self._db.write() as connection:
            return int(connection.execute(delete(_T).where(_T.c.expires_at <= now)).rowcount)


def _values(r: IdempotencyRecord) -> dict[str, object]:
    return {
        "scope": r.scope,
        "key": r.key,
        "fingerprint": r.fingerprint,
        "resource_id": r.resource_id,
        "status": r.status,
        "response_status": r.response_status,
        "owner": r.owner,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
    }
