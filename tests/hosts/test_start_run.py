"""The non-blocking run of the host seam (``SessionRuntime.start_run``), on every backend."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from vmsystem.hosts import HostPool
from vmsystem.runtime import EngineError, Outcome, OutcomeKind, RunLimits

from .conftest import LIMITS, Lost, Sink, make_pool, spec

pytestmark = pytest.mark.timeout(120)


class Delivery:
    """An ``on_outcome`` callback remembering each outcome and the thread it came on."""

    def __init__(self, sink: Sink | None = None) -> None:
        self.outcomes: list[Outcome] = []
        self.threads: list[str] = []
        self.lines_before: list[int] = []
        self.event = threading.Event()
        self._sink = sink

    def __call__(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.threads.append(threading.current_thread().name)
        if self._sink is not None:
            self.lines_before.append(len(self._sink.texts))
        self.event.set()

    def wait(self) -> Outcome:
        assert self.event.wait(60), "no outcome delivered"
        return self.outcomes[0]


def test_start_run_returns_at_once_and_delivers_the_outcome_once_after_the_console(
    pool: HostPool,
) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        sink = Sink()
        delivery = Delivery(sink)
        rt.start_run(
            "console.log('one'); console.log('two');"
            "const t0 = Date.now(); while (Date.now() - t0 < 300) {} 'done'",
            limits=LIMITS,
            sink=sink,
            on_outcome=delivery,
        )
        caller = threading.current_thread().name
        outcome = delivery.wait()
        assert outcome.kind is OutcomeKind.OK, outcome
        assert outcome.value is not None and outcome.value["preview"] == "done"
        assert delivery.threads[0] != caller
        # Every console batch reached the sink before the outcome.
        assert delivery.lines_before == [2]
        assert sink.texts == ["one", "two"]
        assert rt.run("'again'", limits=LIMITS, sink=lambda lines: None).kind is OutcomeKind.OK
        assert len(delivery.outcomes) == 1
    finally:
        rt.close()


def test_start_run_while_a_run_is_in_flight_is_refused_at_once(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        sink = Sink()
        delivery = Delivery()
        rt.start_run(
            "console.log('running'); while (true) {}",
            limits=RunLimits(wall_ms=30_000, cpu_ms=None),
            sink=sink,
            on_outcome=delivery,
        )
        assert sink.got_line.wait(60)
        with pytest.raises(EngineError, match="already running"):
            rt.start_run("1", limits=LIMITS, sink=lambda lines: None, on_outcome=Delivery())
        assert rt.cancel()
        assert delivery.wait().kind is OutcomeKind.CANCELLED
    finally:
        rt.close()


def test_the_outcome_callback_may_start_the_next_run(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        results: list[Outcome] = []
        finished = threading.Event()

        def chain(outcome: Outcome) -> None:
            results.append(outcome)
            if len(results) < 5:
                rt.start_run(
                    "globalThis.n = (globalThis.n || 0) + 1",
                    limits=LIMITS,
                    sink=lambda lines: None,
                    on_outcome=chain,
                )
            else:
                finished.set()

        rt.start_run("globalThis.n = 0", limits=LIMITS, sink=lambda lines: None, on_outcome=chain)
        assert finished.wait(60)
        assert [o.kind for o in results] == [OutcomeKind.OK] * 5
        assert results[-1].value is not None and results[-1].value["json"] == 4
    finally:
        rt.close()


def test_outcomes_come_from_the_thread_that_receives_them(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        delivery = Delivery()
        rt.start_run("1+1", limits=LIMITS, sink=lambda lines: None, on_outcome=delivery)
        assert delivery.wait().kind is OutcomeKind.OK
        thread = delivery.threads[0]
        if pool.kind == "process":
            assert thread == f"host-{rt.host_id}-reader"
        elif pool.kind == "inprocess":
            assert thread.startswith("session-")
        else:
            assert thread != threading.current_thread().name
    finally:
        rt.close()


def test_runs_start_no_thread_per_run_in_the_daemon(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        warm = Delivery()
        rt.start_run("0", limits=LIMITS, sink=lambda lines: None, on_outcome=warm)
        assert warm.wait().kind is OutcomeKind.OK
        before = {t.ident for t in threading.enumerate()}
        seen: set[int | None] = set()
        for i in range(20):
            delivery = Delivery()
            rt.start_run(
                f"console.log({i}); {i}",
                limits=RunLimits(wall_ms=10_000, cpu_ms=10_000),
                sink=lambda lines: None,
                on_outcome=delivery,
            )
            seen.update(t.ident for t in threading.enumerate())
            assert delivery.wait().kind is OutcomeKind.OK
        assert seen - before == set()
    finally:
        rt.close()


@pytest.mark.parametrize("kind", ["process", "ray"])
def test_a_host_death_during_start_run_delivers_wedged_once(
    kind: str, request: pytest.FixtureRequest
) -> None:
    hosts = make_pool(kind, request, processes=1)
    try:
        rt = hosts.start_runtime(spec(), Lost())
        sink = Sink()
        delivery = Delivery()
        rt.start_run(
            "console.log('up'); while (true) {}",
            limits=RunLimits(wall_ms=60_000, cpu_ms=None),
            sink=sink,
            on_outcome=delivery,
        )
        assert sink.got_line.wait(60)
        host = next(h for h in hosts.hosts() if h.id == rt.host_id)
        assert host.pid is not None
        os.kill(host.pid, signal.SIGKILL)
        outcome = delivery.wait()
        assert outcome.kind is OutcomeKind.LOST
        assert "died" in outcome.message
        assert len(delivery.outcomes) == 1
        rt.close()
    finally:
        hosts.close()


def test_the_pool_names_its_hosts_engine(pool: HostPool) -> None:
    from vmsystem.runtime import get_engine

    engine = pool.engine()
    assert engine.name == "v8"
    assert engine.version == get_engine("v8").version


def test_a_cancel_sent_right_after_the_start_is_not_lost(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        for _ in range(20):
            delivery = Delivery()
            rt.start_run(
                "while (true) {}",
                limits=RunLimits(wall_ms=60_000, cpu_ms=None),
                sink=Sink(),
                on_outcome=delivery,
            )
            rt.cancel()
            outcome = delivery.wait()
            # Cancelled, not ended by the last-resort kill of its host.
            assert outcome.kind is OutcomeKind.CANCELLED, outcome
        assert rt.alive
    finally:
        rt.close()
