"""The Ray backend: session hosts as actors on a Ray cluster.

Each host is a threaded actor (:class:`HostActor`) wrapping a :class:`HostCore`, the same
in-host object a worker process serves. A run is one actor call returning the outcome (with the
run's console lines); Ray's completion callback delivers it. Console lines of a run still going
after :data:`CONSOLE_POLL_AFTER_S` are fetched by ``console`` calls while it runs. A cancel is a
concurrent actor call. Every actor also answers one never-ending ``watch`` call: when it fails,
the actor is dead, its runs in flight end ``LOST``, its idle runtimes are reported lost and the
:class:`~vmsystem.hosts.supervisor.Supervisor` (placement, retirement, restarts) gives the host
id a new actor (``restarts``). A run that has not ended ``KILL_GRACE_S`` after its
wall limit (or a cancel) gets its actor killed.

The actor hardens its process like a worker (``no_new_privs``, RLIMIT_DATA/FSIZE/NPROC) and
drops ``VMSYSTEM_*`` from its environment; the rest of its environment is the Ray worker's.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import itertools
import logging
import os
import threading
from typing import Any

from vmsystem.hosts import wire
from vmsystem.hosts.base import LostCallback, OutcomeCallback, RuntimeSpec
from vmsystem.hosts.local import completion_of, files_reply
from vmsystem.hosts.raylocal import PrivateCluster, use_token_auth_if_available
from vmsystem.hosts.remote import RemoteRuntime
from vmsystem.hosts.supervisor import Slot
from vmsystem.hosts.watchdog import Watchdog
from vmsystem.modules.worktree import FileReply, FileRequest
from vmsystem.runtime import Completion, ConsoleSink, EngineError, Outcome, OutcomeKind

#: A cancel that found no run on the actor (it overtook the run) is sent again this often ...
_CANCEL_RETRY_S = 0.02
#: ... this many times.
_CANCEL_RETRIES = 50

__all__ = ["HostActor", "RayLauncher", "RayRuntime", "start_local_cluster"]

_log = logging.getLogger(__name__)

#: How long to wait for an actor to start or answer a create/close.
CALL_TIMEOUT_S = 60.0
#: A run still going this long has its console lines fetched while it runs (a shorter one
#: brings them back on its outcome).
CONSOLE_POLL_AFTER_S = 0.05
#: How long one console fetch waits in the actor for a line.
CONSOLE_WAIT_S = 1.0
#: How long a run whose actor died waits for the actor's watcher to name the cause.
ACTOR_DEATH_WAIT_S = 10.0
#: Finished runs an actor remembers (so a late console fetch of one returns at once).
_FINISHED_KEPT = 1024
#: How long a file operation may take in an actor (a large archive on a slow disk).
FILES_TIMEOUT_S = 300.0


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
    private = PrivateCluster()
    ray.init(
        num_cpus=num_cpus,
        include_dashboard=False,
        object_store_memory=80 * 1024 * 1024,
        logging_level=logging.WARNING,
        configure_logging=False,
        log_to_driver=False,
        **private.init_options(),
    )

    def stop() -> None:
        ray.shutdown()
        private.remove()

    return str(ray.get_runtime_context().gcs_address), stop


class _ConsoleBuffer:
    """The console lines of one run in an actor that no one has fetched yet."""

    __slots__ = ("cond", "done", "lines", "seq")

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.lines: list[list[Any]] = []
        self.seq = 0
        self.done = False

    def take(self) -> tuple[int, list[list[Any]]]:
        """The pending lines and their batch number (under ``cond``)."""
        lines, self.lines = self.lines, []
        seq = self.seq
        self.seq += 1
        return seq, lines


class HostActor:
    """The sessions of one host, inside a Ray actor process (see :class:`HostCore`).

    A run is one :meth:`run` call, run on the actor's own call thread; its console lines come
    back on the outcome, or, for a run still going after :data:`CONSOLE_POLL_AFTER_S`, from
    :meth:`console` calls the daemon then makes (batches numbered so they arrive in order).
    """

    def __init__(self, host_id: str, memory_mb: int) -> None:
        for name in [k for k in os.environ if k.upper().startswith("VMSYSTEM_")]:
            del os.environ[name]
        from vmsystem.hosts.harden import apply_limits
        from vmsystem.hosts.local import HostCore

        apply_limits(memory_mb)
        self.core = HostCore(host_id)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._buffers: dict[str, _ConsoleBuffer] = {}
        self._finished: collections.OrderedDict[str, None] = collections.OrderedDict()

    def ready(self) -> dict[str, Any]:
        """The actor's :class:`~vmsystem.hosts.wire.Ready` (its pid, engine and versions)."""
        from vmsystem.hosts.local import ready_message

        return wire.encode(ready_message())

    def rss_bytes(self) -> int | None:
        """The actor process's resident set size."""
        from vmsystem.hosts.procfs import rss_bytes

        return rss_bytes(os.getpid())

    def watch(self) -> None:
        """Never returns while the actor lives: its failure tells the daemon of a death."""
        self._stop.wait()

    def create(self, data: dict[str, Any]) -> None:
        """Build a session's runtime from a :class:`~vmsystem.hosts.wire.Create` (raises
        EngineError with the reason)."""
        message = wire.decode(data)
        if not isinstance(message, wire.Create):
            raise wire.WireError(f"create takes a create message, not {message.op!r}")
        self.core.create(message.spec)

    def _buffer(self, rid: str) -> _ConsoleBuffer | None:
        with self._lock:
            if rid in self._finished:
                return None
            return self._buffers.setdefault(rid, _ConsoleBuffer())

    def run(self, rid: str, data: dict[str, Any]) -> dict[str, Any]:
        """Run a :class:`~vmsystem.hosts.wire.Run`: ``{"outcome", "lines", "seq"}``, its
        :class:`~vmsystem.hosts.wire.RunOutcome` and the console lines not fetched by
        :meth:`console` while it ran, with their batch number."""
        message = wire.decode(data)
        if not isinstance(message, wire.Run):
            raise wire.WireError(f"run takes a run message, not {message.op!r}")
        buffer = self._buffer(rid) or _ConsoleBuffer()

        def sink(lines: list[Any]) -> None:
            with buffer.cond:
                buffer.lines.extend(list(line) for line in lines)
                buffer.cond.notify_all()

        try:
            outcome = self.core.run(
                message.sid,
                message.code,
                filename=message.filename,
                limits=message.limits,
                sink=sink,
                args=message.args,
                env=message.env,
            )
        except EngineError as exc:
            outcome = Outcome(OutcomeKind.LOST, message=f"runtime lost: {exc}")
        except Exception as exc:
            outcome = Outcome(OutcomeKind.LOST, message=f"internal error in the host: {exc}")
        with buffer.cond:
            seq, lines = buffer.take()
            buffer.done = True
            buffer.cond.notify_all()
        with self._lock:
            self._buffers.pop(rid, None)
            self._finished[rid] = None
            while len(self._finished) > _FINISHED_KEPT:
                self._finished.popitem(last=False)
        return {
            "outcome": wire.encode(wire.RunOutcome(message.req, outcome)),
            "lines": lines,
            "seq": seq,
        }

    def console(self, rid: str) -> dict[str, Any]:
        """The run's next console batch (waits up to :data:`CONSOLE_WAIT_S` for one):
        ``{"done", "lines", "seq"}``; ``seq`` is None when there are no lines."""
        buffer = self._buffer(rid)
        if buffer is None:
            return {"done": True, "lines": [], "seq": None}
        with buffer.cond:
            buffer.cond.wait_for(lambda: bool(buffer.lines) or buffer.done, CONSOLE_WAIT_S)
            if buffer.done or not buffer.lines:
                return {"done": buffer.done, "lines": [], "seq": None}
            seq, lines = buffer.take()
        return {"done": False, "lines": lines, "seq": seq}

    def complete(self, data: dict[str, Any]) -> dict[str, Any]:
        """A :class:`~vmsystem.hosts.wire.Complete` in this actor: its
        :class:`~vmsystem.hosts.wire.CompleteResult` (busy travels as data)."""
        from vmsystem.hosts.local import complete_result

        message = wire.decode(data)
        if not isinstance(message, wire.Complete):
            raise wire.WireError(f"complete takes a complete message, not {message.op!r}")
        return wire.encode(complete_result(self.core, message))

    def cancel(self, sid: str) -> bool:
        """Cancel the session's run."""
        return self.core.cancel(sid)

    def files(self, data: dict[str, Any]) -> dict[str, Any]:
        """A :class:`~vmsystem.hosts.wire.Files` operation on this actor's node: its
        :class:`~vmsystem.hosts.wire.FilesResult` (a refusal travels as data, not as a Ray
        task error)."""
        from vmsystem.hosts.local import files_result

        message = wire.decode(data)
        if not isinstance(message, wire.Files):
            raise wire.WireError(f"files takes a files message, not {message.op!r}")
        return wire.encode(files_result(self.core, message))

    def remove_worktree(self, path: str) -> bool:
        """Delete a managed worktree on this actor's node (False if it is not there)."""
        from vmsystem.modules.worktree import remove_worktree

        return remove_worktree(path)

    def close(self, sid: str) -> None:
        """Close the session's runtime."""
        self.core.close(sid)

    def shutdown(self) -> None:
        """Close every runtime and end the watch."""
        self.core.close_all()
        self._stop.set()


