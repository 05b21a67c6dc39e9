"""``vm-system exec repl SID 1+1`` as a user runs it: a fresh CLI process per command (the
interpreter's start-up, the CLI's imports, one HTTP round trip), beside a bare ``python -c
pass`` (the interpreter's own floor). Issue 29's target: at most 0.3 s on a quiet machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.context import Bench, Row, Target
from bench.stats import summary

NAME = "cli"
TARGET_S = 0.3


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {done.returncode}: {done.stderr[:300]}")
    return elapsed


def run(b: Bench) -> list[Row]:
    daemon = b.daemon()
    sid = b.session()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMSYSTEM_")}
    cli = [sys.executable, "-m", "vmsystem", "--server-url", daemon.base_url]
    repl = [*cli, "exec", "repl", sid, "1+1"]
    floor = [sys.executable, "-c", "pass"]
    n = b.n(20, 3)
    _timed(repl, env)  # warm the file cache and the session
    samples = [_timed(repl, env) for _ in range(n)]
    floors = [_timed(floor, env) for _ in range(n)]
    stats, base = summary(samples), summary(floors)
    return [
        Row(
            "cli_exec_repl_p50",
            "vm-system exec repl SID 1+1, a fresh CLI process (p50)",
            stats["p50"],
            "s",
            baseline=base["p50"],
            baseline_label="python -c pass",
            target=Target("value", "<=", TARGET_S, "s"),
            details={"exec_repl": stats, "python_floor": base},
        )
    ]
