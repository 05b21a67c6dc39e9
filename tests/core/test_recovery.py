"""Durable sessions in the core: recovery by replay after a lost runtime or a restart, its
policy, its bounds and what it reports (real V8, real SQLite; process hosts where a host
must die)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vmsystem.core import RecoveryConfig, VmSystem, open_hosts, open_system
from vmsystem.core.errors import ValidationError
from vmsystem.core.system import RESTART_MESSAGE
from vmsystem.models import EventType, ExecutionKind, Session, SessionStatus
from vmsystem.store import open_store

WAIT_S = 60.0


def _settle(vm: VmSystem, session_id: str) -> Session:
    """The session once it is no longer ``starting`` (recovery finished one way or another)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        session = vm.sessions.get(session_id)
        if session.status is not SessionStatus.STARTING and (
            session.status is not SessionStatus.READY or vm.registry.get(session_id)
        ):
            return session
        assert time.monotonic() < deadline, f"session still {session.status}"
        time.sleep(0.05)


def _kill_host(vm: VmSystem, session_id: str) -> None:
    host = vm.sessions.host_of(session_id)
    (pid,) = [h.pid for h in vm.hosts.hosts() if h.id == host]
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + WAIT_S
    while vm.registry.get(session_id) is not None and vm.sessions.host_of(session_id) == host:
        assert time.monotonic() < deadline, "the host's death was noticed"
        time.sleep(0.05)


def _recovery_payload(vm: VmSystem, session_id: str) -> dict[str, object]:
    (last,) = [x for x in vm.executions.list(session_id) if x.kind is ExecutionKind.RECOVERY][:1]
    (event,) = vm.executions.events(last.id)
    assert event.type is EventType.SYSTEM
    return event.payload


@pytest.fixture
def process_vm(db_path: Path, cache_dir: Path) -> Iterator[VmSystem]:
    """A system whose sessions share one host process."""
    vm = open_system(str(db_path), cache_dir=cache_dir, hosts=open_hosts("process", processes=1))
    try:
        yield vm
    finally:
        vm.close()


def test_policy_must_be_replay_replay_if_pure_or_off(vm: VmSystem) -> None:
    t = vm.templates.create("policy")
    assert t.settings.recovery.policy == "replay"
    for policy in ("replay_if_pure", "off", "replay"):
        updated = vm.templates.update(t.id, settings={"recovery": {"policy": policy}})
        assert updated.settings.recovery.policy == policy
    with pytest.raises(ValidationError, match=r"settings\.recovery\.policy must be one of"):
        vm.templates.update(t.id, settings={"recovery": {"policy": "sometimes"}})


def test_a_lost_runtime_is_rebuilt_with_its_replayed_state(
    process_vm: VmSystem, worktree: Path
) -> None:
    vm = process_vm
    (worktree / "add.js").write_text("globalThis.total = (globalThis.total || 0) + __ARGS__.n")
    (worktree / "start.js").write_text("globalThis.started = (globalThis.started || 0) + 1")
    t = vm.templates.create("rebuilt")
    vm.templates.add_startup_file(t.id, "start.js")
    s = vm.sessions.create(t.id, str(worktree))
    vm.executions.repl(s.id, "let kept = 40")
    vm.executions.run_file(s.id, "add.js", args={"n": 2})
    assert vm.executions.repl(s.id, "throw new Error('not replayed')").status.value == "error"
    _kill_host(vm, s.id)
    session = _settle(vm, s.id)
    assert session.status is SessionStatus.READY, session.last_error
    assert (session.recovery_count, session.recovered_at is not None) == (1, True)
    assert vm.executions.repl(s.id, "kept + total / 2 + started").result["json"] == 42
    payload = _recovery_payload(vm, s.id)
    assert (payload["code"], payload["replayed"], payload["diverged"]) == (
        "SESSION_RECOVERED",
        2,
        [],
    )
    # A second loss replays the history since the session's last restart again, once.
    _kill_host(vm, s.id)
    assert _settle(vm, s.id).recovery_count == 2
    assert vm.executions.repl(s.id, "kept + total / 2 + started").result["json"] == 42
    assert _recovery_payload(vm, s.id)["replayed"] == 3


def test_a_replay_that_differs_is_reported_as_a_divergence(
    process_vm: VmSystem, worktree: Path
) -> None:
    vm = process_vm
    (worktree / "v.js").write_text("'first'")
    s = vm.sessions.create(vm.templates.create("diverges").id, str(worktree))
    vm.executions.run_file(s.id, "v.js")
    vm.executions.repl(s.id, "globalThis.after = 1")
    (worktree / "v.js").write_text("throw new Error('changed')")
    _kill_host(vm, s.id)
    assert _settle(vm, s.id).status is SessionStatus.READY
    payload = _recovery_payload(vm, s.id)
    assert payload["level"] == "warning"
    (divergence,) = payload["diverged"]  # type: ignore[misc]
    assert divergence["reason"] == "status error (was ok)"
    assert vm.executions.repl(s.id, "after").result["json"] == 1


