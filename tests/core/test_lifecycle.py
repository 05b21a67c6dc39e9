"""VmSystem's own executor and its ordered shutdown (drain, close, flush)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from vmsystem.core import RecoveryConfig, VmSystem, open_system
from vmsystem.core.errors import SessionNotReady
from vmsystem.models import ExecutionStatus, SessionStatus


def _session(vm: VmSystem, worktree: Path) -> str:
    template = vm.templates.create(f"t-{time.monotonic_ns()}")
    return vm.sessions.create(template.id, str(worktree)).id


def test_a_background_run_that_cannot_start_is_finished_and_frees_the_session(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    vm.executor.shutdown(wait=True)
    with pytest.raises(SessionNotReady) as caught:
        vm.executions.repl(sid, "1 + 1", wait=False)
    execution_id = caught.value.details["execution_id"]
    row = vm.executions.get(execution_id)
    assert row.status is ExecutionStatus.CANCELLED
    assert row.error is not None and "not started" in row.error["message"]
    assert [e.type.value for e in vm.executions.events(execution_id)][-1] == "system"
    # the session is free again: a waited run needs no executor thread
    assert vm.executions.repl(sid, "20 + 22").result == {
        "type": "number",
        "preview": "42",
        "inspect": "42",
        "json": 42,
    }


def test_background_runs_use_the_systems_executor(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    names: list[str] = []
    original = vm.executions._execute_live

    def spy(*args: object, **kwargs: object) -> object:
        names.append(threading.current_thread().name)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    vm.executions._execute_live = spy  # type: ignore[method-assign]
    running = vm.executions.repl(sid, "1 + 1", wait=False)
    deadline = time.monotonic() + 5
    while vm.executions.get(running.id).status is ExecutionStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert names and names[0].startswith("vm-exec")


def test_shutdown_cancels_running_work_then_closes_sessions_and_refuses_new_runs(
    db_path: Path, cache_dir: Path, worktree: Path
) -> None:
    off = RecoveryConfig(restart="off")  # without durable sessions
    vm = open_system(str(db_path), cache_dir=cache_dir, recovery=off)
    sid = _session(vm, worktree)
    running = vm.executions.repl(sid, "while (true) {}", wait=False)
    vm.drain()
    assert vm.executions.get(running.id).status is ExecutionStatus.CANCELLED
    with pytest.raises(SessionNotReady, match="shutting down"):
        vm.executions.repl(sid, "1")
    vm.shutdown()
    vm.shutdown()  # idempotent
    again = open_system(str(db_path), cache_dir=cache_dir, recovery=off)
    try:
        session = again.sessions.get(sid)
        assert session.status is SessionStatus.CLOSED
        assert session.last_error == "daemon shutdown"
        assert again.executions.get(running.id).status is ExecutionStatus.CANCELLED
    finally:
        again.shutdown()


def test_concurrent_shutdowns_both_return_after_the_store_is_closed(
    db_path: Path, cache_dir: Path, worktree: Path
) -> None:
    vm = open_system(str(db_path), cache_dir=cache_dir)
    _session(vm, worktree)
    threads = [threading.Thread(target=vm.shutdown) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert vm.sessions.live_ids() == []
    with pytest.raises(Exception, match="closed"):
        vm.store.get_session("00000000-0000-4000-8000-000000000000")
