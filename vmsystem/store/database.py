"""The engine wrapper every store component shares: read and write transactions.

A SQLite file whose header is no longer SQLite's (overwritten, truncated, replaced) is
*damaged*: SQLite itself may go on appending commits to the WAL for a while, answering from
pages it has cached, while every read of the file fails. So every write transaction first
checks the file's header (one 16-byte read); a damaged file refuses the write, and every
later one (:attr:`Database.damaged` latches), with a :class:`StoreError` the API answers
with 503 STORE_UNAVAILABLE: no run is reported that could not be stored.
"""

from __future__ import annotations

import logging
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
        raise StoreError(f"the database file is damaged ({problem}): nothing is written")


def _nothing() -> None:
    pass
