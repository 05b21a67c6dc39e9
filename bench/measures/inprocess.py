"""REPL ``1+1`` in-process through the core (persisted: ``repl`` returns after the final
row is committed). Also the baseline of the HTTP overhead."""

from __future__ import annotations

import time

from bench.context import Bench, Row, Target
from bench.stats import median, summary

NAME = "repl_inprocess"


def measure_inprocess(b: Bench) -> tuple[list[float], list[float], list[dict[str, float]]]:
    from vmsystem.core import open_system

    vm = open_system(str(b.workdir / "inprocess.db"), cache_dir=b.cache_dir)
    try:
        template = vm.templates.create("bench-inprocess")
        session = vm.sessions.create(template.id, str(b.worktree))
        repl = vm.executions.repl
        sid = session.id
        for _ in range(b.n(300, 30)):
            repl(sid, "1+1")
        p50s, p99s, batches = [], [], []
        for _ in range(b.n(7, 2)):
            samples = []
            for _ in range(b.n(500, 40)):
                t0 = time.perf_counter()
                x = repl(sid, "1+1")
                samples.append((time.perf_counter() - t0) * 1000)
                assert x.result is not None and x.result["preview"] == "2", x
            s = summary(samples)
            p50s.append(s["p50"])
            p99s.append(s["p99"])
            batches.append(s)
    finally:
        vm.close()
    return p50s, p99s, batches


def run(b: Bench) -> list[Row]:
    p50s, p99s, batches = measure_inprocess(b)
    b.results_cache["repl_inprocess_p50"] = median(p50s)
    return [
        Row(
            "repl_inprocess_p50",
            "REPL `1+1` in-process through the core, persisted (p50)",
            median(p50s),
            "ms",
            target=Target("value", "<=", 0.6, "ms"),
            details={"p50_per_repeat": p50s, "repeats": batches},
        ),
        Row(
            "repl_inprocess_p99",
            "REPL `1+1` in-process through the core (p99)",
            median(p99s),
            "ms",
            details={"p99_per_repeat": p99s},
        ),
    ]
