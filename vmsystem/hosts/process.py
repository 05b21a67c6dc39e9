"""The process backend: sessions' runtimes in a pool of supervised host processes.

Each host is a ``python -m vmsystem.hosts.worker`` process holding up to ``sessions_per_host``
sessions behind a :class:`~vmsystem.hosts.protocol.Channel` (a socketpair). ``processes`` hosts
are started with the pool; when every host is full another is started, and such an extra host
stops again when its last session closes. A new session goes to the least-loaded live host and
stays there.

Placement, retirement and restarts are the :class:`~vmsystem.hosts.supervisor.Supervisor`'s;
this module is its :class:`ProcessLauncher` and the daemon side of a runtime. Each host has a
reader thread; the end of its channel means the host died. The reader then reaps it, names the
cause (exit status or signal, and V8's own last words from the host's stderr), ends the runs in
flight ``LOST`` with that cause, tells the idle runtimes' owners (``on_lost``), and the
supervisor starts a new process under the same host id (``restarts`` counts them). A run that
has not ended ``KILL_GRACE_S`` after its wall limit (or after a cancel) gets its host killed: the
last resort for a builtin that never checks for termination.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import subprocess
import time

from vmsystem.hosts import wire
from vmsystem.hosts.base import LostCallback, OutcomeCallback, RuntimeSpec
from vmsystem.hosts.hostprocess import Call, HostProcess, stop_process
from vmsystem.hosts.local import completion_of, files_reply
from vmsystem.hosts.procfs import rss_bytes
from vmsystem.hosts.remote import RemoteRuntime
from vmsystem.hosts.supervisor import START_TIMEOUT_S, Slot
from vmsystem.hosts.watchdog import Watchdog
from vmsystem.modules.worktree import FileReply, FileRequest, remove_worktree
from vmsystem.runtime import Completion, ConsoleSink, EngineError

__all__ = ["ProcessLauncher", "ProcessRuntime"]

_log = logging.getLogger(__name__)

#: How long a close waits for the host's answer.
CLOSE_TIMEOUT_S = 10.0
#: How long a file operation may take in the host (a large archive on a slow disk).
FILES_TIMEOUT_S = 300.0
#: How long a completion waits for the host's answer.
COMPLETE_TIMEOUT_S = 10.0


class ProcessRuntime(RemoteRuntime):
    """A session's runtime in a host process (see :class:`~vmsystem.hosts.base.SessionRuntime`).

    A run's outcome is delivered by the host's reader thread, the thread that reads it.
    """

    def __init__(
        self,
        slot: Slot[HostProcess],
        worker: HostProcess,
        session_id: str,
        on_lost: LostCallback,
        watchdog: Watchdog,
    ) -> None:
        super().__init__(slot.id, session_id, on_lost, watchdog)
        self._slot = slot
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
        self._slot.release(self.session_id, worker)

    def lost(self, cause: str) -> None:
        """Its host died (called by the host's supervisor)."""
        self._lost(cause, pool_closing=self._slot.closing)


class ProcessLauncher:
    """Starts host processes (the :class:`~vmsystem.hosts.supervisor.Launcher` of the
    process backend)."""

    kind = "process"

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb

    def spawn(self, slot: Slot[HostProcess]) -> HostProcess:
        """Start a host process for ``slot`` (its reader reports its Ready and its death)."""
        return HostProcess(slot, self.memory_mb)

    def stop(self, host: HostProcess) -> None:
        """Ask the process to shut down; kill it if it does not."""
        stop_process(host)

    def kill(self, host: HostProcess, reason: str) -> None:
        """SIGKILL the process."""
        host.kill(reason)

    def alive(self, host: HostProcess) -> bool:
        """Started (its Ready came) and not dead."""
        return host.alive and host.hello is not None

    def pid(self, host: HostProcess) -> int | None:
        """The process id."""
        return host.pid

    def memory(self, host: HostProcess) -> int | None:
        """The process's RSS."""
        return rss_bytes(host.pid)

    def create(
        self,
        slot: Slot[HostProcess],
        host: HostProcess,
        spec: RuntimeSpec,
        on_lost: LostCallback,
        watchdog: Watchdog,
    ) -> ProcessRuntime:
        """Create the runtime in the host process."""
        call = Call()
        runtime = ProcessRuntime(slot, host, spec.session_id, on_lost, watchdog)
        host.request(lambda req: wire.Create(req, spec), call)
        if not call.done.wait(START_TIMEOUT_S):
            raise EngineError(f"session host {slot.id} did not create the runtime in time")
        if call.error is not None:
            raise EngineError(call.error)
        return runtime

    def remove_worktree(self, path: str, hosts: list[HostProcess]) -> None:
        """Host processes run on this machine: the daemon deletes it itself."""
        remove_worktree(path)

    def close(self, hosts: list[HostProcess]) -> None:
        """Ask every host to shut down, then reap them (killing what is left after 3 s)."""
        for worker in hosts:
            worker.send(wire.Shutdown())
        deadline = time.monotonic() + 3.0
        for worker in hosts:
            try:
                worker.proc.wait(timeout=max(deadline - time.monotonic(), 0.05))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)
                worker.proc.wait()
        for worker in hosts:
            worker.reader.join(timeout=5)
