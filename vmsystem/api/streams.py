"""Server-Sent Events: one execution's events, or every event of a session, live.

Each message: ``event: <type>``, ``id: <execution_id>:<seq>``, ``data: <event JSON>``.
Execution streams resume after ``?after_seq=N`` or a ``Last-Event-ID`` header; session
streams after a ``Last-Event-ID`` of the form ``execution_id:seq``. Events reach the stream
from the bus as they are produced; they never wait for the database writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from vmsystem.api.deps import run_blocking, run_in, vm
from vmsystem.api.responses import event_json
from vmsystem.core import Event, VmSystem
from vmsystem.core.errors import ValidationError
from vmsystem.core.ids import normalize_id

__all__ = [
    "KEEPALIVE_S",
    "MAX_SEQ",
    "clamp_seq",
    "execution_stream",
    "follow_events",
    "parse_last_event_id",
    "session_stream",
]

KEEPALIVE_S = 15
#: Larger than any real seq (max_events is at most 10 million) and still a 32-bit integer, so
#: "after seq N" for a huge N means "nothing yet" instead of a database overflow.
MAX_SEQ = 2**31 - 1


def clamp_seq(seq: int) -> int:
    """``seq`` limited to ``0..MAX_SEQ``."""
    return max(0, min(seq, MAX_SEQ))


def parse_last_event_id(value: str | None) -> tuple[str | None, int | None]:
    """``execution_id:seq`` or a bare ``seq``; ``(None, None)`` when absent."""
    if not value:
        return None, None
    head, sep, tail = value.strip().rpartition(":")
    try:
        if sep:
            return normalize_id(head, "Last-Event-ID"), clamp_seq(int(tail))
        return None, clamp_seq(int(tail))
    except ValueError:
        raise ValidationError("Last-Event-ID must be 'execution_id:seq' or a number") from None


def _message(event: Event) -> ServerSentEvent:
    return ServerSentEvent(
        data=orjson.dumps(event_json(event)).decode(),
        event=event.type.value,
        id=f"{event.execution_id}:{event.seq}",
    )


def _response(generator: AsyncIterator[ServerSentEvent]) -> Response:
    return EventSourceResponse(
        generator,
        ping=KEEPALIVE_S,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def follow_events(
    system: VmSystem, execution_id: str, after_seq: int
) -> AsyncGenerator[Event, None]:
    """An execution's events after ``after_seq``, live, ending after its terminal event
    (a finished execution's come from the store)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def deliver(event: Event | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    backlog, sub = system.bus.subscribe_execution(execution_id, after_seq, deliver)
    try:
        if sub is None and not backlog and system.bus.get(execution_id) is None:
            backlog = await run_in(
                system, system.store.list_events, execution_id, after_seq=after_seq
            )
        last = after_seq
        for event in backlog:
            last = event.seq
            yield event
        if sub is None:
            return
        while True:
            item = await queue.get()
            if item is None:
                return
            if item.seq > last:
                last = item.seq
                yield item
    finally:
        if sub is not None:
            system.bus.unsubscribe(sub)


async def execution_stream(
    request: Request, execution_id: str, after_seq: int | None, last_event_id: str | None
) -> Response:
    """Stream one execution's events; the stream ends after its terminal event."""
    system = vm(request)
    eid = normalize_id(execution_id, "execution_id")
    _, resume = parse_last_event_id(last_event_id)
    start = clamp_seq(after_seq if after_seq is not None else (resume or 0))
    await run_blocking(request, system.executions.get, eid)  # 404 before the stream starts

    async def generate() -> AsyncIterator[ServerSentEvent]:
        async with aclosing(follow_events(system, eid, start)) as events:
            async for event in events:
                yield _message(event)

    return _response(generate())


async def session_stream(request: Request, session_id: str, last_event_id: str | None) -> Response:
    """Stream every event of a session's executions (live; resumable with Last-Event-ID).

    A bare sequence number means nothing across executions, so only ``execution_id:seq``
    resumes a session stream.

    The stream ends when the session closes or crashes.
    """
    system = vm(request)
    session = await run_blocking(request, system.sessions.get, session_id)
    resume_exec, resume_seq = parse_last_event_id(last_event_id)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def deliver(event: Event | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    sub = system.bus.subscribe_session(session.id, deliver)
    if session.id not in system.sessions.live_ids():
        # Closed or crashed (or gone between the read and the subscription): nothing will
        # follow the backlog.
        deliver(None)
    backlog: list[Event] = []
    if resume_exec is not None:
        backlog = await run_blocking(
            request, _session_backlog, system, session.id, resume_exec, resume_seq or 0
        )

    async def generate() -> AsyncIterator[ServerSentEvent]:
        sent: dict[str, int] = {}
        try:
            for event in backlog:
                sent[event.execution_id] = event.seq
                yield _message(event)
            while True:
                item = await queue.get()
                if item is None:
                    return  # the session closed or crashed
                if item.seq > sent.get(item.execution_id, 0):
                    sent[item.execution_id] = item.seq
                    yield _message(item)
        finally:
            system.bus.unsubscribe(sub)

    return _response(generate())


def _session_backlog(system: Any, session_id: str, execution_id: str, after: int) -> list[Event]:
    """Events after ``execution_id:after`` and of every later execution of the session."""
    executions = list(reversed(system.executions.list(session_id, limit=1000)))
    ids = [x.id for x in executions]
    if execution_id not in ids:
        return []
    out: list[Event] = []
    for x in executions[ids.index(execution_id) :]:
        start = after if x.id == execution_id else 0
        out.extend(system.executions.events(x.id, after_seq=start, limit=10000))
    return out
