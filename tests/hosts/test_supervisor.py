"""The supervisor: placement, reserved places, surplus retirement and restarts under the same
id, written once for every launcher. Unit tests over a launcher made here (its hosts are
objects, their deaths are calls), then the same behaviours with the real process and Ray
launchers."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from vmsystem.hosts import (
    HostPool,
    LostCallback,
    RuntimeSpec,
    SessionRuntime,
    UnknownHost,
    wire,
)
from vmsystem.hosts.supervisor import Slot, Supervisor
from vmsystem.hosts.watchdog import Watchdog
from vmsystem.runtime import EngineError

from .conftest import Lost, make_pool, pid_exists, spec, value

pytestmark = pytest.mark.timeout(180)


class _Host:
    def __init__(self, slot: Slot[_Host], number: int) -> None:
        self.slot = slot
        self.number = number
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.hello: wire.Ready | None = None
        self.cause: str | None = None
        self.alive = True
        self.runtimes: dict[str, _Runtime] = {}
        self.stopped = False

    def start(self) -> None:
        self.hello = wire.Ready(
            pid=1000 + self.number,
            protocol_version=wire.PROTOCOL_VERSION,
            engine="v8",
            engine_version="test",
            vmsystem_version="test",
        )
        self.ready.set()

    def die(self, cause: str) -> None:
        with self.lock:
            self.alive = False
            self.cause = cause
            runtimes = list(self.runtimes.values())
            self.runtimes.clear()
        self.ready.set()
        for runtime in runtimes:
            runtime.lost(cause)
        self.slot.died(self, cause)


class _Runtime:
    def __init__(self, slot: Slot[_Host], host: _Host, session_id: str, on_lost: LostCallback):
        self.slot = slot
        self.host = host
        self.host_id = slot.id
        self.session_id = session_id
        self.on_lost = on_lost

    def lost(self, cause: str) -> None:
        self.on_lost(cause)

    def close(self) -> None:
        self.slot.release(self.session_id, self.host)


class _Launcher:
    kind = "test"

    def __init__(self, *, starts_at_once: bool = True) -> None:
        self.starts_at_once = starts_at_once
        self.spawned: list[_Host] = []

    def spawn(self, slot: Slot[_Host]) -> _Host:
        host = _Host(slot, len(self.spawned) + 1)
        self.spawned.append(host)
        if self.starts_at_once:
            host.start()
        return host

    def stop(self, host: _Host) -> None:
        host.stopped = True
        host.alive = False

    def kill(self, host: _Host, reason: str) -> None:
        host.die(reason)

    def alive(self, host: _Host) -> bool:
        return host.alive and host.hello is not None

    def pid(self, host: _Host) -> int | None:
        return host.hello.pid if host.hello else None

    def memory(self, host: _Host) -> int | None:
        return None

    def create(
        self,
        slot: Slot[_Host],
        host: _Host,
        spec: RuntimeSpec,
        on_lost: LostCallback,
        watchdog: Watchdog,
    ) -> SessionRuntime:
        runtime: Any = _Runtime(slot, host, spec.session_id, on_lost)
        return runtime  # type: ignore[no-any-return]

    def remove_worktree(self, path: str, hosts: list[_Host]) -> None:
        pass

    def close(self, hosts: list[_Host]) -> None:
        for host in hosts:
            self.stop(host)


def _supervisor(
    launcher: _Launcher, processes: int, sessions_per_host: int, memory_budget_mb: int = 0
) -> Supervisor[_Host]:
    return Supervisor(
        launcher,
        processes=processes,
        sessions_per_host=sessions_per_host,
        memory_budget_mb=memory_budget_mb,
    )


def _wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_sessions_go_to_the_least_loaded_host_and_a_full_pool_adds_one() -> None:
    launcher = _Launcher()
    pool = _supervisor(launcher, processes=2, sessions_per_host=2)
    try:
        placed = [pool.start_runtime(spec(), Lost()).host_id for _ in range(5)]
        assert placed == ["1", "2", "1", "2", "3"]
        assert [(h.id, h.sessions) for h in pool.hosts()] == [("1", 2), ("2", 2), ("3", 1)]
    finally:
        pool.close()


def test_a_surplus_host_is_retired_when_its_last_session_closes_the_kept_ones_are_not() -> None:
    launcher = _Launcher()
    pool = _supervisor(launcher, processes=1, sessions_per_host=1)
    try:
        a = pool.start_runtime(spec(), Lost())
        b = pool.start_runtime(spec(), Lost())
        assert (a.host_id, b.host_id) == ("1", "2")
        b.close()
        assert launcher.spawned[1].stopped
        assert [h.id for h in pool.hosts()] == ["1"]
        a.close()
        assert not launcher.spawned[0].stopped
        assert [h.id for h in pool.hosts()] == ["1"]
    finally:
        pool.close()
    assert launcher.spawned[0].stopped


def test_a_dead_host_is_restarted_under_the_same_id_and_its_sessions_are_lost() -> None:
    launcher = _Launcher()
    pool = _supervisor(launcher, processes=1, sessions_per_host=4)
    try:
        lost = Lost()
        pool.start_runtime(spec(), lost)
        launcher.spawned[0].die("killed")
        assert lost.messages == ["killed"]
        (info,) = pool.hosts()
        assert (info.id, info.restarts, info.sessions, info.alive) == ("1", 1, 0, True)
        assert len(launcher.spawned) == 2
        assert pool.start_runtime(spec(), Lost()).host_id == "1"
    finally:
        pool.close()


def test_a_host_that_dies_before_it_started_is_not_restarted() -> None:
    launcher = _Launcher(starts_at_once=False)
    pool = _supervisor(launcher, processes=1, sessions_per_host=4)
    try:
        launcher.spawned[0].die("it did not start: protocol version 99")
        assert pool.hosts() == []
        assert len(launcher.spawned) == 1
        with pytest.raises(EngineError, match="protocol version"):
            threading.Timer(0.1, lambda: launcher.spawned[1].die("protocol version 99")).start()
            pool.start_runtime(spec(), Lost())
    finally:
        pool.close()


def test_starts_waiting_for_a_starting_host_reserve_places_on_it() -> None:
    launcher = _Launcher(starts_at_once=False)
    pool = _supervisor(launcher, processes=0, sessions_per_host=3)
    try:
        runtimes: list[SessionRuntime] = []
        threads = [
            threading.Thread(target=lambda: runtimes.append(pool.start_runtime(spec(), Lost())))
            for _ in range(3)
        ]
        for t in threads:
            t.start()
        _wait_for(lambda: bool(launcher.spawned) and pool._slots[0].reserved == 3)
        assert len(launcher.spawned) == 1
        launcher.spawned[0].start()
        for t in threads:
            t.join(30)
        assert sorted(rt.host_id for rt in runtimes) == ["1", "1", "1"]
        assert pool._slots[0].reserved == 0
    finally:
        pool.close()


def test_sessions_mem_mb_is_budgeted_per_host() -> None:
    launcher = _Launcher()
    pool = _supervisor(launcher, processes=1, sessions_per_host=32, memory_budget_mb=3072)
    try:
        big = [pool.start_runtime(spec(mem_mb=1024), Lost()) for _ in range(4)]
        assert [rt.host_id for rt in big] == ["1", "1", "1", "2"]
        small = pool.start_runtime(spec(mem_mb=1024), Lost())
        assert small.host_id == "2"  # least loaded with room
        # 3 x 1024 on host 1: a 128 MB session no longer fits there, only on host 2.
        assert pool.start_runtime(spec(mem_mb=128), Lost()).host_id == "2"
        with pytest.raises(EngineError, match="memory budget"):
            pool.start_runtime(spec(mem_mb=4096), Lost())
        big[0].close()  # room again on host 1
        assert pool.start_runtime(spec(mem_mb=1024), Lost()).host_id == "1"
    finally:
        pool.close()


def test_a_drained_host_takes_no_session_and_retiring_it_keeps_the_pools_count() -> None:
    launcher = _Launcher()
    pool = _supervisor(launcher, processes=2, sessions_per_host=4)
    try:
        pool.drain("1")
        assert [pool.start_runtime(spec(), Lost()).host_id for _ in range(2)] == ["2", "2"]
        with pytest.raises(UnknownHost):
            pool.drain("9")
        pool.retire("1")
        assert launcher.spawned[0].stopped
        assert [h.id for h in pool.hosts()] == ["2", "3"]  # one started in its place
        pool.retire("1")  # already gone: nothing happens
        pool.drain("2")
        assert pool.start_runtime(spec(), Lost()).host_id == "3"
    finally:
        pool.close()


# ---------------------------------------------------------------------- real launchers
@pytest.mark.parametrize("kind", ["process", "ray"])
def test_real_hosts_take_sessions_least_loaded_first(
    kind: str, request: pytest.FixtureRequest
) -> None:
    pool: HostPool = make_pool(kind, request, processes=2, sessions_per_host=4)
    try:
        runtimes = [pool.start_runtime(spec(), Lost()) for _ in range(4)]
        assert sorted(rt.host_id for rt in runtimes) == ["1", "1", "2", "2"]
        assert sorted((h.id, h.sessions) for h in pool.hosts()) == [("1", 2), ("2", 2)]
        assert [value(rt, "6 * 7") for rt in runtimes] == [42] * 4
        for rt in runtimes:
            rt.close()
    finally:
        pool.close()


@pytest.mark.parametrize("kind", ["process", "ray"])
def test_real_surplus_hosts_stop_and_dead_hosts_restart_under_their_id(
    kind: str, request: pytest.FixtureRequest
) -> None:
    pool = make_pool(kind, request, processes=1, sessions_per_host=1)
    try:
        a_lost = Lost()
        a = pool.start_runtime(spec(), a_lost)
        b = pool.start_runtime(spec(), Lost())
        assert (a.host_id, b.host_id) == ("1", "2")
        (extra,) = [h.pid for h in pool.hosts() if h.id == "2"]
        assert extra is not None
        b.close()
        assert [h.id for h in pool.hosts()] == ["1"]
        _wait_for(lambda: not pid_exists(extra))

        (victim,) = [h.pid for h in pool.hosts() if h.id == "1"]
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        assert a_lost.event.wait(60)
        _wait_for(lambda: [(h.restarts, h.alive) for h in pool.hosts()] == [(1, True)])
        again = pool.start_runtime(spec(), Lost())
        assert again.host_id == "1"
        assert value(again, "1 + 1") == 2
        again.close()
    finally:
        pool.close()


@pytest.mark.parametrize("kind", ["process", "ray"])
def test_ten_sessions_of_1024_mb_spread_so_that_no_host_exceeds_its_budget(
    kind: str, request: pytest.FixtureRequest
) -> None:
    pool = make_pool(kind, request, processes=1, memory_budget_mb=3072)
    try:
        runtimes = [pool.start_runtime(spec(mem_mb=1024), Lost()) for _ in range(10)]
        per_host: dict[str, int] = {}
        for rt in runtimes:
            per_host[rt.host_id] = per_host.get(rt.host_id, 0) + 1
        assert sorted(per_host.values()) == [1, 3, 3, 3]
        assert {h.id: h.sessions for h in pool.hosts()} == per_host
        assert value(runtimes[-1], "'ok'") == "ok"
        with pytest.raises(EngineError, match="memory budget"):
            pool.start_runtime(spec(mem_mb=4096), Lost())
        for rt in runtimes:
            rt.close()
    finally:
        pool.close()
