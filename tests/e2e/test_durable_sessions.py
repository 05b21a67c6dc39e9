"""Durable sessions over the REST API of a real daemon with process hosts: a session whose
runtime is lost while it is idle (its host died for another session's input, kill -9 of its
host, a daemon restart) is rebuilt by replay under the same id."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import DaemonFactory, create_session, create_template, iter_sse, wait_for

pytestmark = pytest.mark.e2e

#: Generous: the machine running the tests may be loaded.
RECOVERY_TIMEOUT_S = 60.0
#: One daemon, one host process: every session shares it (no memory budget, so sessions of
#: mem_mb 4096 share it too). Its 1 GiB memory ceiling lets one input kill it (V8 aborts when
#: its heap cannot grow within the ceiling).
ONE_HOST = (
    "--hosts", "process", "--host-processes", "1", "--sessions-per-host", "32",
    "--host-memory-mb", "1024", "--host-memory-budget-mb", "0",
)  # fmt: skip
#: Kills the host under ONE_HOST (its session's heap limit is above the host's ceiling).
HOST_KILLER = "new Array(1e8).fill(1.5).length"


def _repl(http: httpx.Client, session_id: str, code: str) -> dict[str, Any]:
    r = http.post("/executions/repl", json={"session_id": session_id, "input": code})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _recovered(http: httpx.Client, session_id: str, count: int = 1) -> dict[str, Any]:
    """Wait until the session is ready again after its ``count``-th recovery."""
    return wait_for(  # type: ignore[no-any-return]
        lambda: (
            (s := http.get(f"/sessions/{session_id}").json())["status"] == "ready"
            and s["recovery_count"] >= count
            and s
        ),
        timeout=RECOVERY_TIMEOUT_S,
        interval=0.1,
    )


def _recovery_event(http: httpx.Client, session_id: str) -> dict[str, Any]:
    """The ``SESSION_RECOVERED`` event of the session's last recovery."""
    executions = http.get("/executions", params={"session_id": session_id, "limit": 100}).json()
    (last,) = [x for x in executions if x["kind"] == "recovery"][:1]
    events = http.get(f"/executions/{last['id']}/events").json()
    assert [e["type"] for e in events] == ["system"]
    payload: dict[str, Any] = events[0]["payload"]
    assert payload["code"] == "SESSION_RECOVERED"
    return payload


def _with_state(http: httpx.Client, session_id: str) -> None:
    """``k`` and a function defined in earlier inputs."""
    assert _repl(http, session_id, "globalThis.k = 41")["status"] == "ok"
    assert _repl(http, session_id, "function twice(x) { return 2 * x }")["status"] == "ok"


def _assert_state(http: httpx.Client, session_id: str) -> None:
    assert _repl(http, session_id, "k + 1")["result"]["json"] == 42
    assert _repl(http, session_id, "twice(21)")["result"]["json"] == 42


class _SessionStream:
    """The session's SSE stream, read on a thread."""

    def __init__(self, http: httpx.Client, session_id: str) -> None:
        self.messages: list[Any] = []
        self.open = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(http, session_id), daemon=True)
        self._thread.start()
        assert self.open.wait(30), "the session stream opened"

    def _read(self, http: httpx.Client, session_id: str) -> None:
        try:
            with http.stream("GET", f"/sessions/{session_id}/events/stream", timeout=None) as r:
                self.open.set()
                for message in iter_sse(r):
                    self.messages.append(message.data)
        except httpx.HTTPError:
            self.open.set()

    def codes(self) -> list[str]:
        return [
            str(m.get("payload", {}).get("code"))
            for m in self.messages
            if isinstance(m, dict) and m.get("type") == "system"
        ]


