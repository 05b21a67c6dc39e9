"""Several daemons over one PostgreSQL database (issue 30): each registers a lease and
heartbeats; when one is killed with SIGKILL, a surviving daemon ends its running executions
``DAEMON_LOST`` within the lease bound, rebuilds its ready sessions with their state, and an
idempotent retry of an interrupted request runs nothing twice."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import postgres_schema

from .conftest import DaemonFactory, create_session, create_template, iter_sse, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.timeout(600)]

LEASE_S = 2.0
#: The bound a surviving daemon keeps (lease plus one heartbeat period), with room for a
#: heavily loaded machine: the test waits for a condition, it does not time anything.
TAKEOVER_WAIT_S = LEASE_S * 4 / 3 + 60
RUNS = 4


@pytest.fixture
def shared_db() -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema of the suite's server (dropped afterwards)."""
    with postgres_schema() as url:
        yield url


def _daemon_flags() -> tuple[str, ...]:
    return ("--daemon-lease", str(LEASE_S), "--host-processes", "1")


def _run(http: httpx.Client, session_id: str, code: str, **headers: str) -> dict[str, Any]:
    r = http.post(
        "/executions/repl", json={"session_id": session_id, "input": code}, headers=headers
    )
    assert r.status_code in (200, 201), r.text
    return r.json()  # type: ignore[no-any-return]


def test_both_daemons_are_listed_with_their_leases(
    shared_db: str, start_daemon: DaemonFactory
) -> None:
    a = start_daemon(*_daemon_flags(), db=shared_db)
    b = start_daemon(*_daemon_flags(), db=shared_db)
    with a.client() as http_a, b.client() as http_b:
        mine_a = http_a.get("/runtime/summary").json()
        mine_b = http_b.get("/runtime/summary").json()
        assert mine_a["daemon_id"] != mine_b["daemon_id"]
        daemons = mine_b["daemons"]
        assert {d["id"] for d in daemons} == {mine_a["daemon_id"], mine_b["daemon_id"]}
        by_id = {d["id"]: d for d in daemons}
        assert by_id[mine_a["daemon_id"]]["address"] == f"127.0.0.1:{a.port}"
        assert by_id[mine_a["daemon_id"]]["pid"] == a.process.pid  # type: ignore[union-attr]
        # Heartbeats move on.
        first = by_id[mine_a["daemon_id"]]["heartbeat_at"]
        wait_for(
            lambda: (
                next(
                    d["heartbeat_at"]
                    for d in http_b.get("/runtime/summary").json()["daemons"]
                    if d["id"] == mine_a["daemon_id"]
                )
                != first
            ),
            timeout=60,
        )
        # Prometheus exports every daemon with its lease state.
        metrics = httpx.get(f"{b.url}/metrics", timeout=30).text
        for d in daemons:
            assert re.search(
                rf'^vmsystem_daemon_alive\{{address="{d["address"]}",daemon="{d["id"]}",'
                rf'version="[^"]+"\}} 1\.0$',
                metrics,
                re.M,
            ), metrics
            assert f'vmsystem_daemon_heartbeat_age_seconds{{daemon="{d["id"]}"}}' in metrics
    a.terminate()
    with b.client() as http_b:
        # A clean shutdown removes the lease at once.
        assert [d["id"] for d in http_b.get("/runtime/summary").json()["daemons"]] == [
            mine_b["daemon_id"]
        ]


