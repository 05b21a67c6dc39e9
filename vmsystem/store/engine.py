"""Engine creation: ``--db`` resolution (path or URL) and per-connection SQLite settings."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from vmsystem.store.errors import StoreError

__all__ = [
    "BEGIN_MODE",
    "POOL_SIZE",
    "SQLITE_BUSY_TIMEOUT_MS",
    "create_store_engine",
    "resolve_url",
]

#: Connections kept by the pool (each thread that reads holds one while it reads).
POOL_SIZE = 8
#: How long a SQLite connection waits for a lock before failing with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Execution option naming the SQLite ``BEGIN`` mode of a transaction (``IMMEDIATE`` for writes).
BEGIN_MODE = "vmsystem_sqlite_begin"

_POSTGRES_ALIASES = {"postgres", "postgresql", "postgresql+psycopg"}


def resolve_url(db: str) -> URL:
    """The SQLAlchemy URL of ``--db``: a SQLAlchemy URL, or else a SQLite file path.

    Plain ``postgres://``/``postgresql://`` URLs get the psycopg 3 driver. A SQLite file whose
    parent directory does not exist is refused (the directory is never created).
    """
    if "://" in db:
        try:
            url = make_url(db)
        except ArgumentError as exc:
            raise StoreError(f"cannot open database: invalid URL {db!r}") from exc
        if url.drivername in _POSTGRES_ALIASES:
            url = url.set(drivername="postgresql+psycopg")
    else:
        if not db.strip():
            raise StoreError("cannot open database: empty path")
        url = URL.create("sqlite", database=str(Path(db).expanduser().absolute()))
    if url.get_backend_name() == "sqlite":
        _check_sqlite_path(url)
    return url


def _check_sqlite_path(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise StoreError("cannot open database: in-memory SQLite databases are not supported")
    parent = Path(database).expanduser().absolute().parent
    if not parent.is_dir():
        raise StoreError(f"cannot open database: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"cannot open database: directory {parent} is not writable")


def create_store_engine(url: URL) -> Engine:
    """An engine for ``url`` with a thread-friendly pool and, on SQLite, WAL + FK settings."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    return create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE, pool_pre_ping=True)


def _configure_sqlite_connection(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """Runs on EVERY new SQLite connection: settings SQLite does not persist in the file."""
    assert isinstance(dbapi_connection, sqlite3.Connection)
    # Take transaction control away from pysqlite (SQLAlchemy's recipe): we emit BEGIN
    # ourselves, so SAVEPOINTs and transactional DDL work.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Checkpoints run on their own thread (store/checkpoint.py), never inside a COMMIT.
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Emit ``BEGIN`` (``BEGIN IMMEDIATE`` for write transactions, so they queue on the lock)."""
    mode = connection.get_execution_options().get(BEGIN_MODE, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")
