"""SSE latency: from ``console.log(Date.now())`` in a session to the event's arrival at a
client following ``/sessions/{id}/events/stream``. Both ends read the same machine clock;
``Date.now()`` has millisecond resolution, so figures may read up to 1 ms high."""

from __future__ import annotations

import queue
import threading
import time

import httpx
import orjson

from bench.context import Bench, Row, Target, check
from bench.stats import median, summary

NAME = "sse_latency"
CODE = "console.log(String(Date.now()))"


def _follow(
    url: str, out: queue.Queue[float], stop: threading.Event, ready: threading.Event
) -> None:
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=None)) as client,
            client.stream("GET", url, headers={"Accept": "text/event-stream"}) as response,
        ):
            ready.set()
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if not line.startswith("data:"):
                    continue
                received = time.time() * 1000
                event = orjson.loads(line[5:])
                if event["type"] == "console":
                    out.put(received - float(event["payload"]["text"]))
    except httpx.HTTPError:
        if not stop.is_set():
            raise


def run(b: Bench) -> list[Row]:
    api = b.api()
    daemon = b.daemon()
    sid = b.session()
    marks: queue.Queue[float] = queue.Queue()
    stop, ready = threading.Event(), threading.Event()
    url = f"{daemon.base_url}/api/v1/sessions/{sid}/events/stream"
    reader = threading.Thread(target=_follow, args=(url, marks, stop, ready), daemon=True)
    reader.start()
    ready.wait(10)
    body = {"session_id": sid, "input": CODE}

    def mark() -> float:
        check(api.post("/api/v1/executions/repl", json=body), 201)
        return marks.get(timeout=10)

    # Warm-up; the first marks also prove the subscription is live.
    for _ in range(b.n(20, 3)):
        mark()
    batches = []
    for _ in range(b.n(7, 1)):
        samples = []
        for _ in range(b.n(40, 10)):
            samples.append(mark())
            time.sleep(0.005)
        batches.append(summary(samples))
    stop.set()
    api.post(f"/api/v1/sessions/{sid}/close")
    return [
        Row(
            "sse_latency_p50",
            "SSE: console.log to client (p50)",
            median([s["p50"] for s in batches]),
            "ms",
            target=Target("value", "<=", 20, "ms"),
            details={"repeats": batches},
        ),
        Row(
            "sse_latency_p99",
            "SSE: console.log to client (p99)",
            median([s["p99"] for s in batches]),
            "ms",
        ),
    ]
