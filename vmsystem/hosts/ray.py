"""The Ray backend: session hosts as actors on a Ray cluster.

Each host is a threaded actor (:class:`HostActor`) wrapping a :class:`HostCore`, the same
in-host object a worker process serves. A run is an actor *streaming generator*: console batches
come back to the daemon while the run goes on, then the outcome. A cancel is a concurrent actor
call. Every actor also answers one never-ending ``watch`` call: when it fails, the actor is dead,
its idle runtimes are reported lost and a new actor takes the host id (``restarts``). A run that
has not ended ``KILL_GRACE_S`` after its wall limit (or a cancel) gets its actor killed.

The actor hardens its process like a worker (``no_new_privs``, RLIMIT_DATA/FSIZE/NPROC) and
drops ``VMSYSTEM_*`` from its environment; the rest of its environment is the Ray worker's.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from vmsystem.hosts.base import (
    HostInfo,
    LostCallback,
    RuntimeSpec,
    outcome_from_dict,
    outcome_to_dict,
)
from vmsystem.hosts.remote import RemoteRuntime
from vmsystem.runtime import ConsoleSink, EngineError, Outcome, OutcomeKind, RunLimits

__all__ = ["HostActor", "RayPool", "RayRuntime", "start_local_cluster"]

_log = logging.getLogger(__name__)

#: How long to wait for an actor to start or answer a create/close.
CALL_TIMEOUT_S = 60.0


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineError(
            "the ray host backend needs the ray package: pip install 'vm-system[ray]'"
        ) from None
    return ray


def start_local_cluster(num_cpus: int = 2) -> tuple[str, Any]:
    """Start a small local Ray cluster on loopback in this process (tests, a laptop).

    Returns its address and a function that stops it.
    """
    ray = _ray()
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        object_store_memory=80 * 1024 * 1024,
        _node_ip_address="127.0.0.1",
        logging_level=logging.WARNING,
        configure_logging=False,
        log_to_driver=False,
    )
    return str(ray.get_runtime_context().gcs_address), ray.shutdown


class HostActor:
    """The sessions of one host, inside a Ray actor process (see :class:`HostCore`)."""

    def __init__(self, host_id: str, memory_mb: int) -> None:
        for name in [k for k in os.environ if k.upper().startswith("VMSYSTEM_")]:
            del os.environ[name]
        from vmsystem.hosts.harden import apply_limits
        from vmsystem.hosts.local import HostCore

        apply_limits(memory_mb)
        self.core = HostCore(host_id)
        self._stop = threading.Event()

    def pid(self) -> int:
        """The actor's process id."""
        return os.getpid()

    def rss_bytes(self) -> int | None:
        """The actor process's resident set size."""
        from vmsystem.hosts.procfs import rss_bytes

        return rss_bytes(os.getpid())

    def watch(self) -> None:
        """Never returns while the actor lives: its failure tells the daemon of a death."""
        self._stop.wait()

    def create(self, spec: dict[str, Any]) -> None:
        """Build a session's runtime (raises EngineError with the reason)."""
        self.core.create(RuntimeSpec.from_dict(spec))

    def run(self, sid: str, message: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Stream ``{"lines": [...]}`` batches while the run goes on, then ``{"outcome": ...}``."""
        items: queue.Queue[dict[str, Any]] = queue.Queue()

        def target() -> None:
            try:
                outcome = self.core.run(
                    sid,
                    message["code"],
                    filename=message.get("filename"),
                    limits=RunLimits(wall_ms=message.get("wall_ms"), cpu_ms=message.get("cpu_ms")),
                    sink=lambda lines: items.put({"lines": [list(line) for line in lines]}),
                    args=message.get("args"),
                    env=message.get("env"),
                )
            except EngineError as exc:
                outcome = Outcome(OutcomeKind.WEDGED, message=f"runtime lost: {exc}")
            except Exception as exc:
                outcome = Outcome(OutcomeKind.WEDGED, message=f"internal error in the host: {exc}")
            items.put({"outcome": outcome_to_dict(outcome)})

        threading.Thread(target=target, daemon=True).start()
        while True:
            item = items.get()
            yield item
            if "outcome" in item:
                return

    def cancel(self, sid: str) -> bool:
        """Cancel the session's run."""
        return self.core.cancel(sid)

    def close(self, sid: str) -> None:
        """Close the session's runtime."""
        self.core.close(sid)

    def shutdown(self) -> None:
        """Close every runtime and end the watch."""
        self.core.close_all()
        self._stop.set()


class _Actor:
    """One actor incarnation of a host (a restart makes a new one)."""

    def __init__(self, host: _RayHost) -> None:
        ray = _ray()
        pool = host.pool
        self.host = host
        self.handle = pool.actor_class.options(
            max_concurrency=pool.sessions_per_host * 3 + 8, num_cpus=0
        ).remote(host.id, pool.memory_mb)
        try:
            self.pid: int | None = ray.get(self.handle.pid.remote(), timeout=CALL_TIMEOUT_S)
        except Exception as exc:
            with contextlib.suppress(Exception):
                ray.kill(self.handle)
            raise EngineError(f"session host {host.id} (ray actor) did not start: {exc}") from exc
        self.alive = True
        self.cause: str | None = None
        self.kill_reason: str | None = None
        self.lock = threading.Lock()
        self.runtimes: dict[str, RayRuntime] = {}
        self.reserved = 0
        self._watch_ref = self.handle.watch.remote()
        self.watcher = threading.Thread(
            target=self._watch, name=f"ray-host-{host.id}-watch", daemon=True
        )
        self.watcher.start()

    @property
    def load(self) -> int:
        return len(self.runtimes) + self.reserved

    def describe(self, error: BaseException | str) -> str:
        head = f"session host {self.host.id} (ray actor, pid {self.pid})"
        if self.host.pool.closing and self.kill_reason is None:
            return f"{head} stopped (the daemon is shutting down)"
        if self.kill_reason is not None:
            return f"{head} died: killed: {self.kill_reason}"
        text = str(error).strip().splitlines()
        return f"{head} died: {text[0][:300] if text else type(error).__name__}"

    def kill(self, reason: str) -> None:
        with self.lock:
            if self.kill_reason is None:
                self.kill_reason = reason
        with contextlib.suppress(Exception):
            _ray().kill(self.handle, no_restart=True)

    def _watch(self) -> None:
        ray = _ray()
        error: BaseException | str = "the actor ended"
        try:
            ray.get(self._watch_ref)
        except Exception as exc:
            error = exc
        cause = self.describe(error)
        with self.lock:
            self.alive = False
            self.cause = cause
            runtimes = list(self.runtimes.values())
            self.runtimes.clear()
        for runtime in runtimes:
            runtime.lost(cause)
        self.host.actor_died(self, cause)


class _RayHost:
    def __init__(self, pool: RayPool, host_id: str) -> None:
        self.pool = pool
        self.id = host_id
        self.restarts = 0
        self.retired = False
        self.actor = _Actor(self)

    def actor_died(self, actor: _Actor, cause: str) -> None:
        if self.pool.closing or self.retired:
            _log.info("%s", cause)
            return
        _log.warning("%s", cause)
        with self.pool.lock:
            if self.actor is not actor:
                return
        try:
            replacement = _Actor(self)
        except EngineError:
            _log.exception("cannot restart session host %s", self.id)
            return
        with self.pool.lock:
            self.actor = replacement
            self.restarts += 1

    def info(self) -> HostInfo:
        actor = self.actor
        rss: int | None = None
        if actor.alive:
            with contextlib.suppress(Exception):
                rss = _ray().get(actor.handle.rss_bytes.remote(), timeout=2)
        return HostInfo(
            id=self.id,
            kind="ray",
            pid=actor.pid,
            sessions=len(actor.runtimes),
            rss_bytes=rss,
            alive=actor.alive,
            restarts=self.restarts,
        )


class RayRuntime(RemoteRuntime):
    """A session's runtime in a Ray host actor (see :class:`SessionRuntime`)."""

    def __init__(self, actor: _Actor, session_id: str, on_lost: LostCallback) -> None:
        super().__init__(actor.host.id, session_id, on_lost)
        self._actor = actor

    def _host_alive(self) -> bool:
        return self._actor.alive

    def run(
        self,
        code: str,
        *,
        filename: str | None = None,
        limits: RunLimits,
        sink: ConsoleSink,
        args: Any = None,
        env: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Run ``code`` in the actor; console batches reach ``sink`` while it runs."""
        self._begin_run()
        done = threading.Event()
        watchdog = threading.Thread(
            target=self._watchdog, args=(done, time.monotonic(), limits), daemon=True
        )
        try:
            stream = self._actor.handle.run.remote(
                self.session_id,
                {
                    "code": code,
                    "filename": filename,
                    "wall_ms": limits.wall_ms,
                    "cpu_ms": limits.cpu_ms,
                    "args": args,
                    "env": dict(env) if env is not None else None,
                },
            )
            watchdog.start()
            return self._consume(stream, sink)
        finally:
            done.set()
            self._end_run()

    def _consume(self, stream: Any, sink: ConsoleSink) -> Outcome:
        ray = _ray()
        try:
            for ref in stream:
                item = ray.get(ref)
                if "outcome" in item:
                    return outcome_from_dict(item["outcome"])
                lines = [(str(a), str(b), float(c)) for a, b, c in item["lines"]]
                try:
                    sink(lines)
                except Exception:
                    _log.exception("console sink failed")
        except Exception as exc:
            self._actor.watcher.join(timeout=10)
            return Outcome(
                OutcomeKind.WEDGED, message=self._actor.cause or self._actor.describe(exc)
            )
        return Outcome(OutcomeKind.WEDGED, message=f"session host {self.host_id} ended the run")

    def _watchdog(self, done: threading.Event, started: float, limits: RunLimits) -> None:
        while not done.wait(0.1):
            overdue = self._overdue(started, limits)
            if overdue is not None:
                self._actor.kill(overdue)
                return

    def cancel(self) -> bool:
        """Ask the actor to stop the run; False if idle."""
        if not self._note_cancel():
            return False
        with contextlib.suppress(Exception):
            self._actor.handle.cancel.remote(self.session_id)
        return True

    def close(self) -> None:
        """Close the runtime in its actor (idempotent)."""
        running = self._begin_close()
        if running is None:
            return
        actor = self._actor
        if running:
            with contextlib.suppress(Exception):
                actor.handle.cancel.remote(self.session_id)
        if actor.alive:
            with contextlib.suppress(Exception):
                _ray().get(actor.handle.close.remote(self.session_id), timeout=CALL_TIMEOUT_S)
        with actor.lock:
            actor.runtimes.pop(self.session_id, None)
        actor.host.pool._retire_if_surplus(actor.host)

    def lost(self, cause: str) -> None:
        """Its actor died (called by the actor's watcher)."""
        self._lost(cause, pool_closing=self._actor.host.pool.closing)


class RayPool:
    """Host actors on a Ray cluster (see the module docstring)."""

    kind = "ray"

    def __init__(
        self, *, processes: int, sessions_per_host: int, memory_mb: int, address: str | None
    ) -> None:
        ray = _ray()
        self.processes = processes
        self.sessions_per_host = sessions_per_host
        self.memory_mb = memory_mb
        self.lock = threading.Lock()
        self.closing = False
        self._owns_ray = False
        if not ray.is_initialized():
            try:
                # Without an address Ray starts a local cluster: keep it on loopback.
                local = {"_node_ip_address": "127.0.0.1"} if address is None else {}
                ray.init(
                    address=address,
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                    configure_logging=False,
                    log_to_driver=False,
                    **local,
                )
            except Exception as exc:
                raise EngineError(f"cannot join the Ray cluster at {address}: {exc}") from exc
            self._owns_ray = True
        self.actor_class = ray.remote(HostActor)
        self._hosts: list[_RayHost] = []
        self._next_id = itertools.count(1)
        try:
            for _ in range(processes):
                self._hosts.append(_RayHost(self, str(next(self._next_id))))
        except BaseException:
            self.close()
            raise

    def start_runtime(self, spec: RuntimeSpec, on_lost: LostCallback) -> RayRuntime:
        """Create ``spec``'s runtime on the least-loaded live actor (starting one if all are
        full); EngineError with the reason if it cannot be created."""
        ray = _ray()
        with self.lock:
            if self.closing:
                raise EngineError("the host pool is closed")
            candidates = [
                h
                for h in self._hosts
                if h.actor.alive and not h.retired and h.actor.load < self.sessions_per_host
            ]
            host = min(candidates, key=lambda h: (h.actor.load, int(h.id))) if candidates else None
            if host is not None:
                host.actor.reserved += 1
        if host is None:
            host = _RayHost(self, str(next(self._next_id)))
            with self.lock:
                self._hosts.append(host)
                host.actor.reserved += 1
        actor = host.actor
        try:
            runtime = RayRuntime(actor, spec.session_id, on_lost)
            try:
                ray.get(actor.handle.create.remote(spec.to_dict()), timeout=CALL_TIMEOUT_S)
            except Exception as exc:
                cause = getattr(exc, "cause", None) or exc
                raise EngineError(str(cause).strip().splitlines()[-1]) from exc
            with actor.lock:
                if not actor.alive:
                    raise EngineError(actor.cause or f"session host {host.id} is gone")
                actor.runtimes[spec.session_id] = runtime
            return runtime
        finally:
            with self.lock:
                actor.reserved -= 1

    def _retire_if_surplus(self, host: _RayHost) -> None:
        with self.lock:
            actor = host.actor
            if (
                self.closing
                or host.retired
                or actor.load > 0
                or len([h for h in self._hosts if not h.retired]) <= self.processes
            ):
                return
            host.retired = True
            self._hosts.remove(host)
        self._stop(actor)

    def _stop(self, actor: _Actor) -> None:
        ray = _ray()
        with contextlib.suppress(Exception):
            ray.get(actor.handle.shutdown.remote(), timeout=5)
        with contextlib.suppress(Exception):
            ray.kill(actor.handle, no_restart=True)
        actor.watcher.join(timeout=10)

    def hosts(self) -> list[HostInfo]:
        """Every host actor, by id."""
        with self.lock:
            hosts = list(self._hosts)
        return [h.info() for h in hosts]

    def close(self) -> None:
        """Stop every host actor (and Ray, if this pool started it); idempotent."""
        with self.lock:
            if self.closing:
                return
            self.closing = True
            hosts = list(self._hosts)
        for host in hosts:
            self._stop(host.actor)
        if self._owns_ray:
            with contextlib.suppress(Exception):
                _ray().shutdown()
