"""Full-text search over 100,000 finished executions (SQLite, the default store): p50 of
``ExecutionService.search`` (limit 20) for one- and two-word queries drawn from the stored
text, so that every query matches something.

The executions are generated through the store's writer directly (no V8): each has a short
input, one console line, and one in ten an error message, made of words from a fixed
vocabulary with a skewed frequency, like identifiers in real code.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from bench.context import Bench, Row, Target
from bench.stats import summary

NAME = "search"
TARGET_MS = 50.0
SESSIONS = 10
BATCH = 1000


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {
        "".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size * 2)
    }
    return sorted(words)[:size]


def run(b: Bench) -> list[Row]:
    from vmsystem.core import open_system
    from vmsystem.models import (
        Event,
        EventType,
        Execution,
        ExecutionKind,
        ExecutionStatus,
    )
    from vmsystem.store import InsertEvents, InsertExecution, WriteGroup

    total = b.n(100_000, 3_000)
    rng = random.Random(16)
    vocabulary = _vocabulary(rng, 20_000)
    # A skewed draw: a few words are common, most are rare (as identifiers are).
    cumulative = list(
        itertools.accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(vocabulary)))
    )

    def phrase(k: int) -> str:
        return " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=k))

    vm = open_system(str(b.workdir / "search.db"), cache_dir=b.cache_dir)
    try:
        template = vm.templates.create("bench-search")
        first = vm.sessions.create(template.id, str(b.worktree))
        sessions = [first.id]
        for _ in range(SESSIONS - 1):
            extra = dataclasses.replace(first, id=str(uuid.uuid4()))
            vm.store.insert_session(extra)
            sessions.append(extra.id)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        t0 = time.perf_counter()
        futures = []
        stored: list[tuple[str, str]] = []  # a sample of the indexed texts, to draw queries from
        group: list[InsertExecution | InsertEvents] = []
        for i in range(total):
            eid = f"{i:08d}-0000-4000-8000-{rng.getrandbits(48):012x}"
            at = start + timedelta(milliseconds=i)
            failed = i % 10 == 0
            execution = Execution(
                id=eid,
                session_id=sessions[i % SESSIONS],
                kind=ExecutionKind.REPL,
                input=f"const {phrase(1)} = {phrase(1)}({phrase(2)}); {phrase(3)}",
                path=None,
                args={},
                env={},
                status=ExecutionStatus.ERROR if failed else ExecutionStatus.OK,
                started_at=at,
                ended_at=at,
                result=None if failed else {"type": "number", "preview": "1", "json": 1},
                error={"name": "TypeError", "message": phrase(4)} if failed else None,
                metrics={},
            )
            line = phrase(6)
            if i % 97 == 0:
                stored.append((f"{execution.input} {line}", execution.session_id))
            console = Event(eid, 1, at, EventType.CONSOLE, {"level": "log", "text": line})
            group += [InsertExecution(execution), InsertEvents([console])]
            if len(group) >= 2 * BATCH:
                futures.append(vm.store.submit(WriteGroup(tuple(group))))
                group = []
        if group:
            futures.append(vm.store.submit(WriteGroup(tuple(group))))
        for future in futures:
            future.result()
        # The first search indexes whatever the writer has not yet (at most 127 executions).
        vm.executions.search("warmup")
        load_s = time.perf_counter() - t0

        sample_rng = random.Random(5)
        queries: list[tuple[str, str | None]] = []
        for n in range(b.n(300, 40)):
            text, sid = sample_rng.choice(stored)
            words = sample_rng.sample(re.findall("[a-z]+", text), 1 + n % 2)
            queries.append((" ".join(words), sid if n % 4 == 3 else None))
        sample_rng.shuffle(queries)
        samples, hits = [], []
        for q, sid in queries:
            t1 = time.perf_counter()
            page = vm.executions.search(q, session_id=sid, limit=20)
            samples.append((time.perf_counter() - t1) * 1000)
            hits.append(len(page.matches))
        common = vocabulary[0]
        worst = []
        for _ in range(b.n(10, 3)):
            t1 = time.perf_counter()
            vm.executions.search(common, limit=20)
            worst.append((time.perf_counter() - t1) * 1000)
    finally:
        vm.close()
    s = summary(samples)
    return [
        Row(
            f"search_p50_{total // 1000}k",
            f"Full-text search over {total:,} executions, 1-2 word queries, limit 20 (p50)",
            s["p50"],
            "ms",
            target=Target("value", "<=", TARGET_MS, "ms"),
            details={
                "executions": total,
                "load_s": round(load_s, 2),
                "queries": s,
                "queries_with_hits": sum(1 for h in hits if h) / len(hits),
                "most_common_word_ms": summary(worst),
            },
        )
    ]
