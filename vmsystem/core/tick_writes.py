"""Group commit on the event loop: the store writes of one loop tick go to the writer together.

Executions started and finished on the event loop (:mod:`vmsystem.core.awaited`) do not commit
one by one: every write asked for during one tick of the loop is queued to the store's writer
at the end of the tick, in one go, so that the writer applies them (and whatever else is
queued) in one transaction. The writer resolves them in order; one callback from its thread
then resolves the tick's awaitables on the loop (one wake-up of the loop per group, not one
per write). Under load a commit carries the inserts and finishes of many executions.

A tick whose writes all belong to the only execution in flight commits them right there on
the loop when the writer is idle (SQLite: a local commit of a few rows, see
:meth:`~vmsystem.store.Store.write_now`): with nothing to group them with, the two thread
hand-offs of a queued write are only latency and context switches.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
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
        self._alone = True  # every write of this tick came from a lone execution

    def write(self, op: WriteOp, *, alone: bool = False) -> asyncio.Future[Ordinals]:
        """Queue ``op`` with this tick's writes; resolves once committed (to the ordinals
        given to the executions it inserted) or with the op's own StoreError. ``alone``: the
        writer is the only execution in flight (its writes have nothing to be grouped with).
        """
        future: asyncio.Future[Ordinals] = self._loop.create_future()
        if not self._waiting:
            self._loop.call_soon(self._flush)
            self._alone = alone
        else:
            self._alone = self._alone and alone
        self._waiting.append((op, future))
        return future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        ops = [op for op, _ in waiting]
        try:
            done = self._store.write_now(ops) if self._alone else None
            if done is not None:
                _settle(waiting, done)
                return
            futures = self._store.submit_many(ops)
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
    outcomes = [done.exception() or done.result() for done in futures]
    # The last future's callback holds this list, which holds that future: a reference
    # cycle that would keep the group (its futures, ops and rows) for the cyclic collector.
    futures.clear()
    _settle(waiting, outcomes)


def _settle(waiting: _Waiting, outcomes: Sequence[Ordinals | BaseException]) -> None:
    for (_, future), outcome in zip(waiting, outcomes, strict=True):
        if future.done():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
