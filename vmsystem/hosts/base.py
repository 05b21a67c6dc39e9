"""The host seam: where sessions' runtimes live (this process, worker processes, Ray actors).

A :class:`HostPool` starts :class:`SessionRuntime` objects from a :class:`RuntimeSpec` (plain
data, so it can cross a process or machine boundary). A runtime has the contract of
:class:`vmsystem.runtime.base.EngineContext`; the host also owns the session's native modules
(fs, exec, database), built next to the isolate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from vmsystem.modules import Grant
from vmsystem.modules.worktree import FileReply, FileRequest
from vmsystem.runtime import (
    ConsoleSink,
    ContextOptions,
    EngineContext,
    Outcome,
    RunLimits,
)

__all__ = [
    "DEFAULT_MEMORY_BUDGET_MB",
    "DEFAULT_MEMORY_MB",
    "DEFAULT_SESSIONS_PER_HOST",
    "HOST_KINDS",
    "KILL_GRACE_S",
    "EngineInfo",
    "HostInfo",
    "HostPool",
    "LostCallback",
    "OutcomeCallback",
    "RuntimeSpec",
    "SessionRuntime",
    "UnknownHost",
    "deliver_outcome",
    "wait_for_outcome",
]

_log = logging.getLogger(__name__)

#: The backends :func:`vmsystem.hosts.registry.open_hosts` knows.
HOST_KINDS = ("inprocess", "process", "ray")

#: Sessions one host process holds before the pool starts another.
DEFAULT_SESSIONS_PER_HOST = 32

#: The sum of the ``mem_mb`` of the sessions one host holds (MiB). All isolates of one process
#: share V8's pointer-compression cage (about 4 GiB), so sessions that each stay within their
#: own limit can still together abort their host: a session goes to a host whose sessions'
#: ``mem_mb`` plus its own fit this budget, and a ``mem_mb`` above it is refused. It stays
#: below the cage for what a host needs besides its sessions' heaps (at the default 128 MB,
#: 24 sessions fit).
DEFAULT_MEMORY_BUDGET_MB = 3072

#: A host process's memory ceiling (RLIMIT_DATA, MiB). RLIMIT_AS cannot be used: V8 reserves
#: about 1.4 TiB of address space for its sandbox at start-up. RLIMIT_DATA counts private
#: writable memory, which V8's heaps are; a fresh host with one isolate uses about 560 MiB of
#: it (mostly V8's reserved-and-committed code and heap pages). At the ceiling V8 aborts the
#: host (a "Fatal JavaScript out of memory" abort): only that host's sessions are lost.
DEFAULT_MEMORY_MB = 4096

#: How long past its wall limit (or past a cancel) a run may go on before its host is killed:
#: the last resort for a builtin that does not check for termination.
KILL_GRACE_S = 2.0

#: ``on_lost(message)``: the runtime was lost while idle (its host died).
LostCallback = Callable[[str], None]

#: ``on_outcome(outcome)``: a run started with :meth:`SessionRuntime.start_run` has ended.
OutcomeCallback = Callable[[Outcome], None]


class UnknownHost(LookupError):
    """No host of the pool has this id."""


@dataclass(frozen=True)
class RuntimeSpec:
    """Everything a host needs to build one session's runtime (plain data: picklable, and
    JSON-able through :mod:`vmsystem.hosts.wire`, from its declared fields).

    ``options`` has no host functions and its ``env`` is already resolved by the core (a host
    process's own environment is scrubbed); ``modules`` are the native modules to wire (the
    template's list with ``module:`` grants applied); ``grants`` the template's capabilities.
    ``managed``: the worktree is the daemon's to manage, and the host creates the directory
    where it runs if it is missing.
    """

    session_id: str
    worktree: str
    options: ContextOptions
    modules: tuple[str, ...] = ()
    grants: tuple[Grant, ...] = ()
    managed: bool = False


@dataclass(frozen=True)
class EngineInfo:
    """The JavaScript engine of a pool's hosts (what a host's Ready names)."""

    name: str
    version: str


@dataclass(frozen=True)
class HostInfo:
    """One host as ``GET /api/v1/runtime/summary`` shows it."""

    id: str
    kind: str
    pid: int | None
    sessions: int
    rss_bytes: int | None
    alive: bool
    restarts: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)


class SessionRuntime(EngineContext, Protocol):
    """One session's live runtime, on some host.

    The contract of :class:`vmsystem.runtime.base.EngineContext`, plus the host's id,
    :meth:`start_run` and :meth:`files`. ``run`` sets the module scope's deadline
    (``limits.wall_ms``) and clears its interrupt flag before the run, and a lost host gives
    ``OutcomeKind.LOST``; ``cancel`` sets the interrupt flag (stopping a host call such as
    ``exec.run``) and cancels the engine's run; ``close`` runs the modules' cleanups and
    disposes the context. ``run`` is :meth:`start_run` plus a wait for its outcome.
    """

    host_id: str

    def start_run(
        self,
        code: str,
        *,
        filename: str | None = None,
        limits: RunLimits,
        sink: ConsoleSink,
        args: Any = None,
        env: Mapping[str, str] | None = None,
        on_outcome: OutcomeCallback,
    ) -> None:
        """Start a run and return without waiting for it (the non-blocking run of the seam).

        Raises EngineError at once if the run cannot start (the runtime is lost, closed or
        already running code). Otherwise ``on_outcome`` is called exactly once with the run's
        outcome, directly from the thread that has it: the host's reader thread (process
        hosts), the session's run thread (in-process), Ray's completion callback (Ray hosts);
        possibly before ``start_run`` returns. ``sink`` gets the console batches while the run
        goes on, all of them before ``on_outcome``. Both callbacks must be quick and must not
        block (hand the result to an event loop, set an event); what they raise is logged.
        A host that dies during the run gives ``LOST`` with the cause.
        """
        ...

    def files(self, request: FileRequest) -> FileReply:
        """Run a file operation on the session's worktree where the host holds it (any time,
        also while code runs). Raises :class:`~vmsystem.modules.worktree.WorktreeError` when
        the operation is refused or fails, EngineError when the host is gone."""
        ...


class HostPool(Protocol):
    """Hosts of one kind, holding sessions' runtimes."""

    kind: str
    #: The per-host budget of sessions' ``mem_mb`` (MiB; 0: none): see
    #: :data:`DEFAULT_MEMORY_BUDGET_MB`. A ``mem_mb`` above it cannot be placed.
    memory_budget_mb: int

    def start_runtime(self, spec: RuntimeSpec, on_lost: LostCallback) -> SessionRuntime:
        """A new runtime for ``spec``; raises EngineError (saying why) if it cannot be made.

        ``on_lost(message)`` is called once, from any thread, when the runtime is lost while no
        run is in progress. A run in progress when its host dies returns ``LOST`` with the
        cause instead, and ``on_lost`` is then not called for that runtime.
        """
        ...

    def hosts(self) -> list[HostInfo]:
        """Every host of the pool."""
        ...

    def engine(self) -> EngineInfo:
        """The engine of the pool's hosts: this process's for ``inprocess``; for ``process``
        and ``ray`` what the first host's Ready named (waiting for it if no host is ready yet,
        starting one if there is none), so the daemon never loads V8 itself. EngineError if no
        host can start."""
        ...

    def drain(self, host_id: str) -> None:
        """Place no new session on the host (a drain moves its sessions, then
        :meth:`retire` stops it). Raises :class:`UnknownHost`, or EngineError when this pool
        cannot move sessions off its host (``inprocess``)."""
        ...

    def retire(self, host_id: str) -> None:
        """Stop a drained host (runtimes still on it are lost) and, if the pool then keeps
        fewer than its ``processes`` hosts, start one in its place. Nothing happens if the host
        is already gone."""
        ...

    def remove_worktree(self, path: str) -> None:
        """Delete a managed worktree (a purged session's) where the pool's hosts keep them:
        this machine for ``inprocess`` and ``process``, every live actor's node for ``ray``."""
        ...

    def close(self) -> None:
        """Stop every host process and thread (none is left behind); idempotent."""
        ...


def deliver_outcome(on_outcome: OutcomeCallback, outcome: Outcome) -> None:
    """Call ``on_outcome``; what it raises is logged (the thread calling it must go on)."""
    try:
        on_outcome(outcome)
    except Exception:
        _log.exception("outcome callback failed")


def wait_for_outcome(start: Callable[[OutcomeCallback], None]) -> Outcome:
    """The blocking run over a non-blocking one: ``start(on_outcome)`` starts the run (raising
    EngineError if it cannot), then this waits for the outcome it is guaranteed to deliver."""
    done = threading.Event()
    box: list[Outcome] = []

    def on_outcome(outcome: Outcome) -> None:
        box.append(outcome)
        done.set()

    start(on_outcome)
    done.wait()
    return box[0]
