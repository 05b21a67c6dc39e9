"""Idempotent submission: the first request of an ``Idempotency-Key`` creates its resource,
later ones with the same request get that resource back (for 24 h, across daemon restarts).

The key is claimed in the database before anything runs, together with the id the resource
will get, so that a repeat never runs the code twice: not while the first is running (it
waits, or gets IDEMPOTENCY_IN_PROGRESS), and not after the daemon restarted (the resource
exists, or the claim is taken over if the first request never created it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from vmsystem.core.errors import IdempotencyInProgress, IdempotencyKeyReused, ValidationError
from vmsystem.core.ids import new_id, utcnow
from vmsystem.store import Store
from vmsystem.store.idempotency import IdempotencyRecord

__all__ = ["KEY_TTL", "MAX_KEY_LENGTH", "MAX_WAIT_S", "Claim", "IdempotencyService"]

#: How long a key is remembered.
KEY_TTL = timedelta(hours=24)
#: Longest accepted key.
MAX_KEY_LENGTH = 255
#: Longest wait for a duplicate's first request (``Prefer: wait=N``).
MAX_WAIT_S = 300.0
_POLL_S = 0.02


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claiming a key: run the request (``new``) creating ``resource_id``, or
    answer with the existing ``resource_id`` and the first answer's ``response_status``."""

    new: bool
    resource_id: str
    response_status: int | None = None


def _check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
        raise ValidationError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        )
    return key


class IdempotencyService:
    """Claims, finishes and releases idempotency keys in the store (thread-safe)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        #: This daemon instance: a key left unfinished by an owner that is not alive is taken
        #: over.
        self.owner = new_id()
        #: Whether an owner is a live daemon (with several daemons over the store: one whose
        #: lease has not expired; alone: only this one).
        self.alive: Callable[[str], bool] = lambda owner: owner == self.owner
        store.purge_idempotency_keys(utcnow())

    def begin(
        self,
        scope: str,
        key: str,
        fingerprint: str,
        *,
        exists: Callable[[str], bool],
        wait_s: float = 0.0,
    ) -> Claim:
        """Claim ``key`` for the request ``fingerprint`` on route ``scope``.

        IDEMPOTENCY_KEY_REUSED if the key's first request was another one; while the first
        request is running, wait up to ``wait_s`` seconds for it, then IDEMPOTENCY_IN_PROGRESS.
        ``exists(resource_id)`` tells whether a first request whose daemon is gone created
        its resource (it is then answered as done, else the claim is taken over).
        """
        _check_key(key)
        deadline = time.monotonic() + min(max(wait_s, 0.0), MAX_WAIT_S)
        while True:
            now = utcnow()
            mine = IdempotencyRecord(
                scope,
                key,
                fingerprint,
                new_id(),
                "in_progress",
                None,
                self.owner,
                now,
                now + KEY_TTL,
            )
            first = self._store.claim_idempotency_key(mine)
            if first is None:
                return Claim(True, mine.resource_id)
            if first.fingerprint != fingerprint:
                raise IdempotencyKeyReused(idempotency_key=key)
            if first.status == "done":
                return Claim(False, first.resource_id, first.response_status)
            if not self.alive(first.owner):
                # Its daemon stopped before the request ended.
                if exists(first.resource_id):
                    self._store.finish_idempotency_key(scope, key, 201)
                    return Claim(False, first.resource_id, 201)
                if self._store.take_over_idempotency_key(scope, key, first.owner, self.owner):
                    return Claim(True, first.resource_id)
                continue
            if time.monotonic() >= deadline:
                raise IdempotencyInProgress(idempotency_key=key, resource_id=first.resource_id)
            time.sleep(_POLL_S)

    def finish(self, scope: str, key: str, response_status: int) -> None:
        """The first request answered ``response_status``: repeats get its resource."""
        self._store.finish_idempotency_key(scope, key, response_status)

    def release(self, scope: str, key: str) -> None:
        """The first request failed without creating anything: the key may be used again."""
        self._store.release_idempotency_key(scope, key, self.owner)
