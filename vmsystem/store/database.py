"""The engine wrapper every store component shares: read and write transactions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from vmsystem.store.engine import BEGIN_MODE
from vmsystem.store.errors import StoreError
from vmsystem.store.integrity import translate

__all__ = ["Database"]


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


def _nothing() -> None:
    pass