def test_kill_9_of_a_daemon_its_runs_end_daemon_lost_and_its_sessions_come_back_on_another(
    shared_db: str, start_daemon: DaemonFactory, tmp_path: Path
) -> None:
    a = start_daemon(*_daemon_flags(), db=shared_db)
    b = start_daemon(*_daemon_flags(), db=shared_db)
    with a.client() as http_a:
        t = create_template(http_a, "long", wall_ms=600_000, cpu_ms=600_000)
        sessions = []
        for n in range(RUNS):
            worktree = tmp_path / f"w{n}"
            worktree.mkdir()
            s = create_session(http_a, t["id"], worktree)
            assert _run(http_a, s["id"], f"var kept = {n}; kept")["status"] == "ok"
            sessions.append(s)
        running = []
        for s in sessions:
            r = http_a.post(
                "/executions/repl",
                json={"session_id": s["id"], "input": "while(true){}", "stream": True},
                headers={"Idempotency-Key": f"endless-{s['id']}"},
            )
            assert r.status_code == 202, r.text
            running.append(r.json())
        wait_for(
            lambda: http_a.get("/runtime/summary").json()["running_executions"] == RUNS,
            timeout=60,
        )
    with b.client() as http_b:
        # B's own start-up recovery and heartbeats leave A's runs alone while A lives.
        assert all(
            http_b.get(f"/executions/{x['id']}").json()["status"] == "running" for x in running
        )
        # A session is served by the daemon holding it; B reads it but does not run it.
        assert http_b.get(f"/sessions/{sessions[0]['id']}").json()["status"] == "ready"
        r = http_b.post("/executions/repl", json={"session_id": sessions[0]["id"], "input": "1"})
        assert (r.status_code, r.json()["error"]["code"]) == (409, "SESSION_NOT_READY"), r.text
        # ... and says which daemon holds it.
        assert r.json()["error"]["details"]["daemon_address"] == f"127.0.0.1:{a.port}", r.text
    a.kill()
    with b.client() as http_b:

        def ended() -> list[dict[str, Any]] | None:
            rows = [http_b.get(f"/executions/{x['id']}").json() for x in running]
            return rows if all(r["status"] != "running" for r in rows) else None

        for row in wait_for(ended, timeout=TAKEOVER_WAIT_S, interval=0.2):
            assert row["status"] == "error" and row["error"]["code"] == "DAEMON_LOST", row
            events = http_b.get(f"/executions/{row['id']}/events").json()
            assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
            assert events[-1]["payload"]["code"] == "DAEMON_LOST"
        # The interrupted requests retried against B: answered with the run A started, none
        # runs again.
        for s, x in zip(sessions, running, strict=True):
            r = http_b.post(
                "/executions/repl",
                json={"session_id": s["id"], "input": "while(true){}", "stream": True},
                headers={"Idempotency-Key": f"endless-{s['id']}"},
            )
            assert r.status_code in (200, 201, 202), r.text
            assert r.json()["id"] == x["id"]
        # A's sessions are B's now, rebuilt by replay with their state.
        for n, s in enumerate(sessions):
            wait_for(
                lambda s=s: http_b.get(f"/sessions/{s['id']}").json()["status"] == "ready",
                timeout=120,
            )
            assert _run(http_b, s["id"], "kept + 100")["result"]["json"] == 100 + n
        daemons = http_b.get("/runtime/summary").json()["daemons"]
        assert [d["pid"] for d in daemons] == [b.process.pid]  # type: ignore[union-attr]
        for s in sessions:
            listed = http_b.get("/executions", params={"session_id": s["id"]}).json()
            assert [x["status"] for x in listed if x["status"] == "running"] == []


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_a_run_started_on_one_daemon_is_followed_live_on_another_every_event_in_order(
    backend: str, start_daemon: DaemonFactory, tmp_path: Path
) -> None:
    # PostgreSQL wakes the follower by NOTIFY; SQLite has none: the follower polls.
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(postgres_schema()) if backend == "postgres" else None
        shared: Path | str = db if db is not None else tmp_path / "shared.db"
        a = start_daemon(*_daemon_flags(), db=shared)
        b = start_daemon(*_daemon_flags(), db=shared)
        with a.client() as http_a, b.client() as http_b:
            t = create_template(http_a, "ticks", wall_ms=600_000, cpu_ms=600_000)
            s = create_session(http_a, t["id"], tmp_path)
            endless = (
                "let i = 0; while (true) { console.log('tick ' + i++);"
                " await new Promise(r => setTimeout(r, 20)); }"
            )
            r = http_a.post(
                "/executions/repl", json={"session_id": s["id"], "input": endless, "stream": True}
            )
            assert r.status_code == 202, r.text
            eid = r.json()["id"]
            received: list[dict[str, Any]] = []
            with http_b.stream(
                "GET", f"/executions/{eid}/events/stream", timeout=httpx.Timeout(120)
            ) as stream:
                for message in iter_sse(stream):
                    received.append(message.data)
                    if len(received) == 5:
                        # Live: the run never ends by itself, so these came while it ran.
                        assert http_a.get(f"/executions/{eid}").json()["status"] == "running"
                        assert http_a.post(f"/executions/{eid}/cancel").status_code == 200
            # The stream ended by itself after the terminal event.
            assert received[-1]["type"] == "system"
            assert received[-1]["payload"]["code"] == "CANCELLED"
            stored = http_a.get(f"/executions/{eid}/events", params={"limit": 10_000}).json()
            assert [e["seq"] for e in received] == [e["seq"] for e in stored]
            assert [e["seq"] for e in received] == list(range(1, len(received) + 1))
            assert received == stored
        a.terminate()
        b.terminate()
