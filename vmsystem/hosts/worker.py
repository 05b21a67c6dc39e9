"""A session host process: ``python -m vmsystem.hosts.worker FD HOST_ID MEMORY_MB``.

It hardens itself (:mod:`vmsystem.hosts.harden`), then serves a :class:`HostCore` over the
channel on file descriptor ``FD`` (:mod:`vmsystem.hosts.protocol`). The reading loop never
blocks on a run: a run goes to its session's run thread (which sends the outcome), a create,
close or file operation (``files``) to a small pool of threads, so the sessions of one host run
concurrently, a cancel is read while a run goes on and files are served while code runs. At
the end of the stream (the daemon
closed the channel or died) the host exits.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vmsystem.hosts.harden import apply_limits
from vmsystem.hosts.protocol import Channel, ChannelClosed

__all__ = ["main"]

#: How long the host waits for its runtimes to close at shutdown before it exits anyway (a
#: run stuck in a builtin never lets its context close).
_SHUTDOWN_WAIT_S = 2.0


class _Server:
    def __init__(self, channel: Channel, host_id: str) -> None:
        from vmsystem.hosts.local import HostCore

        self.channel = channel
        self.core = HostCore(host_id)
        # Creates and closes (building or disposing an isolate takes a while); the bound is
        # far above what the sessions of one host can have in flight.
        self.pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="host-call")

    def send(self, message: dict[str, Any]) -> None:
        # If the daemon is gone, the reading loop ends the process.
        with contextlib.suppress(ChannelClosed):
            self.channel.send(message)

    def spawn(self, target: Any, message: dict[str, Any]) -> None:
        self.pool.submit(target, message)

    def create(self, message: dict[str, Any]) -> None:
        from vmsystem.hosts.base import RuntimeSpec

        try:
            self.core.create(RuntimeSpec.from_dict(message["spec"]))
        except Exception as exc:
            self.send({"op": "reply", "req": message["req"], "ok": False, "error": str(exc)})
        else:
            self.send({"op": "reply", "req": message["req"], "ok": True})

    def run(self, message: dict[str, Any]) -> None:
        """Start the run on its session's run thread (read on the reading thread), which
        sends the outcome itself."""
        from vmsystem.hosts.base import outcome_to_dict
        from vmsystem.runtime import EngineError, Outcome, OutcomeKind, RunLimits

        req = message["req"]

        def sink(lines: list[Any]) -> None:
            self.send({"op": "console", "req": req, "lines": lines})

        def on_outcome(outcome: Outcome) -> None:
            self.send({"op": "outcome", "req": req, "outcome": outcome_to_dict(outcome)})

        try:
            self.core.get(message["sid"]).start_run(
                message["code"],
                filename=message.get("filename"),
                limits=RunLimits(wall_ms=message.get("wall_ms"), cpu_ms=message.get("cpu_ms")),
                sink=sink,
                args=message.get("args"),
                env=message.get("env"),
                on_outcome=on_outcome,
            )
        except EngineError as exc:
            on_outcome(Outcome(OutcomeKind.LOST, message=f"runtime lost: {exc}"))

    def files(self, message: dict[str, Any]) -> None:
        from vmsystem.modules.worktree import FileRequest, WorktreeError

        req = message["req"]
        try:
            reply = self.core.files(str(message["sid"]), FileRequest.from_dict(message["request"]))
        except WorktreeError as exc:
            answer = {"op": "reply", "req": req, "ok": False, "error": exc.message}
            self.send({**answer, "failure": exc.to_dict()})
        except Exception as exc:
            self.send({"op": "reply", "req": req, "ok": False, "error": str(exc)})
        else:
            self.send({"op": "reply", "req": req, "ok": True, "result": reply.to_dict()})

    def close(self, message: dict[str, Any]) -> None:
        try:
            self.core.close(message["sid"])
        finally:
            self.send({"op": "reply", "req": message["req"], "ok": True})

    def serve(self) -> None:
        self.send({"op": "ready", "pid": os.getpid()})
        while True:
            try:
                message = self.channel.receive()
            except ChannelClosed:
                return
            op = message.get("op")
            if op == "run":
                self.run(message)
            elif op == "cancel":
                self.core.cancel(str(message.get("sid")))
            elif op == "create":
                self.spawn(self.create, message)
            elif op == "close":
                self.spawn(self.close, message)
            elif op == "files":
                self.spawn(self.files, message)
            elif op == "shutdown":
                return

    def shutdown(self) -> None:
        closer = threading.Thread(target=self.core.close_all, daemon=True)
        closer.start()
        closer.join(_SHUTDOWN_WAIT_S)


def main(argv: list[str]) -> int:
    """Serve one host until the channel ends."""
    fd, host_id, memory_mb = int(argv[0]), argv[1], int(argv[2])
    apply_limits(memory_mb)
    channel = Channel(socket.socket(fileno=fd))
    server = _Server(channel, host_id)
    try:
        server.serve()
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    # A run stuck in a builtin holds a non-daemon engine thread: exit without waiting for it.
    os._exit(code)
