"""The process backend: sessions' runtimes in a pool of supervised host processes.

Each host is a ``python -m vmsystem.hosts.worker`` process holding up to ``sessions_per_host``
sessions behind a :class:`~vmsystem.hosts.protocol.Channel` (a socketpair). ``processes`` hosts
are started with the pool; when every host is full another is started, and such an extra host
stops again when its last session closes. A new session goes to the least-loaded live host and
stays there.

Supervision: each host has a reader thread; the end of its channel means the host died. The
pool then reaps it, names the cause (exit status or signal, and V8's own last words from the
host's stderr), ends the runs in flight ``LOST`` with that cause, tells the idle runtimes'
owners (``on_lost``) and starts a new process under the same host id (``restarts`` counts
them). A run that has not ended ``KILL_GRACE_S`` after its wall limit (or after a cancel) gets
its host killed: the last resort for a builtin that never checks for termination.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import os
import signal
import subprocess
import threading
import time

from vmsystem.hosts import wire
from vmsystem.hosts.base import EngineInfo, HostInfo, LostCallback, OutcomeCallback, RuntimeSpec
from vmsystem.hosts.hostprocess import START_TIMEOUT_S, Call, HostProcess, stop_process
from vmsystem.hosts.local import completion_of, files_reply
from vmsystem.hosts.procfs import rss_bytes
from vmsystem.hosts.remote import RemoteRuntime
from vmsystem.hosts.watchdog import Watchdog
from vmsystem.modules.worktree import FileReply, FileRequest, remove_worktree
from vmsystem.runtime import Completion, ConsoleSink, EngineError

__all__ = ["ProcessPool", "ProcessRuntime"]

_log = logging.getLogger(__name__)

#: How long a close waits for the host's answer.
CLOSE_TIMEOUT_S = 10.0
#: How long a file operation may take in the host (a large archive on a slow disk).
FILES_TIMEOUT_S = 300.0
#: How long a completion waits for the host's answer.
COMPLETE_TIMEOUT_S = 10.0


class _Host:
    """A host slot: a stable id, its current process, and how often it was restarted."""

    def __init__(self, pool: ProcessPool, host_id: str) -> None:
        self.pool = pool
        self.id = host_id
        self.restarts = 0
        self.retired = False
        self.worker = HostProcess(self, pool.memory_mb)

    @property
    def closing(self) -> bool:
        """Whether the pool is shutting down."""
        return self.pool.closing

    def worker_died(self, worker: HostProcess, cause: str) -> None:
        if self.pool.closing or self.retired:
            _log.info("%s", cause)
            return
        _log.warning("%s", cause)
        with self.pool.lock:
            if self.worker is not worker:
                return
            try:
                self.worker = HostProcess(self, self.pool.memory_mb)
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


class ProcessRuntime(RemoteRuntime):
    """A session's runtime in a host process (see :class:`~vmsystem.hosts.base.SessionRuntime`).

    A run's outcome is delivered by the host's reader thread, the thread that reads it.
    """

    def __init__(
        self,
        host: _Host,
        worker: HostProcess,
        session_id: str,
        on_lost: LostCallback,
        watchdog: Watchdog,
    ) -> None:
        super().__init__(host.id, session_id, on_lost, watchdog)
        self._host = host
        self._worker = worker

    def _host_alive(self) -> bool:
        return self._worker.alive

    @property
    def pid(self) -> int:
        """The host process's pid."""
        return self._worker.pid

    def _send_run(self, run: wire.Run, sink: ConsoleSink, finish: OutcomeCallback) -> None:
        self._worker.request(lambda req: dataclasses.replace(run, req=req), Call(sink, finish))

    def _kill_host(self, reason: str) -> None:
        self._worker.kill(reason)

    def files(self, request: FileRequest) -> FileReply:
        """Run a file operation in the host; WorktreeError if refused, EngineError if the host
        is gone or does not answer."""
        if not self.alive:
            raise EngineError(self._lost_cause or "the session's runtime is closed")
        call = Call()
        self._worker.request(lambda req: wire.Files(req, self.session_id, request), call)
        if not call.done.wait(FILES_TIMEOUT_S):
            raise EngineError(f"session host {self.host_id} did not answer a file operation")
        if call.files is None:
            raise EngineError(call.error or f"session host {self.host_id} is gone")
        return files_reply(call.files)

    def complete(self, code: str, cursor: int) -> Completion:
        """Completions computed in the host (EngineBusy while a run is in flight)."""
        self._check_completable()
        call = Call()
        self._worker.request(lambda req: wire.Complete(req, self.session_id, code, cursor), call)
        if not call.done.wait(COMPLETE_TIMEOUT_S):
            raise EngineError(f"session host {self.host_id} did not answer a completion in time")
        if call.completion is None:
            raise EngineError(call.error or f"session host {self.host_id} is gone")
        return completion_of(call.completion)

    def cancel(self) -> bool:
        """Ask the host to stop the run (and the host call it waits in); False if idle."""
        if not self._note_cancel():
            return False
        self._worker.send(wire.Cancel(self.session_id))
        return True

    def close(self) -> None:
        """Close the runtime in its host (idempotent); a run in flight is cancelled first."""
        running = self._begin_close()
        if running is None:
            return
        worker = self._worker
        if running:
            worker.send(wire.Cancel(self.session_id))
        call = Call()
        try:
            worker.request(lambda req: wire.Close(req, self.session_id), call)
            call.done.wait(CLOSE_TIMEOUT_S)
        except EngineError:
            pass
        with worker.lock:
            worker.runtimes.pop(self.session_id, None)
        self._host.pool._retire_if_surplus(self._host)

    def lost(self, cause: str) -> None:
        """Its host died (called by the host's supervisor)."""
        self._lost(cause, pool_closing=self._host.closing)


class ProcessPool:
    """Supervised host processes (see the module docstring)."""

    kind = "process"

    def __init__(self, *, processes: int, sessions_per_host: int, memory_mb: int) -> None:
        self.processes = processes
        self.sessions_per_host = sessions_per_host
        self.memory_mb = memory_mb
        self.lock = threading.Lock()
        self.closing = False
        self._engine: EngineInfo | None = None
        self.watchdog = Watchdog("process-hosts-watchdog")
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
            call = Call()
            runtime = ProcessRuntime(host, worker, spec.session_id, on_lost, self.watchdog)
            worker.request(lambda req: wire.Create(req, spec), call)
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
        stop_process(worker)

    def remove_worktree(self, path: str) -> None:
        """Delete a managed worktree: host processes run on this machine, so the daemon does
        it itself."""
        remove_worktree(path)

    def engine(self) -> EngineInfo:
        """The engine the first host's Ready named (see :meth:`HostPool.engine`)."""
        with self.lock:
            if self._engine is not None:
                return self._engine
            if self.closing:
                raise EngineError("the host pool is closed")
            hosts = [h for h in self._hosts if not h.retired]
            if not hosts:
                hosts = [_Host(self, str(next(self._next_id)))]
                self._hosts.extend(hosts)
            worker = hosts[0].worker
        worker.wait_ready()
        hello = worker.hello
        if hello is None:
            raise EngineError(worker.cause or f"session host {worker.host.id} did not start")
        self._engine = EngineInfo(hello.engine, hello.engine_version)
        return self._engine

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
            worker.send(wire.Shutdown())
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
        self.watchdog.close()
