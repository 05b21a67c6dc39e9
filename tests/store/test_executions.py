"""Execution and event reads, and cascades below sessions and executions."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, delete, event, func, select

from vmsystem.store import (
    EventType,
    ExecutionKind,
    ExecutionStatus,
    FinishExecution,
    InsertEvents,
    InsertExecution,
    Session,
    Store,
    WriteGroup,
    open_store,
)
from vmsystem.store.schema import events, executions, sessions

from . import factories as f


@pytest.fixture
def session(store: Store) -> Session:
    t = f.template()
    store.insert_template(t)
    s = f.session(t.id)
    store.insert_session(s)
    return s


def store_engine(store: Store) -> Engine:
    """The engine the store reads through (its statements are what is counted)."""
    return store._db.engine


def write(store: Store, *ops: InsertExecution | InsertEvents | FinishExecution) -> None:
    futures = [store.submit(op) for op in ops]
    store.flush()
    for future in futures:
        future.result(0)


def test_execution_round_trips_every_field(store: Store, session: Session) -> None:
    e = f.execution(
        session.id,
        kind=ExecutionKind.RUN_FILE,
        input=None,
        path="src/main.js",
        args={"argv": ["--x", 1]},
        env={"A": "b"},
    )
    done = f.finished(e, error={"name": "Error", "message": "x"}, status=ExecutionStatus.ERROR)
    write(store, InsertExecution(e))
    assert store.get_execution(e.id) == e
    write(store, FinishExecution(done))
    assert store.get_execution(e.id) == done


def test_unknown_execution_is_none_and_does_not_exist(store: Store) -> None:
    assert store.get_execution(f.new_id()) is None
    assert store.execution_exists(f.new_id()) is False


def test_execution_exists_once_written(store: Store, session: Session) -> None:
    e = f.execution(session.id)
    write(store, InsertExecution(e))
    assert store.execution_exists(e.id) is True


def test_list_executions_is_newest_first_by_ordinal_with_limit(
    store: Store, session: Session
) -> None:
    # Inserted out of wall-clock order (a clock step): the insert order decides.
    made = [f.execution(session.id, started=s) for s in (2, 0, 3, 1)]
    write(store, *(InsertExecution(e) for e in made))
    listed = store.list_executions(session.id)
    assert [e.id for e in listed] == [e.id for e in reversed(made)]
    assert [e.ordinal for e in listed] == [4, 3, 2, 1]
    assert [e.id for e in store.list_executions(session.id, limit=2)] == [made[3].id, made[2].id]


def test_ordinals_count_per_session_from_one_and_are_returned_by_the_write(
    store: Store, session: Session
) -> None:
    other = f.session(session.template_id)
    store.insert_session(other)
    a, b, c = f.execution(session.id), f.execution(other.id), f.execution(session.id)
    assert store.write(InsertExecution(a)) == {a.id: 1}
    assert store.submit(InsertExecution(b)).result(10) == {b.id: 1}
    assert store.write(WriteGroup((InsertExecution(c), FinishExecution(f.finished(c))))) == {
        c.id: 2
    }
    assert [store.get_execution(e.id).ordinal for e in (a, b, c)] == [1, 1, 2]  # type: ignore[union-attr]


def test_two_stores_writing_one_session_at_once_give_distinct_ordinals(
    db_url: str, store: Store, session: Session
) -> None:
    second = open_store(db_url)
    try:
        made: list[list[str]] = [[], []]

        def insert(target: Store, into: list[str]) -> None:
            for _ in range(25):
                e = f.execution(session.id)
                target.write(InsertExecution(e))
                into.append(e.id)

        threads = [
            threading.Thread(target=insert, args=(s, ids))
            for s, ids in zip((store, second), made, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(made[0]) == len(made[1]) == 25
        listed = store.list_executions(session.id, limit=100)
        assert sorted(e.ordinal or 0 for e in listed) == list(range(1, 51))
    finally:
        second.close()


def test_list_executions_only_lists_that_session(store: Store, session: Session) -> None:
    other = f.session(session.template_id)
    store.insert_session(other)
    mine, theirs = f.execution(session.id), f.execution(other.id)
    write(store, InsertExecution(mine), InsertExecution(theirs))
    assert [e.id for e in store.list_executions(session.id)] == [mine.id]


def test_page_executions_walks_the_whole_history_oldest_first(
    store: Store, session: Session
) -> None:
    made = [f.execution(session.id, started=s) for s in (2, 0, 3, 1, 2, 2)]
    write(store, *(InsertExecution(e) for e in made))
    pages: list[list[str]] = []
    after = 0
    while page := store.page_executions(session.id, after=after, limit=2):
        pages.append([e.id for e in page])
        after = page[-1].ordinal or 0
    assert [len(p) for p in pages] == [2, 2, 2]
    assert [eid for p in pages for eid in p] == [e.id for e in made]


def test_executions_from_an_ordinal_is_one_query_whatever_the_history(
    store: Store, session: Session
) -> None:
    made = [f.execution(session.id) for _ in range(1200)]
    write(store, WriteGroup(tuple(InsertExecution(e) for e in made)))
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(store_engine(store), "before_cursor_execute", record)
    try:
        found = store.executions_from(session.id, 7)
    finally:
        event.remove(store_engine(store), "before_cursor_execute", record)
    assert found == [(e.id, n) for n, e in enumerate(made[6:], 7)]
    assert [q for q in statements if not q.startswith("BEGIN")] == [statements[-1]]
    assert "ordinal >=" in statements[-1]


def test_list_events_is_in_seq_order_after_a_seq_with_limit(store: Store, session: Session) -> None:
    e = f.execution(session.id)
    evs = [f.event(e.id, seq) for seq in range(1, 8)]
    write(store, InsertExecution(e), InsertEvents(evs[4:]), InsertEvents(evs[:4]))
    assert store.list_events(e.id) == evs
    assert [x.seq for x in store.list_events(e.id, after_seq=3)] == [4, 5, 6, 7]
    assert [x.seq for x in store.list_events(e.id, after_seq=2, limit=2)] == [3, 4]
    assert store.list_events(e.id, after_seq=7) == []
    assert store.list_events(f.new_id()) == []


def test_event_payloads_and_types_round_trip(store: Store, session: Session) -> None:
    e = f.execution(session.id)
    value = f.event(
        e.id, 2, kind=EventType.VALUE, type="object", preview="[object]", json={"a": [1, None, "é"]}
    )
    echo = f.event(e.id, 1, kind=EventType.INPUT_ECHO, text="({a: [1, null, 'é']})")
    write(store, InsertExecution(e), InsertEvents([echo, value]))
    assert store.list_events(e.id) == [echo, value]


def test_deleting_a_session_row_cascades_to_executions_and_events(
    store: Store, engine: Engine, session: Session
) -> None:
    e = f.execution(session.id)
    write(store, InsertExecution(e), InsertEvents([f.event(e.id, 1), f.event(e.id, 2)]))
    with engine.begin() as connection:
        connection.execute(delete(sessions).where(sessions.c.id == session.id))
    assert store.get_execution(e.id) is None
    with engine.connect() as connection:
        count = select(func.count()).select_from(events).where(events.c.execution_id == e.id)
        assert connection.execute(count).scalar_one() == 0


def test_deleting_an_execution_row_cascades_to_its_events(
    store: Store, engine: Engine, session: Session
) -> None:
    e, kept = f.execution(session.id), f.execution(session.id)
    write(
        store,
        InsertExecution(e),
        InsertExecution(kept),
        InsertEvents([f.event(e.id, 1), f.event(kept.id, 1)]),
    )
    with engine.begin() as connection:
        connection.execute(delete(executions).where(executions.c.id == e.id))
    assert store.list_events(e.id) == []
    assert len(store.list_events(kept.id)) == 1
