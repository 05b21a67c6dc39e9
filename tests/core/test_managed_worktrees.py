"""Managed worktrees in the core: created for sessions without a worktree_path, seeded from the
template, served by the files service, removed at purge (or after the retention), never an
explicit worktree."""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

import pytest

from vmsystem.core import VmSystem
from vmsystem.core.errors import (
    FileNotFound,
    InvalidPath,
    SessionNotReady,
    StartupFailed,
    ValidationError,
)
from vmsystem.models import ExecutionStatus, SessionStatus


def _template(vm: VmSystem, **settings: object) -> str:
    template = vm.templates.create(f"t-{time.monotonic_ns()}")
    if settings:
        vm.templates.update(template.id, settings=settings)
    return template.id


def test_a_session_without_a_worktree_gets_a_managed_one(vm: VmSystem) -> None:
    session = vm.sessions.create(_template(vm))
    assert session.status is SessionStatus.READY
    assert session.worktree_managed
    path = Path(session.worktree_path)
    assert path.is_absolute() and path.is_dir()
    assert path.parent == vm.sessions.worktrees_dir and path.name == session.id
    assert os.listdir(path) == []


def test_files_written_through_the_service_run_with_run_file(vm: VmSystem) -> None:
    session = vm.sessions.create(_template(vm))
    vm.files.write(session.id, "lib/k.js", b"globalThis.k = 41;")
    vm.files.write(session.id, "app.js", b"k + 1")
    assert vm.executions.run_file(session.id, "lib/k.js").status is ExecutionStatus.OK
    execution = vm.executions.run_file(session.id, "app.js")
    assert execution.result is not None and execution.result["json"] == 42
    assert vm.files.read(session.id, "app.js").data == b"k + 1"
    entries, truncated = vm.files.list(session.id, recursive=True)
    assert [e.path for e in entries] == ["app.js", "lib", "lib/k.js"] and not truncated
    vm.files.delete(session.id, "app.js")
    with pytest.raises(FileNotFound):
        vm.files.read(session.id, "app.js")
    with pytest.raises(FileNotFound):
        vm.executions.run_file(session.id, "app.js")


def test_run_file_refuses_a_file_that_is_not_utf8(vm: VmSystem) -> None:
    session = vm.sessions.create(_template(vm))
    vm.files.write(session.id, "bin.js", b"\xff\xfe")
    with pytest.raises(InvalidPath, match="UTF-8"):
        vm.executions.run_file(session.id, "bin.js")


def test_purge_removes_a_managed_worktree_but_never_an_explicit_one(
    vm: VmSystem, worktree: Path
) -> None:
    managed = vm.sessions.create(_template(vm))
    vm.files.write(managed.id, "a.txt", b"a")
    explicit = vm.sessions.create(_template(vm), str(worktree))
    (worktree / "keep.txt").write_text("keep")
    assert not explicit.worktree_managed
    for session in (managed, explicit):
        vm.sessions.close(session.id)
        vm.sessions.purge(session.id)
    assert not Path(managed.worktree_path).exists()
    assert (worktree / "keep.txt").read_text() == "keep"


def test_closing_keeps_the_worktree_but_its_files_need_a_live_host(vm: VmSystem) -> None:
    session = vm.sessions.create(_template(vm))
    vm.files.write(session.id, "a.txt", b"a")
    vm.sessions.close(session.id)
    assert (Path(session.worktree_path) / "a.txt").read_bytes() == b"a"
    with pytest.raises(SessionNotReady, match="closed"):
        vm.files.read(session.id, "a.txt")


def test_a_fork_shares_the_managed_worktree_until_the_last_is_purged(vm: VmSystem) -> None:
    source = vm.sessions.create(_template(vm))
    vm.files.write(source.id, "state.js", b"globalThis.n = 7; n")
    vm.executions.run_file(source.id, "state.js")
    fork = vm.forks.fork(source.id).session
    assert fork.worktree_managed and fork.worktree_path == source.worktree_path
    for session in (source, fork):
        vm.sessions.close(session.id)
    vm.sessions.purge(source.id)
    assert Path(source.worktree_path).is_dir()
    vm.sessions.purge(fork.id)
    assert not Path(source.worktree_path).exists()


