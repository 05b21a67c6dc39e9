"""Helpers for SDK tests: a mock daemon (httpx.MockTransport) and sync/async facades."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

from vmsystem.client import AsyncClient, Client

BASE = "http://vm.test:3210"
Handler = Callable[[httpx.Request], httpx.Response]


def envelope(status: int, code: str, message: str = "boom", **details: Any) -> httpx.Response:
    """An error response in the daemon's envelope."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return httpx.Response(status, json={"error": error})


def sse_event(event: dict[str, Any], *, with_id: bool = True) -> bytes:
    """One SSE message as the daemon writes it."""
    lines = [f"event: {event['type']}"]
    if with_id:
        lines.append(f"id: {event['execution_id']}:{event['seq']}")
    lines.append("data: " + json.dumps(event, separators=(",", ":")))
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def ev(
    seq: int, type_: str = "console", execution_id: str = "e1", **payload: Any
) -> dict[str, Any]:
    """An event dict."""
    if not payload:
        payload = {"level": "log", "text": f"line {seq}"} if type_ == "console" else {}
    return {
        "execution_id": execution_id,
        "seq": seq,
        "ts": "2026-11-22T10:00:00.123Z",
        "type": type_,
        "payload": payload,
    }


class ChunkStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body made of chunks, optionally failing like a dropped connection."""

    def __init__(self, chunks: Iterable[bytes], fail_with: Exception | None = None) -> None:
        self.chunks = list(chunks)
        self.fail_with = fail_with
        self.consumed = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.consumed += 1
            yield chunk
        if self.fail_with is not None:
            raise self.fail_with

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.consumed += 1
            yield chunk
        if self.fail_with is not None:
            raise self.fail_with


def sse_response(
    events: Iterable[dict[str, Any]] = (),
    *,
    extra: Iterable[bytes] = (),
    fail_with: Exception | None = None,
) -> httpx.Response:
    chunks = [sse_event(e) for e in events] + list(extra)
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, stream=ChunkStream(chunks, fail_with)
    )


class Facade:
    """Drive a Client or an AsyncClient through the same synchronous calls."""

    def __init__(self, kind: str, handler: Handler, **kwargs: Any) -> None:
        self.kind = kind
        self.requests: list[httpx.Request] = []

        def recording(request: httpx.Request) -> httpx.Response:
            request.read()
            self.requests.append(request)
            return handler(request)

        kwargs.setdefault("retry_backoff", 0.0)
        transport = httpx.MockTransport(recording)
        base = kwargs.pop("base_url", BASE)
        if kind == "sync":
            self.client: Any = Client(base, transport=transport, **kwargs)
        else:
            self._runner = asyncio.Runner()
            self.client = AsyncClient(base, transport=transport, **kwargs)

    def call(self, method_name: str, /, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method_name)(*args, **kwargs)
        if self.kind == "sync":
            return result
        return self._runner.run(result)

    def stream(
        self, method_name: str, /, *args: Any, limit: int | None = None, **kwargs: Any
    ) -> list[Any]:
        gen = getattr(self.client, method_name)(*args, **kwargs)
        out: list[Any] = []
        if self.kind == "sync":
            try:
                for item in gen:
                    out.append(item)
                    if limit is not None and len(out) >= limit:
                        break
            finally:
                gen.close()
            return out

        async def collect() -> list[Any]:
            try:
                async for item in gen:
                    out.append(item)
                    if limit is not None and len(out) >= limit:
                        break
            finally:
                await gen.aclose()
            return out

        return self._runner.run(collect())

    def close(self) -> None:
        if self.kind == "sync":
            self.client.close()
        else:
            self._runner.run(self.client.aclose())
            self._runner.close()


@pytest.fixture(params=["sync", "async"])
def make(request: pytest.FixtureRequest) -> Iterator[Callable[..., Facade]]:
    """Factory of facades over the sync or the async client (each test runs for both)."""
    made: list[Facade] = []

    def factory(handler: Handler, **kwargs: Any) -> Facade:
        facade = Facade(request.param, handler, **kwargs)
        made.append(facade)
        return facade

    yield factory
    for facade in made:
        facade.close()
