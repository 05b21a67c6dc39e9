"""Runs that V8's termination used to miss (issue 26, items 2 and 8), on a daemon with process
hosts: how long after the wall limit each one ends (``wall_ms`` 1000), and how long after a
cancel (sent once the run's first console line is back). Each input runs in a session of its
own; what ended it (the status and error code) is in the details."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from bench.context import Bench, Row, Target, check, create_session, create_template

NAME = "termination"
API_HEADERS = {"X-Requested-With": "bench"}
WALL_MS = 1000
#: (label, code, mem_mb): the inputs of issue 26, each followed by an endless loop.
INPUTS = [
    ("replaceAll", '"x".repeat(2**26).replaceAll("x", "yy").length; while (true) {}', 128),
    ("split", '"x".repeat(2**27).split("").length; while (true) {}', 128),
    (
        "concat",
        "Array.prototype.concat.call([], {length: 2**31, [Symbol.isConcatSpreadable]: true});"
        " while (true) {}",
        128,
    ),
    ("fill", "new Array(2**28).fill(0); while (true) {}", 4096),
    ("normalize", 'const s = "x".repeat(2**27); s.normalize("NFKD"); while (true) {}', 1024),
    ("Array.from", "for (;;) Array.from({length: 2**24})", 512),
    ("await-loop", "await null; while (true) {}", 128),
]


def _session(api: httpx.Client, worktree: Path, label: str, mem_mb: int) -> str:
    tid = create_template(api, f"bench-term-{label}-{time.monotonic_ns()}")
    limits = {"wall_ms": WALL_MS, "mem_mb": mem_mb}
    check(api.patch(f"/api/v1/templates/{tid}", json={"settings": {"limits": limits}}), 200)
    return create_session(api, tid, worktree)


def _ended(api: httpx.Client, eid: str) -> tuple[float, dict[str, Any]]:
    while True:
        x = check(api.get(f"/api/v1/executions/{eid}"), 200)
        if x["status"] != "running":
            return time.perf_counter(), x
        time.sleep(0.005)


def _what(x: dict[str, Any]) -> str:
    error = x.get("error") or {}
    return f"{x['status']} {error.get('code') or error.get('name') or ''}".strip()


def _past_wall(api: httpx.Client, worktree: Path, label: str, code: str, mem: int) -> Any:
    sid = _session(api, worktree, label, mem)
    body = {"session_id": sid, "input": code}
    t0 = time.perf_counter()
    x = check(api.post("/api/v1/executions/repl", json=body, timeout=120), 201, 422)
    late = (time.perf_counter() - t0) * 1000 - WALL_MS
    return late, _what(x)


def _past_cancel(api: httpx.Client, worktree: Path, label: str, code: str, mem: int) -> Any:
    sid = _session(api, worktree, label, mem)
    body = {"session_id": sid, "input": f"console.log('started'); {code}"}
    eid = check(api.post("/api/v1/executions/repl?wait=false", json=body), 202)["id"]
    while not any(
        e["type"] == "console" for e in check(api.get(f"/api/v1/executions/{eid}/events"), 200)
    ):
        time.sleep(0.005)
    sent = time.perf_counter()
    check(api.post(f"/api/v1/executions/{eid}/cancel"), 200)
    ended, x = _ended(api, eid)
    return (ended - sent) * 1000, _what(x)


def run(b: Bench) -> list[Row]:
    # The fill case asks for 4096 MB (the input), above the default per-host budget.
    server = b.fresh_daemon(
        "termination", hosts="process", args=("--host-memory-budget-mb", "4096")
    )
    wall: dict[str, Any] = {}
    cancel: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=server.base_url, timeout=120, headers=API_HEADERS) as api:
            for label, code, mem in INPUTS:
                wall[label] = _past_wall(api, b.worktree, label, code, mem)
                cancel[label] = _past_cancel(api, b.worktree, label, code, mem)
    finally:
        server.stop()
    builtins = [label for label, _, _ in INPUTS if label != "await-loop"]
    return [
        Row(
            "termination_past_wall_ms",
            f"latest end after the wall limit ({WALL_MS} ms) of the builtins that ignored "
            "termination (process hosts)",
            max(wall[label][0] for label in builtins),
            "ms",
            target=Target("value", "<=", 1000, "ms"),
            details={"ms_past_wall_and_outcome": wall},
        ),
        Row(
            "termination_after_cancel_ms",
            "latest end after a cancel of the builtins that ignored termination (process hosts)",
            max(cancel[label][0] for label in builtins),
            "ms",
            target=Target("value", "<=", 500, "ms"),
            details={"ms_after_cancel_and_outcome": cancel},
        ),
        Row(
            "termination_await_loop_past_wall_ms",
            "`await null; while (true) {}` ended (runtime disposed, session replayed) after "
            "the wall limit",
            wall["await-loop"][0],
            "ms",
            details={"after_cancel_ms": cancel["await-loop"]},
        ),
    ]
