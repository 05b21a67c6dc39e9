"""A lean closed-loop HTTP/1.1 load generator (asyncio + uvloop, keep-alive connections).

httpx costs a few hundred microseconds of client CPU per request; on a 2-core machine shared
by client and server that would make the client the bottleneck. This generator pre-encodes
each request and parses only the status line and ``Content-Length``, so the same cheap client
drives both the bare endpoint and the daemon and their ratio compares the servers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

__all__ = ["LoadResult", "run_load"]


@dataclass
class LoadResult:
    concurrency: int
    duration_s: float
    completed: int
    errors: int
    statuses: dict[int, int] = field(default_factory=dict)
    client_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.completed / self.duration_s if self.duration_s else 0.0


def _request(host: str, port: int, path: str, body: dict[str, object]) -> bytes:
    payload = orjson.dumps(body)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + payload


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    if length:
        await reader.readexactly(length)
    return status


async def _load(
    host: str,
    port: int,
    path: str,
    make_body: Callable[[str], dict[str, object]],
    keys: list[str],
    concurrency: int,
    warmup_s: float,
    duration_s: float,
) -> LoadResult:
    """``concurrency`` clients in a closed loop; each request borrows a key (e.g. a session)
    from a shared pool so that no two requests use the same key at once."""
    requests = {k: _request(host, port, path, make_body(k)) for k in keys}
    pool: asyncio.Queue[str] = asyncio.Queue()
    for k in keys:
        pool.put_nowait(k)
    loop = asyncio.get_running_loop()
    start_at = loop.time() + warmup_s
    stop_at = start_at + duration_s
    result = LoadResult(concurrency, duration_s, 0, 0)

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                key = await pool.get()
                sent = loop.time()
                if sent >= stop_at:
                    pool.put_nowait(key)
                    return
                writer.write(requests[key])
                try:
                    status = await _read_response(reader)
                finally:
                    pool.put_nowait(key)
                done = loop.time()
                if start_at <= done < stop_at:
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if 200 <= status < 300:
                        result.completed += 1
                    else:
                        result.errors += 1
        finally:
            writer.close()

    cpu0 = time.process_time()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.client_cpu_s = time.process_time() - cpu0
    return result


def run_load(
    base_url: str,
    path: str,
    make_body: Callable[[str], dict[str, object]],
    keys: list[str],
    concurrency: int,
    *,
    warmup_s: float,
    duration_s: float,
) -> LoadResult:
    """Run one closed-loop load window: responses completed inside the window are counted."""
    hostport = base_url.split("://", 1)[1]
    host, _, port = hostport.rpartition(":")
    coro = _load(host, int(port), path, make_body, keys, concurrency, warmup_s, duration_s)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency of the daemon
        return asyncio.run(coro)
    return uvloop.run(coro)
