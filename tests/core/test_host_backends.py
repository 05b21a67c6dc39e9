"""The core's behaviour on every session-host backend: the same services over ``inprocess``,
``process`` (worker processes) and ``ray`` (actors on a real local Ray cluster)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vmsystem.core import VmSystem, open_hosts, open_system
from vmsystem.models import Event, ExecutionStatus, SessionStatus

BACKENDS = ("inprocess", "process", "ray")


@pytest.fixture(scope="module", params=BACKENDS)
def system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VmSystem]:
    """One system per backend, shared by this module's tests."""
    address = request.getfixturevalue("ray_cluster") if request.param == "ray" else None
    pool = open_hosts(request.param, processes=1, ray_address=address)
    root = tmp_path_factory.mktemp(f"core-{request.param}")
    vm = open_system(str(root / "vm.db"), cache_dir=root, hosts=pool)
    try:
        yield vm
    finally:
        vm.shutdown()


def _session(vm: VmSystem, worktree: Path, modules: tuple[str, ...] = (), **limits: int) -> str:
    template = vm.templates.create(f"t-{time.monotonic_ns()}")
    if limits:
        vm.templates.update(template.id, settings={"limits": limits})
    for name in modules:
        vm.templates.add_module(template.id, name)
    return vm.sessions.create(template.id, str(worktree)).id


def test_values_state_and_exceptions_are_recorded(system: VmSystem, worktree: Path) -> None:
    sid = _session(system, worktree)
    assert system.sessions.get(sid).host_id is not None
    first = system.executions.repl(sid, "globalThis.base = 40; console.log('set'); base")
    assert first.status is ExecutionStatus.OK and first.result is not None
    assert first.result["json"] == 40
    second = system.executions.repl(sid, "base + 2")
    assert second.result is not None and second.result["json"] == 42
    failed = system.executions.repl(sid, "throw new TypeError('nope')")
    assert failed.status is ExecutionStatus.ERROR
    assert failed.error is not None and failed.error["name"] == "TypeError"
    assert [e.type.value for e in system.executions.events(first.id)] == [
        "input_echo",
        "console",
        "value",
    ]


def test_a_wall_limit_times_out_and_the_session_keeps_its_state(
    system: VmSystem, worktree: Path
) -> None:
    sid = _session(system, worktree, wall_ms=300)
    system.executions.repl(sid, "globalThis.kept = 1")
    run = system.executions.repl(sid, "while (true) {}")
    assert run.status is ExecutionStatus.TIMEOUT
    assert run.error is not None and run.error["code"] == "WALL_TIME_EXCEEDED"
    again = system.executions.repl(sid, "kept + 1")
    assert again.result is not None and again.result["json"] == 2


def test_cancel_stops_a_run_and_console_lines_stream_before_it_ends(
    system: VmSystem, worktree: Path
) -> None:
    sid = _session(system, worktree, wall_ms=20000)
    seen: list[Event] = []
    got_line = threading.Event()

    def deliver(event: Event | None) -> None:
        if event is not None and event.type.value == "console":
            seen.append(event)
            got_line.set()

    system.bus.subscribe_session(sid, deliver)
    running = system.executions.repl(sid, "console.log('started'); while (true) {}", wait=False)
    assert got_line.wait(10), "the console line did not stream while the run went on"
    assert system.executions.get(running.id).status is ExecutionStatus.RUNNING
    cancelled = system.executions.cancel(running.id)
    assert cancelled.status is ExecutionStatus.CANCELLED
    assert system.sessions.get(sid).status is SessionStatus.READY
    assert seen[0].payload["text"] == "started"


def test_native_modules_run_on_the_host(system: VmSystem, worktree: Path) -> None:
    (worktree / "data.txt").write_text("from the worktree")
    sid = _session(system, worktree, modules=("fs",))
    run = system.executions.repl(sid, "require('fs').readFileSync('data.txt')")
    assert run.result is not None and run.result["json"] == "from the worktree"
    escape = system.executions.repl(sid, "require('fs').readFileSync('../../etc/passwd')")
    assert escape.status is ExecutionStatus.ERROR


def test_a_host_that_dies_mid_run_fails_the_run_and_the_session_is_rebuilt(
    system: VmSystem, worktree: Path
) -> None:
    if system.hosts.kind == "inprocess":
        pytest.skip("the in-process host is the test process itself")
    sid = _session(system, worktree, wall_ms=30000)
    host_id = system.sessions.get(sid).host_id
    (pid,) = [h.pid for h in system.hosts.hosts() if h.id == host_id]
    assert pid is not None
    running = system.executions.repl(sid, "while (true) {}", wait=False)
    time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while system.executions.get(running.id).status is ExecutionStatus.RUNNING:
        assert time.monotonic() < deadline, "the run never ended"
        time.sleep(0.05)
    run = system.executions.get(running.id)
    assert run.status is ExecutionStatus.ERROR
    assert run.error is not None and run.error["code"] == "SESSION_CRASHED"
    # Rebuilt by replay on a live host, without the run the host died in.
    deadline = time.monotonic() + 60
    while (session := system.sessions.get(sid)).recovery_count == 0 or (
        session.status is SessionStatus.STARTING
    ):
        assert time.monotonic() < deadline, f"not rebuilt: {session}"
        time.sleep(0.05)
    assert (session.status, session.recovery_count) == (SessionStatus.READY, 1)
    fresh = _session(system, worktree)  # the host was restarted
    assert system.executions.repl(fresh, "1 + 1").result is not None


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "in-flight"])
def test_a_host_death_ends_the_session_stream_and_marks_it_crashed(
    system: VmSystem, worktree: Path, busy: bool
) -> None:
    if system.hosts.kind == "inprocess":
        pytest.skip("the in-process host is the test process itself")
    sid = _session(system, worktree, wall_ms=30000)
    # Policy off: not rebuilt by replay (the test above checks the rebuild).
    template_id = system.sessions.get(sid).template_id
    system.templates.update(template_id, settings={"recovery": {"policy": "off"}})
    system.sessions.restart(sid, refresh_template=True)
    host_id = system.sessions.get(sid).host_id
    (pid,) = [h.pid for h in system.hosts.hosts() if h.id == host_id]
    assert pid is not None
    woken = threading.Event()
    follower = system.executions.follow_session(sid, woken.set)
    try:
        if busy:
            system.executions.repl(sid, "console.log('up'); while (true) {}", wait=False)
            deadline = time.monotonic() + 30
            while not follower.read():
                assert woken.wait(max(deadline - time.monotonic(), 0.01)), "no event came"
                woken.clear()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not follower.finished:
            follower.read()
            woken.wait(0.1)
            woken.clear()
            assert time.monotonic() < deadline, "the session's stream never ended"
    finally:
        follower.close()
    session = system.sessions.get(sid)
    assert session.status is SessionStatus.CRASHED
    assert session.last_error and "died" in session.last_error
    assert sid not in system.registry.ids()
