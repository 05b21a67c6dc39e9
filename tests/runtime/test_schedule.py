"""How long a run waits in each phase (runtime/schedule.py): pure functions of the clock.

Each rule here came from a bug: the comments say which."""

from __future__ import annotations

import pytest

from vmsystem.runtime import schedule
from vmsystem.runtime.schedule import (
    FINISH_BUDGET_S,
    FINISH_MIN_S,
    LATE_TERMINATION_S,
    TERMINATE_GRACE_S,
    finish_deadline,
    running_wait,
    settle_wait,
    stop_patience,
)


def test_a_started_task_gets_the_long_patience() -> None:
    # Some builtins do not check for termination (new Uint8Array({length: 2 ** 28}) fills for
    # half a minute): a task known to run is not given up as wedged after half a second.
    assert stop_patience(started=True, finish_call=False, grace=5.0) == LATE_TERMINATION_S
    assert stop_patience(started=True, finish_call=True, grace=5.0) == LATE_TERMINATION_S


def test_a_task_not_started_gets_its_grace_and_the_finish_call_the_short_one() -> None:
    assert stop_patience(started=False, finish_call=False, grace=5.0) == 5.0
    assert stop_patience(started=False, finish_call=True, grace=5.0) == TERMINATE_GRACE_S


def test_running_wait_is_the_time_to_the_deadline() -> None:
    assert running_wait(10.0, 12.5, None) == pytest.approx(2.5)


def test_running_wait_never_spins_on_a_negative_timeout() -> None:
    # After the deadline the waiter looped on get(timeout=0) forever, burning a CPU.
    assert running_wait(20.0, 12.5, None) == 0.0
    assert running_wait(10.0, None, -5.0) == 0.0


def test_running_wait_without_a_deadline_looks_again_after_the_finish_budget() -> None:
    # The finish call may be chained meanwhile, with a budget of its own.
    assert running_wait(10.0, None, None) == FINISH_BUDGET_S


def test_cpu_time_cannot_outrun_wall_time_so_sleep_until_it_could() -> None:
    assert running_wait(10.0, 20.0, 300.0) == pytest.approx(0.3)
    assert running_wait(10.0, 10.1, 300.0) == pytest.approx(0.1)


def test_the_finish_call_gets_a_little_past_a_deadline_the_script_ended_near() -> None:
    # A script ending 1 ms before its deadline still gets its result reported.
    assert finish_deadline(9.999, 10.0) == pytest.approx(9.999 + FINISH_MIN_S)
    assert finish_deadline(5.0, 10.0) == 10.0


def test_the_finish_call_of_a_run_without_deadline_has_a_budget() -> None:
    # ({toJSON() { while (true) {} }}) without limits must not hang the session.
    assert finish_deadline(5.0, None) == 5.0 + FINISH_BUDGET_S


def test_settle_wait_sleeps_until_the_timer_is_due() -> None:
    assert settle_wait(10.0, 10.25, 20.0) == pytest.approx(0.25)
    assert settle_wait(10.0, 9.0, 20.0) == 0.0


def test_settle_wait_stops_at_the_deadline() -> None:
    # A timer due after the deadline is never waited for beyond it; at the deadline the
    # run ends with a wall-time timeout.
    assert settle_wait(10.0, 50.0, 10.3) == pytest.approx(0.3)
    assert settle_wait(10.3, 50.0, 10.3) is None


def test_settle_wait_without_deadline_waits_for_the_timer() -> None:
    assert settle_wait(10.0, 13.0, None) == pytest.approx(3.0)


def test_phases_name_a_runs_life() -> None:
    assert [p.value for p in schedule.Phase] == [
        "idle",
        "prepare",
        "transform",
        "script",
        "settle",
        "recover",
        "done",
    ]
