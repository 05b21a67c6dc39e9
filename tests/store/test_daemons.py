"""Daemon leases: several daemons over one store register, heartbeat, and take over the rows
of dead ones (``reap_daemons``) without touching a live daemon's."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from vmsystem.store import (
    DaemonLease,
    ExecutionStatus,
    FinishExecution,
    InsertEvents,
    InsertExecution,
    Reaped,
    SessionStatus,
    Store,
    Template,
    open_store,
)
from vmsystem.store.notify import notify_payloads

from . import factories as f

NOW = f.at(3600)
ERROR = {"code": "DAEMON_LOST", "message": "lost"}
PAYLOAD = {"level": "error", "code": "DAEMON_LOST", "message": "lost"}


def lease(daemon_id: str, heartbeat: float = 0) -> DaemonLease:
    return DaemonLease(
        id=daemon_id,
        version="0.1.0",
        hostname="node-1",
        pid=4242,
        started_at=f.at(0),
        heartbeat_at=f.at(heartbeat),
        address="127.0.0.1:3210",
    )


def reap(store: Store, dead: list[str], heir: str) -> Reaped:
    return store.reap_daemons(
        dead,
        heir=heir,
        now=NOW,
        session_message="daemon gone",
        execution_error=ERROR,
        system_event_payload=PAYLOAD,
        keep_ready=True,
    )


@pytest.fixture
def other(db_url: str, store: Store) -> Iterator[Store]:
    """A second store on the same database: a second daemon."""
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def template(store: Store) -> Template:
    t = f.template()
    store.insert_template(t)
    return t


def test_a_daemon_registers_heartbeats_and_is_removed(store: Store) -> None:
    store.register_daemon(lease("a"))
    assert [d.id for d in store.list_daemons()] == ["a"]
    assert store.heartbeat_daemon("a", f.at(5))
    (row,) = store.list_daemons()
    assert (row.heartbeat_at, row.address, row.pid, row.hostname) == (
        f.at(5),
        "127.0.0.1:3210",
        4242,
        "node-1",
    )
    assert row.to_dict()["id"] == "a"
    store.remove_daemon("a")
    assert store.list_daemons() == []
    assert not store.heartbeat_daemon("a", f.at(6))


def test_sessions_and_executions_record_their_daemon(
    store: Store, other: Store, template: Template
) -> None:
    store.register_daemon(lease("a"))
    other.register_daemon(lease("b"))
    mine, theirs = f.session(template.id), f.session(template.id)
    store.insert_session(mine)
    other.insert_session(theirs)
    run_a, run_b = f.execution(mine.id), f.execution(theirs.id)
    store.submit(InsertExecution(run_a))
    other.submit(InsertExecution(run_b))
    store.flush()
    other.flush()
    # b is dead: a takes over b's rows only.
    reaped = reap(store, ["b"], "a")
    assert reaped == Reaped(0, 1, ("b",), (theirs.id,))
    a_run, b_run = store.get_execution(run_a.id), store.get_execution(run_b.id)
    assert a_run is not None and a_run.status is ExecutionStatus.RUNNING
    assert b_run is not None and (b_run.status, b_run.error) == (ExecutionStatus.ERROR, ERROR)
    assert store.list_events(run_b.id)[-1].payload == PAYLOAD
    assert [d.id for d in store.list_daemons()] == ["a"]
    held = store.session_daemon(theirs.id)
    assert held is not None and held.id == "a"  # the claimed session is a's now
    # Reaping again finds nothing of b's.
    assert reap(store, [], "a") == Reaped(0, 0, (), ())


def test_rows_of_a_daemon_that_removed_its_lease_are_taken_over(
    store: Store, other: Store, template: Template
) -> None:
    other.register_daemon(lease("b"))
    starting = f.session(template.id, status=SessionStatus.STARTING)
    other.insert_session(starting)
    other.remove_daemon("b")  # a clean shutdown
    store.register_daemon(lease("a"))
    reaped = reap(store, [], "a")
    assert (reaped.sessions_closed, reaped.daemons) == (1, ())
    loaded = store.get_session(starting.id)
    assert loaded is not None and loaded.status is SessionStatus.CLOSED


def test_two_daemons_reaping_the_same_dead_one_finish_each_execution_once(
    db_url: str, store: Store, other: Store, template: Template
) -> None:
    third = open_store(db_url)
    try:
        third.register_daemon(lease("c"))
        s = f.session(template.id)
        third.insert_session(s)
        third.submit(InsertExecution(f.execution(s.id)))
        third.flush()
    finally:
        third.close()
    store.register_daemon(lease("a"))
    other.register_daemon(lease("b"))
    first = reap(store, ["c"], "a")
    second = reap(other, ["c"], "b")
    assert first.executions_finished + second.executions_finished == 1
    assert first.claimed + second.claimed == (s.id,)


def test_on_postgresql_another_store_hears_each_commit_of_events_and_finishes(
    store: Store, other: Store, template: Template
) -> None:
    heard: list[str] = []
    got = threading.Event()

    def on_commit(ids: list[str]) -> None:
        heard.extend(ids)
        got.set()

    listener = other.listen_commits(on_commit)
    if listener is None:
        assert store.url.startswith("sqlite")  # SQLite has no notifications: followers poll
        return
    try:
        assert listener.listening.wait(60)
        s = f.session(template.id)
        store.insert_session(s)
        e = f.execution(s.id)
        store.submit(InsertExecution(e))
        store.submit(InsertEvents([f.event(e.id, 1)]))
        store.flush()
        assert got.wait(60)
        assert e.id in heard
        heard.clear()
        got.clear()
        store.submit(FinishExecution(f.finished(e)))
        store.flush()
        assert got.wait(60)
        assert heard == [e.id]
    finally:
        listener.close()


def test_notify_payloads_stay_below_postgresqls_limit() -> None:
    ids = [f"{n:036d}" for n in range(1000)]
    payloads = list(notify_payloads(ids))
    assert all(len(p) < 8000 for p in payloads) and len(payloads) > 1
    assert sorted(i for p in payloads for i in p.split(",")) == sorted(ids)
