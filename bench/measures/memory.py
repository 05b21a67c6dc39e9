"""Resident memory per idle session: a fresh daemon's VmRSS, plus its host processes' (none
with the default ``--hosts inprocess`` of the run), before and after 200 sessions."""

from __future__ import annotations

import time

import httpx

from bench.context import Bench, Row, Target, check, create_session, create_template

NAME = "memory_idle"
SESSIONS = 200
BATCHES = 4


def _threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1


def run(b: Bench) -> list[Row]:
    total = b.n(SESSIONS, 20)
    server = b.fresh_daemon("memdaemon")
    try:
        with httpx.Client(
            base_url=server.base_url, timeout=120, headers={"X-Requested-With": "bench"}
        ) as api:
            tid = create_template(api, "bench-memory")
            # Warm-up: first sessions pay one-time costs (V8 platform, code caches, pools). They
            # are open together, so that each host kept started (--hosts process) gets one.
            warm = [create_session(api, tid, b.worktree) for _ in range(5)]
            for sid in warm:
                check(
                    api.post("/api/v1/executions/repl", json={"session_id": sid, "input": "1+1"}),
                    201,
                )
                check(api.post(f"/api/v1/sessions/{sid}/close"), 200)
            time.sleep(1.0)
            before, pids_before = server.tree_rss_kb()
            threads_before = _threads(server.pid)
            per_batch = []
            last = before
            for _ in range(BATCHES):
                for _ in range(total // BATCHES):
                    create_session(api, tid, b.worktree)
                now, _ = server.tree_rss_kb()
                per_batch.append((now - last) / (total // BATCHES) / 1024)
                last = now
            time.sleep(1.0)
            after, pids_after = server.tree_rss_kb()
            threads_after = _threads(server.pid)
    finally:
        server.stop()
    value = (after - before) / total / 1024
    return [
        Row(
            "memory_per_idle_session",
            f"Resident memory per idle session ({total} sessions)",
            value,
            "MiB",
            target=Target("value", "<=", 1.5, "MiB"),
            details={
                "rss_before_kb": before,
                "rss_after_kb": after,
                "sessions": total,
                "mib_per_session_per_batch": per_batch,
                "threads_before": threads_before,
                "threads_after": threads_after,
                "hosts": b.hosts,
                "host_pids_before": pids_before,
                "host_pids_after": pids_after,
            },
        )
    ]
