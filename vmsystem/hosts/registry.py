"""The registry of host backends: :func:`open_hosts` opens a pool by kind.

Kept apart from :mod:`vmsystem.hosts.base` so that the seam does not import its backends
(which import the seam): the backends are imported here, on first use of their kind.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from vmsystem.hosts.base import (
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


def _inprocess(
    count: int, sessions_per_host: int, memory_mb: int, address: str | None, engine: Engine | None
) -> HostPool:
    from vmsystem.hosts.inprocess import InProcessPool

    return InProcessPool(engine)


def _process(
    count: int, sessions_per_host: int, memory_mb: int, address: str | None, engine: Engine | None
) -> HostPool:
    from vmsystem.hosts.process import ProcessPool

    return ProcessPool(processes=count, sessions_per_host=sessions_per_host, memory_mb=memory_mb)


def _ray(
    count: int, sessions_per_host: int, memory_mb: int, address: str | None, engine: Engine | None
) -> HostPool:
    from vmsystem.hosts.ray import RayPool

    return RayPool(
        processes=count, sessions_per_host=sessions_per_host, memory_mb=memory_mb, address=address
    )


#: How each kind of :data:`HOST_KINDS` is opened.
_BACKENDS: dict[str, Callable[[int, int, int, str | None, Engine | None], HostPool]] = {
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
    ray_address: str | None = None,
    engine: Engine | None = None,
) -> HostPool:
    """A host pool of ``kind`` (one of :data:`HOST_KINDS`).

    ``processes``: hosts kept started (default: the number of cores; ``process`` and ``ray``);
    ``sessions_per_host``: sessions one host holds before another is started (1: a process
    per session); ``memory_mb``: each host process's memory ceiling (0: none);
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
    backend = _BACKENDS.get(kind)
    if backend is None:
        raise EngineError(f"unknown host kind {kind!r} (known: {', '.join(HOST_KINDS)})")
    count = default_processes() if processes is None else processes
    return backend(count, sessions_per_host, memory_mb, ray_address, engine)
