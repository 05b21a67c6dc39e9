"""Commit notifications between daemons over one PostgreSQL database.

The writer of each daemon sends, in every transaction that adds events to executions or
finishes them, ``NOTIFY vmsystem_commits, 'id,id,...'`` (PostgreSQL delivers it at commit,
never for a rolled-back transaction). :class:`CommitListener` ``LISTEN``s on its own
connection and hands the ids to a callback, so a follower on one daemon of an execution
running on another is woken as soon as its events are in the store. The store stays the
source of truth: a notification only says "read again", and followers also poll
(:data:`vmsystem.core.follow.STORE_POLL_S`) in case one is lost (a dropped connection).
SQLite has no notifications: followers there poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from vmsystem.store.database import Database

__all__ = ["COMMIT_CHANNEL", "CommitListener", "notify_payloads"]

_log = logging.getLogger(__name__)

#: The channel the writers notify on.
COMMIT_CHANNEL = "vmsystem_commits"
#: PostgreSQL refuses a payload of 8000 bytes or more.
_MAX_PAYLOAD = 7900
#: How long one wait for notifications lasts (how soon a stop is noticed).
_WAIT_S = 1.0
#: Pause before connecting again after the connection failed.
_RETRY_S = 1.0


def notify_payloads(execution_ids: Iterable[str]) -> Iterator[str]:
    """The ids as comma-separated payloads, each below PostgreSQL's size limit."""
    chunk: list[str] = []
    size = 0
    for eid in sorted(execution_ids):
        if chunk and size + len(eid) + 1 > _MAX_PAYLOAD:
            yield ",".join(chunk)
            chunk, size = [], 0
        chunk.append(eid)
        size += len(eid) + 1
    if chunk:
        yield ",".join(chunk)


class CommitListener:
    """A thread that ``LISTEN``s on :data:`COMMIT_CHANNEL` and calls ``on_commit(ids)``."""

    def __init__(self, db: Database, on_commit: Callable[[list[str]], None]) -> None:
        self._db = db
        self._on_commit = on_commit
        self._stop = threading.Event()
        #: Set once the first LISTEN is in place (tests wait for it).
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vmsystem-commits", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:  # reconnect; followers poll meanwhile
                _log.warning("commit notifications lost; listening again", exc_info=True)
                self._stop.wait(_RETRY_S)

    def _listen(self) -> None:
        proxied = self._db.engine.raw_connection()
        connection: Any = proxied.driver_connection
        proxied.detach()  # a connection of its own for as long as it listens
        try:
            connection.autocommit = True
            connection.execute(f"LISTEN {COMMIT_CHANNEL}")
            self.listening.set()
            while not self._stop.is_set():
                # Yields each notification as it arrives; ends after _WAIT_S.
                for note in connection.notifies(timeout=_WAIT_S):
                    self._on_commit(note.payload.split(","))
        finally:
            connection.close()

    def close(self) -> None:
        """Stop listening (within about a second)."""
        self._stop.set()
        self._thread.join(timeout=_WAIT_S * 5)
