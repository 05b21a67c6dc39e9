"""Idle timeouts: a session's own (request, template, interactive default), the daemon-wide
default, what counts as activity, and what a session closed for idleness shows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vmsystem.core import VmSystem, open_system
from vmsystem.core.errors import ValidationError
from vmsystem.core.idle import IdleWatch
from vmsystem.models import Event, EventType, ExecutionKind, SessionStatus


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``predicate`` until it is truthy (generous: the machine may be loaded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def make_vm(tmp_path: Path, cache_dir: Path) -> Iterator[Callable[..., VmSystem]]:
    made: list[VmSystem] = []

    def make(**options: Any) -> VmSystem:
        system = open_system(
            str(tmp_path / "idle.db"),
            cache_dir=cache_dir,
            worktrees_dir=tmp_path / "worktrees",
            **options,
        )
        made.append(system)
        return system

    yield make
    for system in made:
        system.close()


def age(vm: VmSystem, session_id: str, seconds: float) -> None:
    """Make a live session look ``seconds`` older since its last activity."""
    live = vm.registry.get(session_id)
    assert live is not None
    live.last_active -= seconds


def test_a_session_idle_past_its_timeout_is_closed_and_says_so_in_its_stream(
    vm: VmSystem, worktree: Path
) -> None:
    template = vm.templates.create("idle")
    session = vm.sessions.create(template.id, str(worktree), idle_timeout_s=600)
    assert session.idle_timeout_s == 600
    vm.executions.repl(session.id, "globalThis.kept = 1")
    streamed: list[Event | None] = []
    ended = threading.Event()

    def deliver(event: Event | None) -> None:
        streamed.append(event)
        if event is None:
            ended.set()

    vm.bus.subscribe_session(session.id, deliver)
    age(vm, session.id, 700)  # the daemon's culler finds it on its next look
    closed = wait_for(
        lambda: (s := vm.sessions.get(session.id)).status is SessionStatus.CLOSED and s
    )
    assert closed.last_error == "closed after 600 s without activity (idle timeout)"
    assert session.id not in vm.sessions.live_ids()
    # Its stream got the system event, then ended.
    assert ended.wait(30)
    system = [e for e in streamed if e is not None and e.type is EventType.SYSTEM]
    assert [e.payload["code"] for e in system] == ["SESSION_IDLE_TIMEOUT"]
    assert system[0].payload["idle_timeout_s"] == 600
    assert "without activity" in system[0].payload["message"]
    # The history records it as a `close` execution, after the user's run.
    kinds = [x.kind for x in vm.executions.list(session.id)]
    assert kinds[0] is ExecutionKind.CLOSE and ExecutionKind.REPL in kinds


def test_a_short_timeout_closes_a_session_left_alone(vm: VmSystem, worktree: Path) -> None:
    template = vm.templates.create("short")
    session = vm.sessions.create(template.id, str(worktree), idle_timeout_s=0.5)
    closed = wait_for(
        lambda: (s := vm.sessions.get(session.id)).status is SessionStatus.CLOSED and s
    )
    assert closed.last_error == "closed after 0.5 s without activity (idle timeout)"


def test_activity_restarts_the_count_and_a_running_session_is_never_idle(
    vm: VmSystem, worktree: Path
) -> None:
    # The session has no timeout (nor has the daemon): the system's culler leaves it alone,
    # and this watch's default of 600 s is the one looked at.
    watch = IdleWatch(vm.registry, 600)
    template = vm.templates.create("activity")
    session = vm.sessions.create(template.id, str(worktree))
    assert session.idle_timeout_s is None
    age(vm, session.id, 700)
    assert watch.idle() == [(session.id, 600)]
    vm.executions.repl(session.id, "1 + 1")  # an execution is activity
    assert watch.idle() == []
    age(vm, session.id, 700)
    vm.completions.complete(session.id, "Math.ma")  # so is a completion
    assert watch.idle() == []
    age(vm, session.id, 700)
    vm.files.write(session.id, "note.txt", b"x")  # and a files request
    assert watch.idle() == []
    running = vm.executions.repl(session.id, "while (true) {}", wait=False)
    age(vm, session.id, 700)
    assert watch.idle() == []  # running: not idle, whatever the clock says
    vm.executions.cancel(running.id)
    wait_for(lambda: vm.executions.get(running.id).status.value == "cancelled")
    assert watch.idle() == []  # the run's end was activity
    age(vm, session.id, 700)
    assert vm.sessions.close_if_idle(session.id, 600)
    assert vm.sessions.get(session.id).status is SessionStatus.CLOSED


def test_the_own_timeout_comes_from_the_request_then_the_template_then_the_interactive_default(
    make_vm: Callable[..., VmSystem], worktree: Path
) -> None:
    vm = make_vm(interactive_idle_timeout=3600)
    plain = vm.templates.create("plain")
    timed = vm.templates.create("timed")
    vm.templates.update(timed.id, settings={"session": {"idle_timeout_s": 120}})
    wt = str(worktree)
    assert vm.sessions.create(plain.id, wt).idle_timeout_s is None
    assert vm.sessions.create(plain.id, wt, interactive=True).idle_timeout_s == 3600
    assert vm.sessions.create(timed.id, wt, interactive=True).idle_timeout_s == 120
    assert vm.sessions.create(timed.id, wt, idle_timeout_s=0).idle_timeout_s == 0
    source = vm.sessions.create(plain.id, wt, idle_timeout_s=42)
    assert vm.forks.fork(source.id).session.idle_timeout_s == 42


def test_the_daemon_default_applies_to_sessions_without_their_own_and_zero_is_never(
    make_vm: Callable[..., VmSystem], worktree: Path
) -> None:
    vm = make_vm(session_idle_timeout=0.3)
    template = vm.templates.create("daemon-default")
    never = vm.sessions.create(template.id, str(worktree), idle_timeout_s=0)
    default = vm.sessions.create(template.id, str(worktree))
    wait_for(lambda: vm.sessions.get(default.id).status is SessionStatus.CLOSED)
    age(vm, never.id, 3600)
    assert vm.idle.idle() == []
    assert vm.sessions.get(never.id).status is SessionStatus.READY


@pytest.mark.parametrize("bad", [-1, "60", True, 30 * 24 * 3600 + 1, [5]])
def test_bad_idle_timeouts_are_refused(vm: VmSystem, worktree: Path, bad: Any) -> None:
    template = vm.templates.create("bad")
    with pytest.raises(ValidationError, match=r"settings\.session\.idle_timeout_s"):
        vm.templates.update(template.id, settings={"session": {"idle_timeout_s": bad}})
    with pytest.raises(ValidationError, match="idle_timeout_s"):
        vm.sessions.create(template.id, str(worktree), idle_timeout_s=bad)
    assert vm.sessions.list() == []


def test_a_template_keeps_its_idle_timeout_in_its_settings(vm: VmSystem) -> None:
    template = vm.templates.create("kept")
    assert template.settings.session.idle_timeout_s is None
    updated = vm.templates.update(template.id, settings={"session": {"idle_timeout_s": 90}})
    assert updated.settings.to_dict()["session"] == {"idle_timeout_s": 90.0}
    cleared = vm.templates.update(template.id, settings={"session": {"idle_timeout_s": None}})
    assert cleared.settings.session.idle_timeout_s is None