class _Actor:
    """One actor incarnation of a host (a restart makes a new one).

    Created without waiting: its ``ready`` call's answer (checked like a host process's Ready)
    sets ``ready``; its never-ending ``watch`` call, watched by a thread, reports its death.
    """

    def __init__(self, slot: Slot[_Actor], launcher: RayLauncher) -> None:
        self.slot = slot
        self.handle = launcher.actor_class.options(
            max_concurrency=launcher.sessions_per_host * 3 + 8, num_cpus=0
        ).remote(slot.id, launcher.memory_mb)
        #: The actor's Ready (its pid, engine and versions), once it came.
        self.hello: wire.Ready | None = None
        self.pid: int | None = None
        self.ready = threading.Event()
        self.alive = True
        self.cause: str | None = None
        self.kill_reason: str | None = None
        self.lock = threading.Lock()
        self.runtimes: dict[str, RayRuntime] = {}
        self.handle.ready.remote().future().add_done_callback(self._answered)
        self._watch_ref = self.handle.watch.remote()
        self.watcher = threading.Thread(
            target=self._watch, name=f"ray-host-{slot.id}-watch", daemon=True
        )
        self.watcher.start()

    def _answered(self, future: concurrent.futures.Future[Any]) -> None:
        try:
            hello = wire.decode(future.result())
            if not isinstance(hello, wire.Ready):
                raise wire.WireError(f"the actor answered {hello.op!r} for ready")
            wire.check_ready(hello, f"session host {self.slot.id} (ray actor, pid {hello.pid})")
        except Exception as exc:
            # Not from Ray's callback thread: the kill is a Ray call.
            reason = f"it did not start: {exc}"
            threading.Thread(target=self.kill, args=(reason,), daemon=True).start()
            return
        self.pid = hello.pid
        self.hello = hello
        self.ready.set()

    def describe(self, error: BaseException | str) -> str:
        head = f"session host {self.slot.id} (ray actor, pid {self.pid})"
        if self.slot.closing and self.kill_reason is None:
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
        except BaseException as exc:  # Ray raises SystemExit here when it shuts down
            error = exc
        cause = self.describe(error)
        with self.lock:
            self.alive = False
            self.cause = cause
            runtimes = list(self.runtimes.values())
            self.runtimes.clear()
        self.ready.set()
        for runtime in runtimes:
            runtime.lost(cause)
        self.slot.died(self, cause)


