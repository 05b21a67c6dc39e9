"""Server-Sent Events: one execution's events, or every event of a session, live.

Each message: ``event: <type>``, ``id``, ``data: <event JSON>``. An execution stream's ids are
``<execution_id>:<seq>`` and it resumes after ``?after_seq=N`` or a ``Last-Event-ID`` header; a
session stream's ids are ``<ordinal>:<seq>`` (the execution's position in its session) and it
resumes after such a ``Last-Event-ID`` (one indexed query, however old the point). Events reach
the stream from the bus as they are produced; they never wait for the database writer.

Both adapt the core's followers (:mod:`vmsystem.core.follow`): the bus only wakes a stream,
which then reads the next page (at most :data:`PAGE` events) itself. Slow clients: nothing is
queued per client and nothing is dropped; a client that reads slowly falls behind and catches up
page by page (from the store once the execution has finished), holding one page at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from fastapi import Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from vmsystem.api.deps import run_blocking, run_in, vm
from vmsystem.api.responses import event_json, json_bytes
from vmsystem.core import Event, VmSystem
from vmsystem.core.errors import ValidationError
from vmsystem.core.follow import STORE_POLL_S
from vmsystem.core.ids import normalize_id

__all__ = [
    "KEEPALIVE_S",
    "MAX_SEQ",
    "clamp_seq",
    "execution_stream",
    "follow_events",
    "parse_last_event_id",
    "parse_session_event_id",
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


def parse_session_event_id(value: str | None) -> tuple[int | str, int] | None:
    """A session stream's ``ordinal:seq`` (or, as earlier versions sent, ``execution_id:seq``);
    None when absent (or a bare seq, which names no execution: the stream starts now)."""
    if not value:
        return None
    head, sep, tail = value.strip().rpartition(":")
    try:
        seq = clamp_seq(int(tail))
        if not sep:
            return None
        if head.isdigit():
            return min(int(head), MAX_SEQ), seq
        return normalize_id(head, "Last-Event-ID"), seq
    except ValueError:
        raise ValidationError("Last-Event-ID of a session stream must be 'ordinal:seq'") from None


def _message(event: Event, key: int | str | None = None) -> ServerSentEvent:
    """An SSE message of ``event``; its id is ``key:seq`` (the execution's id by default)."""
    return ServerSentEvent(
        data=json_bytes(event_json(event)).decode(),
        event=event.type.value,
        id=f"{event.execution_id if key is None else key}:{event.seq}",
    )


def _response(generator: AsyncIterator[ServerSentEvent]) -> Response:
    return EventSourceResponse(
        generator,
        ping=KEEPALIVE_S,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


#: Most events sent per read of the follower (the memory one stream holds at a time).
PAGE = 1000


class _Waker:
    """Wakes a stream's loop from the producing threads, once per batch of news."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.ready = asyncio.Event()
        self._pending = False

    def __call__(self) -> None:
        if not self._pending:  # coalesce: a burst of events costs one loop hop
            self._pending = True
            self._loop.call_soon_threadsafe(self.ready.set)

    def rearm(self) -> None:
        """Before reading: news from now on wakes the loop again."""
        self._pending = False
        self.ready.clear()


async def follow_events(
    system: VmSystem, execution_id: str, after_seq: int
) -> AsyncGenerator[Event, None]:
    """An execution's events after ``after_seq``, live, ending after its terminal event
    (the core's :class:`ExecutionFollower`, read page by page: a slow client costs one page)."""
    waker = _Waker()
    follower = await run_in(
        system, system.executions.follow, execution_id, waker, after_seq=after_seq
    )
    try:
        while not follower.done:
            waker.rearm()
            page = follower.read_live(PAGE)
            if page is None:  # finished: the rest is in the store
                page = await run_in(system, follower.read, PAGE)
            for event in page:
                yield event
            if not page and not follower.done:
                if follower.polling:  # running on another daemon: read the store again soon
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(waker.ready.wait(), STORE_POLL_S)
                else:
                    await waker.ready.wait()
    finally:
        follower.close()


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

    A bare sequence number means nothing across executions, so only ``ordinal:seq`` (the
    ``id`` of the stream's messages) resumes a session stream.

    The stream ends when the session closes or crashes.
    """
    system = vm(request)
    session = await run_blocking(request, system.sessions.get, session_id)
    resume = parse_session_event_id(last_event_id)
    waker = _Waker()
    follower = await run_blocking(
        request, system.executions.follow_session, session.id, waker, resume=resume
    )

    async def generate() -> AsyncIterator[ServerSentEvent]:
        try:
            while True:
                waker.rearm()
                page = await run_in(system, follower.read, PAGE)
                for event in page:
                    yield _message(event, follower.ordinal)
                if not page:
                    if follower.finished:
                        return  # the session closed or crashed
                    await waker.ready.wait()
        finally:
            follower.close()

    return _response(generate())
