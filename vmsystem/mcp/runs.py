"""Following a started execution to its end for ``run_js`` and ``run_file``: its console
output goes out as progress notifications in batches, and its outcome becomes the result."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import suppress

import anyio

from vmsystem.mcp.backend import Backend, Json
from vmsystem.mcp.results import ConsoleCollector, Image, run_result, run_text

__all__ = ["MAX_PROGRESS_MESSAGE", "PROGRESS_INTERVAL_S", "Report", "follow_run"]

#: Sends a progress notification (a no-op when the client sent no progress token).
Report = Callable[[float, str], Awaitable[None]]
#: Console lines are batched into one progress notification at most this often (seconds).
PROGRESS_INTERVAL_S = 0.1
#: The longest progress message (characters): a larger batch is split, a longer line cut.
MAX_PROGRESS_MESSAGE = 4000


class _Batch:
    """Console lines waiting to go out as one progress notification; ``progress`` counts the
    lines sent so far."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.lines: list[str] = []
        self.chars = 0
        self.sent = 0
        self.last_sent = time.monotonic()

    def due_in(self) -> float | None:
        """Seconds until the waiting lines must go out (None: nothing waits)."""
        if not self.lines:
            return None
        return max(0.0, self.last_sent + PROGRESS_INTERVAL_S - time.monotonic())

    async def add(self, event: Json) -> None:
        """Queue a console event's line; send the batch when it is due or full."""
        payload = event.get("payload") or {}
        level = payload.get("level", "log")
        line = ("" if level == "log" else f"[{level}] ") + str(payload.get("text", ""))
        if len(line) > MAX_PROGRESS_MESSAGE:
            line = line[: MAX_PROGRESS_MESSAGE - 1] + "…"
        if self.chars + len(line) > MAX_PROGRESS_MESSAGE:
            await self.flush()
        self.lines.append(line)
        self.chars += len(line) + 1
        if time.monotonic() - self.last_sent >= PROGRESS_INTERVAL_S:
            await self.flush()

    async def flush(self) -> None:
        """Send the waiting lines, if any."""
        if self.lines:
            self.sent += len(self.lines)
            message = "\n".join(self.lines)
            self.lines.clear()
            self.chars = 0
            await self.report(self.sent, message)
        self.last_sent = time.monotonic()


async def follow_run(
    backend: Backend, started: Json, report: Report
) -> tuple[str, Json, tuple[Image, ...]]:
    """Follow a started execution to its end; its result as (text, JSON, images), the
    images being those of its display() outputs and of its value's MIME bundle.

    If the tool call itself is cancelled (the client gave up), the execution is cancelled
    too, so that the session does not stay busy with a run nobody waits for.
    """
    execution_id = started["id"]
    console = ConsoleCollector()
    await report(0, f"execution {execution_id} running")
    try:
        await _follow(backend, execution_id, console, _Batch(report))
        final = await backend.get_execution(execution_id)
    except BaseException:
        # Shielded: the tool call is being cancelled. A run that ended, or a daemon that is
        # gone, leaves nothing to cancel.
        with anyio.CancelScope(shield=True), anyio.move_on_after(10), suppress(Exception):
            await backend.cancel_execution(execution_id)
        raise
    value = final.get("result") or {}
    if isinstance(value.get("display"), dict):
        console.add_bundle(value["display"], listed=False)
    result = run_result(final, console)
    return run_text(result), result.model_dump(mode="json"), tuple(console.images)


async def _follow(
    backend: Backend, execution_id: str, console: ConsoleCollector, batch: _Batch
) -> None:
    """Read the execution's events until its terminal one. A separate task reads them, so
    that waiting lines go out on time even while the code prints nothing more."""
    send, receive = anyio.create_memory_object_stream[Json | Exception | None](1000)

    async def pump() -> None:
        async with send:
            try:
                async for event in backend.follow(execution_id):
                    await send.send(event)
            except Exception as exc:
                await send.send(exc)
            await send.send(None)

    failure: Exception | None = None
    async with anyio.create_task_group() as tg, receive:
        tg.start_soon(pump)
        while True:
            item: Json | Exception | None = None
            with anyio.move_on_after(batch.due_in()) as waited:
                item = await receive.receive()
            if waited.cancelled_caught:
                await batch.flush()
                continue
            if item is None:
                break
            if isinstance(item, Exception):
                failure = item  # raised outside the task group, not wrapped in a group
                break
            console.add(item)
            if item.get("type") == "console":
                await batch.add(item)
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    await batch.flush()