class _ConsoleRelay:
    """Hands a run's console batches to its sink in batch order, then its outcome."""

    def __init__(self, sink: ConsoleSink, finish: OutcomeCallback) -> None:
        self._sink = sink
        self._finish = finish
        self._lock = threading.Lock()
        self._next = 0
        self._pending: dict[int, tuple[list[Any], Outcome | None]] = {}
        self.ended = False

    def deliver(self, seq: int, lines: list[Any], outcome: Outcome | None = None) -> None:
        # Under the lock: a console batch and the outcome may arrive on different threads.
        with self._lock:
            self._pending[seq] = (lines, outcome)
            while self._next in self._pending:
                batch, final = self._pending.pop(self._next)
                self._next += 1
                if batch:
                    try:
                        self._sink([(str(a), str(b), float(c)) for a, b, c in batch])
                    except Exception:
                        _log.exception("console sink failed")
                if final is not None:
                    self.ended = True
                    self._finish(final)

    def fail(self, outcome: Outcome) -> None:
        self.ended = True
        self._finish(outcome)


class RayRuntime(RemoteRuntime):
    """A session's runtime in a Ray host actor (see :class:`SessionRuntime`).

    A run is one actor call; its outcome is delivered by Ray's completion callback.
    """

    def __init__(
        self, actor: _Actor, session_id: str, on_lost: LostCallback, watchdog: Watchdog
    ) -> None:
        super().__init__(actor.slot.id, session_id, on_lost, watchdog)
        self._actor = actor
        self._runs = itertools.count(1)

    def _host_alive(self) -> bool:
        return self._actor.alive

    def _send_run(self, run: wire.Run, sink: ConsoleSink, finish: OutcomeCallback) -> None:
        rid = f"{self.session_id}:{next(self._runs)}"
        relay = _ConsoleRelay(sink, finish)
        try:
            ref = self._actor.handle.run.remote(rid, wire.encode(run))
        except Exception as exc:
            raise EngineError(self._actor.cause or self._actor.describe(exc)) from exc
        ref.future().add_done_callback(lambda future: self._run_done(relay, future))
        # Console lines of a short run come back on its outcome: only a run still going
        # after a moment has them fetched while it runs.
        self._watchdog.arm(CONSOLE_POLL_AFTER_S, lambda: self._poll(relay, rid))

    def _run_done(self, relay: _ConsoleRelay, future: concurrent.futures.Future[Any]) -> None:
        try:
            item = future.result()
        except Exception as exc:
            relay.ended = True
            failure = Outcome(OutcomeKind.LOST, message=self._actor.describe(exc))
            if isinstance(exc, _ray().exceptions.RayActorError):
                # The actor died: its watcher ends the run with the cause it names.
                self._watchdog.arm(ACTOR_DEATH_WAIT_S, lambda: relay.fail(failure))
            else:
                relay.fail(failure)
            return
        try:
            ended = wire.decode(item["outcome"])
            if not isinstance(ended, wire.RunOutcome):
                raise wire.WireError(f"a run answered {ended.op!r}")
        except (wire.WireError, KeyError, TypeError) as exc:
            relay.fail(Outcome(OutcomeKind.LOST, message=f"session host {self.host_id}: {exc}"))
            return
        relay.deliver(int(item["seq"]), item["lines"], ended.outcome)

    def _poll(self, relay: _ConsoleRelay, rid: str) -> None:
        if relay.ended or not self._actor.alive:
            return
        try:
            ref = self._actor.handle.console.remote(rid)
        except Exception:
            return  # the run's own call reports the actor's end
        ref.future().add_done_callback(lambda future: self._polled(relay, rid, future))

    def _polled(
        self, relay: _ConsoleRelay, rid: str, future: concurrent.futures.Future[Any]
    ) -> None:
        try:
            item = future.result()
        except Exception:
            return
        if item["seq"] is not None:
            relay.deliver(int(item["seq"]), item["lines"])
        if not item["done"]:
            # Not from Ray's callback thread: the next call is made on the watchdog's.
            self._watchdog.arm(0, lambda: self._poll(relay, rid))

    def _kill_host(self, reason: str) -> None:
        self._actor.kill(reason)

    def files(self, request: FileRequest) -> FileReply:
        """Run a file operation in the actor (on its node); WorktreeError if refused,
        EngineError if the actor is gone or does not answer."""
        if not self.alive:
            raise EngineError(self._lost_cause or "the session's runtime is closed")
        try:
            answer = wire.decode(
                _ray().get(
                    self._actor.handle.files.remote(
                        wire.encode(wire.Files(0, self.session_id, request))
                    ),
                    timeout=FILES_TIMEOUT_S,
                )
            )
        except Exception as exc:
            cause = getattr(exc, "cause", None) or exc
            text = str(cause).strip()
            raise EngineError(text.splitlines()[-1] if text else type(exc).__name__) from exc
        if not isinstance(answer, wire.FilesResult):
            raise EngineError(f"session host {self.host_id} answered {answer.op!r} to files")
        return files_reply(answer)

    def complete(self, code: str, cursor: int) -> Completion:
        """Completions computed in the actor (EngineBusy while a run is in flight)."""
        self._check_completable()
        try:
            answer = wire.decode(
                _ray().get(
                    self._actor.handle.complete.remote(
                        wire.encode(wire.Complete(0, self.session_id, code, cursor))
                    ),
                    timeout=CALL_TIMEOUT_S,
                )
            )
        except Exception as exc:
            raise EngineError(self._actor.describe(exc)) from exc
        if not isinstance(answer, wire.CompleteResult):
            raise EngineError(f"session host {self.host_id} answered {answer.op!r} to complete")
        return completion_of(answer)

    def cancel(self) -> bool:
        """Ask the actor to stop the run; False if idle.

        Actor calls may overtake one another: a cancel that reaches the actor before the run
        it is meant for finds nothing to stop, so it is sent again (every 20 ms, for up to a
        second) while that same run is still in flight."""
        if not self._note_cancel():
            return False
        with self._lock:
            flight = self._flight
        self._send_cancel(flight, _CANCEL_RETRIES)
        return True

    def _send_cancel(self, flight: object, retries: int) -> None:
        try:
            answer = self._actor.handle.cancel.remote(self.session_id).future()
        except Exception:
            return

        def answered(done: concurrent.futures.Future[bool]) -> None:
            try:
                stopped = bool(done.result())
            except Exception:
                return
            with self._lock:
                same_run = self._flight is flight and flight is not None
            if not stopped and same_run and retries > 0:
                self._watchdog.arm(_CANCEL_RETRY_S, lambda: self._send_cancel(flight, retries - 1))

        answer.add_done_callback(answered)

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
        actor.slot.release(self.session_id, actor)

    def lost(self, cause: str) -> None:
        """Its actor died (called by the actor's watcher)."""
        self._lost(cause, pool_closing=self._actor.slot.closing)


