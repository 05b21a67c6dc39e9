"""Executions awaited on the event loop (the HTTP path): no executor thread, per-tick writes,
and a caller that goes away does not stop a run half-way."""

from __future__ import annotations

import asyncio
import gc
import time
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import pytest

from vmsystem.core import VmSystem
from vmsystem.core.errors import OutputLimitExceeded, SessionBusy
from vmsystem.core.ids import new_id
from vmsystem.core.tick_writes import TickWrites
from vmsystem.models import ExecutionStatus
from vmsystem.store import InsertExecution, Ordinals, WriteOp


def _session(vm: VmSystem, worktree: Path, **limits: int) -> str:
    template = vm.templates.create(f"t-{time.monotonic_ns()}")
    if limits:
        vm.templates.update(template.id, settings={"limits": limits})
    return vm.sessions.create(template.id, str(worktree)).id


def test_an_awaited_repl_needs_no_executor_thread(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    vm.executor.shutdown(wait=True)  # nothing may be handed to it
    x = asyncio.run(vm.executions.awaited.repl(sid, "console.log('hi'); 20 + 22"))
    assert x.status is ExecutionStatus.OK and x.result is not None
    assert x.result["json"] == 42 and x.ordinal == 1
    assert [e.type.value for e in vm.executions.events(x.id)] == ["input_echo", "console", "value"]
    assert vm.executions.get(x.id) == x


def test_an_awaited_run_file_and_a_background_run(vm: VmSystem, worktree: Path) -> None:
    (worktree / "a.js").write_text("__ARGS__.n * 2")
    sid = _session(vm, worktree)

    async def both() -> tuple[str, str]:
        done = await vm.executions.awaited.run_file(sid, "a.js", args={"n": 21})
        running = await vm.executions.awaited.repl(sid, "1 + 1", wait=False)
        assert running.status is ExecutionStatus.RUNNING
        with pytest.raises(SessionBusy):
            await vm.executions.awaited.repl(sid, "2")
        while vm.executions.running():  # its task runs on this loop
            await asyncio.sleep(0.01)
        return done.id, running.id

    done_id, running_id = asyncio.run(both())
    assert vm.executions.get(done_id).result["json"] == 42  # type: ignore[index]
    assert vm.executions.get(running_id).result["json"] == 2  # type: ignore[index]


def test_a_caller_that_goes_away_does_not_stop_the_execution(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)

    async def leave() -> None:
        call = asyncio.ensure_future(
            vm.executions.awaited.repl(
                sid, "const t = Date.now(); while (Date.now() - t < 200) {} 7"
            )
        )
        while not vm.executions.running():
            await asyncio.sleep(0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        while vm.executions.running():  # the run's task goes on on this loop
            await asyncio.sleep(0.01)

    asyncio.run(leave())
    (x,) = vm.executions.list(sid)
    assert x.status is ExecutionStatus.OK and x.result is not None and x.result["json"] == 7
    assert vm.executions.repl(sid, "1").status is ExecutionStatus.OK  # the session is free


def test_an_awaited_run_over_the_output_limit_raises_with_the_execution(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree, max_events=3)
    with pytest.raises(OutputLimitExceeded) as caught:
        asyncio.run(vm.executions.awaited.repl(sid, "for (let i = 0; i < 5; i++) console.log(i)"))
    assert caught.value.execution is not None
    assert caught.value.execution.error is not None
    assert caught.value.execution.error["code"] == "OUTPUT_LIMIT_EXCEEDED"


def test_writes_asked_for_in_one_tick_reach_the_writer_together(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    rows = [vm.executions.repl(sid, str(n)) for n in range(3)]
    groups: list[list[WriteOp]] = []
    submit_many = vm.store.submit_many

    def spy(ops: list[WriteOp]) -> object:
        groups.append(list(ops))
        return submit_many(ops)

    vm.store.submit_many = spy  # type: ignore[method-assign]

    copies = [replace(r, id=new_id()) for r in rows]

    async def tick() -> list[Ordinals]:
        writes = TickWrites(vm.store, asyncio.get_running_loop())
        return list(await asyncio.gather(*(writes.write(InsertExecution(c)) for c in copies)))

    results = asyncio.run(tick())
    assert [len(g) for g in groups] == [3]  # one hand-over for the whole tick
    assert sorted(result[c.id] for result, c in zip(results, copies, strict=True)) == [4, 5, 6]


@pytest.mark.parametrize("path", ["awaited", "thread"])
def test_a_run_whose_final_row_cannot_be_stored_raises_store_unavailable(
    vm: VmSystem, worktree: Path, db_path: Path, path: str
) -> None:
    """The database file is damaged while the code runs: the final write is refused, so the
    caller gets STORE_UNAVAILABLE (never the result), the stream ends without a terminal event
    and the session is free again."""
    import os
    import threading

    from vmsystem.core.errors import StoreUnavailable

    template = vm.templates.create("unstored")
    vm.templates.add_module(template.id, "fs")
    sid = vm.sessions.create(template.id, str(worktree)).id
    code = "while (!require('fs').existsSync('go.flag')) {} 'the result'"

    def damage_once_running() -> None:
        while not vm.executions.running():
            time.sleep(0.01)
        db_path.write_bytes(os.urandom(db_path.stat().st_size))
        (worktree / "go.flag").write_text("go")

    damager = threading.Thread(target=damage_once_running)
    damager.start()
    with pytest.raises(StoreUnavailable) as raised:
        if path == "awaited":
            asyncio.run(vm.executions.awaited.repl(sid, code))
        else:
            vm.executions.repl(sid, code)
    damager.join()
    assert "not reported" in raised.value.message
    eid = raised.value.details["execution_id"]
    assert vm.bus.get(eid) is None  # left the bus: its streams ended
    assert not vm.executions.running()
    with pytest.raises(StoreUnavailable, match="no code runs"):  # free, not SESSION_BUSY
        vm.executions.repl(sid, "1")


def test_a_lone_awaited_execution_commits_on_the_loop_without_the_writer_thread(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    vm.store.flush(5)
    handed: list[list[WriteOp]] = []
    submit_many = vm.store.submit_many

    def spy(ops: list[WriteOp]) -> object:
        handed.append(list(ops))
        return submit_many(ops)

    vm.store.submit_many = spy  # type: ignore[method-assign]

    async def lone() -> tuple[str, str]:
        x = await vm.executions.awaited.repl(sid, "6 * 7")
        # Committed before the call returned: another connection reads the final row.
        row = vm.store.get_execution(x.id)
        assert row is not None
        return x.id, row.status.value

    execution_id, status = asyncio.run(lone())
    assert status == "ok"
    assert handed == []  # both writes (running row, final row) committed on the loop
    assert vm.executions.get(execution_id).result["json"] == 42  # type: ignore[index]


def test_concurrent_awaited_executions_hand_their_writes_to_the_writer_together(
    vm: VmSystem, worktree: Path
) -> None:
    sids = [_session(vm, worktree) for _ in range(3)]
    handed: list[list[WriteOp]] = []
    submit_many = vm.store.submit_many

    def spy(ops: list[WriteOp]) -> object:
        handed.append(list(ops))
        return submit_many(ops)

    vm.store.submit_many = spy  # type: ignore[method-assign]

    async def together() -> list[str]:
        done = await asyncio.gather(*(vm.executions.awaited.repl(s, "1 + 1") for s in sids))
        return [x.status.value for x in done]

    assert asyncio.run(together()) == ["ok", "ok", "ok"]
    assert handed and len(handed[0]) == 3  # the three running rows in one hand-over


def test_a_group_handed_to_the_writer_leaves_no_reference_cycle(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    rows = [vm.executions.repl(sid, str(n)) for n in range(3)]
    copies = [replace(r, id=new_id()) for r in rows]

    async def tick() -> None:
        # The writer waits for its connection until the group's callback is registered.
        busy = vm.store._writer._connection_lock
        busy.acquire()
        asyncio.get_running_loop().call_later(0.05, busy.release)
        writes = TickWrites(vm.store, asyncio.get_running_loop())
        await asyncio.gather(*(writes.write(InsertExecution(c)) for c in copies))

    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        asyncio.run(tick())
        vm.store.flush(5)  # the writer's next batches: it no longer holds the group itself
        vm.store.flush(5)
        gc.collect()
        kept = [o for o in gc.garbage if isinstance(o, InsertExecution | Future)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    # Freed by reference counting once resolved: nothing for the cyclic collector to find.
    assert kept == []
