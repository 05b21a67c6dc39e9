"""fib(27) in a session (the execution's ``metrics.duration_ms``) beside Node.js running the
same function in one process (``process.hrtime``), with warm-up and repeats on both sides,
the two alternating run by run."""

from __future__ import annotations

import shutil
import subprocess
import time

from bench.context import Bench, Row, Target, check
from bench.stats import median

NAME = "fib"
FIB = "function fib(n){return n<2?n:fib(n-1)+fib(n-2)}"
# One Node.js process answers each input line with the time of one fib(27), so that its runs
# and the session's can alternate and meet the same machine noise (single fib(27) timings
# are bimodal on a shared VM: a lost scheduler tick triples one).
NODE_SCRIPT = (
    FIB
    + """
const rl = require('readline').createInterface({input: process.stdin});
rl.on('line', () => {
  const t = process.hrtime.bigint();
  const v = fib(27);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (v !== 196418) throw new Error('bad fib ' + v);
  process.stdout.write(ms + '\\n');
});
"""
)


class NodeFib:
    """A Node.js process timing one fib(27) per :meth:`once` (None when node is missing)."""

    def __init__(self) -> None:
        node = shutil.which("node")
        self.process = (
            subprocess.Popen(
                [node, "-e", NODE_SCRIPT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
            )
            if node
            else None
        )

    def once(self) -> float | None:
        if self.process is None:
            return None
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


def run(b: Bench) -> list[Row]:
    api = b.api()
    sid = b.session()
    body = {"session_id": sid, "input": "fib(27)"}
    check(api.post("/api/v1/executions/repl", json={"session_id": sid, "input": FIB}), 201)
    warm, reps = b.n(5, 1), b.n(31, 3)

    def once(payload: dict[str, str]) -> tuple[float, float]:
        t0 = time.perf_counter()
        x = check(api.post("/api/v1/executions/repl", json=payload), 201)
        wall = (time.perf_counter() - t0) * 1000
        if payload is body and x["result"]["json"] != 196418:
            raise RuntimeError(f"fib(27) returned {x['result']}")
        return float(x["metrics"]["duration_ms"]), wall

    nodejs = NodeFib()
    runs: list[tuple[float, float]] = []
    node: list[float] = []
    try:
        for _ in range(warm):
            once(body)
            nodejs.once()
        for _ in range(reps):  # alternating, so that both sides meet the same noise
            runs.append(once(body))
            ms = nodejs.once()
            if ms is not None:
                node.append(ms)
    finally:
        nodejs.close()
    trivial = [once({"session_id": sid, "input": "1+1"})[1] for _ in range(reps)]
    api.post(f"/api/v1/sessions/{sid}/close")
    duration = median([r[0] for r in runs])
    node_ms = median(node) if node else None
    return [
        Row(
            "fib27",
            "fib(27) in a session (metrics.duration_ms)",
            duration,
            "ms",
            node_ms,
            "Node.js fib(27)",
            Target("ratio", "<=", 1.5),
            details={
                "duration_ms": [r[0] for r in runs],
                "wall_ms": [r[1] for r in runs],
                "wall_minus_1plus1_ms": median([r[1] for r in runs]) - median(trivial),
                "min_ms": min(r[0] for r in runs),
                "node_min_ms": min(node) if node else None,
                "node_ms": node,
            },
        )
    ]
