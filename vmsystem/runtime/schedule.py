"""How long a run waits in each phase: pure functions of the clock, so they can be tested alone.

A run of :class:`~vmsystem.runtime.v8.V8Context` goes through these phases (:class:`Phase`):

``PREPARE``   post ``begin`` with the run-file's args and env (only when there are some);
``TRANSFORM`` post ``transform``: the REPL rewrite of inputs with declarations or ``await``;
``SCRIPT``    post the script; its finish call (``finishOk``) is chained to it on the isolate's
              thread and answers the first report;
``SETTLE``    the event loop: while the report says work is pending, sleep until the next timer
              is due, then post ``tick``;
``RECOVER``   after a stop (limit, cancel): post ``finishErr``, which runs no user code,
              collects the last console lines and drops pending timers;
``DONE``      the outcome is built.

Every posted task is awaited the same way (:meth:`V8Context._await`): until it answers, or
until the deadline or the CPU budget runs out; then it is terminated and given a *patience*
to answer. A task that does not answer within its patience is stuck behind stray JS (an endless
microtask loop): the runtime is *wedged* and gets disposed.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "FINISH_BUDGET_S",
    "FINISH_MIN_S",
    "LATE_TERMINATION_S",
    "POLL_S",
    "SCRIPT_GRACE_S",
    "TERMINATE_GRACE_S",
    "Phase",
    "finish_deadline",
    "running_wait",
    "settle_wait",
    "stop_patience",
]

# How long a task may go on after it was told to stop (deadline, cancel()) before the runtime
# counts as wedged. Termination normally lands within a millisecond, but some builtins do not
# check for it (``new Uint8Array({length: 2 ** 28})`` fills element by element for half a
# minute), while a task that never started waits behind stray JS for good. Time spent inside a
# host function does not count.
#: ... for a task known not to have started (the prelude's calls mark their start in the mailbox).
TERMINATE_GRACE_S = 0.5
#: ... for a task known to have started.
LATE_TERMINATION_S = 60.0
#: ... for the user's script, which cannot mark its start (a probe task would cost ~20 us a run).
SCRIPT_GRACE_S = 5.0
#: Budget of the finish call when the run has no wall-time limit.
FINISH_BUDGET_S = 5.0
#: The finish call may run this long past the wall-time deadline when the script ended near it.
FINISH_MIN_S = 0.05
#: How often a stopping task is looked at.
POLL_S = 0.02


class Phase(StrEnum):
    """Where a run is (see the module's docstring)."""

    IDLE = "idle"
    PREPARE = "prepare"
    TRANSFORM = "transform"
    SCRIPT = "script"
    SETTLE = "settle"
    RECOVER = "recover"
    DONE = "done"


def stop_patience(*, started: bool, finish_call: bool, grace: float) -> float:
    """Seconds a task told to stop may take to answer before the runtime counts as wedged.

    ``started``: the task marked its start (it is running, maybe in a slow builtin);
    ``finish_call``: the task is the finish call chained to the script; ``grace``: the
    patience the caller chose for a task not known to have started.
    """
    if started:
        return LATE_TERMINATION_S
    return TERMINATE_GRACE_S if finish_call else grace


def running_wait(now: float, deadline: float | None, cpu_left_ms: float | None) -> float:
    """Seconds to wait for a running task's answer before looking at the limits again.

    Without a deadline, look again after :data:`FINISH_BUDGET_S` (the finish call may have been
    chained meanwhile, with a budget of its own). The CPU time of one thread cannot outrun wall
    time, so it is safe to sleep until the CPU budget could be spent.
    """
    wait = deadline - now if deadline is not None else FINISH_BUDGET_S
    if cpu_left_ms is not None:
        wait = min(wait, max(cpu_left_ms, 0.0) / 1000)
    return max(wait, 0.0)


def finish_deadline(script_end: float, deadline: float | None) -> float:
    """The deadline of the finish call for a script that ended at ``script_end``.

    It is the run's deadline, but at least :data:`FINISH_MIN_S` after the script's end (a script
    that ended just before the deadline still gets its report), and :data:`FINISH_BUDGET_S`
    when the run has no deadline.
    """
    end = deadline if deadline is not None else script_end + FINISH_BUDGET_S
    return max(end, script_end + FINISH_MIN_S)


def settle_wait(now: float, due: float, deadline: float | None) -> float | None:
    """Seconds to sleep in the event loop before the next timer is due at ``due``.

    ``None`` when the deadline has passed (the run ends with a wall-time timeout and pending
    timers are dropped); 0 when the timer is due.
    """
    if deadline is not None and now >= deadline:
        return None
    until = due if deadline is None else min(due, deadline)
    return max(until - now, 0.0)