class RayLauncher:
    """Starts host actors on a Ray cluster (the :class:`~vmsystem.hosts.supervisor.Launcher` of
    the Ray backend); joins the cluster at ``address``, or starts a private local one."""

    kind = "ray"

    def __init__(self, *, sessions_per_host: int, memory_mb: int, address: str | None) -> None:
        ray = _ray()
        self.sessions_per_host = sessions_per_host
        self.memory_mb = memory_mb
        self._owns_ray = False
        self._private: PrivateCluster | None = None
        if not ray.is_initialized():
            # Without an address: a private local cluster, never one found on the machine.
            self._private = PrivateCluster() if address is None else None
            where = self._private.init_options() if self._private else {"address": address}
            if self._private is None:
                use_token_auth_if_available()
            try:
                ray.init(
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                    configure_logging=False,
                    log_to_driver=False,
                    **where,
                )
            except Exception as exc:
                if self._private is not None:
                    self._private.remove()
                raise EngineError(f"cannot join the Ray cluster at {address}: {exc}") from exc
            self._owns_ray = True
        self.actor_class = ray.remote(HostActor)

    def spawn(self, slot: Slot[_Actor]) -> _Actor:
        """Create the host actor (without waiting for it to start)."""
        try:
            return _Actor(slot, self)
        except Exception as exc:
            raise EngineError(f"session host {slot.id} (ray actor) did not start: {exc}") from exc

    def stop(self, host: _Actor) -> None:
        """Ask the actor to shut down, then kill it."""
        ray = _ray()
        with contextlib.suppress(Exception):
            ray.get(host.handle.shutdown.remote(), timeout=5)
        with contextlib.suppress(Exception):
            ray.kill(host.handle, no_restart=True)
        # The watcher itself stops a surplus actor when its last (lost) runtime is disposed.
        if host.watcher is not threading.current_thread():
            host.watcher.join(timeout=10)

    def alive(self, host: _Actor) -> bool:
        """Started (its Ready came) and not dead."""
        return host.alive and host.hello is not None

    def memory(self, host: _Actor) -> int | None:
        """The actor process's RSS (asked of the actor)."""
        with contextlib.suppress(Exception):
            rss = _ray().get(host.handle.rss_bytes.remote(), timeout=2)
            return int(rss) if rss is not None else None
        return None

    def kill(self, host: _Actor, reason: str) -> None:
        """Kill the actor."""
        host.kill(reason)

    def pid(self, host: _Actor) -> int | None:
        """The actor process's id (known once it started)."""
        return host.pid

    def create(
        self,
        slot: Slot[_Actor],
        host: _Actor,
        spec: RuntimeSpec,
        on_lost: LostCallback,
        watchdog: Watchdog,
    ) -> RayRuntime:
        """Create the runtime in the actor."""
        runtime = RayRuntime(host, spec.session_id, on_lost, watchdog)
        try:
            _ray().get(
                host.handle.create.remote(wire.encode(wire.Create(0, spec))),
                timeout=CALL_TIMEOUT_S,
            )
        except Exception as exc:
            cause = getattr(exc, "cause", None) or exc
            raise EngineError(str(cause).strip().splitlines()[-1]) from exc
        return runtime

    def remove_worktree(self, path: str, hosts: list[_Actor]) -> None:
        """Delete a managed worktree on the node of every live actor (the one that held the
        session is among them unless it died and came back on another node; a worktree that is
        not on a node is skipped there)."""
        ray = _ray()
        refs = [a.handle.remove_worktree.remote(path) for a in hosts]
        for ref in refs:
            try:
                ray.get(ref, timeout=CALL_TIMEOUT_S)
            except Exception:
                _log.exception("removing the managed worktree %s failed on a host", path)

    def close(self, hosts: list[_Actor]) -> None:
        """Stop every host actor (and Ray, if this launcher started it)."""
        for host in hosts:
            self.stop(host)
        if self._owns_ray:
            with contextlib.suppress(Exception):
                _ray().shutdown()
        if self._private is not None:
            self._private.remove()
