"""fib(27) in a session (the execution's ``metrics.duration_ms``) beside Node.js running the
same function in one process (``process.hrtime``), with warm-up and repeats on both sides."""

from __future__ import annotations

import shutil
import subprocess
import time

import orjson

from bench.context import Bench, Row, Target, check
from bench.stats import median

NAME = "fib"
FIB = "function fib(n){return n<2?n:fib(n-1)+fib(n-2)}"
NODE_SCRIPT = (
    FIB
    + """
const warm = +process.argv[1], reps = +process.argv[2], out = [];
for (let i = 0; i < warm; i++) fib(27);
for (let i = 0; i < reps; i++) {
  const t = process.hrtime.bigint();
  const v = fib(27);
  out.push(Number(process.hrtime.bigint() - t) / 1e6);
  if (v !== 196418) throw new Error('bad fib ' + v);
}
console.log(JSON.stringify(out));
"""
)


def node_fib(warm: int, reps: int) -> list[float] | None:
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run(
        [node, "-e", NODE_SCRIPT, str(warm), str(reps)],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    return [float(x) for x in orjson.loads(out)]


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

    for _ in range(warm):
        once(body)
    runs = [once(body) for _ in range(reps)]
    trivial = [once({"session_id": sid, "input": "1+1"})[1] for _ in range(reps)]
    node = node_fib(warm, reps)
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
