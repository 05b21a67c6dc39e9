"""An execution's ``replay_of`` (a fork's replay) in the store (both backends)."""

from __future__ import annotations

import dataclasses

from vmsystem.store import FinishExecution, InsertExecution, Store

from . import factories as f


def test_an_execution_round_trips_replay_of(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    source, fork = f.session(t.id), f.session(t.id)
    store.insert_session(source)
    store.insert_session(fork)
    original = f.execution(source.id)
    store.write(InsertExecution(original))
    replay = dataclasses.replace(f.execution(fork.id), replay_of=original.id)
    store.write(InsertExecution(replay))
    store.write(FinishExecution(f.finished(replay)))

    assert store.get_execution(replay.id).replay_of == original.id  # type: ignore[union-attr]
    assert store.get_execution(original.id).replay_of is None  # type: ignore[union-attr]
    assert [x.replay_of for x in store.list_executions(fork.id, limit=10)] == [original.id]
