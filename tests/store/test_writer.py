"""The single writer: futures, flush, batching, coalescing, failure isolation, shutdown."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from vmsystem.store import (
    EventType,
    ExecutionStatus,
    FinishExecution,
    ForeignKeyViolation,
    InsertEvents,
    InsertExecution,
    Session,
    Store,
    StoreError,
    TouchSession,
    UniqueViolation,
    WriteGroup,
    WriteOp,
    open_store,
)
from vmsystem.store.database import Database
from vmsystem.store.engine import create_store_engine, resolve_url
from vmsystem.store.writer import INDEX_BATCH, Writer

from . import factories as f
from .conftest import is_sqlite


@pytest.fixture
def session(store: Store) -> Session:
    t = f.template()
    store.insert_template(t)
    s = f.session(t.id)
    store.insert_session(s)
    return s


class PausedWriter:
    """A second writer on the store's database whose thread starts only when asked, so
    everything queued before :meth:`start` forms one batch; records its transactions."""

    def __init__(self, store: Store, max_batch: int = 1000, db: Database | None = None) -> None:
        self.writer = Writer(db or store._db, max_batch=max_batch, start=False)
        self.transactions: list[list[WriteOp]] = []
        original: Callable[[list[WriteOp]], dict[str, int]] = self.writer._transaction

        def recording(ops: list[WriteOp]) -> dict[str, int]:
            self.transactions.append(list(ops))
            return original(ops)

        self.writer._transaction = recording  # type: ignore[method-assign]

    def spy(self, name: str) -> list[list[dict[str, Any]]]:
        """Record the rows each run of prepared statement ``name`` gets."""
        prepared = getattr(self.writer._statements, name)
        calls: list[list[dict[str, Any]]] = []
        original, original_returning = prepared.run, prepared.returning

        def run(cursor: Any, rows: list[dict[str, Any]]) -> int:
            calls.append(rows)
            return int(original(cursor, rows))

        def returning(cursor: Any, row: dict[str, Any]) -> Any:
            calls.append([row])
            return original_returning(cursor, row)

        prepared.run = run
        prepared.returning = returning
        return calls


@pytest.fixture
def paused(store: Store) -> Iterator[PausedWriter]:
    p = PausedWriter(store)
    yield p
    if not p.writer._thread.is_alive():
        p.writer.start()
    p.writer.close()


def test_submit_returns_a_future_that_resolves_once_committed(
    store: Store, session: Session
) -> None:
    e = f.execution(session.id)
    future = store.submit(InsertExecution(e))
    assert future.result(timeout=5) == {e.id: 1}  # the ordinal the execution was given
    assert store.get_execution(e.id) == e  # visible without flush: it is committed


def test_flush_waits_for_everything_submitted_before_it(store: Store, session: Session) -> None:
    e = f.execution(session.id)
    store.submit(InsertExecution(e))
    for seq in range(1, 301):
        store.submit(InsertEvents([f.event(e.id, seq)]))
    store.flush(timeout=10)
    assert [x.seq for x in store.list_events(e.id)] == list(range(1, 301))


def test_queued_ops_are_written_in_one_transaction(paused: PausedWriter, session: Session) -> None:
    e = f.execution(session.id)
    ops: list[WriteOp] = [
        InsertExecution(e),
        InsertEvents([f.event(e.id, 1)]),
        InsertEvents([f.event(e.id, 2), f.event(e.id, 3)]),
        FinishExecution(f.finished(e)),
        TouchSession(session.id, f.at(99)),
    ]
    futures = [paused.writer.submit(op) for op in ops]
    paused.writer.start()
    paused.writer.flush(5)
    assert [len(t) for t in paused.transactions] == [5]
    assert all(x.result(0) == {e.id: 1} for x in futures)


def test_insert_and_finish_in_one_batch_become_one_insert_of_the_final_row(
    store: Store, paused: PausedWriter, session: Session
) -> None:
    inserts, finishes = paused.spy("insert_execution"), paused.spy("finish_execution")
    e = f.execution(session.id)
    done = f.finished(e)
    paused.writer.submit(InsertExecution(e))
    paused.writer.submit(InsertEvents([f.event(e.id, 1), f.event(e.id, 2)]))
    paused.writer.submit(FinishExecution(done))
    paused.writer.start()
    paused.writer.flush(5)
    assert finishes == []
    assert [[row["status"] for row in rows] for rows in inserts] == [["ok"]]
    assert store.get_execution(e.id) == done
    assert len(store.list_events(e.id)) == 2


def test_finish_in_a_later_batch_updates_the_existing_row(
    store: Store, paused: PausedWriter, session: Session
) -> None:
    finishes = paused.spy("finish_execution")
    e = f.execution(session.id)
    paused.writer.start()
    paused.writer.submit(InsertExecution(e)).result(5)
    assert store.get_execution(e.id) == e
    paused.writer.submit(FinishExecution(f.finished(e))).result(5)
    assert len(finishes) == 1
    assert store.get_execution(e.id) == f.finished(e)


def test_events_of_many_ops_are_inserted_with_one_executemany(
    paused: PausedWriter, session: Session
) -> None:
    event_runs = paused.spy("insert_event")
    e = f.execution(session.id)
    paused.writer.submit(InsertExecution(e))
    for seq in range(1, 11):
        paused.writer.submit(InsertEvents([f.event(e.id, seq)]))
    paused.writer.start()
    paused.writer.flush(5)
    assert [len(rows) for rows in event_runs] == [10]


def test_batches_are_capped_at_max_batch(store: Store, session: Session) -> None:
    capped = PausedWriter(store, max_batch=3)
    e = f.execution(session.id)
    capped.writer.submit(InsertExecution(e))
    for seq in range(1, 7):
        capped.writer.submit(InsertEvents([f.event(e.id, seq)]))
    capped.writer.start()
    capped.writer.flush(5)
    capped.writer.close()
    assert [len(t) for t in capped.transactions] == [3, 3, 1]
    assert len(store.list_events(e.id)) == 6


def test_a_failing_op_fails_alone_and_the_rest_of_its_batch_is_written(
    store: Store, paused: PausedWriter, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    good = f.execution(session.id)
    orphan = f.execution(f.new_id())  # unknown session
    ops: list[WriteOp] = [
        InsertExecution(good),
        InsertExecution(orphan),
        InsertEvents([f.event(good.id, 1), f.event(good.id, 2)]),
        InsertEvents([f.event(good.id, 2)]),  # duplicate seq
        FinishExecution(f.finished(f.execution(session.id))),  # never inserted
        TouchSession(f.new_id(), f.at(5)),  # unknown session
        FinishExecution(f.finished(good)),
        TouchSession(session.id, f.at(50)),
    ]
    futures = [paused.writer.submit(op) for op in ops]
    with caplog.at_level(logging.WARNING, logger="vmsystem.store.writer"):
        paused.writer.start()
        paused.writer.flush(10)
    outcomes = [type(x.exception(0)).__name__ if x.exception(0) else "ok" for x in futures]
    assert outcomes == [
        "ok",
        "ForeignKeyViolation",
        "ok",
        "UniqueViolation",
        "StoreError",
        "StoreError",
        "ok",
        "ok",
    ]
    duplicate = futures[3].exception(0)
    assert isinstance(duplicate, UniqueViolation) and duplicate.constraint == "event_seq"
    assert store.get_execution(good.id) == f.finished(good)
    assert [x.seq for x in store.list_events(good.id)] == [1, 2]
    assert store.get_execution(orphan.id) is None
    touched = store.get_session(session.id)
    assert touched is not None and touched.last_activity_at == f.at(50)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 4
    assert "InsertExecution failed" in errors[0].getMessage()


def test_a_single_failing_op_reports_its_own_error(store: Store, session: Session) -> None:
    future = store.submit(InsertExecution(f.execution(f.new_id())))
    with pytest.raises(ForeignKeyViolation):
        future.result(5)


def test_an_unserialisable_value_fails_only_its_op(store: Store, session: Session) -> None:
    e = f.execution(session.id)
    store.submit(InsertExecution(e))
    bad = store.submit(InsertEvents([f.event(e.id, 1, kind=EventType.CONSOLE, text={1, 2})]))
    naive = store.submit(TouchSession(session.id, f.at(0).replace(tzinfo=None)))
    good = store.submit(InsertEvents([f.event(e.id, 1)]))
    store.flush(5)
    assert isinstance(bad.exception(0), StoreError)
    assert isinstance(naive.exception(0), StoreError)
    assert good.result(0) == {}
    assert [x.seq for x in store.list_events(e.id)] == [1]


def test_writer_recovers_from_a_broken_connection(store: Store, session: Session) -> None:
    e = f.execution(session.id)
    store.submit(InsertExecution(e)).result(5)
    connection = store._writer._connection
    assert connection is not None
    connection.driver_connection.close()  # type: ignore[union-attr]
    store.submit(InsertEvents([f.event(e.id, 1)])).result(5)
    assert [x.seq for x in store.list_events(e.id)] == [1]
    assert store._writer._connection is not connection  # it reconnected


def test_an_inline_write_recovers_from_a_broken_connection(store: Store, session: Session) -> None:
    e = f.execution(session.id)
    store.write(InsertExecution(e))
    connection = store._writer._connection
    assert connection is not None
    connection.driver_connection.close()  # type: ignore[union-attr]
    store.write(InsertEvents([f.event(e.id, 1)]))
    assert [x.seq for x in store.list_events(e.id)] == [1]
    assert store._writer._connection is not connection  # it reconnected


def test_when_the_database_is_unreachable_the_batch_fails_fast(
    store: Store, db_url: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(create_store_engine(resolve_url(db_url)))
    attempts: list[int] = []

    def unreachable() -> None:
        attempts.append(1)
        raise OperationalError("connect", {}, Exception("server closed the connection"))

    monkeypatch.setattr(db.engine, "raw_connection", unreachable)
    broken = PausedWriter(store, db=db)
    futures = [broken.writer.submit(InsertExecution(f.execution(session.id))) for _ in range(5)]
    broken.writer.start()
    broken.writer.flush(5)
    broken.writer.close()
    db.close()
    errors = [x.exception(0) for x in futures]
    assert all(isinstance(e, StoreError) and "server closed" in str(e) for e in errors)
    assert len(attempts) == 2  # the batch, then the first op alone; the rest fail fast
    assert store.list_executions(session.id) == []


def test_close_writes_everything_still_queued(db_url: str) -> None:
    store = open_store(db_url)
    t = f.template()
    store.insert_template(t)
    s = f.session(t.id)
    store.insert_session(s)
    e = f.execution(s.id)
    store.submit(InsertExecution(e))
    for seq in range(1, 501):
        store.submit(InsertEvents([f.event(e.id, seq)]))
    store.submit(FinishExecution(f.finished(e)))
    store.close()
    reopened = open_store(db_url)
    try:
        assert len(reopened.list_events(e.id)) == 500
        loaded = reopened.get_execution(e.id)
        assert loaded is not None and loaded.status is ExecutionStatus.OK
    finally:
        reopened.close()


def test_submit_after_close_is_refused_and_flush_returns(store: Store, session: Session) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.submit(InsertExecution(f.execution(session.id)))
    store.flush(1)


def test_a_future_cancelled_before_it_is_picked_up_drops_its_op(
    store: Store, paused: PausedWriter, session: Session
) -> None:
    kept, dropped = f.execution(session.id), f.execution(session.id)
    paused.writer.submit(InsertExecution(kept))
    assert paused.writer.submit(InsertExecution(dropped)).cancel()
    paused.writer.start()
    paused.writer.flush(5)
    assert store.execution_exists(kept.id)
    assert not store.execution_exists(dropped.id)


def test_concurrent_submitters_lose_nothing(store: Store, session: Session) -> None:
    def produce(_: int) -> str:
        e = f.execution(session.id)
        store.submit(InsertExecution(e))
        for chunk in range(10):
            store.submit(InsertEvents([f.event(e.id, chunk * 5 + i) for i in range(1, 6)]))
        store.submit(FinishExecution(f.finished(e)))
        return e.id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(produce, range(32)))
    store.flush(10)
    for execution_id in ids:
        assert [x.seq for x in store.list_events(execution_id)] == list(range(1, 51))
        loaded = store.get_execution(execution_id)
        assert loaded is not None and loaded.status is ExecutionStatus.OK


def test_flush_times_out_while_the_database_is_locked(store: Store, session: Session) -> None:
    if not is_sqlite(store):
        pytest.skip("SQLite only: holds the database write lock")
    e = f.execution(session.id)
    locker = sqlite3.connect(store.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        future = store.submit(InsertExecution(e))
        with pytest.raises(TimeoutError):
            store.flush(timeout=0.3)
        assert not future.done()
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    store.flush(timeout=10)
    assert future.result(0) == {e.id: 1}
    assert store.execution_exists(e.id)


def test_flush_from_a_future_callback_is_refused(store: Store, session: Session) -> None:
    seen: list[BaseException] = []
    done = threading.Event()

    def callback(_: Future[None]) -> None:
        try:
            store.flush(1)
        except StoreError as exc:
            seen.append(exc)
        done.set()

    store.submit(InsertExecution(f.execution(session.id))).add_done_callback(callback)
    assert done.wait(5)
    assert len(seen) == 1 and "writer thread" in str(seen[0])


def test_a_group_commits_its_ops_together_with_one_future(store: Store, session: Session) -> None:
    execution = f.execution(session.id)
    future = store.submit(
        WriteGroup(
            (
                InsertExecution(execution),
                InsertEvents([f.event(execution.id, 1)]),
                FinishExecution(f.finished(execution)),
                TouchSession(session.id, f.at(60)),
            )
        )
    )
    future.result(10)
    stored = store.get_execution(execution.id)
    assert stored is not None and stored.status is ExecutionStatus.OK
    assert [e.seq for e in store.list_events(execution.id)] == [1]


def test_a_failing_group_fails_as_a_unit_and_others_are_written(
    store: Store, session: Session
) -> None:
    good = f.execution(session.id)
    bad = f.execution(session.id)
    broken = store.submit(
        WriteGroup((InsertExecution(bad), InsertEvents([f.event(f.new_id(), 1)])))
    )
    fine = store.submit(InsertExecution(good))
    fine.result(10)
    assert broken.exception(10) is not None
    assert store.get_execution(bad.id) is None
    assert store.get_execution(good.id) is not None


def test_write_on_an_idle_writer_commits_on_the_calling_thread(
    store: Store, session: Session
) -> None:
    store.flush(5)
    threads: list[threading.Thread] = []
    original = store._writer._transaction

    def recording(ops: list[WriteOp]) -> dict[str, int]:
        threads.append(threading.current_thread())
        return original(ops)

    store._writer._transaction = recording  # type: ignore[method-assign]
    e = f.execution(session.id)
    store.write(InsertExecution(e))
    assert threads == [threading.current_thread()]
    assert store.get_execution(e.id) == e


def test_write_queues_behind_earlier_submissions_and_keeps_their_order(
    store: Store, paused: PausedWriter, session: Session
) -> None:
    e = f.execution(session.id)
    paused.writer.submit(InsertExecution(e))
    outcome: list[BaseException | None] = []

    def finish() -> None:
        try:
            paused.writer.write(FinishExecution(f.finished(e)), timeout=5)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=finish)
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # queued (the insert is not committed yet), not run inline
    paused.writer.start()
    waiter.join(5)
    assert outcome == [None]
    # Both in one batch: the insert of the final row, never a finish before its insert.
    assert len(paused.transactions) == 1
    loaded = store.get_execution(e.id)
    assert loaded is not None and loaded.status is ExecutionStatus.OK


def test_write_raises_the_ops_own_error_and_the_writer_goes_on(
    store: Store, session: Session
) -> None:
    with pytest.raises(ForeignKeyViolation):
        store.write(InsertExecution(f.execution(f.new_id())))
    e = f.execution(session.id)
    store.write(InsertExecution(e))
    assert store.submit(FinishExecution(f.finished(e))).result(5) == {}


def test_write_after_close_is_refused(store: Store, session: Session) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.write(InsertExecution(f.execution(session.id)))


def test_inline_writes_and_queued_submissions_from_many_threads_lose_nothing(
    store: Store, session: Session
) -> None:
    def produce(_: int) -> str:
        e = f.execution(session.id)
        store.write(InsertExecution(e))
        for chunk in range(10):
            store.submit(InsertEvents([f.event(e.id, chunk * 5 + i) for i in range(1, 6)]))
        store.write(FinishExecution(f.finished(e)))
        return e.id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(produce, range(48)))
    for execution_id in ids:  # no flush: write() returned after the finish was committed
        assert [x.seq for x in store.list_events(execution_id)] == list(range(1, 51))
        loaded = store.get_execution(execution_id)
        assert loaded is not None and loaded.status is ExecutionStatus.OK


def test_write_now_on_an_idle_sqlite_writer_commits_a_group_on_the_calling_thread(
    store: Store, session: Session
) -> None:
    store.flush(5)
    threads: list[threading.Thread] = []
    original = store._writer._transaction

    def recording(ops: list[WriteOp]) -> dict[str, int]:
        threads.append(threading.current_thread())
        return original(ops)

    store._writer._transaction = recording  # type: ignore[method-assign]
    good, bad = f.execution(session.id), f.execution(f.new_id())
    outcomes = store.write_now([InsertExecution(good), InsertExecution(bad)])
    if not is_sqlite(store):
        assert outcomes is None  # a PostgreSQL commit is never made on the caller's thread
        assert threads == []
        return
    assert outcomes is not None
    assert outcomes[0] == {good.id: 1}
    assert isinstance(outcomes[1], ForeignKeyViolation)  # each op its own outcome
    assert set(threads) == {threading.current_thread()}
    assert store.get_execution(good.id) == good
    assert store.get_execution(bad.id) is None


def test_write_now_declines_while_writes_are_queued(
    store: Store, paused: PausedWriter, session: Session
) -> None:
    e = f.execution(session.id)
    queued = paused.writer.submit(InsertExecution(e))
    assert paused.writer.write_now([FinishExecution(f.finished(e))]) is None  # never overtakes
    paused.writer.start()
    assert queued.result(5) == {e.id: 1}


def test_write_now_leaves_the_search_index_to_the_writer_thread(
    store: Store, session: Session
) -> None:
    if not is_sqlite(store):
        pytest.skip("write_now commits on SQLite only")
    store.flush(5)
    indexing: list[threading.Thread] = []
    original = store._writer._index_unindexed

    def recording() -> None:
        indexing.append(threading.current_thread())
        original()

    store._writer._index_unindexed = recording  # type: ignore[method-assign]
    for _ in range(INDEX_BATCH):
        e = f.execution(session.id)
        outcomes = store.write_now([InsertExecution(e), FinishExecution(f.finished(e))])
        assert outcomes is not None and not isinstance(outcomes[1], Exception)
    store.flush(5)  # the barrier write_now queued once INDEX_BATCH executions waited
    assert indexing and threading.current_thread() not in indexing
    assert store._writer._unindexed == []
