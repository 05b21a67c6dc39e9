"""The single writer: one background thread that persists executions and events in batches.

Producers :meth:`Writer.submit` write operations (non-blocking) and get a future. The
thread takes everything queued (up to ``max_batch`` operations), applies it in ONE
transaction, commits, then resolves the futures. If that transaction fails, the operations
are retried one by one, each in its own transaction, so only the failing one's future
carries the exception.

:meth:`Writer.write` commits one operation and waits for it. When nothing is queued or being
written it runs the transaction on the caller's thread, under the same connection lock, which
saves the two thread hand-offs a queued write costs (the end of every short execution); the
order of writes is the same either way.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection

from vmsystem.models import Event, Execution, ExecutionStatus
from vmsystem.store.database import Database
from vmsystem.store.errors import StoreError, UniqueViolation
from vmsystem.store.integrity import is_integrity_error, translate, translate_driver_error
from vmsystem.store.notify import COMMIT_CHANNEL, notify_payloads
from vmsystem.store.search import SearchIndexer
from vmsystem.store.statements import Cursor, WriteStatements

__all__ = [
    "INDEX_BATCH",
    "FinishExecution",
    "InsertEvents",
    "InsertExecution",
    "Ordinals",
    "TouchSession",
    "WriteGroup",
    "WriteOp",
    "Writer",
]

log = logging.getLogger(__name__)

#: Finished executions that wait for the search index before it is written.
INDEX_BATCH = 128
#: A batch taken within this long of a previous one of several writes means the writer is
#: busy with concurrent writers ...
BUSY_S = 0.001
#: ... and then it waits this long for more writes before it takes them (group commit).
LINGER_S = 0.0003
#: Attempts of a transaction whose execution insert lost a race for a session's ordinal.
ORDINAL_RETRIES = 5


@dataclass(frozen=True, slots=True)
class InsertExecution:
    """Insert a new execution row (normally with status ``running``)."""

    execution: Execution


@dataclass(frozen=True, slots=True)
class FinishExecution:
    """Set ``status``, ``ended_at``, ``result``, ``error`` and ``metrics`` of an execution."""

    execution: Execution


@dataclass(frozen=True, slots=True)
class InsertEvents:
    """Append events (their executions must exist, or be inserted earlier in the queue)."""

    events: list[Event]


@dataclass(frozen=True, slots=True)
class TouchSession:
    """Set a session's ``last_activity_at``."""

    session_id: str
    last_activity_at: datetime


@dataclass(frozen=True, slots=True)
class WriteGroup:
    """Several operations queued as one entry with one future (fewer hand-offs per execution);
    they commit together, and fail together."""

    ops: tuple[InsertExecution | FinishExecution | InsertEvents | TouchSession, ...]


WriteOp = InsertExecution | FinishExecution | InsertEvents | TouchSession | WriteGroup
#: What a committed write tells: the ordinal the store gave each execution it inserted (by
#: execution id; a batch's writes share one mapping, which covers them all).
Ordinals = Mapping[str, int]
_NONE: Final[Ordinals] = MappingProxyType({})


def _flatten(ops: list[WriteOp]) -> list[WriteOp]:
    if not any(isinstance(op, WriteGroup) for op in ops):
        return ops
    flat: list[WriteOp] = []
    for op in ops:
        if isinstance(op, WriteGroup):
            flat.extend(op.ops)
        else:
            flat.append(op)
    return flat


class _Stop:
    """Queue sentinel: everything before it is written, then the thread ends."""


_STOP: Final = _Stop()

#: A queued item: an operation (``None`` for a flush barrier) and its future.
_Item = tuple[WriteOp | None, "Future[Ordinals]"]
#: The outcome of one item: what it committed, or why it failed.
_Outcome = Ordinals | Exception


def _finished(inserted: Execution, finish: Execution) -> Execution:
    """The row an insert followed by a finish of the same execution leaves behind."""
    return dataclasses.replace(
        inserted,
        status=finish.status,
        ended_at=finish.ended_at,
        result=finish.result,
        error=finish.error,
        metrics=finish.metrics,
    )