def test_the_retention_removes_a_closed_sessions_worktree(vm: VmSystem) -> None:
    kept = vm.sessions.create(_template(vm))
    closed = vm.sessions.create(_template(vm))
    vm.sessions.close(closed.id)
    assert vm.sessions.expire_worktrees(3600) == []
    assert vm.sessions.expire_worktrees(0) == [closed.id]
    assert not Path(closed.worktree_path).exists()
    assert Path(kept.worktree_path).is_dir()
    row = vm.sessions.get(closed.id)
    assert row.worktree_removed_at is not None and row.status is SessionStatus.CLOSED
    assert vm.sessions.expire_worktrees(0) == []
    vm.sessions.purge(closed.id)


def test_a_directory_seed_is_copied_into_each_new_managed_worktree(
    vm: VmSystem, tmp_path: Path
) -> None:
    seed = tmp_path / "seed"
    (seed / "lib").mkdir(parents=True)
    (seed / "lib" / "setup.js").write_text("globalThis.seeded = 'yes';")
    template = _template(vm, worktree={"seed": str(seed)})
    vm.templates.add_startup_file(template, "lib/setup.js")
    first = vm.sessions.create(template)
    second = vm.sessions.create(template)
    assert first.worktree_path != second.worktree_path
    for session in (first, second):
        assert vm.executions.repl(session.id, "seeded").result["json"] == "yes"  # type: ignore[index]
    vm.files.write(first.id, "lib/setup.js", b"changed")
    assert (seed / "lib" / "setup.js").read_text() == "globalThis.seeded = 'yes';"


def test_an_archive_seed_is_unpacked(vm: VmSystem, tmp_path: Path) -> None:
    archive = tmp_path / "seed.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("main.js")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"40"))
    session = vm.sessions.create(_template(vm, worktree={"seed": str(archive)}))
    assert vm.files.read(session.id, "main.js").data == b"40"


def test_an_explicit_worktree_is_not_seeded(vm: VmSystem, tmp_path: Path, worktree: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "x").write_text("x")
    vm.sessions.create(_template(vm, worktree={"seed": str(seed)}), str(worktree))
    assert os.listdir(worktree) == []


def test_a_seed_that_is_gone_fails_the_start(vm: VmSystem, tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    template = _template(vm, worktree={"seed": str(seed)})
    seed.rmdir()
    with pytest.raises(StartupFailed, match="seed"):
        vm.sessions.create(template)


@pytest.mark.parametrize("seed", ["relative/dir", "/nonexistent/seed", 42])
def test_a_bad_seed_setting_is_refused(vm: VmSystem, seed: object) -> None:
    template = _template(vm)
    with pytest.raises(ValidationError, match=r"settings\.worktree\.seed"):
        vm.templates.update(template, settings={"worktree": {"seed": seed}})


def test_the_daemon_loop_applies_the_retention(tmp_path: Path) -> None:
    from vmsystem.core import open_system

    with open_system(
        str(tmp_path / "vm.db"),
        cache_dir=tmp_path / "cache",
        worktrees_dir=tmp_path / "worktrees",
        worktree_retention=0.0,
    ) as system:
        session = system.sessions.create(_template(system))
        system.files.write(session.id, "a.txt", b"a")
        system.sessions.close(session.id)
        deadline = time.monotonic() + 60
        while Path(session.worktree_path).exists():
            assert time.monotonic() < deadline, "the retention never removed the worktree"
            time.sleep(0.05)
        deadline = time.monotonic() + 60
        while system.sessions.get(session.id).worktree_removed_at is None:
            assert time.monotonic() < deadline, "worktree_removed_at was never set"
            time.sleep(0.05)
