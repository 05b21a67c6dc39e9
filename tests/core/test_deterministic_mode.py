"""Deterministic mode on the session-host backends that run a session's runtime in this
process and in a worker process (the seed travels in the host's runtime spec)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vmsystem.core import VmSystem, open_hosts, open_system
from vmsystem.models import EventType, ExecutionStatus

CODE = (
    "const v = [Math.random(), Array.from(crypto.getRandomValues(new Uint8Array(4))),"
    " crypto.randomUUID(), Date.now(), new Date().toISOString(), performance.now()];"
    " console.log(v); v"
)


@pytest.fixture(scope="module", params=("inprocess", "process"))
def system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VmSystem]:
    """One system per backend, shared by this module's tests."""
    pool = open_hosts(request.param, processes=1)
    root = tmp_path_factory.mktemp(f"det-{request.param}")
    vm = open_system(str(root / "vm.db"), cache_dir=root, hosts=pool)
    try:
        yield vm
    finally:
        vm.shutdown()


def _template(vm: VmSystem, seed: int | None) -> str:
    template = vm.templates.create(f"det-{time.monotonic_ns()}")
    vm.templates.update(template.id, settings={"deterministic": {"seed": seed}})
    return template.id


def _run(vm: VmSystem, template_id: str, worktree: Path) -> tuple[Any, list[Any]]:
    sid = vm.sessions.create(template_id, str(worktree)).id
    x = vm.executions.repl(sid, CODE)
    assert x.status is ExecutionStatus.OK and x.result is not None, x.error
    console = [e.payload["text"] for e in vm.executions.events(x.id) if e.type is EventType.CONSOLE]
    vm.sessions.close(sid)
    return x.result["json"], console


def test_sessions_of_a_seeded_template_agree_and_other_seeds_differ(
    system: VmSystem, worktree: Path
) -> None:
    seeded = _template(system, 7)
    first = _run(system, seeded, worktree)
    assert first == _run(system, seeded, worktree)
    assert first[0][3:] == [946_684_800_000, "2000-01-01T00:00:00.001Z", 2]
    assert _run(system, _template(system, 8), worktree)[0][:3] != first[0][:3]
    off = _template(system, None)
    assert _run(system, off, worktree)[0][:3] != _run(system, off, worktree)[0][:3]
