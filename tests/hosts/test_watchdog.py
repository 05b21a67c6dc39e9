"""The pools' one timer thread: armed actions run when due, cancelled ones never, and a
cancelled timer lets go of its action at once (it waits in the heap until its time)."""

from __future__ import annotations

import functools
import threading
import weakref

from vmsystem.hosts.watchdog import Watchdog


class _Run:
    """Stands for what a run's timer action closes over (its flight, its outcome callback)."""


def test_an_armed_action_runs_and_a_cancelled_one_does_not() -> None:
    dog = Watchdog("test-watchdog")
    try:
        ran = threading.Event()
        cancelled_ran = threading.Event()
        dog.arm(0.01, cancelled_ran.set).cancel()
        dog.arm(0.02, ran.set)
        assert ran.wait(30)
        assert not cancelled_ran.is_set()
    finally:
        dog.close()


def test_a_cancelled_timer_releases_what_its_action_holds_before_its_time() -> None:
    dog = Watchdog("test-watchdog")
    try:
        run = _Run()
        alive = weakref.ref(run)
        timer = dog.arm(3600, functools.partial(print, run))
        del run
        assert alive() is not None  # armed: the action keeps the run
        timer.cancel()
        assert alive() is None  # freed by reference counting, not left to the collector
    finally:
        dog.close()
