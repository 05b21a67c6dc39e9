"""Code that would make V8 abort the whole process must end as an outcome instead.

V8 aborts ('Fatal JavaScript out of memory: invalid table size') in builtins that fill a
huge array before mini-racer's heap limit can act; the prelude refuses such sizes up front.
Each case runs in a child process, so a regression shows as a dead child, not a dead suite.
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


@pytest.mark.parametrize(
    "code",
    [
        "new Array(2 ** 28).fill(0).length",
        "Array.from({length: 2 ** 28}).length",
        "const a = []; a.length = 2 ** 28; a.fill(1).length",
    ],
)
def test_filling_a_huge_array_is_a_memory_outcome_not_a_dead_process(code: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, code], capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == "memory"
