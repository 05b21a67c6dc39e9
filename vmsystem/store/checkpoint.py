"""WAL checkpoints of a SQLite database, on their own thread.

SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000 pages, so
about every eightieth execution waited 3-5 ms for it (most of the REPL's p99). Connections now
open with ``wal_autocheckpoint = 0`` and this thread checkpoints on its own connection:

- ``PASSIVE`` first: it copies pages back while the writer goes on appending to the WAL.
- Under steady writes a passive checkpoint rarely finds the WAL fully copied when the next
  write begins, and only then does SQLite start the WAL over. So once the WAL holds more than
  :data:`RESTART_FRAMES` frames, a ``RESTART`` checkpoint follows at once: it holds the next
  write back only while it copies the few frames written since the passive one, and makes
  that write start the WAL from the top, which keeps the file bounded.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from vmsystem.store.database import Database

__all__ = ["CHECKPOINT_EVERY_COMMITS", "CHECKPOINT_INTERVAL_S", "RESTART_FRAMES", "Checkpointer"]

log = logging.getLogger(__name__)

#: Commits after which a checkpoint is started (about 1,000 WAL pages of execution writes).
CHECKPOINT_EVERY_COMMITS = 64
#: A checkpoint also runs this often while there were commits since the last one.
CHECKPOINT_INTERVAL_S = 1.0
#: WAL size (4 KiB frames) above which the passive checkpoint is followed by a restart.
RESTART_FRAMES = 4096


class Checkpointer:
    """Checkpoints the WAL of ``db`` after every :data:`CHECKPOINT_EVERY_COMMITS` commits
    reported by :meth:`committed`, and every :data:`CHECKPOINT_INTERVAL_S` seconds."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._commits = 0
        self._wake = threading.Event()
        self._closed = False
        #: Checkpoint rounds done, and the WAL's size in frames at the last one (diagnostics).
        self.rounds = 0
        self.wal_frames = 0
        # A connection checked out for its whole life, opened here so that the process's
        # file descriptors do not change later.
        self._connection: Any = db.engine.raw_connection()
        self._thread = threading.Thread(
            target=self._run, name="vmsystem-store-checkpoint", daemon=True
        )
        self._thread.start()

    def committed(self) -> None:
        """Note one commit (called after every write transaction; cheap, never blocks)."""
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY_COMMITS:
            self._wake.set()

    def close(self) -> None:
        """Stop the thread (SQLite checkpoints the WAL itself when the last connection closes)."""
        self._closed = True
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join()
        self._connection.close()

    def _run(self) -> None:
        while True:
            self._wake.wait(CHECKPOINT_INTERVAL_S)
            self._wake.clear()
            if self._closed:
                return
            if self._commits == 0:
                continue
            self._commits = 0  # a commit counted meanwhile is covered by the next round
            try:
                self._checkpoint()
            except Exception:  # the database may be closing; the next round retries
                log.debug("WAL checkpoint failed", exc_info=True)

    def _checkpoint(self) -> None:
        if self._db.file_damaged():
            return  # never copy the WAL into a file that is no longer a database
        frames = _checkpoint(self._connection, "PASSIVE")
        if frames > RESTART_FRAMES:
            frames = _checkpoint(self._connection, "RESTART")
        self.wal_frames = frames
        self.rounds += 1


def _checkpoint(connection: Any, mode: str) -> int:
    """Run one checkpoint; the WAL's size in frames as it reports it."""
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA wal_checkpoint({mode})")
        _busy, frames, _copied = cursor.fetchone()
        return int(frames)
    finally:
        cursor.close()
