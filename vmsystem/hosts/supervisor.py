"""One supervisor for the hosts of a pool, whatever starts them (processes, Ray actors).

A :class:`Supervisor` keeps host **slots**: a slot has a stable id and, at any time, one started
host (an *incarnation*: a process or an actor, made by the pool's :class:`Launcher`). The
supervisor alone decides where sessions go and when hosts start and stop:

- **Placement**: a new session goes to the least-loaded live slot with room (fewer than
  ``sessions_per_host`` sessions, and the ``mem_mb`` of its sessions plus the new one's within
  ``memory_budget_mb``, counting the places reserved by starts under way: all isolates of one
  host share V8's ~4 GiB pointer-compression cage); when no slot has room, a new slot is
  added. A ``mem_mb`` above the budget is refused. Slots are added and their hosts spawned
  under the pool's lock (a spawn only starts the host; waiting for its ``Ready`` happens
  outside the lock), so two concurrent starts on a full pool add one host, and the second start
  reserves a place on it.
- **Retirement**: a slot beyond ``processes`` is retired (its host stopped) when its last
  session closes. A **drained** slot takes no new session; :meth:`Supervisor.retire` then
  stops it (the core has moved its sessions) and starts a slot in its place if fewer than
  ``processes`` remain.
- **Restart**: when a host that had started dies, its slot gets a new incarnation under the same
  id (``restarts`` counts them). A host that dies before its ``Ready`` is not restarted (it
  would fail again): its slot is dropped, and a later start adds a new one.
- **One watchdog** (:class:`~vmsystem.hosts.watchdog.Watchdog`) arms the last-resort kills of
  every run of the pool.

A :class:`Launcher` only knows how to start, stop, kill and look at one host of its kind and how
to build a session's runtime in it.
"""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any, Generic, Protocol, TypeVar

from vmsystem.hosts import wire
from vmsystem.hosts.base import (
    DEFAULT_MEMORY_BUDGET_MB,
    EngineInfo,
    HostInfo,
    LostCallback,
    RuntimeSpec,
    SessionRuntime,
    UnknownHost,
)
from vmsystem.hosts.watchdog import Watchdog
from vmsystem.runtime import EngineError

__all__ = ["START_TIMEOUT_S", "Incarnation", "Launcher", "Slot", "Supervisor"]

_log = logging.getLogger(__name__)

#: How long a host may take to start (import Python, mini-racer) and to create a runtime.
START_TIMEOUT_S = 60.0


class Incarnation(Protocol):
    """One started host of a slot (a restart makes a new one).

    ``ready`` is set when the host's :class:`~vmsystem.hosts.wire.Ready` came (``hello``) or
    when it died (``cause`` then says why); ``runtimes`` are the sessions it holds (under
    ``lock``): the host tells them when it dies, before it tells its slot.
    """

    lock: threading.Lock
    ready: threading.Event
    hello: wire.Ready | None
    cause: str | None

    @property
    def runtimes(self) -> dict[str, Any]:
        """The runtimes the host holds, by session id."""
        ...


H = TypeVar("H", bound=Incarnation)


class Launcher(Protocol[H]):
    """Starts and stops hosts of one kind (see the module docstring)."""

    kind: str

    def spawn(self, slot: Slot[H]) -> H:
        """Start a host for ``slot`` and return at once (its ``ready`` says when it is up).
        Called under the pool's lock: must not wait for the host. EngineError if it cannot be
        started. When the host dies it calls ``slot.died(host, cause)``."""
        ...

    def stop(self, host: H) -> None:
        """Stop the host and reap it (asking first, killing if it does not stop)."""
        ...

    def kill(self, host: H, reason: str) -> None:
        """Kill the host now (its death is then reported with ``reason``)."""
        ...

    def alive(self, host: H) -> bool:
        """Whether the host is up (started and not dead)."""
        ...

    def pid(self, host: H) -> int | None:
        """The host's process id, if known."""
        ...

    def memory(self, host: H) -> int | None:
        """The host's resident set size in bytes, if it can be read."""
        ...

    def create(
        self, slot: Slot[H], host: H, spec: RuntimeSpec, on_lost: LostCallback, watchdog: Watchdog
    ) -> SessionRuntime:
        """Build ``spec``'s runtime in ``host`` (which is ready); EngineError with the host's
        reason if it cannot. The runtime calls ``slot.release`` when it is closed."""
        ...

    def remove_worktree(self, path: str, hosts: list[H]) -> None:
        """Delete a managed worktree where these (live) hosts keep them."""
        ...

    def close(self, hosts: list[H]) -> None:
        """Stop these hosts (the pool closes) and whatever the launcher itself holds."""
        ...


