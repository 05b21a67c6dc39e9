"""ForkService: a new session from the source's snapshot, its history replayed in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from vmsystem.core import VmSystem
from vmsystem.core.errors import ExecutionNotFound, ForkPointInvalid, SessionNotFound
from vmsystem.models import EventType, ExecutionKind, ExecutionStatus, SessionStatus


def _source(vm: VmSystem, worktree: Path) -> str:
    template = vm.templates.create("forked")
    return vm.sessions.create(template.id, str(worktree)).id


def test_a_fork_replays_the_successful_executions_in_order(vm: VmSystem, worktree: Path) -> None:
    (worktree / "add.js").write_text("globalThis.n += __ARGS__.k; console.log('n', n); n")
    sid = _source(vm, worktree)
    originals = [
        vm.executions.repl(sid, "globalThis.n = 1"),
        vm.executions.run_file(sid, "add.js", args={"k": 10}),
    ]
    vm.executions.repl(sid, "throw new Error('skipped')")
    originals.append(vm.executions.repl(sid, "n * 2"))

    fork = vm.forks.fork(sid)

    assert fork.session.id != sid
    assert fork.session.status is SessionStatus.READY
    assert fork.replayed == 3
    assert fork.diverged == []
    replays = list(vm.executions.history(fork.session.id))
    assert [r.replay_of for r in replays] == [o.id for o in originals]
    assert [r.kind for r in replays] == [o.kind for o in originals]
    assert replays[1].args == {"k": 10}
    assert [r.result["json"] for r in replays if r.result] == [1, 11, 22]
    assert all(r.status is ExecutionStatus.OK for r in replays)


def test_until_execution_id_stops_the_replay_there(vm: VmSystem, worktree: Path) -> None:
    sid = _source(vm, worktree)
    first = vm.executions.repl(sid, "globalThis.a = 1")
    second = vm.executions.repl(sid, "globalThis.b = 2")
    vm.executions.repl(sid, "globalThis.c = 3")

    fork = vm.forks.fork(sid, until_execution_id=second.id)

    assert fork.replayed == 2
    replays = list(vm.executions.history(fork.session.id))
    assert [r.replay_of for r in replays] == [first.id, second.id]
    assert vm.executions.repl(fork.session.id, "typeof c").result["json"] == "undefined"  # type: ignore[index]


def test_a_different_output_is_reported_as_diverged(vm: VmSystem, worktree: Path) -> None:
    sid = _source(vm, worktree)
    random = vm.executions.repl(sid, "Math.random()")
    logged = vm.executions.repl(sid, "console.log(Math.random()); 1")
    same = vm.executions.repl(sid, "1 + 1")

    fork = vm.forks.fork(sid)

    assert fork.replayed == 3
    by_original = {d.original: d for d in fork.diverged}
    assert set(by_original) == {random.id, logged.id}
    assert by_original[random.id].reason == "different value"
    assert by_original[logged.id].reason == "different console output"
    replays = {r.replay_of: r for r in vm.executions.history(fork.session.id)}
    assert by_original[random.id].replay == replays[random.id].id
    assert same.id in replays


def test_the_replay_stops_at_the_first_failure(vm: VmSystem, worktree: Path) -> None:
    (worktree / "once.js").write_text("1")
    sid = _source(vm, worktree)
    ran = vm.executions.run_file(sid, "once.js")
    after = vm.executions.repl(sid, "2")
    (worktree / "once.js").write_text("throw new Error('changed')")

    fork = vm.forks.fork(sid)

    assert fork.replayed == 1
    [diverged] = fork.diverged
    assert diverged.original == ran.id
    assert diverged.reason == "status error (was ok)"
    assert [r.replay_of for r in vm.executions.history(fork.session.id)] == [ran.id]
    assert after.id not in {d.original for d in fork.diverged}


def test_a_replay_refused_before_it_runs_stops_the_replay(vm: VmSystem, worktree: Path) -> None:
    (worktree / "gone.js").write_text("1")
    sid = _source(vm, worktree)
    before = vm.executions.repl(sid, "0")
    ran = vm.executions.run_file(sid, "gone.js")
    vm.executions.repl(sid, "2")
    (worktree / "gone.js").unlink()

    fork = vm.forks.fork(sid)

    assert fork.replayed == 1
    [diverged] = fork.diverged
    assert (diverged.original, diverged.replay) == (ran.id, None)
    assert diverged.reason.startswith("FILE_NOT_FOUND: ")
    assert [r.replay_of for r in vm.executions.history(fork.session.id)] == [before.id]


def test_the_source_is_untouched(vm: VmSystem, worktree: Path) -> None:
    sid = _source(vm, worktree)
    vm.executions.repl(sid, "globalThis.x = 5")
    before = list(vm.executions.history(sid))

    fork = vm.forks.fork(sid)
    vm.executions.repl(fork.session.id, "x = 6")

    assert list(vm.executions.history(sid)) == before
    assert vm.executions.repl(sid, "x").result["json"] == 5  # type: ignore[index]
    assert all(x.replay_of is None for x in before)


def test_the_fork_uses_the_source_snapshot_not_the_current_template(
    vm: VmSystem, worktree: Path
) -> None:
    (worktree / "boot.js").write_text("globalThis.booted = (globalThis.booted || 0) + 1")
    template = vm.templates.create("snap")
    vm.templates.add_startup_file(template.id, "boot.js")
    source = vm.sessions.create(template.id, str(worktree))
    vm.executions.repl(source.id, "booted")
    (worktree / "late.js").write_text("globalThis.late = true")
    vm.templates.add_startup_file(template.id, "late.js")

    fork = vm.forks.fork(source.id)

    assert fork.session.template_snapshot == source.template_snapshot
    assert fork.session.worktree_path == source.worktree_path
    kinds = [x.kind for x in vm.executions.history(fork.session.id)]
    assert kinds == [ExecutionKind.STARTUP, ExecutionKind.REPL]  # startup runs once, not replayed
    assert vm.executions.repl(fork.session.id, "typeof late").result["json"] == "undefined"  # type: ignore[index]


def test_restarts_are_not_replayed(vm: VmSystem, worktree: Path) -> None:
    sid = _source(vm, worktree)
    vm.executions.repl(sid, "globalThis.before = 1")
    vm.sessions.restart(sid)
    vm.executions.repl(sid, "globalThis.after = 2")

    fork = vm.forks.fork(sid)

    assert fork.replayed == 2
    replays = list(vm.executions.history(fork.session.id))
    assert all(r.kind is ExecutionKind.REPL for r in replays)


def test_a_closed_session_can_be_forked(vm: VmSystem, worktree: Path) -> None:
    sid = _source(vm, worktree)
    vm.executions.repl(sid, "console.log('hi'); 3")
    vm.sessions.close(sid)

    fork = vm.forks.fork(sid)

    assert fork.session.status is SessionStatus.READY
    assert fork.replayed == 1 and fork.diverged == []
    [replay] = vm.executions.history(fork.session.id)
    texts = [
        e.payload["text"]
        for e in vm.executions.all_events(replay.id)
        if e.type is EventType.CONSOLE
    ]
    assert texts == ["hi"]


def test_bad_fork_points_are_refused(vm: VmSystem, worktree: Path) -> None:
    sid = _source(vm, worktree)
    other = _source_two(vm, worktree)
    foreign = vm.executions.repl(other, "1")
    with pytest.raises(SessionNotFound):
        vm.forks.fork("0d2f6c1e-0000-4000-8000-000000000000")
    with pytest.raises(ExecutionNotFound):
        vm.forks.fork(sid, until_execution_id="0d2f6c1e-0000-4000-8000-000000000000")
    with pytest.raises(ForkPointInvalid):
        vm.forks.fork(sid, until_execution_id=foreign.id)
    assert len(vm.sessions.list()) == 2  # nothing started


def _source_two(vm: VmSystem, worktree: Path) -> str:
    return vm.sessions.create(vm.templates.create("other").id, str(worktree)).id
