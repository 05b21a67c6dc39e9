"""Template revisions and execution provenance in the store (both backends)."""

from __future__ import annotations

import dataclasses

from vmsystem.store import FinishExecution, InsertExecution, Store

from . import factories as f


def test_templates_start_at_their_revision_and_every_update_adds_one(store: Store) -> None:
    t = f.template("rev")
    store.insert_template(t)
    assert store.get_template(t.id).revision == 1  # type: ignore[union-attr]
    store.update_template(t.id, updated_at=f.at(1), name="rev2")
    store.update_template(t.id, updated_at=f.at(2), modules=["fs"])
    store.update_template(t.id, updated_at=f.at(3))
    assert store.get_template(t.id).revision == 4  # type: ignore[union-attr]
    assert [x.revision for x in store.list_templates()] == [4]


def test_an_execution_round_trips_its_provenance(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    s = f.session(t.id)
    store.insert_session(s)
    provenance = {
        "template_id": t.id,
        "template_revision": 3,
        "engine": {"name": "v8", "version": "12.0"},
        "vm_system_version": "1.0",
        "host_id": "inprocess",
        "libraries": [{"name": "tiny", "version": "1.0.0", "sha256": "ab" * 32}],
    }
    e = dataclasses.replace(f.execution(s.id), provenance=provenance)
    store.write(InsertExecution(e))
    store.write(FinishExecution(f.finished(e)))
    assert store.get_execution(e.id).provenance == provenance  # type: ignore[union-attr]
    bare = f.execution(s.id)
    store.write(InsertExecution(bare))
    assert store.get_execution(bare.id).provenance is None  # type: ignore[union-attr]
