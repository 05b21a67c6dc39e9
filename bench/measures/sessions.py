"""Session creation over HTTP with no library and with 3 libraries (~70 KB UMD fixtures)."""

from __future__ import annotations

import time

import httpx

from bench.context import Bench, Row, Target, check
from bench.stats import median, summary

NAME = "session_create"


def _create_batch(api: httpx.Client, tid: str, worktree: str, n: int) -> list[float]:
    samples, created = [], []
    body = {"template_id": tid, "worktree_path": worktree}
    for _ in range(n):
        t0 = time.perf_counter()
        r = api.post("/api/v1/sessions", json=body)
        samples.append((time.perf_counter() - t0) * 1000)
        created.append(check(r, 201)["id"])
    for sid in created:  # not timed
        check(api.post(f"/api/v1/sessions/{sid}/close"), 200)
    return samples


def run(b: Bench) -> list[Row]:
    api = b.api()
    cases = [
        ("session_create_0libs", "Session create, no libraries (p50)", (), 15.0, b.n(20, 5)),
        (
            "session_create_3libs",
            "Session create, 3 libraries of ~70 KB (p50)",
            b.library_names(),
            40.0,
            b.n(12, 4),
        ),
    ]
    rows = []
    for name, description, libs, limit, per_repeat in cases:
        tid = b.template(f"bench-{len(libs)}libs", libs)
        _create_batch(api, tid, str(b.worktree), b.n(3, 1))
        batches = [
            summary(_create_batch(api, tid, str(b.worktree), per_repeat)) for _ in range(b.n(7, 1))
        ]
        rows.append(
            Row(
                name,
                description,
                median([s["p50"] for s in batches]),
                "ms",
                target=Target("value", "<=", limit, "ms"),
                details={"repeats": batches},
            )
        )
    return rows
