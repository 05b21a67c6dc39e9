"""ExecutionService: REPL and run-file semantics, limits, cancellation, persistence."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from vmsystem.core import VmSystem
from vmsystem.core.errors import (
    FileNotFound,
    InvalidPath,
    OutputLimitExceeded,
    SessionBusy,
    SessionNotFound,
    SessionNotReady,
    StoreUnavailable,
    ValidationError,
)
from vmsystem.models import ExecutionStatus, SessionStatus
from vmsystem.store import StoreError, WriteOp


def _session(vm: VmSystem, worktree: Path, **limits: int) -> str:
    template = vm.templates.create(f"t-{time.monotonic_ns()}")
    if limits:
        vm.templates.update(template.id, settings={"limits": limits})
    return vm.sessions.create(template.id, str(worktree)).id


def _types(vm: VmSystem, execution_id: str) -> list[str]:
    return [e.type.value for e in vm.executions.events(execution_id)]


def test_repl_records_echo_console_and_value_events(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    run = vm.executions.repl(sid, "console.log('repl'); 20 + 22")
    assert run.status is ExecutionStatus.OK
    assert run.result == {"type": "number", "preview": "42", "inspect": "42", "json": 42}
    events = vm.executions.events(run.id)
    assert [e.seq for e in events] == [1, 2, 3]
    assert _types(vm, run.id) == ["input_echo", "console", "value"]
    assert events[1].payload == {"level": "log", "text": "repl"}
    assert run.metrics["event_count"] == 3


def test_repl_exception_is_an_outcome_with_echo_and_exception(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    run = vm.executions.repl(sid, "throw new Error('boom')")
    assert run.status is ExecutionStatus.ERROR
    assert run.result is None
    assert run.error is not None and run.error["name"] == "Error"
    assert run.error["message"] == "boom"
    assert _types(vm, run.id) == ["input_echo", "exception"]


def test_state_persists_across_repl_calls_and_startup_files(vm: VmSystem, worktree: Path) -> None:
    (worktree / "a.js").write_text("globalThis.fromA = 40; let lexical = 1;")
    (worktree / "b.js").write_text("var fromB = fromA + 1;")
    template = vm.templates.create("stateful")
    vm.templates.add_startup_file(template.id, "b.js", order_index=20)
    vm.templates.add_startup_file(template.id, "a.js", order_index=10)
    sid = vm.sessions.create(template.id, str(worktree)).id
    vm.executions.repl(sid, "const c = 1; function f() { return fromB + c }")
    run = vm.executions.repl(sid, "f() + lexical - 1")
    assert run.result is not None and run.result["preview"] == "42"


def test_startup_files_are_recorded_as_startup_executions(vm: VmSystem, worktree: Path) -> None:
    (worktree / "init.js").write_text("console.log('starting'); 1")
    template = vm.templates.create("startup-recorded")
    vm.templates.add_startup_file(template.id, "init.js")
    sid = vm.sessions.create(template.id, str(worktree)).id
    vm.store.flush()
    [startup] = vm.executions.list(sid)
    assert startup.kind.value == "startup"
    assert startup.path == "init.js"
    assert _types(vm, startup.id) == ["console", "value"]


def test_run_file_sees_args_and_env_and_records_no_echo(vm: VmSystem, worktree: Path) -> None:
    (worktree / "app.js").write_text("console.log(__ARGS__.a, process.env.MODE); 40 + __ARGS__.a;")
    sid = _session(vm, worktree)
    run = vm.executions.run_file(sid, "app.js", args={"a": 2}, env={"MODE": "test"})
    assert run.status is ExecutionStatus.OK
    assert run.path == "app.js"
    assert run.result is not None and run.result["preview"] == "42"
    events = vm.executions.events(run.id)
    assert [e.type.value for e in events] == ["console", "value"]
    assert events[0].payload["text"] == "2 test"


def test_run_file_env_does_not_leak_into_the_next_repl(vm: VmSystem, worktree: Path) -> None:
    (worktree / "app.js").write_text("process.env.MODE")
    sid = _session(vm, worktree)
    vm.executions.run_file(sid, "app.js", env={"MODE": "x"})
    run = vm.executions.repl(sid, "typeof process.env.MODE")
    assert run.result is not None and run.result["preview"] == "undefined"


def test_run_file_without_a_value_ends_with_an_undefined_value(
    vm: VmSystem, worktree: Path
) -> None:
    (worktree / "log.js").write_text("console.log('only')")
    run = vm.executions.run_file(_session(vm, worktree), "log.js")
    assert run.result == {"type": "undefined", "preview": "undefined", "inspect": "undefined"}


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.js", "a/../../outside.js"])
def test_run_file_rejects_paths_outside_the_worktree_before_recording(
    vm: VmSystem, worktree: Path, path: str
) -> None:
    sid = _session(vm, worktree)
    with pytest.raises(InvalidPath):
        vm.executions.run_file(sid, path)
    vm.store.flush()
    assert vm.executions.list(sid) == []


def test_run_file_rejects_a_symlink_escaping_the_worktree(
    vm: VmSystem, worktree: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.js"
    outside.write_text("'secret'")
    os.symlink(outside, worktree / "link.js")
    sid = _session(vm, worktree)
    with pytest.raises(InvalidPath):
        vm.executions.run_file(sid, "link.js")
    vm.store.flush()
    assert vm.executions.list(sid) == []


def test_run_file_missing_file_is_file_not_found_without_a_row(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    with pytest.raises(FileNotFound):
        vm.executions.run_file(sid, "missing.js")
    (worktree / "dir").mkdir()
    with pytest.raises(InvalidPath):
        vm.executions.run_file(sid, "dir")
    vm.store.flush()
    assert vm.executions.list(sid) == []


def test_endless_loop_times_out_and_the_session_keeps_its_state(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree, wall_ms=200)
    vm.executions.repl(sid, "var kept = 41")
    started = time.monotonic()
    run = vm.executions.repl(sid, "while(true){}")
    elapsed = time.monotonic() - started
    assert run.status is ExecutionStatus.TIMEOUT
    assert run.error is not None and run.error["code"] == "WALL_TIME_EXCEEDED"
    assert elapsed < 1.0, f"timeout took {elapsed * 1000:.0f} ms"
    assert _types(vm, run.id)[-1] == "system"
    after = vm.executions.repl(sid, "kept + 1")
    assert after.result is not None and after.result["preview"] == "42"


def test_memory_bomb_is_stopped_and_the_process_survives(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree, mem_mb=64, wall_ms=20000, cpu_ms=20000)
    arrays = vm.executions.repl(sid, "let a = []; while (true) a.push(new Array(1e6).fill(1))")
    assert arrays.status is ExecutionStatus.ERROR
    assert arrays.error is not None and arrays.error["code"] == "MEMORY_LIMIT_EXCEEDED"
    buffers = vm.executions.repl(
        sid, "a = null; let b = []; while (true) b.push(new Uint8Array(8 * 1024 * 1024))"
    )
    assert buffers.error is not None and buffers.error["code"] == "MEMORY_LIMIT_EXCEEDED"
    ok = vm.executions.repl(sid, "b = null; 1 + 1")
    assert ok.status is ExecutionStatus.OK


def test_loop_in_a_promise_callback_crashes_the_session_not_the_cpu(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree, wall_ms=300)
    # Without recovery (tests/core/test_recovery.py: by default the session is rebuilt).
    template_id = vm.sessions.get(sid).template_id
    vm.templates.update(template_id, settings={"recovery": {"policy": "off"}})
    vm.sessions.restart(sid, refresh_template=True)
    threads_before = len(os.listdir("/proc/self/task"))
    run = vm.executions.repl(sid, "(async () => { await null; while (true) {} })(); 1")
    assert run.status is ExecutionStatus.ERROR
    assert run.error is not None and run.error["code"] == "SESSION_CRASHED"
    session = vm.sessions.get(sid)
    assert session.status is SessionStatus.CRASHED
    assert session.last_error and "wedged" in session.last_error
    assert sid not in vm.sessions.live_ids()
    assert len(os.listdir("/proc/self/task")) < threads_before
    with pytest.raises(SessionNotReady):
        vm.executions.repl(sid, "1")


def test_max_events_gives_output_limit_and_the_stored_row_agrees(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree, max_events=1)
    with pytest.raises(OutputLimitExceeded) as caught:
        vm.executions.repl(sid, "1 + 1")
    execution_id = caught.value.details["execution_id"]
    stored = vm.executions.get(execution_id)
    assert stored.status is ExecutionStatus.ERROR
    assert stored.error is not None and stored.error["code"] == "OUTPUT_LIMIT_EXCEEDED"


def test_console_flood_stops_at_the_event_limit(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree, max_events=50)
    with pytest.raises(OutputLimitExceeded) as caught:
        vm.executions.repl(sid, "for (;;) { try { console.log('x') } catch (e) {} }")
    events = vm.executions.events(caught.value.details["execution_id"])
    assert len([e for e in events if e.type.value == "console"]) <= 50
    assert events[-1].payload["code"] == "OUTPUT_LIMIT_EXCEEDED"


def test_second_execution_in_a_busy_session_is_refused(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree, wall_ms=5000)
    running = vm.executions.repl(sid, "while(true){}", wait=False)
    try:
        with pytest.raises(SessionBusy):
            vm.executions.repl(sid, "1")
    finally:
        vm.executions.cancel(running.id)


def test_an_execution_that_cannot_be_recorded_is_refused_before_it_runs(
    vm: VmSystem, worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = _session(vm, worktree)
    store = vm.executions._store
    real_write = store.write

    def failing(op: WriteOp, timeout: float | None = None) -> None:
        raise StoreError("database is gone")

    monkeypatch.setattr(store, "write", failing)
    with pytest.raises(StoreUnavailable, match="database is gone"):
        vm.executions.repl(sid, "globalThis.ran = true")
    monkeypatch.setattr(store, "write", real_write)
    assert vm.executions.running() == []
    after = vm.executions.repl(sid, "typeof ran")  # the session is free, the code never ran
    assert after.result is not None and after.result["json"] == "undefined"
    assert [x.id for x in vm.executions.list(sid)] == [after.id]


def test_the_final_row_is_committed_when_repl_returns(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    for _ in range(20):
        x = vm.executions.repl(sid, "1+1")
        stored = vm.store.get_execution(x.id)
        assert stored is not None and stored.status is ExecutionStatus.OK


def test_cancel_stops_a_run_quickly_and_keeps_the_session(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree, wall_ms=60000, cpu_ms=60000)
    vm.executions.repl(sid, "var before = 1")
    running = vm.executions.repl(sid, "while(true){}", wait=False)
    time.sleep(0.05)
    started = time.monotonic()
    cancelled = vm.executions.cancel(running.id)
    elapsed = time.monotonic() - started
    assert cancelled.status is ExecutionStatus.CANCELLED
    assert elapsed < 0.5, f"cancel took {elapsed * 1000:.0f} ms"
    assert vm.executions.repl(sid, "before").result == {
        "type": "number",
        "preview": "1",
        "inspect": "1",
        "json": 1,
    }


def test_closing_a_session_cancels_its_running_execution(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree, wall_ms=60000, cpu_ms=60000)
    running = vm.executions.repl(sid, "while(true){}", wait=False)
    closed = vm.sessions.close(sid)
    assert closed.status is SessionStatus.CLOSED
    assert vm.executions.get(running.id).status is ExecutionStatus.CANCELLED


def test_events_are_readable_while_an_execution_runs(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree, wall_ms=5000)
    running = vm.executions.repl(
        sid,
        "console.log('early'); const t = Date.now(); while (Date.now() - t < 400) {}; 1",
        wait=False,
    )
    deadline = time.monotonic() + 2
    seen: list[str] = []
    while time.monotonic() < deadline and "console" not in seen:
        seen = _types(vm, running.id)
        time.sleep(0.01)
    assert seen[:2] == ["input_echo", "console"]
    assert vm.executions.get(running.id).status is ExecutionStatus.RUNNING
    vm.executions.cancel(running.id)


def test_subscribers_get_console_lines_before_the_result(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree, wall_ms=5000)
    got: list[tuple[str, float]] = []
    done = threading.Event()

    def deliver(event: object) -> None:
        if event is None:
            done.set()
            return
        got.append((event.type.value, time.monotonic()))  # type: ignore[attr-defined]

    running = vm.executions.repl(
        sid,
        "console.log('a'); const t = Date.now(); while (Date.now() - t < 300) {}; 2",
        wait=False,
    )
    backlog, _sub = vm.bus.subscribe_execution(running.id, 0, deliver)
    got[:0] = [(e.type.value, time.monotonic()) for e in backlog]
    assert done.wait(5)
    types = [t for t, _ in got]
    assert types == ["input_echo", "console", "value"]
    console_at = got[1][1]
    value_at = got[2][1]
    assert value_at - console_at > 0.1


def test_executing_in_unknown_or_closed_sessions(vm: VmSystem, worktree: Path) -> None:
    with pytest.raises(SessionNotFound):
        vm.executions.repl("6d1f2c1e-0000-4000-8000-000000000000", "1")
    with pytest.raises(ValidationError):
        vm.executions.repl("not-a-uuid", "1")
    sid = _session(vm, worktree)
    vm.sessions.close(sid)
    with pytest.raises(SessionNotReady):
        vm.executions.repl(sid, "1")


def test_completed_executions_survive_a_reopen(vm: VmSystem, worktree: Path, db_path: Path) -> None:
    sid = _session(vm, worktree)
    run = vm.executions.repl(sid, "console.log('kept'); 7")
    vm.close()
    from vmsystem.core import open_system

    again = open_system(str(db_path))
    try:
        stored = again.executions.get(run.id)
        assert stored.status is ExecutionStatus.OK
        assert [e.type.value for e in again.executions.events(run.id)] == [
            "input_echo",
            "console",
            "value",
        ]
        # The session that was ready is rebuilt (eagerly, in the background).
        assert again.recovery.sessions_kept == 1
        assert again.executions.repl(sid, "1 + 1").result["json"] == 2  # waits for it
        assert again.sessions.get(sid).recovery_count == 1
    finally:
        again.close()


def test_session_is_free_when_the_terminal_event_arrives(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    for _ in range(20):
        ended = threading.Event()
        running = vm.executions.repl(sid, "1 + 1", wait=False)
        _backlog, sub = vm.bus.subscribe_execution(
            running.id, 0, lambda event, done=ended: done.set() if event is None else None
        )
        if sub is not None:
            assert ended.wait(5)
        # A client reacting to the terminal event must not get SESSION_BUSY.
        assert vm.executions.repl(sid, "2").status is ExecutionStatus.OK


def test_session_streams_end_when_the_session_closes(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    got: list[object] = []
    ended = threading.Event()

    def deliver(event: object) -> None:
        got.append(event)
        if event is None:
            ended.set()

    vm.bus.subscribe_session(sid, deliver)
    vm.executions.repl(sid, "1")
    vm.sessions.close(sid)
    assert ended.wait(5)
    assert [e.type.value for e in got[:-1]] == ["input_echo", "value"]  # type: ignore[attr-defined]


def test_run_file_args_that_are_not_json_are_refused_and_the_session_lives(
    vm: VmSystem, worktree: Path
) -> None:
    (worktree / "app.js").write_text("__ARGS__")
    sid = _session(vm, worktree)
    for bad in ({"n": 2**70}, {"f": object()}):
        with pytest.raises(ValidationError):
            vm.executions.run_file(sid, "app.js", args=bad)
    assert vm.sessions.get(sid).status is SessionStatus.READY
    assert vm.executions.run_file(sid, "app.js", args={"n": 1}).status is ExecutionStatus.OK
