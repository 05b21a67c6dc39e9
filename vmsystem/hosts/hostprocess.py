"""One host process of the process backend: its start, its channel and its death.

:class:`HostProcess` starts ``python -m vmsystem.hosts.worker`` with a scrubbed environment and
none of the daemon's descriptors, reads its channel in a thread (replies, streamed console
batches, outcomes), keeps the tail of its stderr, and, when the channel ends, reaps the process
and names the cause for the runs and runtimes it held.
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
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import vmsystem
from vmsystem.hosts import wire
from vmsystem.hosts.base import OutcomeCallback
from vmsystem.hosts.harden import scrubbed_environment
from vmsystem.hosts.procfs import describe_exit
from vmsystem.hosts.protocol import Channel, ChannelClosed
from vmsystem.runtime import ConsoleSink, EngineError, Outcome, OutcomeKind


class HostSlot(Protocol):
    """What a host process needs of the slot it fills (the pool's host)."""

    id: str

    @property
    def closing(self) -> bool:
        """Whether the pool is shutting down."""
        ...

    def died(self, host: HostProcess, cause: str) -> None:
        """The process is gone (``cause`` says why)."""
        ...


class HeldRuntime(Protocol):
    """What a host process needs of a runtime it holds."""

    def lost(self, cause: str) -> None:
        """The host died: the runtime is lost."""
        ...


__all__ = ["Call", "HeldRuntime", "HostProcess", "HostSlot", "stop_process"]

_log = logging.getLogger(__name__)

#: Lines of a host's stderr kept to explain its death.
_STDERR_TAIL = 40
_PACKAGE_ROOT = str(Path(vmsystem.__file__).resolve().parent.parent)


class Call:
    """A request in flight: a reply, or a run's console lines and outcome."""

    __slots__ = ("completion", "done", "error", "files", "on_outcome", "outcome", "sink")

    def __init__(
        self, sink: ConsoleSink | None = None, on_outcome: OutcomeCallback | None = None
    ) -> None:
        self.done = threading.Event()
        self.error: str | None = None
        self.outcome: Outcome | None = None
        self.sink = sink
        self.on_outcome = on_outcome
        #: A file operation's answer.
        self.files: wire.FilesResult | None = None
        #: A completion's answer.
        self.completion: wire.CompleteResult | None = None

    def end(self, outcome: Outcome) -> None:
        """The run ended: record its outcome and hand it on (on the calling thread)."""
        self.outcome = outcome
        self.done.set()
        if self.on_outcome is not None:
            self.on_outcome(outcome)


class HostProcess:
    """One host process and its channel (a restarted host gets a new one)."""

    def __init__(self, host: HostSlot, memory_mb: int) -> None:
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
        #: The host's Ready (its engine and versions), once it came.
        self.hello: wire.Ready | None = None
        self.alive = True
        self.cause: str | None = None
        self.kill_reason: str | None = None
        self.lock = threading.Lock()
        self.calls: dict[int, Call] = {}
        self.runtimes: dict[str, HeldRuntime] = {}
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

    # ------------------------------------------------------------------ requests
    def request(self, make: Callable[[int], wire.Message], call: Call) -> int:
        """Send the request ``make(req)`` and register its call; EngineError if the host is
        gone."""
        with self.lock:
            if not self.alive:
                raise EngineError(self.cause or f"session host {self.host.id} is gone")
            req = next(self._ids)
            self.calls[req] = call
        try:
            self.channel.send(make(req))
        except ChannelClosed:
            with self.lock:
                self.calls.pop(req, None)
            raise EngineError(self.cause or f"session host {self.host.id} is gone") from None
        return req

    def send(self, message: wire.Message) -> None:
        with contextlib.suppress(ChannelClosed):
            self.channel.send(message)

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
                self._dispatch(self.channel.receive())
        except ChannelClosed:
            pass
        except wire.WireError as exc:
            _log.error("session host %s: %s", self.host.id, exc)
            self.kill(str(exc))
        except Exception:
            _log.exception("session host %s: bad message", self.host.id)
            self.kill("it sent a message the daemon could not read")
        self._died()

    def _dispatch(self, message: wire.Message) -> None:
        if isinstance(message, wire.Ready):
            wire.check_ready(message, f"session host {self.host.id} (pid {self.pid})")
            self.hello = message
            self.ready.set()
            return
        if not isinstance(
            message,
            wire.ConsoleBatch
            | wire.RunOutcome
            | wire.Reply
            | wire.FilesResult
            | wire.CompleteResult,
        ):
            raise wire.WireError(f"the daemon does not take {message.op!r} messages")
        with self.lock:
            call = self.calls.get(message.req)
        if call is None:
            return
        if isinstance(message, wire.ConsoleBatch):
            if call.sink is not None:
                try:
                    call.sink(message.lines)
                except Exception:
                    _log.exception("console sink failed")
            return
        with self.lock:
            self.calls.pop(message.req, None)
        if isinstance(message, wire.RunOutcome):
            call.end(message.outcome)
            return
        if isinstance(message, wire.FilesResult):
            call.files = message
        elif isinstance(message, wire.CompleteResult):
            call.completion = message
        elif not message.ok:
            call.error = message.error or "failed"
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
        # Runtimes first: one with a run in flight ends that run with the cause (and is then
        # not reported lost while idle); the calls' own ends are then no-ops.
        for runtime in runtimes:
            runtime.lost(cause)
        for call in calls:
            if call.on_outcome is not None:
                call.end(Outcome(OutcomeKind.LOST, message=cause))
            else:
                call.error = cause
                call.done.set()
        self.host.died(self, cause)

    def _cause(self, returncode: int | None) -> str:
        head = f"session host {self.host.id} (pid {self.pid})"
        if self.host.closing and self.kill_reason is None:
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


def stop_process(worker: HostProcess) -> None:
    worker.send(wire.Shutdown())
    try:
        worker.proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        worker.kill("it did not stop when asked")
        worker.proc.wait()
