"""REPL ``1+1`` over HTTP (sequential httpx client, keep-alive) beside the bare endpoint."""

from __future__ import annotations

import time

import httpx
import orjson

from bench.context import Bench, Row, Target
from bench.stats import median, summary

NAME = "http_latency"
HEADERS = {"Content-Type": "application/json"}


def _batch(client: httpx.Client, path: str, body: bytes, n: int, status: int) -> list[float]:
    samples = []
    post = client.post
    for _ in range(n):
        t0 = time.perf_counter()
        r = post(path, content=body, headers=HEADERS)
        samples.append((time.perf_counter() - t0) * 1000)
        if r.status_code != status:
            raise RuntimeError(f"POST {path} -> {r.status_code}: {r.text[:300]}")
    return samples


def run(b: Bench) -> list[Row]:
    daemon, bare = b.daemon(), b.bare()
    sid = b.session()
    body = orjson.dumps({"session_id": sid, "input": "1+1"})
    targets = {
        "bare": (bare.base_url, "/bare", 201),
        "daemon": (daemon.base_url, "/api/v1/executions/repl", 201),
    }
    stats: dict[str, list[dict[str, float]]] = {"bare": [], "daemon": []}
    clients = {k: httpx.Client(base_url=u, timeout=30) for k, (u, _, _) in targets.items()}
    try:
        for key, (_, path, status) in targets.items():
            _batch(clients[key], path, body, b.n(300, 30), status)
        order = ["bare", "daemon"]
        for _ in range(b.n(7, 1)):
            for key in order:  # alternate which goes first, so drift hits both alike
                _, path, status = targets[key]
                stats[key].append(summary(_batch(clients[key], path, body, b.n(1000, 60), status)))
            order.reverse()
    finally:
        for c in clients.values():
            c.close()

    def med(key: str, field: str) -> float:
        return median([s[field] for s in stats[key]])

    b.results_cache["repl_http_p50"] = med("daemon", "p50")
    b.results_cache["bare_http_p50"] = med("bare", "p50")
    return [
        Row(
            "repl_http_p50",
            "REPL `1+1` over HTTP, sequential client (p50)",
            med("daemon", "p50"),
            "ms",
            med("bare", "p50"),
            "bare endpoint p50",
            Target("ratio", "<=", 1.6),
            details={"daemon": stats["daemon"], "bare": stats["bare"]},
        ),
        Row(
            "repl_http_p99",
            "REPL `1+1` over HTTP, sequential client (p99)",
            med("daemon", "p99"),
            "ms",
            med("bare", "p99"),
            "bare endpoint p99",
            Target("ratio", "<=", 3.0),
        ),
    ]
