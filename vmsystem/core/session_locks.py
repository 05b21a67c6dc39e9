"""One lock per session, serialising the changes of its state (create, restart, close, purge,
and the daemon's recovery of a session after a restart): each reads the session's state and
acts on it without another change slipping in between, so that, for example, a close that
arrives while a restart boots the new runtime waits for it and then closes the session,
instead of the restart marking a closed session ``ready`` again.

Runs do not take this lock: a run holds the session's ``busy`` lock, which restart and close
take (close after interrupting the run), and a run finds no live runtime while a restart or a
close is under way (SESSION_NOT_READY).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["SessionLocks"]


class _Lock:
    """A re-entrant lock that can be weakly referenced (``threading.RLock`` cannot)."""

    __slots__ = ("__weakref__", "lock")

    def __init__(self) -> None:
        self.lock = threading.RLock()


class SessionLocks:
    """Per-session locks, created on demand and dropped when no thread holds or waits for
    one (thread-safe)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: weakref.WeakValueDictionary[str, _Lock] = weakref.WeakValueDictionary()

    @contextmanager
    def hold(self, session_id: str) -> Iterator[None]:
        """Hold ``session_id``'s lock for the block (re-entrant on the same thread)."""
        with self._guard:
            entry = self._locks.get(session_id)
            if entry is None:
                entry = self._locks[session_id] = _Lock()
        with entry.lock:
            yield
