"""One timer thread for every run of a pool: the last-resort kills and their fallbacks.

A run's deadlines (its wall limit plus :data:`~vmsystem.hosts.base.KILL_GRACE_S`, a cancel plus
the same grace) are armed here instead of polled by a thread per run: the thread sleeps until
the earliest armed deadline (or until a new, earlier one is armed) and runs the actions that are
due. An action must be quick and must not raise (it is logged if it does).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

__all__ = ["Timer", "Watchdog"]

_log = logging.getLogger(__name__)


class Timer:
    """An armed action; :meth:`cancel` disarms it (idempotent, from any thread)."""

    __slots__ = ("action", "cancelled", "when")

    def __init__(self, when: float, action: Callable[[], None]) -> None:
        self.when = when
        self.action = action
        self.cancelled = False

    def cancel(self) -> None:
        """Do not run the action (if it has not run yet)."""
        self.cancelled = True
        # A cancelled timer waits in the heap until its time comes: it must not keep its
        # action (and the run the action closes over) alive until then.
        self.action = _nothing


def _nothing() -> None:
    pass


class Watchdog:
    """Timers on one thread, started at the first :meth:`arm` and ended by :meth:`close`."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False

    def arm(self, delay_s: float, action: Callable[[], None]) -> Timer:
        """Run ``action`` on the watchdog's thread ``delay_s`` seconds from now."""
        timer = Timer(time.monotonic() + delay_s, action)
        with self._cond:
            if self._closed:
                timer.cancelled = True
                return timer
            heapq.heappush(self._heap, (timer.when, next(self._seq), timer))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            elif self._heap[0][2] is timer:
                self._cond.notify()
        return timer

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        return
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        timer = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(delay)
            if timer.cancelled:
                continue
            try:
                timer.action()
            except Exception:
                _log.exception("watchdog action failed")

    def close(self) -> None:
        """Disarm everything and end the thread (idempotent)."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
