"""A million-event execution streams over SSE with flat daemon memory: the stream reads pages
from the store, it never loads the execution's events at once."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vmsystem.models import (
    Event,
    EventType,
    Execution,
    ExecutionKind,
    ExecutionStatus,
    Session,
    SessionStatus,
    Template,
    TemplateSettings,
    TemplateSnapshot,
)
from vmsystem.store import InsertEvents, InsertExecution, open_store

from .conftest import DaemonFactory

pytestmark = pytest.mark.e2e

EVENTS = 1_000_000


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _seed(db: Path) -> str:
    """A finished execution with a million console events, written through the store."""
    now = datetime.now(UTC)
    store = open_store(str(db))
    try:
        template = Template(
            "11111111-1111-4111-8111-111111111111",
            "big",
            "v8",
            TemplateSettings(),
            [],
            [],
            now,
            now,
        )
        store.insert_template(template)
        store.insert_session(
            Session(
                "22222222-2222-4222-8222-222222222222",
                template.id,
                "default",
                "HEAD",
                "/tmp",
                SessionStatus.CLOSED,
                now,
                now,
                now,
                None,
                TemplateSnapshot.of(template),
            )
        )
        execution = Execution(
            "33333333-3333-4333-8333-333333333333",
            "22222222-2222-4222-8222-222222222222",
            ExecutionKind.RUN_FILE,
            None,
            "big.js",
            {},
            {},
            ExecutionStatus.OK,
            now,
            now,
            {"type": "undefined", "preview": "undefined"},
            None,
            {},
        )
        store.write(InsertExecution(execution))
        batch = 20_000
        for start in range(1, EVENTS + 1, batch):
            store.submit(
                InsertEvents(
                    [
                        Event(
                            execution.id,
                            seq,
                            now,
                            EventType.CONSOLE,
                            {"level": "log", "text": f"line {seq:07d} " + "x" * 40},
                        )
                        for seq in range(start, min(start + batch, EVENTS + 1))
                    ]
                )
            )
        store.flush(timeout=300)
        return execution.id
    finally:
        store.close()


def test_a_million_event_execution_streams_with_flat_memory(
    start_daemon: DaemonFactory, tmp_path: Path
) -> None:
    db = tmp_path / "big.db"
    execution_id = _seed(db)
    daemon = start_daemon("--hosts", "inprocess", db=db)
    assert daemon.process is not None
    pid = daemon.process.pid
    with daemon.client() as http:
        # warm up the stream path once, then measure from a settled baseline
        with http.stream(
            "GET", f"/executions/{execution_id}/events/stream?after_seq={EVENTS - 5}"
        ) as r:
            assert sum(1 for line in r.iter_lines() if line.startswith("data:")) == 5
        time.sleep(0.2)
        baseline = _rss_mb(pid)
        peak = baseline
        count = 0
        last_seq = 0
        with http.stream("GET", f"/executions/{execution_id}/events/stream") as r:
            for line in r.iter_lines():
                if line.startswith("id:"):
                    last_seq = int(line.rsplit(":", 1)[1])
                    count += 1
                    if count % 50_000 == 0:
                        peak = max(peak, _rss_mb(pid))
        assert (count, last_seq) == (EVENTS, EVENTS)
    # A million events held at once would take hundreds of MB (the old stream loaded them all).
    assert peak - baseline < 64, f"RSS grew from {baseline:.0f} MB to {peak:.0f} MB"
