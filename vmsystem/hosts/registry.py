"""The registry of host backends: :func:`open_hosts` opens a pool by kind.

Kept apart from :mod:`vmsystem.hosts.base` so that the seam does not import its backends
(which import the seam): the backends are imported here, on first use of their kind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from vmsystem.hosts.base import (
    DEFAULT_MEMORY_BUDGET_MB,
    DEFAULT_MEMORY_MB,
    DEFAULT_SESSIONS_PER_HOST,
    HOST_KINDS,
    HostPool,
)
from vmsystem.runtime import Engine, EngineError

__all__ = ["default_processes", "open_hosts"]


def default_processes() -> int:
    """The default number of host processes kept started: one per core."""
    return max(len(os.sched_getaffinity(0)), 1)


@dataclass(frozen=True)
class _Options:
    """What :func:`open_hosts` was given, checked."""

    processes: int
    sessions_per_host: int
    memory_mb: int
    memory_budget_mb: int
    address: str | None
    engine: Engine | None


def _inprocess(o: _Options) -> HostPool:
    from vmsystem.hosts.inprocess import InProcessPool

    return InProcessPool(o.engine, o.memory_budget_mb)


def _process(o: _Options) -> HostPool:
    from vmsystem.hosts.process import ProcessLauncher
    from vmsystem.hosts.supervisor import Supervisor

    return Supervisor(
        ProcessLauncher(o.memory_mb),
        processes=o.processes,
        sessions_per_host=o.sessions_per_host,
        memory_budget_mb=o.memory_budget_mb,
    )


def _ray(o: _Options) -> HostPool:
    from vmsystem.hosts.ray import RayLauncher
    from vmsystem.hosts.supervisor import Supervisor

    launcher = RayLauncher(
        sessions_per_host=o.sessions_per_host, memory_mb=o.memory_mb, address=o.address
    )
    try:
        return Supervisor(
            launcher,
            processes=o.processes,
            sessions_per_host=o.sessions_per_host,
            memory_budget_mb=o.memory_budget_mb,
        )
    except BaseException:
        launcher.close([])
        raise


#: How each kind of :data:`HOST_KINDS` is opened.
_BACKENDS: dict[str, Callable[[_Options], HostPool]] = {
    "inprocess": _inprocess,
    "process": _process,
    "ray": _ray,
}
assert tuple(_BACKENDS) == HOST_KINDS


def open_hosts(
    kind: str,
    *,
    processes: int | None = None,
    sessions_per_host: int = DEFAULT_SESSIONS_PER_HOST,
    memory_mb: int = DEFAULT_MEMORY_MB,
    memory_budget_mb: int = DEFAULT_MEMORY_BUDGET_MB,
    ray_address: str | None = None,
    engine: Engine | None = None,
) -> HostPool:
    """A host pool of ``kind`` (one of :data:`HOST_KINDS`).

    ``processes``: hosts kept started (default: the number of cores; ``process`` and ``ray``);
    ``sessions_per_host``: sessions one host holds before another is started (1: a process
    per session); ``memory_mb``: each host process's memory ceiling (0: none);
    ``memory_budget_mb``: the sum of the ``mem_mb`` of the sessions one host holds (0: none; see
    :data:`~vmsystem.hosts.base.DEFAULT_MEMORY_BUDGET_MB`);
    ``ray_address``: the Ray
    cluster (``ray``; None starts a local one); ``engine``: the engine of an ``inprocess`` pool
    (host processes always use V8). Raises EngineError for an unknown kind or a bad value.
    """
    if sessions_per_host < 1:
        raise EngineError("sessions_per_host must be at least 1")
    if processes is not None and processes < 0:
        raise EngineError("processes must not be negative")
    if memory_mb != 0 and memory_mb < 1024:
        raise EngineError(
            "memory_mb must be 0 (no ceiling) or at least 1024 (a host starts at about 560 MiB)"
        )
    if memory_budget_mb < 0:
        raise EngineError("memory_budget_mb must not be negative")
    backend = _BACKENDS.get(kind)
    if backend is None:
        raise EngineError(f"unknown host kind {kind!r} (known: {', '.join(HOST_KINDS)})")
    count = default_processes() if processes is None else processes
    return backend(
        _Options(count, sessions_per_host, memory_mb, memory_budget_mb, ray_address, engine)
    )
