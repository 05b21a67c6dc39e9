"""Known engine limits that the runtime cannot fix on mini-racer 0.14.1 (kept visible here).

Each test runs the offending code in a child process, because it aborts the whole process.
They are strict xfails: when a fix lands they start passing, and the marker must go.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import sys
    from vmsystem.runtime import ContextOptions, RunLimits, get_engine

    ctx = get_engine().create_context(ContextOptions(mem_mb=64))
    limits = RunLimits(wall_ms=20_000, cpu_ms=None)
    outcome = ctx.run(sys.argv[1], limits=limits, sink=lambda lines: None)
    print(outcome.kind)
    ctx.close()
    """
)


@pytest.mark.xfail(
    strict=True,
    reason="V8 aborts the process ('Fatal JavaScript out of memory: invalid table size') in "
    "builtins that grow a huge sparse array without checking for termination; mini-racer's "
    "memory limit is enforced by terminating after a GC, not by V8's own heap limit",
)
def test_builtin_filling_a_huge_sparse_array_does_not_kill_the_process() -> None:
    # Array.from({length: 2 ** 28}) fails the same way (about 10 s each, so only one runs).
    code = "new Array(2 ** 28).fill(0).length"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, code], capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == "memory"
