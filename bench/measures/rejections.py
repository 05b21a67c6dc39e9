"""What V8's rejection hook costs (docs/runtime.md, "Unhandled rejections"): 20 000 promises
rejected before they get a handler (``Promise.reject(i).catch(f)``: two calls of the hook
into Python each) in a session (``metrics.duration_ms``), beside Node.js running the same loop
(``process.hrtime``), the two alternating run by run. Informational: no target."""

from __future__ import annotations

import shutil
import subprocess

from bench.context import Bench, Row, check
from bench.stats import median

NAME = "rejections"
LOOP = "for (let i = 0; i < 20000; i++) Promise.reject(i).catch(() => {})"
NODE_SCRIPT = (
    "const rl = require('readline').createInterface({input: process.stdin});"
    "rl.on('line', () => { const t = process.hrtime.bigint();"
    f" {LOOP};"
    " setImmediate(() => process.stdout.write("
    "Number(process.hrtime.bigint() - t) / 1e6 + '\\n')); });"
)


def run(b: Bench) -> list[Row]:
    api = b.api()
    sid = b.session()
    body = {"session_id": sid, "input": LOOP}
    node = shutil.which("node")
    proc = (
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

    def node_once() -> float | None:
        if proc is None or proc.stdin is None or proc.stdout is None:
            return None
        proc.stdin.write("\n")
        proc.stdin.flush()
        return float(proc.stdout.readline())

    def session_once() -> float:
        x = check(api.post("/api/v1/executions/repl", json=body), 201)
        if x["status"] != "ok":
            raise RuntimeError(f"the rejection loop failed: {x['error']}")
        return float(x["metrics"]["duration_ms"])

    runs: list[float] = []
    node_ms: list[float] = []
    try:
        for _ in range(b.n(2, 1)):
            session_once()
            node_once()
        for _ in range(b.n(9, 2)):
            runs.append(session_once())
            ms = node_once()
            if ms is not None:
                node_ms.append(ms)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
    api.post(f"/api/v1/sessions/{sid}/close")
    return [
        Row(
            "rejections_20k",
            "20 000 `Promise.reject(i).catch(f)` in a session (metrics.duration_ms)",
            median(runs),
            "ms",
            median(node_ms) if node_ms else None,
            "Node.js, same loop",
            details={"duration_ms": runs, "node_ms": node_ms},
        )
    ]