def test_policy_off_leaves_the_session_crashed(process_vm: VmSystem, worktree: Path) -> None:
    vm = process_vm
    t = vm.templates.create("off")
    vm.templates.update(t.id, settings={"recovery": {"policy": "off"}})
    s = vm.sessions.create(t.id, str(worktree))
    _kill_host(vm, s.id)
    session = _settle(vm, s.id)
    assert session.status is SessionStatus.CRASHED
    assert "SIGKILL" in (session.last_error or "")


def test_a_journal_longer_than_the_bound_is_crashed_with_the_reason(
    db_path: Path, cache_dir: Path, worktree: Path
) -> None:
    bounded = RecoveryConfig(max_executions=2)
    pool = open_hosts("process", processes=1)
    with open_system(str(db_path), cache_dir=cache_dir, hosts=pool, recovery=bounded) as vm:
        s = vm.sessions.create(vm.templates.create("long").id, str(worktree))
        for _ in range(3):
            vm.executions.repl(s.id, "1 + 1")
        _kill_host(vm, s.id)
        session = _settle(vm, s.id)
        assert session.status is SessionStatus.CRASHED
        assert "3 executions to replay, more than --recovery-max-executions 2" in (
            session.last_error or ""
        )


def test_after_a_restart_ready_sessions_come_back_and_policy_off_ones_are_closed(
    db_path: Path, cache_dir: Path, worktree: Path
) -> None:
    first = open_system(str(db_path), cache_dir=cache_dir)
    durable = first.sessions.create(first.templates.create("durable").id, str(worktree))
    first.executions.repl(durable.id, "var k = 41")
    off_t = first.templates.create("off")
    first.templates.update(off_t.id, settings={"recovery": {"policy": "off"}})
    off = first.sessions.create(off_t.id, str(worktree))
    first.close()

    second = open_system(str(db_path), cache_dir=cache_dir)
    try:
        assert second.recovery.sessions_kept == 1
        assert _settle(second, durable.id).status is SessionStatus.READY
        assert second.executions.repl(durable.id, "k + 1").result["json"] == 42
        closed = second.sessions.get(off.id)  # closed by the shutdown, as before
        assert (closed.status, closed.last_error) == (SessionStatus.CLOSED, "daemon shutdown")
    finally:
        second.close()


def test_lazily_a_session_is_rebuilt_on_first_use_and_one_whose_template_is_gone_closed(
    db_path: Path, cache_dir: Path, worktree: Path
) -> None:
    lazy = RecoveryConfig(restart="lazy")
    first = open_system(str(db_path), cache_dir=cache_dir, recovery=lazy)
    kept = first.sessions.create(first.templates.create("kept").id, str(worktree))
    first.executions.repl(kept.id, "var k = 41")
    orphan_t = first.templates.create("orphan")
    orphan = first.sessions.create(orphan_t.id, str(worktree))
    first.close()
    store = open_store(str(db_path))  # the template goes while no daemon runs
    assert store.delete_template(orphan_t.id)
    store.close()

    second = open_system(str(db_path), cache_dir=cache_dir, recovery=lazy)
    try:
        assert (second.recovery.sessions_kept, second.recovery.sessions_closed) == (1, 1)
        assert second.sessions.get(kept.id).status is SessionStatus.READY
        assert second.sessions.live_ids() == []
        assert second.executions.repl(kept.id, "k + 1").result["json"] == 42
        assert second.sessions.get(kept.id).recovery_count == 1
        gone = second.sessions.get(orphan.id)
        assert (gone.status, gone.last_error) == (SessionStatus.CLOSED, RESTART_MESSAGE)
    finally:
        second.close()


def test_side_effecting_calls_are_recorded_per_execution(vm: VmSystem, worktree: Path) -> None:
    t = vm.templates.create("effects")
    vm.templates.add_module(t.id, "fs")
    vm.templates.add_module(t.id, "database")
    vm.templates.add_capability(t.id, "fs", "write")
    s = vm.sessions.create(t.id, str(worktree))
    read = vm.executions.repl(s.id, "require('fs').existsSync('x.txt')")
    assert "side_effects" not in read.metrics
    wrote = vm.executions.repl(s.id, "require('fs').writeFileSync('x.txt', 'x'); 1")
    assert wrote.metrics["side_effects"] == ["fs.writeFileSync"]
    db = (
        "const db = require('database'); db.configure('sqlite3', ':memory:');"
        "db.exec('create table t (x)'); db.query('select 1 as one')[0].one"
    )
    assert vm.executions.repl(s.id, db).metrics["side_effects"] == ["database.exec"]
