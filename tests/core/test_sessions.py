"""SessionService: creation pipeline, failures, close, recovery after restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from vmsystem.core import RecoveryConfig, VmSystem, open_system
from vmsystem.core.errors import (
    InvalidPath,
    LibraryNotCached,
    SessionActive,
    SessionNotFound,
    StartupFailed,
    TemplateNotFound,
    ValidationError,
)
from vmsystem.core.system import RESTART_MESSAGE
from vmsystem.models import ExecutionStatus, SessionStatus


def test_create_accepts_a_template_name(vm: VmSystem, worktree: Path) -> None:
    vm.templates.create("by-name")
    session = vm.sessions.create("by-name", str(worktree))
    assert session.status is SessionStatus.READY
    assert session.id in vm.sessions.live_ids()


@pytest.mark.parametrize("bad", ["relative/dir", "/definitely/not/here", ""])
def test_worktree_must_be_an_existing_absolute_directory(vm: VmSystem, bad: str) -> None:
    template = vm.templates.create("wt")
    with pytest.raises(ValidationError):
        vm.sessions.create(template.id, bad)
    assert vm.sessions.list() == []


def test_worktree_that_is_a_file_is_refused(vm: VmSystem, worktree: Path) -> None:
    (worktree / "file").write_text("x")
    template = vm.templates.create("wt-file")
    with pytest.raises(ValidationError):
        vm.sessions.create(template.id, str(worktree / "file"))


def test_unknown_template_creates_no_row(vm: VmSystem, worktree: Path) -> None:
    with pytest.raises(TemplateNotFound):
        vm.sessions.create("0d2f6c1e-0000-4000-8000-000000000000", str(worktree))
    assert vm.sessions.list() == []


def test_throwing_startup_file_crashes_the_session_with_its_reason(
    vm: VmSystem, worktree: Path
) -> None:
    (worktree / "bad.js").write_text("throw new Error('no config')")
    template = vm.templates.create("crashing")
    vm.templates.add_startup_file(template.id, "bad.js")
    with pytest.raises(StartupFailed) as caught:
        vm.sessions.create(template.id, str(worktree))
    [row] = vm.sessions.list()
    assert row.status is SessionStatus.CRASHED
    assert row.last_error and "no config" in row.last_error
    assert caught.value.message == row.last_error
    assert vm.sessions.live_ids() == []


def test_startup_symlink_escape_is_invalid_path_at_create(
    vm: VmSystem, worktree: Path, tmp_path: Path
) -> None:
    (tmp_path / "outside.js").write_text("1")
    (worktree / "link.js").symlink_to(tmp_path / "outside.js")
    template = vm.templates.create("escape")
    vm.templates.add_startup_file(template.id, "link.js")
    with pytest.raises(InvalidPath):
        vm.sessions.create(template.id, str(worktree))
    assert vm.sessions.list()[0].status is SessionStatus.CRASHED


def test_missing_startup_file_fails_the_session(vm: VmSystem, worktree: Path) -> None:
    template = vm.templates.create("missing-startup")
    vm.templates.add_startup_file(template.id, "nope.js")
    with pytest.raises(StartupFailed):
        vm.sessions.create(template.id, str(worktree))


def test_uncached_library_is_424_naming_the_fix(vm: VmSystem, worktree: Path) -> None:
    template = vm.templates.create("needs-lodash")
    vm.templates.add_library(template.id, "lodash")
    with pytest.raises(LibraryNotCached) as caught:
        vm.sessions.create(template.id, str(worktree))
    assert "vm-system libs download" in caught.value.message
    assert "failed to load libraries" in caught.value.message
    row = vm.sessions.list()[0]
    assert row.status is SessionStatus.CRASHED
    assert row.last_error == caught.value.message


def test_local_library_defines_its_global(vm: VmSystem, worktree: Path, tmp_path: Path) -> None:
    umd = tmp_path / "tiny.js"
    umd.write_text(
        "(function (root) { root.tiny = { twice: function (x) { return 2 * x } } })(this);"
    )
    vm.libraries.cache.add_local(umd, "tiny", "1.0.0", "tiny")
    with_lib = vm.templates.create("with-lib")
    vm.templates.add_library(with_lib.id, "tiny@1.0.0")
    session = vm.sessions.create(with_lib.id, str(worktree))
    assert vm.executions.repl(session.id, "tiny.twice(21)").result["preview"] == "42"  # type: ignore[index]
    without = vm.sessions.create(vm.templates.create("no-lib").id, str(worktree))
    run = vm.executions.repl(without.id, "tiny.twice(21)")
    assert run.status is ExecutionStatus.ERROR
    assert run.error is not None and "is not defined" in run.error["message"]


def test_close_is_idempotent_and_keeps_the_row(vm: VmSystem, worktree: Path) -> None:
    session = vm.sessions.create(vm.templates.create("closing").id, str(worktree))
    first = vm.sessions.close(session.id)
    second = vm.sessions.close(session.id)
    assert first.status is SessionStatus.CLOSED and second.status is SessionStatus.CLOSED
    assert first.closed_at == second.closed_at
    assert vm.sessions.live_ids() == []
    with pytest.raises(SessionNotFound):
        vm.sessions.close("0d2f6c1e-0000-4000-8000-000000000001")


def test_purge_deletes_a_closed_session_with_its_history(vm: VmSystem, worktree: Path) -> None:
    session = vm.sessions.create(vm.templates.create("purging").id, str(worktree))
    run = vm.executions.repl(session.id, "console.log('kept until purged'); 1")
    vm.sessions.close(session.id)
    purged = vm.sessions.purge(session.id)
    assert purged.id == session.id and purged.status is SessionStatus.CLOSED
    with pytest.raises(SessionNotFound):
        vm.sessions.get(session.id)
    assert vm.store.get_execution(run.id) is None
    assert vm.store.list_events(run.id) == []
    with pytest.raises(SessionNotFound):
        vm.sessions.purge(session.id)


def test_purge_refuses_a_ready_session(vm: VmSystem, worktree: Path) -> None:
    session = vm.sessions.create(vm.templates.create("live").id, str(worktree))
    with pytest.raises(SessionActive) as caught:
        vm.sessions.purge(session.id)
    assert caught.value.details == {"session_id": session.id, "status": "ready"}
    assert vm.sessions.get(session.id).status is SessionStatus.READY
    assert session.id in vm.sessions.live_ids()


def test_list_filters_by_status(vm: VmSystem, worktree: Path) -> None:
    template = vm.templates.create("filtering")
    a = vm.sessions.create(template.id, str(worktree))
    b = vm.sessions.create(template.id, str(worktree))
    vm.sessions.close(a.id)
    assert [s.id for s in vm.sessions.list(status="ready")] == [b.id]
    assert [s.id for s in vm.sessions.list(status="closed")] == [a.id]
    with pytest.raises(ValidationError):
        vm.sessions.list(status="sleeping")


def test_restart_recovery_closes_live_sessions_and_finishes_running_executions(
    db_path: Path, cache_dir: Path, worktree: Path
) -> None:
    off = RecoveryConfig(restart="off")  # sessions that were ready are closed
    first = open_system(str(db_path), cache_dir=cache_dir, recovery=off)
    template = first.templates.create("recover")
    ready = first.sessions.create(template.id, str(worktree))
    crashed_template = first.templates.create("crash")
    (worktree / "bad.js").write_text("throw new Error('x')")
    first.templates.add_startup_file(crashed_template.id, "bad.js")
    with pytest.raises(StartupFailed):
        first.sessions.create(crashed_template.id, str(worktree))
    crashed = first.sessions.list(status="crashed")[0]
    running = first.executions.repl(ready.id, "while(true){}", wait=False)
    first.store.flush()
    # Simulate a killed daemon: the store goes away with the execution still running.
    first.store.close()
    second = open_system(str(db_path), cache_dir=cache_dir, recovery=off)
    try:
        assert second.recovery.sessions_closed == 1
        assert second.recovery.executions_finished == 1
        session = second.sessions.get(ready.id)
        assert session.status is SessionStatus.CLOSED
        assert session.last_error == RESTART_MESSAGE
        assert second.sessions.get(crashed.id).last_error == crashed.last_error
        finished = second.executions.get(running.id)
        assert finished.status is ExecutionStatus.ERROR
        events = second.executions.events(running.id)
        assert events[-1].type.value == "system"
        assert events[-1].payload["code"] == "DAEMON_RESTARTED"
    finally:
        second.close()
        first.registry.get(ready.id).runtime.close()  # type: ignore[union-attr]


def test_hundred_create_close_cycles_leave_no_threads_or_fds(vm: VmSystem, worktree: Path) -> None:
    import os

    template = vm.templates.create("churn")
    vm.sessions.close(vm.sessions.create(template.id, str(worktree)).id)  # warm up pools
    threads = len(os.listdir("/proc/self/task"))
    fds = len(os.listdir("/proc/self/fd"))
    for _ in range(100):
        session = vm.sessions.create(template.id, str(worktree))
        vm.executions.repl(session.id, "globalThis.x = new Array(1000).fill(1); x.length")
        vm.sessions.close(session.id)
    assert vm.sessions.live_ids() == []
    assert len(os.listdir("/proc/self/task")) <= threads
    assert len(os.listdir("/proc/self/fd")) <= fds + 2
