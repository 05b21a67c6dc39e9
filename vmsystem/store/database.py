"""The engine wrapper every store component shares: read and write transactions.

A SQLite file whose header is no longer SQLite's (overwritten, truncated, replaced) is
*damaged*: SQLite itself may go on appending commits to the WAL for a while, answering from
pages it has cached, while every read of the file fails. So every write transaction first
checks the file's header (one 16-byte read); a damaged file refuses the write, and every
later one (:attr:`Database.damaged` latches), with a :class:`StoreError` the API answers
with 503 STORE_UNAVAILABLE: no run is reported that could not be stored.

Nothing is copied into a damaged file either: the connection that closes last checkpoints the
WAL into the file when it can take SQLite's EXCLUSIVE lock, so once the file is found damaged
the daemon holds a read lock on SQLite's shared-lock bytes until it exits (an open file
description lock, which conflicts with SQLite's own locks in this process too): the WAL is
left as it is, next to the file, for whoever repairs it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from vmsystem.store.engine import BEGIN_MODE
from vmsystem.store.errors import StoreError
from vmsystem.store.integrity import translate

__all__ = ["SQLITE_MAGIC", "Database"]

_log = logging.getLogger(__name__)
#: The first bytes of every SQLite database file.
SQLITE_MAGIC = b"SQLite format 3\x00"
#: SQLite's shared-lock bytes (``os_unix.c``: ``PENDING_BYTE + 2``, 510 bytes): its EXCLUSIVE
#: lock is a write lock on them.
_SHARED_FIRST = 0x40000000 + 2
_SHARED_SIZE = 510


class Database:
    """An engine plus transaction helpers that turn driver errors into store errors.

    Thread-safe: each transaction checks out its own pooled connection.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._closed = False
        #: Called after every committed write transaction (the WAL checkpointer counts them).
        self.on_commit: Callable[[], None] = _nothing
        database = engine.url.database if self.is_sqlite else None
        #: The SQLite file whose header is checked before each write (None: nothing to check).
        self.path = database if database and database != ":memory:" else None
        #: Why the database file is damaged (None while it is not): writes are refused.
        self.damaged: str | None = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection inside a read transaction (one consistent snapshot), rolled back after."""
        self._check_open()
        try:
            with self.engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise translate(exc) from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside a write transaction, committed if the block succeeds.

        On SQLite the transaction takes the write lock at ``BEGIN`` (``BEGIN IMMEDIATE``):
        concurrent writers queue on ``busy_timeout`` instead of failing on lock upgrade.
        """
        self._check_open()
        try:
            with self.engine.connect() as connection:
                connection.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
                with connection.begin():
                    self.check_file()
                    yield connection
        except SQLAlchemyError as exc:
            raise translate(exc) from exc
        self.on_commit()

    def close(self) -> None:
        """Refuse new transactions and close the pooled connections."""
        self._closed = True
        self.engine.dispose()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store is closed")
        if self.damaged is not None:
            raise StoreError(f"the database file is damaged ({self.damaged}): nothing is written")

    def file_damaged(self) -> bool:
        """Whether the database file is damaged (checked now; latches :attr:`damaged`)."""
        try:
            self.check_file()
        except StoreError:
            return True
        return False

    def check_file(self) -> None:
        """Latch :attr:`damaged` and raise when the SQLite file's header is not SQLite's
        (inside the write transaction: its lock keeps SQLite's own writers out meanwhile)."""
        if self.damaged is not None:
            raise StoreError(f"the database file is damaged ({self.damaged}): nothing is written")
        if self.path is None:
            return
        try:
            with open(self.path, "rb") as f:
                head = f.read(len(SQLITE_MAGIC))
        except OSError as exc:
            problem = f"cannot read {self.path}: {exc.strerror or exc}"
        else:
            if head == SQLITE_MAGIC or not head:  # an empty file is a new database
                return
            problem = f"{self.path} no longer starts with the SQLite header"
        if self.damaged is None:
            self.damaged = problem
            _log.error("store: %s; refusing every write from now on", problem)
            _hold_off_checkpoints(self.path)
        raise StoreError(f"the database file is damaged ({problem}): nothing is written")


def _hold_off_checkpoints(path: str) -> None:
    """Keep every SQLite connection of this process from checkpointing the WAL into ``path``
    (the one closing last would): a read lock on the shared-lock bytes, held by a descriptor
    that stays open until the process exits."""
    ofd_setlk = getattr(fcntl, "F_OFD_SETLK", None)
    if ofd_setlk is None:  # not Linux: SQLite may still checkpoint at close
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return  # gone: a checkpoint goes to the old file, not to whatever replaces it
    try:  # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks)
        lock = struct.pack("hhqqi4x", fcntl.F_RDLCK, os.SEEK_SET, _SHARED_FIRST, _SHARED_SIZE, 0)
        fcntl.fcntl(fd, ofd_setlk, lock)
    except OSError as exc:
        os.close(fd)
        _log.warning("store: cannot hold WAL checkpoints off %s: %s", path, exc)


def _nothing() -> None:
    pass
