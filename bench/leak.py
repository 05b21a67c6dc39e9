"""Terminations that reach a later run: ``python -m bench.leak [--seconds 120] [--clients 12]``.

``--clients`` sessions on two process hosts (no daemon) each run, for ``--seconds``, a mix of
memory bombs, string bombs and output floods (limits hit on purpose) and ``k = k + 1``; it
prints every ``k + 1`` run that did not end ``ok`` and the count. Each should be 0 (issue 26,
item 4). The soak (``bench/soak.py``) sees the same through the daemon; this one needs no
HTTP and shows it in a minute or two on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import threading
import time

from vmsystem.hosts import RuntimeSpec, open_hosts
from vmsystem.modules import hidden_globals, session_environment
from vmsystem.runtime import ContextOptions, RunLimits

LIMITS = RunLimits(wall_ms=1500, cpu_ms=None)
#: (threshold, code): the bombs, else ``k = k + 1``. The memory bomb grows an array inside a
#: function: a top-level ``const a`` would stay bound in the session after the limit stopped
#: the run, and every later run would (rightly) meet the memory limit.
MIX = [
    (0.15, "(() => { const a = []; for (;;) a.push(new Array(1e6).fill(1)) })()"),
    (0.22, '"x".repeat(2**28)'),
    (0.30, "for (;;) console.log('x'.repeat(1000))"),
]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.leak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--clients", type=int, default=12)
    args = parser.parse_args()
    pool = open_hosts("process", processes=2)
    failed: list[str] = []
    runs = [0]
    lock = threading.Lock()

    def client(n: int) -> None:
        rnd = random.Random(n)
        options = ContextOptions(
            mem_mb=128, env=session_environment((), os.environ), hidden_globals=hidden_globals(())
        )
        spec = RuntimeSpec(session_id=f"leak-{os.getpid()}-{n}", worktree="/tmp", options=options)
        rt = pool.start_runtime(spec, lambda message: None)
        rt.run("var k = 0", limits=LIMITS, sink=lambda lines: None)
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            pick = rnd.random()
            code = next((c for p, c in MIX if pick < p), "k = k + 1")
            outcome = rt.run(code, limits=LIMITS, sink=lambda lines: None)
            if code == "k = k + 1":
                with lock:
                    runs[0] += 1
                    if outcome.kind.value != "ok":
                        failed.append(f"{outcome.kind.value}: {outcome.message}")
                        print(f"k + 1 in session {n}: {failed[-1]}", flush=True)
        rt.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        pool.close()
    print(f"k + 1 runs: {runs[0]}, not ok: {len(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