def test_a_bystander_of_a_host_crash_is_recovered_with_its_state(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    daemon = start_daemon(*ONE_HOST)
    with daemon.client() as http, daemon.client() as streaming:
        t = create_template(http, "shared", mem_mb=4096, wall_ms=30000, cpu_ms=30000)
        a = create_session(http, t["id"], worktree)
        b = create_session(http, t["id"], worktree)
        assert a["host_id"] == b["host_id"]
        _with_state(http, b["id"])
        stream = _SessionStream(streaming, b["id"])

        crash = _repl(http, a["id"], HOST_KILLER)
        assert crash["status"] == "error"
        assert crash["error"]["code"] == "SESSION_CRASHED", crash

        session = _recovered(http, b["id"])
        assert session["recovered_at"] is not None and session["last_error"] is None
        _assert_state(http, b["id"])
        event = _recovery_event(http, b["id"])
        assert (event["replayed"], event["diverged"]) == (2, [])
        wait_for(lambda: "SESSION_RECOVERED" in stream.codes(), timeout=RECOVERY_TIMEOUT_S)

        # A's own input is not replayed into the same crash: its execution stays failed and
        # A comes back without it.
        assert http.get(f"/executions/{crash['id']}").json()["status"] == "error"
        _recovered(http, a["id"])
        assert _recovery_event(http, a["id"])["replayed"] == 0
        assert _repl(http, a["id"], "1 + 1")["result"]["json"] == 2


def test_kill_9_of_an_idle_sessions_host_recovers_it(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    daemon = start_daemon(*ONE_HOST)
    with daemon.client() as http:
        t = create_template(http, "killed")
        b = create_session(http, t["id"], worktree)
        _with_state(http, b["id"])
        (host,) = [
            h for h in http.get("/runtime/summary").json()["hosts"] if h["id"] == b["host_id"]
        ]
        os.kill(host["pid"], signal.SIGKILL)
        _recovered(http, b["id"])
        _assert_state(http, b["id"])
        assert "SIGKILL" in _recovery_event(http, b["id"])["cause"]


def test_replay_if_pure_recovers_only_sessions_that_never_ran_a_side_effect(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    daemon = start_daemon(*ONE_HOST)
    with daemon.client() as http:
        t = create_template(http, "pure")
        r = http.patch(
            f"/templates/{t['id']}", json={"settings": {"recovery": {"policy": "replay_if_pure"}}}
        )
        assert r.status_code == 200 and r.json()["settings"]["recovery"] == {
            "policy": "replay_if_pure"
        }
        assert http.post(f"/templates/{t['id']}/modules", json={"name": "exec"}).status_code in (
            200,
            201,
        )
        cap = {"kind": "exec", "name": "run", "config": {"allow": ["/bin/echo"]}}
        assert http.post(f"/templates/{t['id']}/capabilities", json=cap).status_code == 201
        impure = create_session(http, t["id"], worktree)
        pure = create_session(http, t["id"], worktree)
        ran = _repl(http, impure["id"], "require('exec').run('/bin/echo', ['hi']).trim()")
        assert ran["status"] == "ok", ran
        assert ran["metrics"]["side_effects"] == ["exec.run"]
        _with_state(http, pure["id"])
        assert (
            "side_effects"
            not in http.get("/executions", params={"session_id": pure["id"], "limit": 1}).json()[0][
                "metrics"
            ]
        )

        (host,) = [h for h in http.get("/runtime/summary").json()["hosts"]]
        os.kill(host["pid"], signal.SIGKILL)

        _recovered(http, pure["id"])
        _assert_state(http, pure["id"])
        crashed = wait_for(
            lambda: (
                (s := http.get(f"/sessions/{impure['id']}").json())["status"] == "crashed" and s
            ),
            timeout=RECOVERY_TIMEOUT_S,
        )
        assert "replay_if_pure" in crashed["last_error"] and "exec.run" in crashed["last_error"]
        assert crashed["recovery_count"] == 0


def test_in_deterministic_mode_a_recovered_sessions_random_sequence_continues(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    daemon = start_daemon(*ONE_HOST)
    with daemon.client() as http:
        t = create_template(http, "seeded")
        r = http.patch(f"/templates/{t['id']}", json={"settings": {"deterministic": {"seed": 11}}})
        assert r.status_code == 200
        inputs = ["Math.random()", "console.log(Math.random()); Date.now()", "Math.random()"]
        s = create_session(http, t["id"], worktree)
        for code in inputs:
            assert _repl(http, s["id"], code)["status"] == "ok"
        (host,) = [h for h in http.get("/runtime/summary").json()["hosts"]]
        os.kill(host["pid"], signal.SIGKILL)
        _recovered(http, s["id"])
        assert _recovery_event(http, s["id"])["diverged"] == []
        after = [_repl(http, s["id"], "Math.random()")["result"]["json"] for _ in range(3)]

        # What an uninterrupted session with the same seed and inputs draws next.
        reference = create_session(http, t["id"], worktree)
        for code in inputs:
            _repl(http, reference["id"], code)
        expected = [
            _repl(http, reference["id"], "Math.random()")["result"]["json"] for _ in range(3)
        ]
        assert after == expected


def test_a_ready_session_survives_a_daemon_restart(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    first = start_daemon("--hosts", "process")
    with first.client() as http:
        t = create_template(http, "restarted")
        s = create_session(http, t["id"], worktree)
        _with_state(http, s["id"])
        off = create_template(http, "not-durable")
        r = http.patch(
            f"/templates/{off['id']}", json={"settings": {"recovery": {"policy": "off"}}}
        )
        assert r.status_code == 200
        gone = create_session(http, off["id"], worktree)
    code, _ = first.terminate()
    assert code == 0, first.output()

    second = start_daemon("--hosts", "process")
    with second.client() as http:
        _recovered(http, s["id"])
        _assert_state(http, s["id"])
        assert "daemon restarted" in _recovery_event(http, s["id"])["cause"]
        closed = http.get(f"/sessions/{gone['id']}").json()
        assert closed["status"] == "closed"


def test_lazily_a_session_comes_back_on_first_use_after_kill_9_of_the_daemon(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    first = start_daemon("--hosts", "process", "--session-recovery", "lazy")
    with first.client() as http:
        t = create_template(http, "lazy")
        s = create_session(http, t["id"], worktree)
        _with_state(http, s["id"])
    first.kill()  # its sessions were ready
    second = start_daemon("--hosts", "process", "--session-recovery", "lazy")
    assert "1 to rebuild by replay (lazy)" in second.output()
    with second.client() as http:
        assert http.get(f"/sessions/{s['id']}").json()["status"] == "ready"
        assert http.get("/runtime/summary").json()["active_sessions"] == 0
        _assert_state(http, s["id"])  # the first use rebuilds it
        assert http.get(f"/sessions/{s['id']}").json()["recovery_count"] == 1