def _apply(statements: WriteStatements, cursor: Cursor, ops: list[WriteOp]) -> dict[str, int]:
    """Apply ``ops`` in the cursor's transaction with as few statements as possible.

    Statements run as: execution inserts, event inserts, finishes, touches, each as one
    ``executemany`` where possible. An insert followed by a finish of the same execution
    becomes a single insert of the final row. Foreign keys only need parents written first,
    which this order guarantees for every sequence that is valid one op at a time.
    Execution inserts run one by one: each returns the ordinal it was given (returned).
    """
    ops = _flatten(ops)
    inserts: dict[str, Execution] = {}
    duplicate_inserts: list[Execution] = []
    finishes: list[Execution] = []
    event_rows: list[dict[str, Any]] = []
    touches: list[dict[str, Any]] = []
    for op in ops:
        if isinstance(op, InsertEvents):
            event_rows.extend(statements.event_row(e) for e in op.events)
        elif isinstance(op, InsertExecution):
            if op.execution.id in inserts:
                duplicate_inserts.append(op.execution)  # fails on the primary key, as it should
            else:
                inserts[op.execution.id] = op.execution
        elif isinstance(op, FinishExecution):
            inserted = inserts.get(op.execution.id)
            if inserted is not None:
                inserts[op.execution.id] = _finished(inserted, op.execution)
            else:
                finishes.append(op.execution)
        elif isinstance(op, TouchSession):
            touches.append(statements.touch_row(op.session_id, op.last_activity_at))
    ordinals: dict[str, int] = {}
    if statements.lock_sessions is not None and (inserts or duplicate_inserts):
        ids = sorted({e.session_id for e in (*inserts.values(), *duplicate_inserts)})
        cursor.execute(statements.lock_sessions, {"ids": ids})
    for e in (*inserts.values(), *duplicate_inserts):
        ordinals[e.id] = statements.insert_execution.returning(cursor, statements.execution_row(e))
    if event_rows:
        statements.insert_event.run(cursor, event_rows)
    for finish in finishes:
        if statements.finish_execution.run(cursor, [statements.finish_row(finish)]) != 1:
            raise StoreError(f"cannot finish execution {finish.id}: it does not exist")
    for touch in touches:
        if statements.touch_session.run(cursor, [touch]) != 1:
            raise StoreError(f"cannot touch session {touch['session_id']}: it does not exist")
    if statements.notify is not None:
        changed = {row["execution_id"] for row in event_rows}
        changed.update(e.id for e in finishes)
        changed.update(e.id for e in inserts.values() if e.status is not ExecutionStatus.RUNNING)
        for payload in notify_payloads(changed):
            cursor.execute(statements.notify, {"channel": COMMIT_CHANNEL, "ids": payload})
    return ordinals


def _ended(ops: list[WriteOp]) -> list[Execution]:
    """The executions that ``ops`` record as finished."""
    ended: list[Execution] = []
    for op in _flatten(ops):
        if isinstance(op, FinishExecution) or (
            isinstance(op, InsertExecution) and op.execution.status is not ExecutionStatus.RUNNING
        ):
            ended.append(op.execution)
    return ended


def _describe(ops: list[WriteOp]) -> str:
    return type(ops[0]).__name__ if len(ops) == 1 else f"a batch of {len(ops)} ops"


