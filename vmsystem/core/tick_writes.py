"""Group commit on the event loop: the store writes of one loop tick go to the writer together.

Executions started and finished on the event loop (:mod:`vmsystem.core.awaited`) do not commit
one by one: every write asked for during one tick of the loop is queued to the store's writer
at the end of the tick, in one go, so that the writer applies them (and whatever else is
queued) in one transaction. The writer resolves them in order; one callback from its thread
then resolves the tick's awaitables on the loop (one wake-up of the loop per group, not one
per write). Under load a commit carries the inserts and finishes of many executions.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import Future

from vmsystem.store import Ordinals, Store, StoreError, WriteOp

__all__ = ["TickWrites"]

_Waiting = list[tuple[WriteOp, "asyncio.Future[Ordinals]"]]


class TickWrites:
    """Writes of one event loop, grouped per tick (use it on that loop only)."""

    def __init__(self, store: Store, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._loop = loop
        self._waiting: _Waiting = []

    def write(self, op: WriteOp) -> asyncio.Future[Ordinals]:
        """Queue ``op`` with this tick's writes; resolves once committed (to the ordinals
        given to the executions it inserted) or with the op's own StoreError."""
        future: asyncio.Future[Ordinals] = self._loop.create_future()
        if not self._waiting:
            self._loop.call_soon(self._flush)
        self._waiting.append((op, future))
        return future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        try:
            futures = self._store.submit_many([op for op, _ in waiting])
        except StoreError as exc:  # the store is closed
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        loop = self._loop

        def committed(_: Future[Ordinals]) -> None:  # on the writer's thread: the last one
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_resolve, waiting, futures)

        futures[-1].add_done_callback(committed)


def _resolve(waiting: _Waiting, futures: list[Future[Ordinals]]) -> None:
    for (_, future), done in zip(waiting, futures, strict=True):
        if future.done():
            continue
        error = done.exception()
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(done.result())
