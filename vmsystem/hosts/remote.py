"""What a runtime in another process (a host process or a Ray actor) keeps on the daemon's side.

The lifecycle bookkeeping shared by :class:`~vmsystem.hosts.process.ProcessRuntime` and
:class:`~vmsystem.hosts.ray.RayRuntime`: one run at a time, its outcome delivered exactly once,
cancellation, close, loss of the host (``on_lost`` only for a runtime lost while idle: a run in
flight reports ``LOST`` itself), and the last-resort kill of a host whose run is overdue,
armed on the pool's one :class:`~vmsystem.hosts.watchdog.Watchdog` (no thread per run).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from vmsystem.hosts import wire
from vmsystem.hosts.base import (
    KILL_GRACE_S,
    LostCallback,
    OutcomeCallback,
    deliver_outcome,
    wait_for_outcome,
)
from vmsystem.hosts.watchdog import Timer, Watchdog
from vmsystem.runtime import (
    ConsoleSink,
    EngineBusy,
    EngineError,
    Outcome,
    OutcomeKind,
    RunLimits,
)

__all__ = ["ANSWER_TIMEOUT_S", "RemoteRuntime"]

_log = logging.getLogger(__name__)

#: How long a killed host may take to report its runs' end before they are ended without it.
ANSWER_TIMEOUT_S = 60.0


class _Flight:
    """The run in flight: its callback and its armed timers."""

    __slots__ = ("cancel_timer", "done", "on_outcome", "timers")

    def __init__(self, on_outcome: OutcomeCallback) -> None:
        self.on_outcome = on_outcome
        self.done = False
        self.timers: list[Timer] = []
        self.cancel_timer: Timer | None = None


class RemoteRuntime:
    """Daemon-side state of a session's runtime that lives in another process.

    Backends implement :meth:`_host_alive`, :meth:`_send_run` and :meth:`_kill_host`.
    """

    def __init__(
        self, host_id: str, session_id: str, on_lost: LostCallback, watchdog: Watchdog
    ) -> None:
        self.host_id = host_id
        self.session_id = session_id
        self._on_lost = on_lost
        self._watchdog = watchdog
        self._lock = threading.Lock()
        self._closed = False
        self._lost_cause: str | None = None
        self._flight: _Flight | None = None

    def _host_alive(self) -> bool:
        """Whether the process holding the runtime is alive."""
        raise NotImplementedError

    def _send_run(self, run: wire.Run, sink: ConsoleSink, finish: OutcomeCallback) -> None:
        """Send ``run`` to the host (its ``req`` is the backend's to set); ``finish(outcome)``
        when its outcome (or the host's death) arrives. Raises EngineError if the host cannot
        take it."""
        raise NotImplementedError

    def _kill_host(self, reason: str) -> None:
        """Kill the host process (its death then ends the run in flight)."""
        raise NotImplementedError

    @property
    def alive(self) -> bool:
        """False once closed or lost."""
        return not self._closed and self._lost_cause is None and self._host_alive()

    @property
    def _running(self) -> bool:
        return self._flight is not None

    def _check_completable(self) -> None:
        """Raise unless a completion may be sent: EngineBusy while a run is in flight,
        EngineError once the runtime is closed or lost."""
        with self._lock:
            if self._closed or self._lost_cause is not None:
                raise EngineError(self._lost_cause or "context is closed")
            if self._flight is not None:
                raise EngineBusy("the session is running code")

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
        """Start a run in the host (see :meth:`vmsystem.hosts.base.SessionRuntime.start_run`)."""
        flight = _Flight(on_outcome)
        with self._lock:
            if self._lost_cause is not None:
                raise EngineError(self._lost_cause)
            if self._closed:
                raise EngineError("context is closed")
            if self._flight is not None:
                raise EngineError("context is already running code")
            self._flight = flight
            if limits.wall_ms is not None:
                flight.timers.append(
                    self._watchdog.arm(
                        limits.wall_ms / 1000 + KILL_GRACE_S,
                        lambda: self._overdue(
                            flight,
                            f"a run did not stop within {KILL_GRACE_S:g} s of its wall limit "
                            f"({limits.wall_ms:g} ms; the host was killed to end it)",
                        ),
                    )
                )
        try:
            run = wire.Run(
                req=0,
                sid=self.session_id,
                code=code,
                limits=limits,
                filename=filename,
                args=args,
                env=dict(env) if env is not None else None,
            )
            self._send_run(run, sink, lambda o: self._finish(flight, o))
        except BaseException:
            with self._lock:
                self._settle(flight)
            raise

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
        """:meth:`start_run` and wait for its outcome."""
        return wait_for_outcome(
            lambda on_outcome: self.start_run(
                code,
                filename=filename,
                limits=limits,
                sink=sink,
                args=args,
                env=env,
                on_outcome=on_outcome,
            )
        )

    def _settle(self, flight: _Flight) -> bool:
        """Mark ``flight`` ended (under the lock); False if it already was."""
        if flight.done:
            return False
        flight.done = True
        for timer in flight.timers:
            timer.cancel()
        if self._flight is flight:
            self._flight = None
        return True

    def _finish(self, flight: _Flight, outcome: Outcome) -> None:
        with self._lock:
            if not self._settle(flight):
                return
        deliver_outcome(flight.on_outcome, outcome)

    def _overdue(self, flight: _Flight, why: str) -> None:
        """A watchdog action: the run went on past its grace; kill its host, and end the run
        without the host's word if even that is not reported in time."""
        if flight.done:
            return
        self._kill_host(why)
        flight.timers.append(
            self._watchdog.arm(
                ANSWER_TIMEOUT_S,
                lambda: self._finish(
                    flight,
                    Outcome(
                        OutcomeKind.LOST,
                        message=f"session host {self.host_id} stopped answering",
                    ),
                ),
            )
        )

    def _note_cancel(self) -> bool:
        """Record a cancel request (arming its kill deadline); False when nothing runs."""
        with self._lock:
            flight = self._flight
            if flight is None or self._closed:
                return False
            self._arm_cancel(flight)
            return True

    def _arm_cancel(self, flight: _Flight) -> None:
        if flight.cancel_timer is None:
            flight.cancel_timer = self._watchdog.arm(
                KILL_GRACE_S,
                lambda: self._overdue(
                    flight,
                    f"a run did not stop within {KILL_GRACE_S:g} s of its cancellation "
                    "(the host was killed to end it)",
                ),
            )
            flight.timers.append(flight.cancel_timer)

    def _begin_close(self) -> bool | None:
        """Mark the runtime closed: None if it already was, else whether a run is in flight
        (which then counts as cancelled from now)."""
        with self._lock:
            if self._closed:
                return None
            self._closed = True
            flight = self._flight
            if flight is not None:
                self._arm_cancel(flight)
            return flight is not None

    def _lost(self, cause: str, *, pool_closing: bool) -> None:
        """The host died: remember why; a run in flight ends ``LOST`` with the cause, else
        the owner is told (``on_lost``). At the pool's close nothing is lost: the owner is
        closing its sessions itself."""
        with self._lock:
            flight = self._flight
            if self._lost_cause is None:
                self._lost_cause = cause
            elif flight is None:
                return
            closed = self._closed
        if flight is not None:
            self._finish(flight, Outcome(OutcomeKind.LOST, message=cause))
            return
        if not closed and not pool_closing:
            try:
                self._on_lost(cause)
            except Exception:
                _log.exception("on_lost callback failed")
