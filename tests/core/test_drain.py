"""Draining a session host: its sessions move to other hosts by replay, keeping their state,
and the host is retired. Over real process hosts (and the refusals)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from vmsystem.core import VmSystem, open_hosts, open_system
from vmsystem.core.errors import Conflict, HostNotFound
from vmsystem.models import ExecutionKind, SessionStatus

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[VmSystem]:
    """Process hosts: two kept started, four sessions each."""
    pool = open_hosts("process", processes=2, sessions_per_host=4)
    vm = open_system(str(tmp_path / "vm.db"), cache_dir=tmp_path, hosts=pool)
    try:
        yield vm
    finally:
        vm.shutdown()


def _value(vm: VmSystem, sid: str, code: str) -> object:
    run = vm.executions.repl(sid, code)
    assert run.status.value == "ok", (run.status, run.error)
    assert run.result is not None
    return run.result.get("json", run.result["preview"])


def _host_pid(vm: VmSystem, host_id: str) -> int | None:
    return next((h.pid for h in vm.hosts.hosts() if h.id == host_id), None)


def test_draining_a_host_moves_its_three_sessions_with_their_state(
    system: VmSystem, worktree: Path
) -> None:
    template = system.templates.create("drained")
    sids = [system.sessions.create(template.id, str(worktree)).id for _ in range(6)]
    by_host: dict[str, list[str]] = {}
    for sid in sids:
        by_host.setdefault(system.sessions.get(sid).host_id or "", []).append(sid)
    assert sorted(len(v) for v in by_host.values()) == [3, 3]
    drained, kept = sorted(by_host)
    for n, sid in enumerate(by_host[drained]):
        _value(system, sid, f"globalThis.k = {40 + n}; function twice(x) {{ return 2 * x }}")
    old_pid = _host_pid(system, drained)

    answer = system.drains.drain(drained)

    assert answer["host_id"] == drained and answer["retired"] is True
    moved = {s["session_id"]: s for s in answer["sessions"]}
    assert set(moved) == set(by_host[drained])
    for n, sid in enumerate(by_host[drained]):
        session = system.sessions.get(sid)
        assert session.status is SessionStatus.READY
        assert session.host_id not in (None, drained)
        assert moved[sid]["status"] == "ready" and moved[sid]["host_id"] == session.host_id
        assert moved[sid]["replayed"] == 1
        assert _value(system, sid, "twice(k) + 1") == 2 * (40 + n) + 1
        kinds = [x.kind for x in system.executions.history(sid)]
        assert ExecutionKind.RECOVERY in kinds
    # The sessions of the other host were not touched; the drained host is gone and a new one
    # keeps the pool at two.
    assert all(system.sessions.get(sid).host_id == kept for sid in by_host[kept])
    hosts = system.hosts.hosts()
    assert drained not in [h.id for h in hosts]
    assert len(hosts) == 2
    assert old_pid not in [h.pid for h in hosts]


def test_draining_the_only_host_starts_a_new_one(tmp_path: Path, worktree: Path) -> None:
    pool = open_hosts("process", processes=1)
    vm = open_system(str(tmp_path / "vm.db"), cache_dir=tmp_path, hosts=pool)
    try:
        template = vm.templates.create("only")
        sid = vm.sessions.create(template.id, str(worktree)).id
        _value(vm, sid, "globalThis.kept = 'yes'")
        (only,) = [h.id for h in vm.hosts.hosts()]
        vm.drains.drain(only)
        session = vm.sessions.get(sid)
        assert session.status is SessionStatus.READY and session.host_id != only
        assert _value(vm, sid, "kept") == "yes"
        assert [h.id for h in vm.hosts.hosts()] == [session.host_id]
    finally:
        vm.shutdown()


def test_a_run_in_flight_ends_before_its_session_moves(system: VmSystem, worktree: Path) -> None:
    template = system.templates.create("busy")
    sid = system.sessions.create(template.id, str(worktree)).id
    host = system.sessions.get(sid).host_id
    assert host is not None
    running = system.executions.repl(
        sid, "const t0 = Date.now(); while (Date.now() - t0 < 700) {}; globalThis.v = 7", wait=False
    )
    drained = threading.Thread(target=system.drains.drain, args=(host,))
    drained.start()
    drained.join(120)
    assert system.executions.get(running.id).status.value == "ok"
    assert system.sessions.get(sid).host_id != host
    assert _value(system, sid, "v") == 7


def test_an_unknown_host_is_host_not_found_and_inprocess_refuses(
    system: VmSystem, tmp_path: Path
) -> None:
    with pytest.raises(HostNotFound):
        system.drains.drain("99")
    vm = open_system(str(tmp_path / "inprocess.db"), cache_dir=tmp_path)
    try:
        with pytest.raises(Conflict, match="cannot be drained"):
            vm.drains.drain("local")
        with pytest.raises(HostNotFound):
            vm.drains.drain("1")
    finally:
        vm.shutdown()
