"""The daemon's request layer against the bare app, without the network (issue 22 item 3).

The daemon's ASGI app (``create_app``: request ids, metrics, CORS when configured, the guard
middleware, the error handlers) and the bare FastAPI app of ``bench/bare_app.py`` both answer
``GET /health``-style routes called directly as ASGI apps on one event loop: no socket, no
HTTP parsing, no client. The daemon's route is ``GET /api/v1/health`` (no store, no engine).

- ``middleware_request_us``: the daemon's app against the bare app (the request layer and the
  daemon's longer route table together);
- ``middleware_stack_us``: the daemon's app against the same app built without its
  middleware (FastAPI's own stack kept): what the daemon's middleware alone adds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.context import Bench, Row
from bench.stats import median

NAME = "middleware"

_Call = Callable[[], Awaitable[int]]


def _caller(app: Any, path: str) -> _Call:
    """One GET of ``path`` through ``app`` as an ASGI call; returns the status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:3210"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 3210),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def call() -> int:
        status = [0]

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]

        await app(dict(scope), receive, send)
        return status[0]

    return call


async def _per_request_us(call: _Call, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        status = await call()
        assert status == 200, status
    return (time.perf_counter() - t0) / n * 1e6


def run(b: Bench) -> list[Row]:
    from bench.bare_app import create_bare_app
    from vmsystem.api.app import create_app
    from vmsystem.core import open_system

    vm = open_system(str(b.workdir / "middleware.db"), cache_dir=b.cache_dir)
    try:
        app = create_app(vm, close_on_shutdown=False)
        plain = create_app(vm, close_on_shutdown=False)
        plain.user_middleware.clear()  # FastAPI's own stack stays; the daemon's goes
        calls = {
            "daemon": _caller(app, "/api/v1/health"),
            "router": _caller(plain, "/api/v1/health"),
            "bare": _caller(create_bare_app(), "/health"),
        }

        async def measure() -> dict[str, list[float]]:
            runs: dict[str, list[float]] = {k: [] for k in calls}
            n = b.n(2000, 200)
            for call in calls.values():  # warm-up
                await _per_request_us(call, n)
            for _ in range(b.n(7, 2)):
                for key, call in calls.items():
                    runs[key].append(await _per_request_us(call, n))
            return runs

        runs = asyncio.run(measure())
    finally:
        vm.close()
    return [
        Row(
            "middleware_request_us",
            "daemon app (request layer + GET /api/v1/health) per ASGI call, no network",
            median(runs["daemon"]),
            "us",
            median(runs["bare"]),
            "bare app GET /health us",
            details=runs,
        ),
        Row(
            "middleware_stack_us",
            "daemon app per ASGI call, against the same app without its middleware",
            median(runs["daemon"]),
            "us",
            median(runs["router"]),
            "router alone us",
        ),
    ]
