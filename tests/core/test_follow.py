"""Following executions and sessions: pages from the bus, then the store, never a gap."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event

from vmsystem.core import VmSystem
from vmsystem.core.errors import ExecutionNotFound
from vmsystem.core.ids import new_id
from vmsystem.models import Event
from vmsystem.store import InsertExecution, WriteGroup


def _session(vm: VmSystem, worktree: Path, **limits: int) -> str:
    template = vm.templates.create(f"t-{time.monotonic_ns()}")
    if limits:
        vm.templates.update(template.id, settings={"limits": limits})
    return vm.sessions.create(template.id, str(worktree)).id


def _drain(read: object, done: object, wake: threading.Event, timeout: float = 20) -> list[Event]:
    out: list[Event] = []
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        wake.clear()
        page = read()  # type: ignore[operator]
        out.extend(page)
        if not page:
            assert wake.wait(max(deadline - time.monotonic(), 0)), "no wake-up"
    return out


def test_a_follower_reads_a_running_execution_to_its_end_with_contiguous_seqs(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree, wall_ms=20000)
    running = vm.executions.repl(
        sid,
        "for (let i = 0; i < 3000; i++) { console.log(i); if (i % 500 === 0) {"
        " const t = Date.now(); while (Date.now() - t < 20) {} } }; 'end'",
        wait=False,
    )
    wake = threading.Event()
    follower = vm.executions.follow(running.id, wake.set)
    try:
        events = _drain(lambda: follower.read(limit=250), lambda: follower.done, wake)
    finally:
        follower.close()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[-1].type.value == "value" and events[-1].payload["json"] == "end"
    assert len(events) == 3002  # echo, 3000 lines, value


def test_a_slow_follower_catches_up_from_the_store_after_the_run_ended(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    wake = threading.Event()
    running = vm.executions.repl(sid, "for (let i = 0; i < 5000; i++) console.log(i)", wait=False)
    follower = vm.executions.follow(running.id, wake.set, after_seq=10)
    first = follower.read(limit=100)  # then it stops reading while the run finishes
    deadline = time.monotonic() + 20
    while vm.bus.get(running.id) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert follower.read_live(100) is None  # off the bus: the rest comes from the store
    rest = _drain(lambda: follower.read(limit=700), lambda: follower.done, wake)
    follower.close()
    seqs = [e.seq for e in first + rest]
    assert seqs == list(range(11, 5003))


def test_following_an_unknown_execution_is_not_found(vm: VmSystem) -> None:
    with pytest.raises(ExecutionNotFound):
        vm.executions.follow("00000000-0000-4000-8000-000000000000", lambda: None)


def test_a_session_follower_sees_later_executions_and_ends_with_the_session(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    before = vm.executions.repl(sid, "console.log('before'); 1")
    wake = threading.Event()
    assert before.ordinal == 1
    follower = vm.executions.follow_session(sid, wake.set, resume=(before.ordinal, 1))
    after = vm.executions.repl(sid, "console.log('after'); 2")
    vm.sessions.close(sid)
    events = _drain(lambda: follower.read(limit=2), lambda: follower.finished, wake)
    follower.close()
    assert [(e.execution_id, e.seq) for e in events] == [
        (before.id, 2),
        (before.id, 3),
        (after.id, 1),
        (after.id, 2),
        (after.id, 3),
    ]


def test_a_session_follower_still_resumes_after_an_execution_id(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    before = vm.executions.repl(sid, "console.log('before'); 1")
    after = vm.executions.repl(sid, "2")
    vm.sessions.close(sid)
    wake = threading.Event()
    follower = vm.executions.follow_session(sid, wake.set, resume=(before.id, 2))
    events = _drain(follower.read, lambda: follower.finished, wake)
    follower.close()
    assert [(e.execution_id, e.seq) for e in events] == [
        (before.id, 3),
        (after.id, 1),
        (after.id, 2),
    ]


def test_resuming_a_session_older_than_the_newest_thousand_executions_is_one_query(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    first = vm.executions.repl(sid, "console.log('first'); 1")
    later = [replace(first, id=new_id()) for _ in range(1100)]
    vm.store.write(WriteGroup(tuple(InsertExecution(e) for e in later)))
    engine = vm.store._db.engine
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    wake = threading.Event()
    event.listen(engine, "before_cursor_execute", record)
    try:
        follower = vm.executions.follow_session(sid, wake.set, resume=(first.ordinal or 0, 1))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert [q for q in statements if not q.startswith("BEGIN")] == [statements[-1]]
    page = follower.read()
    assert [(e.execution_id, e.seq) for e in page] == [(first.id, 2), (first.id, 3)]
    assert follower.ordinal == first.ordinal == 1
    assert follower.read() == []  # the later ones have no events
    assert follower.ordinal == 1101  # ... and were all walked, oldest first
    follower.close()
