"""Fixtures of the host contract suite: one pool per backend, shared by a test module."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from vmsystem.hosts import HostPool, RuntimeSpec, SessionRuntime, open_hosts
from vmsystem.modules import Grant, hidden_globals, session_environment
from vmsystem.runtime import ConsoleLine, ContextOptions, Outcome, OutcomeKind, RunLimits

LIMITS = RunLimits(wall_ms=3000, cpu_ms=3000)
BACKENDS = ("inprocess", "process", "ray")


def make_pool(kind: str, request: pytest.FixtureRequest, **options: Any) -> HostPool:
    """A pool of ``kind``; Ray pools join the session's local cluster."""
    if kind == "ray":
        address = request.getfixturevalue("ray_cluster")
        return open_hosts("ray", ray_address=address, **options)
    return open_hosts(kind, **options)


@pytest.fixture(scope="module", params=BACKENDS)
def pool(request: pytest.FixtureRequest) -> Iterator[HostPool]:
    """One pool per backend, shared by the tests of a module."""
    hosts = make_pool(request.param, request, processes=1)
    try:
        yield hosts
    finally:
        hosts.close()


class Sink:
    """Collects console lines (thread-safe); ``got_line`` is set at the first batch."""

    def __init__(self) -> None:
        self.lines: list[ConsoleLine] = []
        self.got_line = threading.Event()
        self.first_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self, lines: list[ConsoleLine]) -> None:
        with self._lock:
            if self.first_at is None:
                self.first_at = time.monotonic()
            self.lines.extend(lines)
        self.got_line.set()

    @property
    def texts(self) -> list[str]:
        with self._lock:
            return [line[1] for line in self.lines]


class Lost:
    """An ``on_lost`` callback that remembers its messages."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.event = threading.Event()

    def __call__(self, message: str) -> None:
        self.messages.append(message)
        self.event.set()


_counter = iter(range(1, 1_000_000))


def spec(
    worktree: Path | str = "/tmp",
    *,
    modules: Sequence[str] = (),
    grants: Sequence[Grant] = (),
    mem_mb: int = 128,
    unhandled_rejections: str = "throw",
) -> RuntimeSpec:
    """A runtime spec the way the core builds one (env resolved from this process)."""
    return RuntimeSpec(
        session_id=f"session-{os.getpid()}-{next(_counter)}",
        worktree=os.path.realpath(worktree),
        options=ContextOptions(
            mem_mb=mem_mb,
            env=session_environment(grants, os.environ),
            hidden_globals=hidden_globals(grants),
            unhandled_rejections=unhandled_rejections,
        ),
        modules=tuple(modules),
        grants=tuple(grants),
    )


def run(rt: SessionRuntime, code: str, limits: RunLimits = LIMITS, sink: Any = None) -> Outcome:
    """Run ``code`` with a throwaway sink unless one is given."""
    return rt.run(code, limits=limits, sink=sink if sink is not None else (lambda lines: None))


def value(rt: SessionRuntime, code: str) -> Any:
    """The JSON value of ``code``, which must succeed."""
    outcome = run(rt, code)
    assert outcome.kind is OutcomeKind.OK, (outcome.kind, outcome.exception, outcome.message)
    assert outcome.value is not None
    return outcome.value.get("json", outcome.value["preview"])


def pid_exists(pid: int) -> bool:
    """Whether ``/proc`` lists ``pid`` as a live (not zombie) process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
