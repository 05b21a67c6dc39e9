"""Full-text search over finished executions: indexing by the writer and by recovery,
ranking, paging, session filter, snippets, hostile queries and deletes (both backends)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from vmsystem.models import Execution
from vmsystem.store import (
    ExecutionStatus,
    FinishExecution,
    InsertEvents,
    InsertExecution,
    Session,
    Store,
    WriteGroup,
)
from vmsystem.store.schema import executions

from . import factories as f


@pytest.fixture
def session(store: Store) -> Session:
    t = f.template()
    store.insert_template(t)
    s = f.session(t.id)
    store.insert_session(s)
    return s


def run(
    store: Store,
    session_id: str,
    code: str,
    console: tuple[str, ...] = (),
    *,
    separately: bool = True,
    **finish: Any,
) -> Execution:
    """Record one execution: inserted running, console events, then finished."""
    e = f.execution(session_id, input=code)
    lines = [f.event(e.id, i + 1, level="log", text=line) for i, line in enumerate(console)]
    final = f.finished(e, **finish)
    if separately:
        store.write(InsertExecution(e))
        if lines:
            store.write(InsertEvents(lines))
        store.write(FinishExecution(final))
    else:  # the writer merges an insert and a finish in one batch into one row
        store.write(WriteGroup((InsertExecution(e), InsertEvents(lines), FinishExecution(final))))
    return final


def ids(store: Store, q: str, **options: Any) -> list[str]:
    return [m.execution.id for m in store.search_executions(q, **options)[0]]


def test_input_console_text_and_error_message_are_searchable(
    store: Store, session: Session
) -> None:
    a = run(store, session.id, "const zebra = 1", ("hello from the console",))
    b = run(
        store,
        session.id,
        "explode()",
        status=ExecutionStatus.ERROR,
        error={"name": "ReferenceError", "message": "explode is not defined"},
    )
    assert ids(store, "zebra") == [a.id]
    assert ids(store, "console hello") == [a.id]
    assert ids(store, "referenceerror") == [b.id]
    assert ids(store, "not defined") == [b.id]
    assert ids(store, "giraffe") == []


def test_words_are_case_insensitive_and_split_on_punctuation(
    store: Store, session: Session
) -> None:
    a = run(store, session.id, "console.log('Hello_World', foo.barBaz)")
    for q in ("CONSOLE", "log", "hello world", "barbaz", "foo"):
        assert ids(store, q) == [a.id], q


def test_every_word_of_the_query_must_match(store: Store, session: Session) -> None:
    a = run(store, session.id, "alpha beta")
    run(store, session.id, "alpha gamma")
    assert ids(store, "alpha beta") == [a.id]
    assert len(ids(store, "alpha")) == 2


def test_an_insert_and_finish_merged_in_one_batch_is_indexed_with_its_console(
    store: Store, session: Session
) -> None:
    a = run(store, session.id, "1 + 1", ("merged output line",), separately=False)
    assert ids(store, "merged output") == [a.id]


def test_running_executions_are_not_in_the_index_until_they_finish(
    store: Store, session: Session
) -> None:
    e = f.execution(session.id, input="pending work")
    store.write(InsertExecution(e))
    assert ids(store, "pending") == []
    store.write(FinishExecution(f.finished(e)))
    assert ids(store, "pending") == [e.id]


def test_more_occurrences_rank_higher(store: Store, session: Session) -> None:
    low = run(store, session.id, "needle in a haystack with lots of other words around it")
    high = run(store, session.id, "needle", ("needle needle", "needle again"))
    (best, second), _ = store.search_executions("needle")
    assert [best.execution.id, second.execution.id] == [high.id, low.id]
    assert best.score > second.score


def test_pages_by_offset_without_overlap(store: Store, session: Session) -> None:
    made = {run(store, session.id, f"common term {i}").id for i in range(7)}
    first, more = store.search_executions("common", limit=3)
    second, more2 = store.search_executions("common", limit=3, offset=3)
    third, more3 = store.search_executions("common", limit=3, offset=6)
    assert (more, more2, more3) == (True, True, False)
    seen = [m.execution.id for m in (*first, *second, *third)]
    assert len(seen) == 7 and set(seen) == made


def test_session_filter(store: Store, session: Session) -> None:
    other = f.session(session.template_id)
    store.insert_session(other)
    mine = run(store, session.id, "shared word")
    theirs = run(store, other.id, "shared word")
    assert ids(store, "shared", session_id=session.id) == [mine.id]
    assert ids(store, "shared", session_id=other.id) == [theirs.id]
    assert set(ids(store, "shared")) == {mine.id, theirs.id}


@pytest.mark.parametrize(
    "q", ['"', "*", "NEAR", 'a" OR "b', "col:umn", "(", "^x", "-x", "AND OR NOT", "'; DROP", "é"]
)
def test_hostile_queries_never_fail(store: Store, session: Session, q: str) -> None:
    run(store, session.id, "near and or not column x b")
    matches, _ = store.search_executions(q)
    assert isinstance(matches, list)


def test_operator_words_are_plain_words(store: Store, session: Session) -> None:
    a = run(store, session.id, "walk NEAR the river")
    run(store, session.id, "walk the river")
    assert ids(store, "near") == [a.id]
    assert ids(store, "NEAR walk") == [a.id]


def test_a_query_without_words_matches_nothing(store: Store, session: Session) -> None:
    run(store, session.id, "x = 1")
    assert store.search_executions("  !!! ") == ([], False)


def test_snippet_surrounds_the_first_match_and_marks_every_match(
    store: Store, session: Session
) -> None:
    filler = " ".join(f"w{i}" for i in range(200))
    run(store, session.id, f"{filler} target here", ("then TARGET again",))
    (match,), _ = store.search_executions("target")
    assert match.snippet.startswith("…")
    assert len(match.snippet) <= 162
    marked = [match.snippet[a:b] for a, b in match.highlights]
    assert marked and all(word.lower() == "target" for word in marked)
    assert "\n" not in match.snippet


def test_deleting_a_session_removes_its_executions_from_the_index(
    store: Store, session: Session, engine: Engine
) -> None:
    run(store, session.id, "doomed words", ("more doomed",))
    assert store.delete_session(session.id)
    assert ids(store, "doomed") == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM execution_search")).scalar() == 0


def test_purging_one_session_keeps_the_other_sessions_pending_runs_searchable(
    store: Store, session: Session
) -> None:
    other = f.session(session.template_id)
    store.insert_session(other)
    run(store, session.id, "tick from the doomed session")
    kept = run(store, other.id, "tick from the kept session")
    # Both wait for the index; the purge drops its own pending row, the other is indexed.
    assert store.delete_session(session.id)
    assert ids(store, "tick") == [kept.id]


def test_an_execution_that_cannot_be_indexed_is_skipped_and_logged_and_the_others_indexed(
    store: Store, session: Session, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    doomed = run(store, session.id, "tick vanishing")
    kept = run(store, session.id, "tick staying")
    later = run(store, session.id, "tick later")
    # The row disappears behind the writer's back: indexing it fails on the foreign key.
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM events WHERE execution_id = :id"), {"id": doomed.id})
        connection.execute(text("DELETE FROM executions WHERE id = :id"), {"id": doomed.id})
    with caplog.at_level("WARNING", logger="vmsystem.store.writer"):
        found = ids(store, "tick")
    assert sorted(found) == sorted([kept.id, later.id])
    assert any(doomed.id in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    # The writer goes on indexing afterwards.
    again = run(store, session.id, "tick again")
    assert again.id in ids(store, "again")


def test_recovery_indexes_the_executions_it_finishes(store: Store, session: Session) -> None:
    e = f.execution(session.id, input="interrupted job")
    store.write(InsertExecution(e))
    store.write(InsertEvents([f.event(e.id, 1, text="partial output")]))
    store.recover(
        now=f.at(10),
        session_message="restarted",
        execution_error={"code": "X", "message": "daemon restarted mid flight"},
        system_event_payload={"message": "daemon restarted"},
    )
    assert ids(store, "partial output") == [e.id]
    assert ids(store, "mid flight") == [e.id]


def test_nul_characters_in_console_text_are_indexed_without_error(
    store: Store, session: Session, engine: Engine
) -> None:
    a = run(store, session.id, "print()", ("before\x00after nul",))
    assert ids(store, "nul") == [a.id]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(executions)).scalar() == 1


def test_hits_carry_the_whole_execution(store: Store, session: Session) -> None:
    a = run(store, session.id, "find me", ("out",))
    (match,), _ = store.search_executions("find")
    assert match.execution == store.get_execution(a.id)
    assert match.execution.status is ExecutionStatus.OK


def test_existing_executions_are_indexed_by_the_migration(db_url: str) -> None:
    from alembic import command

    from vmsystem.store import open_store
    from vmsystem.store.migrator import alembic_config

    store = open_store(db_url)
    try:
        t = f.template()
        store.insert_template(t)
        s = f.session(t.id)
        store.insert_session(s)
        a = run(store, s.id, "older history", ("from before search existed",))
        engine = store._db.engine
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
    finally:
        store.close()
    reopened = open_store(db_url)  # upgrades again, backfilling the index
    try:
        assert ids(reopened, "before search existed") == [a.id]
    finally:
        reopened.close()


def test_recovery_indexes_finished_executions_the_index_lacks(
    store: Store, session: Session, engine: Engine
) -> None:
    a = run(store, session.id, "lost before indexing")
    store.search_executions("x")  # indexes everything so far
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM execution_search"))
    assert ids(store, "lost") == []
    store.recover(
        now=f.at(10),
        session_message="restarted",
        execution_error={"message": "restarted"},
        system_event_payload={},
    )
    assert ids(store, "lost") == [a.id]


def test_closing_the_store_indexes_what_is_pending(db_url: str) -> None:
    from vmsystem.store import open_store

    store = open_store(db_url)
    t = f.template()
    store.insert_template(t)
    s = f.session(t.id)
    store.insert_session(s)
    a = run(store, s.id, "written just before close")
    store.close()
    reopened = open_store(db_url)
    try:
        with reopened._db.read() as connection:
            count = connection.execute(text("SELECT count(*) FROM execution_search")).scalar()
        assert count == 1
        assert ids(reopened, "close") == [a.id]
    finally:
        reopened.close()
