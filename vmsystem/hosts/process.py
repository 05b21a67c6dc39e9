"""The process backend: sessions' runtimes in a pool of supervised host processes.

Each host is a ``python -m vmsystem.hosts.worker`` process holding up to ``sessions_per_host``
sessions behind a :class:`~vmsystem.hosts.protocol.Channel` (a socketpair). ``processes`` hosts
are started with the pool; when every host is full another is started, and such an extra host
stops again when its last session closes. A new session goes to the least-loaded live host and
stays there.

Supervision: each host has a reader thread; the end of its channel means the host died. The
pool then reaps it, names the cause (exit status or signal, and V8's own last words from the
host's stderr), ends the runs in flight ``WEDGED`` with that cause, tells the idle runtimes'
owners (``on_lost``) and starts a new process under the same host id (``restarts`` counts
them). A run that has not ended ``KILL_GRACE_S`` after its wall limit (or after a cancel) gets
its host killed: the last resort for a builtin that never checks for termination.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import vmsystem
from vmsystem.hosts.base import KILL_GRACE_S, HostInfo, LostCallback, RuntimeSpec, outcome_from_dict
from vmsystem.hosts.harden import scrubbed_environment
from vmsystem.hosts.procfs import describe_exit, rss_bytes
from vmsystem.hosts.protocol import Channel, ChannelClosed
from vmsystem.runtime import ConsoleSink, EngineError, Outcome, OutcomeKind, RunLimits

__all__ = ["ProcessPool", "ProcessRuntime"]

_log = logging.getLogger(__name__)

#: How long a host may take to start (import Python, mini-racer) and to create a runtime.
START_TIMEOUT_S = 60.0
#: How long a close waits for the host's answer.
CLOSE_TIMEOUT_S = 10.0
#: Lines of a host's stderr kept to explain its death.
_STDERR_TAIL = 40
_PACKAGE_ROOT = str(Path(vmsystem.__file__).resolve().parent.parent)


class _Call:
    """A request in flight: a reply, or a run's console lines and outcome."""

    __slots__ = ("done", "error", "outcome", "sink")

    def __init__(self, sink: ConsoleSink | None = None) -> None:
        self.done = threading.Event()
        self.error: str | None = None
        self.outcome: Outcome | None = None
        self.sink = sink


