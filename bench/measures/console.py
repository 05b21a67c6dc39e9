"""One execution printing 10,000 console lines: time to the result (201), and time until all
10,002 events (echo, 10,000 console lines, value) have been read back with GET .../events."""

from __future__ import annotations

import time

import httpx

from bench.context import Bench, Row, Target, check
from bench.stats import median

NAME = "console_10k"
LINES = 10_000
CODE = f"for (let i = 0; i < {LINES}; i++) console.log('line', i)"


def _once(api: httpx.Client, sid: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    x = check(api.post("/api/v1/executions/repl", json={"session_id": sid, "input": CODE}), 201)
    t1 = time.perf_counter()
    if x["status"] != "ok":
        raise RuntimeError(f"10k console run ended {x['status']}: {x['error']}")
    events: list[dict[str, object]] = []
    after = 0
    while True:
        page = check(
            api.get(
                f"/api/v1/executions/{x['id']}/events", params={"after_seq": after, "limit": 10000}
            ),
            200,
        )
        events.extend(page)
        if not page or page[-1]["type"] in ("value", "exception", "system"):
            break
        after = int(page[-1]["seq"])
    t2 = time.perf_counter()
    if len(events) != LINES + 2:
        raise RuntimeError(f"expected {LINES + 2} events, read {len(events)}")
    return (t1 - t0) * 1000, (t2 - t0) * 1000


def run(b: Bench) -> list[Row]:
    api = b.api()
    sid = b.session()
    for _ in range(b.n(2, 1)):
        _once(api, sid)
    samples = [_once(api, sid) for _ in range(b.n(7, 1))]
    results = [s[0] for s in samples]
    readable = [s[1] for s in samples]
    api.post(f"/api/v1/sessions/{sid}/close")
    return [
        Row(
            "console_10k_result",
            "10,000 console lines: time to the result (201)",
            median(results),
            "ms",
            target=Target("value", "<=", 300, "ms"),
            details={"samples": results},
        ),
        Row(
            "console_10k_events",
            "10,000 console lines: time until all 10,002 events read",
            median(readable),
            "ms",
            target=Target("value", "<=", 500, "ms"),
            details={"samples": readable},
        ),
    ]
