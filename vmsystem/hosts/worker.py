"""A session host process: ``python -m vmsystem.hosts.worker FD HOST_ID MEMORY_MB``.

It hardens itself (:mod:`vmsystem.hosts.harden`), then serves a :class:`HostCore` over the
channel on file descriptor ``FD`` (:mod:`vmsystem.hosts.protocol`). The reading loop never
blocks on a run: a run goes to its session's run thread (which sends the outcome), a create,
close or file operation (``files``) to a small pool of threads, so the sessions of one host run
concurrently, a cancel is read while a run goes on and files are served while code runs. At
the end of the stream (the daemon closed the channel or died) the host exits.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from vmsystem.hosts import wire
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

    def send(self, message: wire.Message) -> None:
        # If the daemon is gone, the reading loop ends the process.
        with contextlib.suppress(ChannelClosed):
            self.channel.send(message)

    def create(self, message: wire.Create) -> None:
        try:
            self.core.create(message.spec)
        except Exception as exc:
            self.send(wire.Reply(message.req, ok=False, error=str(exc)))
        else:
            self.send(wire.Reply(message.req, ok=True))

    def run(self, message: wire.Run) -> None:
        """Start the run on its session's run thread (read on the reading thread), which
        sends the console batches and the outcome itself."""
        from vmsystem.runtime import ConsoleLine, EngineError, Outcome, OutcomeKind

        req = message.req

        def sink(lines: list[ConsoleLine]) -> None:
            self.send(wire.ConsoleBatch(req, lines))

        def on_outcome(outcome: Outcome) -> None:
            self.send(wire.RunOutcome(req, outcome))

        try:
            self.core.get(message.sid).start_run(
                message.code,
                filename=message.filename,
                limits=message.limits,
                sink=sink,
                args=message.args,
                env=message.env,
                on_outcome=on_outcome,
            )
        except EngineError as exc:
            on_outcome(Outcome(OutcomeKind.LOST, message=f"runtime lost: {exc}"))

    def complete(self, message: wire.Complete) -> None:
        from vmsystem.hosts.local import complete_result

        self.send(complete_result(self.core, message))

    def files(self, message: wire.Files) -> None:
        from vmsystem.hosts.local import files_result

        self.send(files_result(self.core, message))

    def close(self, message: wire.Close) -> None:
        try:
            self.core.close(message.sid)
        finally:
            self.send(wire.Reply(message.req, ok=True))

    def serve(self) -> None:
        from vmsystem.hosts.local import ready_message

        self.send(ready_message())
        while True:
            try:
                message = self.channel.receive()
            except ChannelClosed:
                return
            if isinstance(message, wire.Run):
                self.run(message)
            elif isinstance(message, wire.Cancel):
                self.core.cancel(message.sid)
            elif isinstance(message, wire.Create):
                self.pool.submit(self.create, message)
            elif isinstance(message, wire.Close):
                self.pool.submit(self.close, message)
            elif isinstance(message, wire.Files):
                self.pool.submit(self.files, message)
            elif isinstance(message, wire.Complete):
                self.pool.submit(self.complete, message)
            elif isinstance(message, wire.Shutdown):
                return
            else:
                raise wire.WireError(f"a host does not take {message.op!r} messages")

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
