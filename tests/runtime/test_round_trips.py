"""A run answers in one round trip through the waiting thread: the isolate posts the finish
call itself as soon as the script ends (v8.V8Context._chain_finish)."""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest

from vmsystem.runtime import RunLimits, schedule
from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run


class _CountingQueue(queue.Queue[Any]):
    def __init__(self) -> None:
        super().__init__()
        self.puts = 0

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.puts += 1
        super().put(item, block, timeout)


@pytest.mark.parametrize(
    ("code", "kind"),
    [("1+1", "ok"), ("null.x", "exception"), ("({a: [1, 2]})", "ok")],
)
def test_a_run_wakes_the_waiting_thread_once(ctx: V8Context, code: str, kind: str) -> None:
    counting = _CountingQueue()
    ctx._iso.results = counting
    outcome = run(ctx, code)
    assert outcome.kind == kind
    assert counting.puts == 1  # the finish call's answer only: the script's went on in V8


def test_a_value_whose_serialisation_loops_still_obeys_the_deadline(ctx: V8Context) -> None:
    outcome = run(
        ctx, "({toJSON() { while (true) {} }})", limits=RunLimits(wall_ms=150, cpu_ms=None)
    )
    assert outcome.kind == "wall_timeout"
    assert run(ctx, "'still usable'").value == {
        "type": "string",
        "preview": "still usable",
        "inspect": "'still usable'",
        "json": "still usable",
    }


def test_cancel_while_the_chained_finish_call_runs_cancels_and_keeps_the_context(
    ctx: V8Context,
) -> None:
    sink = Sink()
    code = "({toJSON() { console.log('serialising'); while (true) {} }})"
    done: list[Any] = []
    worker = threading.Thread(target=lambda: done.append(run(ctx, code, sink=sink)))
    worker.start()
    assert sink.got_line.wait(5)
    assert ctx.cancel()
    worker.join(5)
    assert done and done[0].kind == "cancelled"
    assert sink.texts == ["serialising"]
    assert run(ctx, "40 + 2").value is not None


def test_without_a_wall_limit_a_looping_serialisation_is_stopped_after_the_finish_budget(
    ctx: V8Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedule, "FINISH_BUDGET_S", 0.2)
    outcome = run(
        ctx, "({toJSON() { while (true) {} }})", limits=RunLimits(wall_ms=None, cpu_ms=None)
    )
    assert outcome.kind == "wall_timeout"
    assert run(ctx, "1").value is not None