class Writer:
    """One background thread draining a queue of write operations into the database."""

    def __init__(self, db: Database, *, max_batch: int = 1000, start: bool = True) -> None:
        """Create the writer; its thread starts now unless ``start`` is false."""
        self._db = db
        self._dbapi_error: type[Exception] = db.engine.dialect.loaded_dbapi.Error
        self._statements = WriteStatements(db.engine.dialect)
        self._indexer = SearchIndexer(db.engine.dialect.name)
        #: Finished executions committed but not yet in the search index (guarded by
        #: ``_connection_lock``): indexed ``INDEX_BATCH`` at a time, in their own transaction,
        #: because one FTS insert per commit would add a third to a ``1+1``'s cost.
        self._unindexed: list[Execution] = []
        self._connection: PoolProxiedConnection | None = None
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Item | _Stop] = queue.SimpleQueue()
        self._lock = threading.Lock()
        #: Queued items not yet resolved (guarded by ``_lock``): a write may run inline only
        #: when this is zero, so that it never overtakes one submitted before it.
        self._pending = 0
        #: Held while a transaction uses the connection (writer thread or an inline write).
        self._connection_lock = threading.Lock()
        self._closed = False
        #: Transactions committed so far (executions, events, the search index): the bench
        #: divides it by executions to see how well writes are grouped.
        self.commits = 0
        self._last_batch = 0.0
        self._last_size = 0
        self._thread = threading.Thread(target=self._run, name="vmsystem-store-writer", daemon=True)
        if start:
            self._thread.start()

    def stamp(self, daemon_id: str | None) -> None:
        """Record ``daemon_id`` as the daemon of every execution inserted from now on."""
        self._statements.daemon_id = daemon_id

    def start(self) -> None:
        """Start the thread (only needed with ``start=False``: ops queued until then form the
        first batch)."""
        self._thread.start()

    def submit(self, op: WriteOp) -> Future[Ordinals]:
        """Queue ``op`` (non-blocking); the future resolves once it is committed, to the
        ordinals given to the executions it inserted.

        Raises :class:`StoreError` if the writer is closed. Cancelling the future before the
        writer picks the op up drops the op.
        """
        future: Future[Ordinals] = Future()
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            self._pending += 1
            self._queue.put((op, future))
        return future

    def submit_many(self, ops: list[WriteOp]) -> list[Future[Ordinals]]:
        """Queue ``ops`` together (non-blocking): the writer takes them into one transaction
        (with whatever else is queued), and resolves their futures in order. One op failing
        fails only its own future."""
        futures: list[Future[Ordinals]] = [Future() for _ in ops]
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            self._pending += len(ops)
            for op, future in zip(ops, futures, strict=True):
                self._queue.put((op, future))
        return futures

    def write(self, op: WriteOp, timeout: float | None = None) -> Ordinals:
        """Commit ``op`` and wait for it: on the calling thread when the writer is idle (no
        thread hand-off), else through the queue after everything submitted before it.
        Returns the ordinals given to the executions it inserted.

        Raises :class:`StoreError` if it cannot be written (or the writer is closed), and
        :class:`TimeoutError` if a queued write takes longer than ``timeout`` seconds.
        """
        if threading.current_thread() is self._thread:
            raise StoreError("write() called from the writer thread (a future callback?)")
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            inline = self._pending == 0 and self._connection_lock.acquire(blocking=False)
            if not inline:
                future: Future[Ordinals] = Future()
                self._pending += 1
                self._queue.put((op, future))
        if not inline:
            return future.result(timeout)
        try:
            (outcome,) = self._write([op])  # the queued path's retry and logging, too
        finally:
            self._connection_lock.release()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def write_now(self, ops: list[WriteOp]) -> list[Ordinals | Exception] | None:
        """Commit ``ops`` in one transaction on the calling thread if the writer is idle
        (nothing queued or being written), without waiting for anything: each op's outcome
        (the ordinals committed, or its own exception), as :meth:`submit_many` would resolve
        them. None when the writer is busy (the caller queues them instead), and always on
        PostgreSQL, whose commit is a network round trip: an event loop calls this, and only
        a local SQLite commit is short enough to make there.

        The search index is not written here; once enough executions wait for it, the
        writer's thread is asked to write it.
        """
        if not self._db.is_sqlite:
            return None
        if threading.current_thread() is self._thread:
            raise StoreError("write_now() called from the writer thread (a future callback?)")
        with self._lock:
            if self._closed:
                raise StoreError("store is closed")
            if self._pending or not self._connection_lock.acquire(blocking=False):
                return None
        try:
            outcomes = self._write(list(ops), index=False)
            backlog = len(self._unindexed) >= INDEX_BATCH
        finally:
            self._connection_lock.release()
        if backlog:
            with self._lock:
                if not self._closed:
                    self._pending += 1
                    self._queue.put((None, Future()))  # a barrier: the thread then indexes
        return outcomes

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every op submitted before this call is committed (or failed).

        Raises :class:`TimeoutError` if that takes longer than ``timeout`` seconds.
        """
        if threading.current_thread() is self._thread:
            raise StoreError("flush() called from the writer thread (a future callback?)")
        barrier: Future[Ordinals] = Future()
        with self._lock:
            if self._closed:
                return
            self._pending += 1
            self._queue.put((None, barrier))
        barrier.result(timeout)

    def index(self, timeout: float | None = None) -> None:
        """Write every finished execution committed so far into the search index (they are
        otherwise indexed :data:`INDEX_BATCH` at a time, and when the writer closes)."""
        self.flush(timeout)
        if threading.current_thread() is self._thread:
            raise StoreError("index() called from the writer thread (a future callback?)")
        with self._connection_lock:
            self._index_unindexed()

    def close(self) -> None:
        """Write everything queued, then stop the thread. Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join()

    # --- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch, taken, stop = self._take()
            outcomes: list[_Outcome] = []
            if batch:
                try:
                    with self._connection_lock:
                        outcomes = self._write([op for op, _ in batch])
                except Exception as exc:  # never let the writer die silently
                    log.exception("store writer: unexpected failure")
                    outcomes = [exc] * len(batch)
            self._last_batch, self._last_size = time.monotonic(), taken
            # Counted down before the futures resolve, so that a caller woken by its future
            # may write inline at once.
            if taken:
                with self._lock:
                    self._pending -= taken
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            if stop:
                with self._connection_lock:  # an inline write may still be using it
                    self._index_unindexed()
                    self._disconnect(invalidate=False)
                return

    def _take(self) -> tuple[list[_Item], int, bool]:
        """Block for one item, then take whatever else is queued, up to ``max_batch`` ops.

        Returns the items to write, how many were taken off the queue (cancelled ones
        included) and whether the stop sentinel came."""
        items: list[_Item] = []
        taken = 0
        item = self._queue.get()
        if (
            self._last_size > 1
            and time.monotonic() - self._last_batch < BUSY_S
            and not isinstance(item, _Stop)
        ):
            # Busy with concurrent writers (the previous batch, just written, held several):
            # let their next writes join this one for a moment, so one commit carries many.
            time.sleep(LINGER_S)
        while True:
            if isinstance(item, _Stop):
                return items, taken, True
            taken += 1
            # A future cancelled before the op was picked up drops the op.
            if item[0] is None or item[1].set_running_or_notify_cancel():
                items.append(item)
            if len(items) >= self._max_batch:
                return items, taken, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return items, taken, False

    def _write(self, batch: list[WriteOp | None], *, index: bool = True) -> list[_Outcome]:
        """Write a batch (``None``: a flush barrier) in one transaction; the outcome of each
        item (an exception, or the ordinals committed). ``index``: also write the search
        index once :data:`INDEX_BATCH` executions wait for it."""
        ops = [op for op in batch if op is not None]
        ordinals: Ordinals = _NONE
        if ops:
            try:
                ordinals = self._transaction(ops)
            except Exception as exc:
                # Retry one by one if there is something to isolate, or if the connection was
                # dropped as broken (a fresh one may well succeed).
                if len(ops) > 1 or self._connection is None:
                    log.warning(
                        "store writer: batch of %d ops failed (%s); retrying one by one",
                        len(ops),
                        exc,
                    )
                    return self._write_one_by_one(batch)
                self._fail(ops[0], exc)
                return [_NONE if op is None else exc for op in batch]
        if index and len(self._unindexed) >= INDEX_BATCH:
            self._index_unindexed()
        return [ordinals] * len(batch)

    def _write_one_by_one(self, batch: list[WriteOp | None]) -> list[_Outcome]:
        """Each op in its own transaction. Once one fails for a reason that is not its own
        (the connection was dropped: database gone, locked, ...), the rest fail with it
        instead of each waiting for the same failure."""
        unavailable: StoreError | None = None
        outcomes: list[_Outcome] = []
        for op in batch:
            if op is None:
                outcomes.append(_NONE)
            elif unavailable is not None:
                outcomes.append(unavailable)
            else:
                try:
                    outcomes.append(self._transaction([op]))
                except StoreError as exc:
                    self._fail(op, exc)
                    outcomes.append(exc)
                    if self._connection is None:
                        unavailable = exc
        return outcomes

    def _transaction(self, ops: list[WriteOp]) -> dict[str, int]:
        """Apply ``ops`` in one transaction on the writer's own connection, then commit;
        returns the ordinals given to the executions inserted.

        Another writer on the same database (a second daemon on one PostgreSQL) may take a
        session's next ordinal first: the unique index refuses the second, which is retried
        and takes the one after.
        """
        for attempt in range(ORDINAL_RETRIES):
            try:
                return self._transaction_once(ops)
            except UniqueViolation as exc:
                if exc.constraint != "execution_ordinal" or attempt == ORDINAL_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _transaction_once(self, ops: list[WriteOp]) -> dict[str, int]:
        """One attempt of :meth:`_transaction`.

        Raises :class:`StoreError` (``UniqueViolation``/``ForeignKeyViolation`` included).
        """
        try:
            if self._connection is None:
                self._connection = self._db.engine.raw_connection()
            connection = self._connection
            cursor = connection.cursor()
            try:
                if self._db.is_sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                    self._db.check_file()  # a damaged file takes no more commits
                ordinals = _apply(self._statements, cursor, ops)
            finally:
                cursor.close()
            connection.commit()
            self._db.on_commit()
            self.commits += 1
            self._unindexed.extend(_ended(ops))
            return ordinals
        except Exception as exc:
            self._rollback(exc)
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, self._dbapi_error):
                raise translate_driver_error(exc) from exc
            if isinstance(exc, SQLAlchemyError):
                raise translate(exc) from exc
            raise StoreError(f"cannot write {_describe(ops)}: {exc}") from exc

    def forget_session(self, session_id: str) -> None:
        """Drop the session's executions from those waiting for the search index (its rows
        are about to be deleted: indexing them would fail on the foreign key)."""
        with self._connection_lock:
            self._unindexed = [e for e in self._unindexed if e.session_id != session_id]

    def _index_unindexed(self) -> None:
        """Index the pending finished executions in one transaction (connection lock held).

        If that transaction fails, each execution is indexed in its own, so that one failing
        row (say, of a session deleted meanwhile) is skipped and logged while the others are
        indexed. Start-up recovery indexes whatever finished execution the index still lacks.
        """
        pending, self._unindexed = self._unindexed, []
        if not pending:
            return
        try:
            self._index(pending)
        except Exception as exc:
            if len(pending) == 1:
                log.warning("store writer: cannot index execution %s: %s", pending[0].id, exc)
                return
            log.warning(
                "store writer: cannot index %d executions together (%s); indexing one by one",
                len(pending),
                exc,
            )
            for execution in pending:
                try:
                    self._index([execution])
                except Exception as one:
                    log.warning(
                        "store writer: cannot index execution %s (skipped): %s", execution.id, one
                    )

    def _index(self, executions: list[Execution]) -> None:
        """Index ``executions`` in one transaction; rolled back and re-raised on failure."""
        try:
            if self._connection is None:
                self._connection = self._db.engine.raw_connection()
            cursor = self._connection.cursor()
            try:
                if self._db.is_sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                self._indexer.index(cursor, executions)
            finally:
                cursor.close()
            self._connection.commit()
            self._db.on_commit()
            self.commits += 1
        except Exception as exc:
            self._rollback(exc)
            raise

    def _rollback(self, exc: Exception) -> None:
        """Roll back after a failure; drop the connection unless it is known to be healthy."""
        if self._connection is None:
            return
        healthy = not isinstance(exc, self._dbapi_error) or is_integrity_error(exc)
        try:
            self._connection.rollback()
        except Exception:
            healthy = False
        if not healthy:
            self._disconnect(invalidate=True)

    def _disconnect(self, *, invalidate: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if invalidate:
                connection.invalidate()
            connection.close()
        except Exception:
            log.warning("store writer: error while closing its connection", exc_info=True)

    @staticmethod
    def _fail(op: WriteOp, exc: Exception) -> None:
        log.error("store writer: %s failed: %s", type(op).__name__, exc, exc_info=exc)
