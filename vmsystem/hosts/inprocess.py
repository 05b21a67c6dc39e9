"""The in-process backend: sessions' runtimes in the daemon's own process (one pseudo host).

The embedded core's default and what unit tests of the core use. Nothing is isolated: a V8
abort ends the whole process.
"""

from __future__ import annotations

import os
import threading

from vmsystem.hosts.base import (
    DEFAULT_MEMORY_BUDGET_MB,
    EngineInfo,
    HostInfo,
    LostCallback,
    RuntimeSpec,
    UnknownHost,
)
from vmsystem.hosts.local import LocalRuntime, build_runtime
from vmsystem.hosts.procfs import rss_bytes
from vmsystem.modules.worktree import remove_worktree
from vmsystem.runtime import Engine, EngineError, get_engine

__all__ = ["LOCAL_HOST_ID", "InProcessPool"]

LOCAL_HOST_ID = "local"


class _InProcessRuntime(LocalRuntime):
    """A local runtime that leaves its pool's bookkeeping when closed."""

    def __init__(self, runtime: LocalRuntime, pool: InProcessPool, session_id: str) -> None:
        super().__init__(runtime.host_id, runtime.context, runtime.scope)
        self._pool = pool
        self._session_id = session_id

    def close(self) -> None:
        super().close()
        self._pool._forget(self)


class InProcessPool:
    """One pseudo host (``local``) in this process."""

    kind = "inprocess"

    def __init__(
        self, engine: Engine | None = None, memory_budget_mb: int = DEFAULT_MEMORY_BUDGET_MB
    ) -> None:
        #: Checked against each template's ``mem_mb`` by the core; every session shares this
        #: one process, so it cannot place sessions elsewhere.
        self.memory_budget_mb = memory_budget_mb
        self._engine = engine if engine is not None else get_engine("v8")
        self._lock = threading.Lock()
        self._live: set[_InProcessRuntime] = set()
        self._closed = False

    def start_runtime(self, spec: RuntimeSpec, on_lost: LostCallback) -> _InProcessRuntime:
        """A runtime in this process (``on_lost`` is never called: if this process's V8
        aborts, there is nobody left to tell)."""
        if self._closed:
            raise EngineError("the host pool is closed")
        runtime = _InProcessRuntime(
            build_runtime(spec, self._engine, LOCAL_HOST_ID), self, spec.session_id
        )
        with self._lock:
            self._live.add(runtime)
        return runtime

    def _forget(self, runtime: _InProcessRuntime) -> None:
        with self._lock:
            self._live.discard(runtime)

    def engine(self) -> EngineInfo:
        """This process's engine."""
        return EngineInfo(self._engine.name, self._engine.version)

    def hosts(self) -> list[HostInfo]:
        """The pseudo host: this process."""
        with self._lock:
            count = len(self._live)
        return [
            HostInfo(
                id=LOCAL_HOST_ID,
                kind=self.kind,
                pid=os.getpid(),
                sessions=count,
                rss_bytes=rss_bytes(os.getpid()),
                alive=not self._closed,
                restarts=0,
            )
        ]

    def drain(self, host_id: str) -> None:
        """Refused: every session lives in this process, there is no other host to move it
        to (UnknownHost for an id other than ``local``)."""
        if host_id != LOCAL_HOST_ID:
            raise UnknownHost(host_id)
        raise EngineError(
            "the in-process host cannot be drained: every session lives in the daemon's own "
            "process (use --hosts process or ray)"
        )

    def retire(self, host_id: str) -> None:
        """Nothing to stop: the in-process host is this process (see :meth:`drain`)."""

    def remove_worktree(self, path: str) -> None:
        """Delete a managed worktree (this process holds every session's)."""
        remove_worktree(path)

    def close(self) -> None:
        """Close every runtime started here (idempotent)."""
        self._closed = True
        with self._lock:
            live = list(self._live)
        for runtime in live:
            runtime.close()
