"""Durable sessions: the time from ``kill -9`` of a session's host to the session ``ready``
again, rebuilt by replaying its 100 executions of ``1+1`` (process hosts, one host), and the
first answer after it (``k`` set before the kill)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from bench.context import Bench, Row, Target, check, create_session, create_template
from bench.stats import median

NAME = "recovery"
EXECUTIONS = 100
API_HEADERS = {"X-Requested-With": "bench"}
REPL = "/api/v1/executions/repl"


def _one(api: httpx.Client, tid: str, worktree: Path, executions: int) -> dict[str, float]:
    sid = create_session(api, tid, worktree)
    check(api.post(REPL, json={"session_id": sid, "input": "globalThis.k = 41"}), 201)
    for _ in range(executions - 1):
        check(api.post(REPL, json={"session_id": sid, "input": "1+1"}), 201)
    (host,) = check(api.get("/api/v1/runtime/summary"), 200)["hosts"]
    os.kill(int(host["pid"]), signal.SIGKILL)
    t0 = time.perf_counter()
    while True:
        row = check(api.get(f"/api/v1/sessions/{sid}"), 200)
        if row["status"] == "ready" and row["recovery_count"] >= 1:
            break
        if row["status"] == "crashed":
            raise RuntimeError(f"session not recovered: {row['last_error']}")
        if time.perf_counter() - t0 > 120:
            raise RuntimeError(f"session not recovered after 120 s: {row}")
        time.sleep(0.01)
    ready = time.perf_counter() - t0
    answer = check(api.post(REPL, json={"session_id": sid, "input": "k + 1"}), 201)
    if answer["result"]["json"] != 42:
        raise RuntimeError(f"recovered state is wrong: {answer['result']}")
    serving = time.perf_counter() - t0
    check(api.post(f"/api/v1/sessions/{sid}/close"), 200)
    return {"ready_ms": ready * 1000, "serving_ms": serving * 1000}


def run(b: Bench) -> list[Row]:
    server = b.fresh_daemon("recovery", hosts="process", args=("--host-processes", "1"))
    try:
        with httpx.Client(base_url=server.base_url, timeout=120, headers=API_HEADERS) as api:
            tid = create_template(api, "bench-recovery")
            repeats = [_one(api, tid, b.worktree, EXECUTIONS) for _ in range(b.n(5, 2))]
    finally:
        server.stop()
    details = {"executions": EXECUTIONS, "repeats": repeats}
    return [
        Row(
            "recovery_ready_ms",
            f"kill -9 of the host -> session with {EXECUTIONS} executions ready again by "
            "replay (median)",
            median([r["ready_ms"] for r in repeats]),
            "ms",
            target=Target("value", "<=", 5000, "ms"),
            details=details,
        ),
        Row(
            "recovery_serving_ms",
            "kill -9 of the host -> the recovered session answered k + 1 (median)",
            median([r["serving_ms"] for r in repeats]),
            "ms",
            details=details,
        ),
    ]
