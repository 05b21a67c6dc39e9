"""Runs that V8's termination used to miss, on a real daemon with process and Ray hosts:
single allocations past the session's memory limit fail the run with MEMORY_LIMIT_EXCEEDED,
builtins that ignored termination are cancelled by the runtime itself (the run is
``cancelled``, the session stays ready and keeps its state: the host was not killed), and no
termination leaks into the next run."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Daemon, create_session, create_template, wait_for
from tests.security.test_http import _start

pytestmark = pytest.mark.e2e

#: One allocation past the limit: (code, mem_mb). Each aborted its host or ran on past cancel.
MEMORY_BOMBS = [
    ('"x".repeat(2**28)', 128),
    ('"x".repeat(2**26).replaceAll("x", "yy").length', 128),
    ('"x".repeat(2**26).replace(/x/g, "yy").length', 128),
    ('"x".repeat(2**27).split("").length', 128),
    ('"ab".padEnd(2**28, "c").length', 128),
]
#: Runs that kept going past a cancel inside one builtin call: (code, mem_mb).
UNTERMINATED = [
    (
        "Array.prototype.concat.call([], {length: 2**31, [Symbol.isConcatSpreadable]: true}); "
        "while (true) {}",
        128,
    ),
    ('"x".repeat(2**25).replaceAll("x", "y").length', 512),
    ('const s = "x".repeat(2**27); s.normalize("NFKD"); while (true) {}', 1024),
    ("for (;;) Array.from({length: 2**24})", 512),
    ("new Array(2**28).fill(0); while (true) {}", 4096),
]
_names = itertools.count()


@pytest.fixture(scope="module", params=["process", "ray"])
def daemon(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Daemon]:
    # A budget that takes the inputs' mem_mb 4096 (such a session gets a host of its own).
    flags: tuple[str, ...] = ("--hosts", "process", "--host-memory-budget-mb", "4096")
    if request.param == "ray":
        flags = (
            "--hosts", "ray", "--ray-address", request.getfixturevalue("ray_cluster"),
            "--host-memory-budget-mb", "4096",
        )  # fmt: skip
    d = _start(tmp_path_factory.mktemp(f"termination-{request.param}"), *flags)
    yield d
    code, _ = d.terminate()
    assert code == 0, d.output()


def _session(http: httpx.Client, worktree: Path, mem_mb: int) -> dict[str, Any]:
    template = create_template(http, f"term-{next(_names)}", mem_mb=mem_mb, wall_ms=60000)
    session = create_session(http, template["id"], worktree)
    r = http.post("/executions/repl", json={"session_id": session["id"], "input": "var kept = 41"})
    assert r.json()["status"] == "ok", r.text
    return session


def _still_whole(http: httpx.Client, session: dict[str, Any]) -> None:
    """The session is ready, kept its state, and its next runs end ``ok`` (no termination
    left over from the stopped run)."""
    assert http.get(f"/sessions/{session['id']}").json()["status"] == "ready"
    for _ in range(3):
        r = http.post("/executions/repl", json={"session_id": session["id"], "input": "kept + 1"})
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "ok", r.text
        assert r.json()["result"]["json"] == 42


@pytest.mark.parametrize(("code", "mem_mb"), MEMORY_BOMBS)
def test_one_allocation_past_the_limit_is_memory_limit_exceeded(
    daemon: Daemon, worktree: Path, code: str, mem_mb: int
) -> None:
    with daemon.client() as http:
        session = _session(http, worktree, mem_mb)
        r = http.post("/executions/repl", json={"session_id": session["id"], "input": code})
        assert r.status_code == 201, r.text
        run = r.json()
        assert run["status"] == "error", run
        assert run["error"]["code"] == "MEMORY_LIMIT_EXCEEDED", run["error"]
        _still_whole(http, session)


@pytest.mark.parametrize(("code", "mem_mb"), UNTERMINATED)
def test_a_builtin_that_ignored_termination_is_cancelled_by_the_runtime(
    daemon: Daemon, worktree: Path, code: str, mem_mb: int
) -> None:
    with daemon.client() as http:
        session = _session(http, worktree, mem_mb)
        r = http.post(
            "/executions/repl?wait=false",
            json={"session_id": session["id"], "input": f"console.log('started'); {code}"},
        )
        assert r.status_code == 202, r.text
        run_id = r.json()["id"]
        # Cancel once the code runs on its host (the console line has come back).
        wait_for(
            lambda: any(
                e["type"] == "console" for e in http.get(f"/executions/{run_id}/events").json()
            ),
            timeout=60,
        )
        assert http.post(f"/executions/{run_id}/cancel").status_code == 200
        ended = wait_for(
            lambda: (x := http.get(f"/executions/{run_id}").json())["status"] != "running" and x,
            timeout=60,
        )
        # Ended by V8's termination (or refused up front: the prelude refuses an array of
        # holes longer than the memory budget), not by killing the host (which would crash
        # the session).
        assert ended["status"] in ("cancelled", "error"), ended
        if ended["status"] == "error":
            error = ended["error"]
            refused = error.get("name") == "RangeError" and "refused" in error["message"]
            assert refused or error.get("code") == "MEMORY_LIMIT_EXCEEDED", error
        _still_whole(http, session)