class Slot(Generic[H]):
    """A host slot: a stable id, its current host, and its bookkeeping."""

    def __init__(self, supervisor: Supervisor[H], host_id: str) -> None:
        self._supervisor = supervisor
        self.id = host_id
        self.restarts = 0
        self.retired = False
        #: Takes no new session (it is being drained).
        self.draining = False
        #: Places (and their ``mem_mb``) taken by starts under way on this slot.
        self.reserved = 0
        self.reserved_mb = 0
        #: The ``mem_mb`` of each session placed here, by session id.
        self.mem_mb: dict[str, int] = {}
        self.host: H = supervisor.launcher.spawn(self)

    @property
    def closing(self) -> bool:
        """Whether the pool is shutting down."""
        return self._supervisor.closing

    @property
    def load(self) -> int:
        """Sessions held plus places reserved."""
        return len(self.host.runtimes) + self.reserved

    @property
    def used_mb(self) -> int:
        """The ``mem_mb`` of the sessions held plus the places reserved."""
        held = self.host.runtimes
        return sum(mb for sid, mb in self.mem_mb.items() if sid in held) + self.reserved_mb

    def died(self, host: H, cause: str) -> None:
        """``host`` died (called once by the host's own watcher, after it told its runtimes)."""
        self._supervisor._died(self, host, cause)

    def release(self, session_id: str, host: H) -> None:
        """A runtime of ``host`` was closed: forget it (and retire a surplus slot left empty)."""
        with host.lock:
            host.runtimes.pop(session_id, None)
        self._supervisor._forget(self, session_id)