class _Worker:
    """One host process and its channel (a restarted host gets a new one)."""

    def __init__(self, host: _Host, memory_mb: int) -> None:
        self.host = host
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "vmsystem.hosts.worker",
                    str(child.fileno()),
                    host.id,
                    str(memory_mb),
                ],
                pass_fds=(child.fileno(),),
                close_fds=True,
                env=scrubbed_environment(dict(os.environ), _PACKAGE_ROOT),
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            parent.close()
            raise EngineError(f"cannot start session host {host.id}: {exc}") from exc
        finally:
            child.close()
        self.pid = self.proc.pid
        self.channel = Channel(parent)
        self.ready = threading.Event()
        self.alive = True
        self.cause: str | None = None
        self.kill_reason: str | None = None
        self.lock = threading.Lock()
        self.calls: dict[int, _Call] = {}
        self.runtimes: dict[str, ProcessRuntime] = {}
        self.reserved = 0
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL)
        self._ids = itertools.count(1)
        self._stderr_thread = threading.Thread(
            target=self._read_stderr, name=f"host-{host.id}-stderr", daemon=True
        )
        self._stderr_thread.start()
        self.reader = threading.Thread(
            target=self._read, name=f"host-{host.id}-reader", daemon=True
        )
        self.reader.start()

    @property
    def load(self) -> int:
        return len(self.runtimes) + self.reserved

    # ------------------------------------------------------------------ requests
    def request(self, message: dict[str, Any], call: _Call) -> int:
        """Send a request and register its call; ChannelClosed/EngineError if the host is gone."""
        with self.lock:
            if not self.alive:
                raise EngineError(self.cause or f"session host {self.host.id} is gone")
            req = next(self._ids)
            self.calls[req] = call
        message["req"] = req
        try:
            self.channel.send(message)
        except ChannelClosed:
            with self.lock:
                self.calls.pop(req, None)
            raise EngineError(self.cause or f"session host {self.host.id} is gone") from None
        return req

    def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(ChannelClosed):
            self.channel.send(message)

    def wait_ready(self) -> None:
        if not self.ready.wait(START_TIMEOUT_S):
            self.kill(f"it did not start within {START_TIMEOUT_S:.0f} s")
        if not self.alive:
            raise EngineError(self.cause or f"session host {self.host.id} did not start")

    def kill(self, reason: str) -> None:
        """SIGKILL the host process (the reader then reports its death with ``reason``)."""
        with self.lock:
            if self.kill_reason is None:
                self.kill_reason = reason
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    # ------------------------------------------------------------------ reading
    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", errors="replace").rstrip()
            if line:
                self.stderr_tail.append(line)
        self.proc.stderr.close()

    def _read(self) -> None:
        try:
            while True:
                message = self.channel.receive()
                self._dispatch(message)
        except ChannelClosed:
            pass
        except Exception:
            _log.exception("session host %s: bad message", self.host.id)
            self.kill("it sent a message the daemon could not read")
        self._died()

    def _dispatch(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "ready":
            self.ready.set()
            return
        with self.lock:
            call = self.calls.get(int(message.get("req", 0)))
        if call is None:
            return
        if op == "console":
            if call.sink is not None:
                lines = [(str(a), str(b), float(c)) for a, b, c in message.get("lines") or []]
                try:
                    call.sink(lines)
                except Exception:
                    _log.exception("console sink failed")
            return
        with self.lock:
            self.calls.pop(int(message["req"]), None)
        if op == "outcome":
            call.outcome = outcome_from_dict(message["outcome"])
        elif not message.get("ok"):
            call.error = str(message.get("error") or "failed")
        call.done.set()

    def _died(self) -> None:
        self.channel.close()
        try:
            returncode: int | None = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            # The channel broke but the process lives on: it cannot be trusted any more.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            returncode = self.proc.wait()
        self._stderr_thread.join(timeout=2)
        cause = self._cause(returncode)
        with self.lock:
            self.alive = False
            self.cause = cause
            calls = list(self.calls.values())
            self.calls.clear()
            runtimes = list(self.runtimes.values())
            self.runtimes.clear()
        self.ready.set()
        for call in calls:
            if call.sink is not None:
                call.outcome = Outcome(OutcomeKind.WEDGED, message=cause)
            else:
                call.error = cause
            call.done.set()
        for runtime in runtimes:
            runtime._lost(cause)
        self.host.worker_died(self, cause)

    def _cause(self, returncode: int | None) -> str:
        head = f"session host {self.host.id} (pid {self.pid})"
        if self.host.pool.closing and self.kill_reason is None:
            return f"{head} stopped (the daemon is shutting down)"
        cause = f"{head} died: {describe_exit(returncode)}"
        if self.kill_reason is not None:
            return f"{cause}: {self.kill_reason}"
        fatal = [line for line in self.stderr_tail if line.lstrip("# ").startswith("Fatal")]
        if fatal:
            return f"{cause}: V8 aborted ({fatal[-1].lstrip('# ').rstrip()})"
        if returncode == -signal.SIGKILL:
            return f"{cause} (the OOM killer or kill -9)"
        if self.stderr_tail:
            return f"{cause}: {self.stderr_tail[-1][:300]}"
        return cause


class _Host:
    """A host slot: a stable id, its current process, and how often it was restarted."""

    def __init__(self, pool: ProcessPool, host_id: str) -> None:
        self.pool = pool
        self.id = host_id
        self.restarts = 0
        self.retired = False
        self.worker = _Worker(self, pool.memory_mb)

    def worker_died(self, worker: _Worker, cause: str) -> None:
        if self.pool.closing or self.retired:
            _log.info("%s", cause)
            return
        _log.warning("%s", cause)
        with self.pool.lock:
            if self.worker is not worker:
                return
            try:
                self.worker = _Worker(self, self.pool.memory_mb)
            except EngineError:
                _log.exception("cannot restart session host %s", self.id)
                return
            self.restarts += 1

    def info(self) -> HostInfo:
        worker = self.worker
        return HostInfo(
            id=self.id,
            kind="process",
            pid=worker.pid,
            sessions=len(worker.runtimes),
            rss_bytes=rss_bytes(worker.pid) if worker.alive else None,
            alive=worker.alive and worker.ready.is_set(),
            restarts=self.restarts,
        )


class ProcessRuntime:
    """A session's runtime in a host process (see :class:`~vmsystem.hosts.base.SessionRuntime`)."""

    def __init__(self, worker: _Worker, session_id: str, on_lost: LostCallback) -> None:
        self._worker = worker
        self.host_id = worker.host.id
        self.session_id = session_id
        self._on_lost = on_lost
        self._lock = threading.Lock()
        self._closed = False
        self._lost_cause: str | None = None
        self._running = False
        self._cancelled_at: float | None = None

    @property
    def alive(self) -> bool:
        """False once closed or lost."""
        return not self._closed and self._lost_cause is None and self._worker.alive

    @property
    def pid(self) -> int:
        """The host process's pid."""
        return self._worker.pid

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
        """Run ``code`` in the host; a host death (or the last-resort kill) gives WEDGED."""
        with self._lock:
            if self._lost_cause is not None:
                raise EngineError(self._lost_cause)
            if self._closed:
                raise EngineError("context is closed")
            if self._running:
                raise EngineError("context is already running code")
            self._running = True
            self._cancelled_at = None
        try:
            call = _Call(sink)
            started = time.monotonic()
            self._worker.request(
                {
                    "op": "run",
                    "sid": self.session_id,
                    "code": code,
                    "filename": filename,
                    "wall_ms": limits.wall_ms,
                    "cpu_ms": limits.cpu_ms,
                    "args": args,
                    "env": dict(env) if env is not None else None,
                },
                call,
            )
            self._await(call, started, limits)
            assert call.outcome is not None
            return call.outcome
        finally:
            with self._lock:
                self._running = False

    def _await(self, call: _Call, started: float, limits: RunLimits) -> None:
        wall_deadline = (
            started + limits.wall_ms / 1000 + KILL_GRACE_S if limits.wall_ms is not None else None
        )
        while not call.done.wait(0.1):
            now = time.monotonic()
            cancelled = self._cancelled_at
            if cancelled is not None and now > cancelled + KILL_GRACE_S:
                self._worker.kill(
                    f"a run did not stop within {KILL_GRACE_S:g} s of its cancellation "
                    f"(the host was killed to end it)"
                )
                break
            if wall_deadline is not None and now > wall_deadline:
                self._worker.kill(
                    f"a run did not stop within {KILL_GRACE_S:g} s of its wall limit "
                    f"({limits.wall_ms:g} ms; the host was killed to end it)"
                )
                break
        if not call.done.wait(START_TIMEOUT_S):
            call.outcome = Outcome(
                OutcomeKind.WEDGED, message=f"session host {self.host_id} stopped answering"
            )

    def cancel(self) -> bool:
        """Ask the host to stop the run (and the host call it waits in); False if idle."""
        with self._lock:
            if not self._running or self._closed:
                return False
            if self._cancelled_at is None:
                self._cancelled_at = time.monotonic()
        self._worker.send({"op": "cancel", "sid": self.session_id})
        return True

    def close(self) -> None:
        """Close the runtime in its host (idempotent); a run in flight is cancelled first."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        worker = self._worker
        if self._running:
            self._cancelled_at = self._cancelled_at or time.monotonic()
            worker.send({"op": "cancel", "sid": self.session_id})
        call = _Call()
        try:
            worker.request({"op": "close", "sid": self.session_id}, call)
            call.done.wait(CLOSE_TIMEOUT_S)
        except EngineError:
            pass
        with worker.lock:
            worker.runtimes.pop(self.session_id, None)
        worker.host.pool._retire_if_surplus(worker.host)

    def _lost(self, cause: str) -> None:
        with self._lock:
            if self._closed or self._lost_cause is not None:
                return
            self._lost_cause = cause
            running = self._running
        # At the pool's close the owner is closing its sessions itself: nothing is lost.
        if not running and not self._worker.host.pool.closing:
            try:
                self._on_lost(cause)
            except Exception:
                _log.exception("on_lost callback failed")


class ProcessPool:
    """Supervised host processes (see the module docstring)."""

    kind = "process"

    def __init__(self, *, processes: int, sessions_per_host: int, memory_mb: int) -> None:
        self.processes = processes
        self.sessions_per_host = sessions_per_host
        self.memory_mb = memory_mb
        self.lock = threading.Lock()
        self.closing = False
        self._hosts: list[_Host] = []
        self._next_id = itertools.count(1)
        try:
            for _ in range(processes):
                self._hosts.append(_Host(self, str(next(self._next_id))))
        except BaseException:
            self.close()
            raise

    def start_runtime(self, spec: RuntimeSpec, on_lost: LostCallback) -> ProcessRuntime:
        """Create ``spec``'s runtime on the least-loaded live host (starting one if all are
        full); EngineError with the host's reason if it cannot be created."""
        with self.lock:
            if self.closing:
                raise EngineError("the host pool is closed")
            candidates = [
                h
                for h in self._hosts
                if h.worker.alive and not h.retired and h.worker.load < self.sessions_per_host
            ]
            if candidates:
                host = min(candidates, key=lambda h: (h.worker.load, int(h.id)))
            else:
                host = _Host(self, str(next(self._next_id)))
                self._hosts.append(host)
            worker = host.worker
            worker.reserved += 1
        try:
            worker.wait_ready()
            call = _Call()
            runtime = ProcessRuntime(worker, spec.session_id, on_lost)
            worker.request({"op": "create", "spec": spec.to_dict()}, call)
            if not call.done.wait(START_TIMEOUT_S):
                raise EngineError(f"session host {host.id} did not create the runtime in time")
            if call.error is not None:
                raise EngineError(call.error)
            with worker.lock:
                if not worker.alive:
                    raise EngineError(worker.cause or f"session host {host.id} is gone")
                worker.runtimes[spec.session_id] = runtime
            return runtime
        finally:
            with self.lock:
                worker.reserved -= 1

    def _retire_if_surplus(self, host: _Host) -> None:
        """Stop an extra host (beyond ``processes``) once its last session has closed."""
        with self.lock:
            worker = host.worker
            if (
                self.closing
                or host.retired
                or worker.load > 0
                or len([h for h in self._hosts if not h.retired]) <= self.processes
            ):
                return
            host.retired = True
            self._hosts.remove(host)
        _stop_worker(worker)

    def hosts(self) -> list[HostInfo]:
        """Every host, by id."""
        with self.lock:
            hosts = list(self._hosts)
        return [h.info() for h in hosts]

    def close(self) -> None:
        """Stop every host process and reap it; idempotent."""
        with self.lock:
            self.closing = True
            hosts = list(self._hosts)
        workers = [h.worker for h in hosts]
        for worker in workers:
            worker.send({"op": "shutdown"})
        deadline = time.monotonic() + 3.0
        for worker in workers:
            try:
                worker.proc.wait(timeout=max(deadline - time.monotonic(), 0.05))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)
                worker.proc.wait()
        for worker in workers:
            worker.reader.join(timeout=5)


def _stop_worker(worker: _Worker) -> None:
    worker.send({"op": "shutdown"})
    try:
        worker.proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        worker.kill("it did not stop when asked")
        worker.proc.wait()
