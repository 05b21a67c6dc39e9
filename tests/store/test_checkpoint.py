"""WAL checkpoints run on the checkpointer's thread, so the WAL stays bounded without any
COMMIT paying for a checkpoint."""

from __future__ import annotations

import time

import pytest

from vmsystem.store import InsertEvents, InsertExecution, Store
from vmsystem.store.checkpoint import CHECKPOINT_EVERY_COMMITS, RESTART_FRAMES

from . import factories as f
from .conftest import is_sqlite


def test_steady_writes_are_checkpointed_and_the_wal_starts_over(store: Store) -> None:
    if not is_sqlite(store):
        pytest.skip("SQLite only")
    checkpointer = store._checkpointer
    assert checkpointer is not None
    t = f.template()
    store.insert_template(t)
    s = f.session(t.id)
    store.insert_session(s)
    frames = []
    for round_ in range(12):
        for _ in range(CHECKPOINT_EVERY_COMMITS):
            e = f.execution(s.id)
            store.submit(InsertExecution(e))
            store.submit(InsertEvents([f.event(e.id, 1, pad="x" * 6000)])).result(timeout=5)
        deadline = time.monotonic() + 5
        while checkpointer.rounds <= round_ and time.monotonic() < deadline:
            time.sleep(0.005)
        frames.append(checkpointer.wal_frames)
    assert checkpointer.rounds >= 12
    # 1,536 commits of a few pages each: without the restart the WAL would only grow (every
    # passive checkpoint reported a larger WAL); with it, it starts over past RESTART_FRAMES.
    assert max(frames) <= RESTART_FRAMES + 2000
    assert min(frames[6:]) < max(frames)


def test_a_postgres_store_has_no_checkpointer(store: Store) -> None:
    if is_sqlite(store):
        pytest.skip("PostgreSQL only")
    assert store._checkpointer is None