class Supervisor(Generic[H]):
    """The hosts of one pool (a :class:`~vmsystem.hosts.base.HostPool`; see the module
    docstring)."""

    def __init__(
        self,
        launcher: Launcher[H],
        *,
        processes: int,
        sessions_per_host: int,
        memory_budget_mb: int = DEFAULT_MEMORY_BUDGET_MB,
    ) -> None:
        self.launcher = launcher
        self.kind = launcher.kind
        self.processes = processes
        self.sessions_per_host = sessions_per_host
        self.memory_budget_mb = memory_budget_mb
        self.lock = threading.Lock()
        self.closing = False
        self.watchdog = Watchdog(f"{self.kind}-hosts-watchdog")
        self._slots: list[Slot[H]] = []
        self._ids = itertools.count(1)
        self._engine: EngineInfo | None = None
        try:
            with self.lock:
                for _ in range(processes):
                    self._add()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ placement
    def _add(self) -> Slot[H]:
        """A new slot with its host spawned (under the lock)."""
        slot = Slot(self, str(next(self._ids)))
        self._slots.append(slot)
        return slot

    def _active(self) -> list[Slot[H]]:
        return [s for s in self._slots if not s.retired]

    def _fits(self, slot: Slot[H], mem_mb: int) -> bool:
        budget = self.memory_budget_mb
        return slot.load < self.sessions_per_host and (
            not budget or slot.used_mb + mem_mb <= budget
        )

    def _place(self, mem_mb: int) -> Slot[H]:
        """The slot a new session of ``mem_mb`` goes to, its place reserved (under the lock)."""
        if self.closing:
            raise EngineError("the host pool is closed")
        if self.memory_budget_mb and mem_mb > self.memory_budget_mb:
            raise EngineError(
                f"mem_mb {mem_mb} is more than a host's memory budget "
                f"({self.memory_budget_mb} MiB, --host-memory-budget-mb)"
            )
        candidates = [
            s
            for s in self._active()
            if not s.draining
            and self._fits(s, mem_mb)
            and (self.launcher.alive(s.host) or not s.host.ready.is_set())
        ]
        slot = min(candidates, key=lambda s: (s.load, int(s.id))) if candidates else self._add()
        slot.reserved += 1
        slot.reserved_mb += mem_mb
        return slot

    def _wait_ready(self, slot: Slot[H], host: H) -> None:
        if not host.ready.wait(START_TIMEOUT_S):
            self.launcher.kill(host, f"it did not start within {START_TIMEOUT_S:.0f} s")
            raise EngineError(f"session host {slot.id} did not start in {START_TIMEOUT_S:.0f} s")
        if not self.launcher.alive(host):
            raise EngineError(host.cause or f"session host {slot.id} did not start")

    def start_runtime(self, spec: RuntimeSpec, on_lost: LostCallback) -> SessionRuntime:
        """Create ``spec``'s runtime on the least-loaded live host (adding one if all are
        full); EngineError with the host's reason if it cannot be created."""
        mem_mb = spec.options.mem_mb
        with self.lock:
            slot = self._place(mem_mb)
            host = slot.host
        try:
            self._wait_ready(slot, host)
            runtime = self.launcher.create(slot, host, spec, on_lost, self.watchdog)
            with self.lock:
                slot.mem_mb[spec.session_id] = mem_mb
            with host.lock:
                if not self.launcher.alive(host):
                    raise EngineError(host.cause or f"session host {slot.id} is gone")
                host.runtimes[spec.session_id] = runtime
            return runtime
        finally:
            with self.lock:
                slot.reserved -= 1
                slot.reserved_mb -= mem_mb

    # ------------------------------------------------------------------ supervision
    def _died(self, slot: Slot[H], host: H, cause: str) -> None:
        if self.closing or slot.retired:
            _log.info("%s", cause)
            return
        _log.warning("%s", cause)
        with self.lock:
            if slot.host is not host or self.closing or slot.retired:
                return
            if host.hello is None:
                # It never started: a restart would fail the same way.
                slot.retired = True
                self._slots.remove(slot)
                return
            try:
                slot.host = self.launcher.spawn(slot)
            except EngineError:
                _log.exception("cannot restart session host %s", slot.id)
                return
            slot.restarts += 1

    def _forget(self, slot: Slot[H], session_id: str) -> None:
        """A session left ``slot``: stop the slot if it is beyond ``processes`` and was the
        last."""
        with self.lock:
            slot.mem_mb.pop(session_id, None)
            if (
                self.closing
                or slot.retired
                or slot.load > 0
                or len(self._active()) <= self.processes
            ):
                return
            slot.retired = True
            self._slots.remove(slot)
            host = slot.host
        self.launcher.stop(host)

    def drain(self, host_id: str) -> None:
        """Place no new session on the host (see :meth:`HostPool.drain`)."""
        with self.lock:
            slot = next((s for s in self._active() if s.id == host_id), None)
            if slot is None:
                raise UnknownHost(host_id)
            slot.draining = True

    def retire(self, host_id: str) -> None:
        """Stop a drained host, keeping ``processes`` hosts (see :meth:`HostPool.retire`)."""
        with self.lock:
            slot = next((s for s in self._active() if s.id == host_id), None)
            if slot is None or self.closing:
                return
            slot.retired = True
            self._slots.remove(slot)
            host = slot.host
            if len(self._active()) < self.processes:
                self._add()
        self.launcher.stop(host)

    # ------------------------------------------------------------------ the pool
    def engine(self) -> EngineInfo:
        """The engine the first host's Ready named (see :meth:`HostPool.engine`)."""
        with self.lock:
            if self._engine is not None:
                return self._engine
            if self.closing:
                raise EngineError("the host pool is closed")
            active = self._active()
            slot = active[0] if active else self._add()
            host = slot.host
        self._wait_ready(slot, host)
        hello = host.hello
        if hello is None:
            raise EngineError(host.cause or f"session host {slot.id} did not start")
        self._engine = EngineInfo(hello.engine, hello.engine_version)
        return self._engine

    def hosts(self) -> list[HostInfo]:
        """Every host, by id."""
        with self.lock:
            slots = list(self._slots)
        return [self._info(s) for s in slots]

    def _info(self, slot: Slot[H]) -> HostInfo:
        host = slot.host
        alive = self.launcher.alive(host)
        return HostInfo(
            id=slot.id,
            kind=self.kind,
            pid=self.launcher.pid(host),
            sessions=len(host.runtimes),
            rss_bytes=self.launcher.memory(host) if alive else None,
            alive=alive,
            restarts=slot.restarts,
        )

    def remove_worktree(self, path: str) -> None:
        """Delete a managed worktree where the pool's live hosts keep them."""
        with self.lock:
            hosts = [s.host for s in self._slots if self.launcher.alive(s.host)]
        self.launcher.remove_worktree(path, hosts)

    def close(self) -> None:
        """Stop every host and reap it; idempotent."""
        with self.lock:
            if self.closing:
                return
            self.closing = True
            hosts = [s.host for s in self._slots]
        try:
            self.launcher.close(hosts)
        finally:
            self.watchdog.close()
