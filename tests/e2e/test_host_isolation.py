"""Session hosts seen from the outside: one line of JavaScript that aborts V8 takes only its
own host's sessions, never the daemon; kill -9 of a host loses nothing; SIGTERM leaves no host
process behind."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import httpx
import pytest

from .conftest import DaemonFactory, create_session, create_template, iter_sse, wait_for

pytestmark = pytest.mark.e2e

#: A process per session (no memory budget: one input asks for mem_mb 4096).
ISOLATED = (
    "--hosts", "process", "--sessions-per-host", "1", "--host-processes", "2",
    "--host-memory-budget-mb", "0",
)  # fmt: skip

#: Each of these aborted the whole daemon when every isolate lived in its process.
CRASHERS = [
    ('"x".repeat(2**28)', 128),
    ('var big = "x".repeat(2**28); [big]', 128),
    ("Array.prototype.toReversed.call({length: 2**30}).length", 128),
    ("Array.prototype.with.call({length: 2**30}, 0, 1).length", 128),
    ("let a = []; a.length = 2**30; a.toReversed().length", 128),
    ("new Array(2**28).fill(0).length", 4096),
]


def _children(pid: int) -> set[int]:
    """Direct children of ``pid`` (from /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(entry))
    return found


@pytest.mark.parametrize(("code", "mem_mb"), CRASHERS)
def test_one_line_that_aborts_v8_leaves_the_daemon_and_other_hosts_alive(
    start_daemon: DaemonFactory, worktree: Path, code: str, mem_mb: int
) -> None:
    daemon = start_daemon(*ISOLATED)
    with daemon.client() as http:
        victim_t = create_template(http, "victim", mem_mb=mem_mb, wall_ms=3000)
        other_t = create_template(http, "other")
        victim = create_session(http, victim_t["id"], worktree)
        other = create_session(http, other_t["id"], worktree)
        assert victim["host_id"] != other["host_id"]
        assert (
            http.post(
                "/executions/repl",
                json={"session_id": other["id"], "input": "globalThis.kept = 41"},
            ).json()["status"]
            == "ok"
        )

        r = http.post("/executions/repl", json={"session_id": victim["id"], "input": code})
        assert r.status_code == 201, r.text
        run = r.json()
        # The prelude fills long arrays in slices, so a time limit can stop the fill.
        assert run["status"] in ("error", "timeout"), run
        # The prelude refuses sparse arrays longer than the memory budget (a RangeError) when
        # it sees their length; the others crash only their host or hit the memory limit.
        if run["status"] == "timeout":  # the CPU limit (2 s) comes before the wall's (3 s)
            assert run["error"]["code"] in {"WALL_TIME_EXCEEDED", "CPU_TIME_EXCEEDED"}
        elif run["error"].get("name") == "RangeError":
            assert "refused" in run["error"]["message"]
        else:
            assert run["error"]["code"] in {"SESSION_CRASHED", "MEMORY_LIMIT_EXCEEDED"}

        # the daemon answers, the other host's session kept its state
        assert http.get("/health").status_code == 200
        again = http.post("/executions/repl", json={"session_id": other["id"], "input": "kept + 1"})
        assert again.json()["result"]["json"] == 42
        if run["error"].get("code") == "SESSION_CRASHED":
            # Rebuilt by replay on a live host, without the input that killed its host.
            wait_for(
                lambda: (
                    (x := http.get(f"/sessions/{victim['id']}").json())["status"] == "ready"
                    and x["recovery_count"] == 1
                ),
                timeout=60,
            )
        running = http.get("/runtime/summary").json()["running_executions"]
        assert running == 0


def test_kill_9_of_a_host_during_a_run_loses_no_completed_execution(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    daemon = start_daemon(*ISOLATED)
    with daemon.client() as http:
        template = create_template(http, "kill", wall_ms=20000)
        session = create_session(http, template["id"], worktree)
        done = http.post(
            "/executions/repl", json={"session_id": session["id"], "input": "console.log(1); 2"}
        ).json()
        hosts = http.get("/runtime/summary").json()["hosts"]
        (host,) = [h for h in hosts if h["id"] == session["host_id"]]
        running = http.post(
            "/executions/repl?wait=false",
            json={"session_id": session["id"], "input": "while (true) {}"},
        ).json()
        os.kill(host["pid"], signal.SIGKILL)
        ended = wait_for(
            lambda: (
                (x := http.get(f"/executions/{running['id']}").json())["status"] != "running" and x
            )
        )
        assert ended["status"] == "error" and ended["error"]["code"] == "SESSION_CRASHED"
        assert "SIGKILL" in ended["error"]["message"]
        kept = http.get(f"/executions/{done['id']}").json()
        assert kept["status"] == "ok" and kept["result"]["json"] == 2
        events = http.get(f"/executions/{done['id']}/events").json()
        assert [e["type"] for e in events] == ["input_echo", "console", "value"]
        # the session is rebuilt by replaying the completed execution
        wait_for(
            lambda: (
                (x := http.get(f"/sessions/{session['id']}").json())["status"] == "ready"
                and x["recovery_count"] == 1
            ),
            timeout=60,
        )
        # the host was restarted: new sessions start and run
        fresh = create_session(http, template["id"], worktree)
        assert (
            http.post(
                "/executions/repl", json={"session_id": fresh["id"], "input": "1 + 1"}
            ).json()["result"]["json"]
            == 2
        )
        restarted = {h["id"]: h for h in http.get("/runtime/summary").json()["hosts"]}
        assert restarted[host["id"]]["restarts"] >= 1
        metrics = httpx.get(f"{daemon.url}/metrics").text
        label = 'vmsystem_host_restarts{host="' + host["id"] + '",kind="process"}'
        assert label in metrics


def test_sigterm_stops_every_host_process(start_daemon: DaemonFactory, worktree: Path) -> None:
    daemon = start_daemon("--hosts", "process", "--host-processes", "2")
    with daemon.client() as http:
        template = create_template(http, "term")
        create_session(http, template["id"], worktree)
        pids = {h["pid"] for h in http.get("/runtime/summary").json()["hosts"]}
    assert daemon.process is not None
    assert len(pids) == 2 and pids <= _children(daemon.process.pid)
    code, _ = daemon.terminate()
    assert code == 0
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_kill_9_of_the_host_of_an_idle_session_ends_its_event_stream_crashed(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    daemon = start_daemon(*ISOLATED)
    with daemon.client() as http:
        template = create_template(http, "idle")
        # Not rebuilt by replay (tests/e2e/test_durable_sessions.py: by default it is).
        off = {"settings": {"recovery": {"policy": "off"}}}
        assert http.patch(f"/templates/{template['id']}", json=off).status_code == 200
        session = create_session(http, template["id"], worktree)
        following = threading.Event()
        ended = threading.Event()
        seen: list[str] = []

        def follow() -> None:
            with (
                daemon.client() as c,
                c.stream("GET", f"/sessions/{session['id']}/events/stream") as r,
            ):
                for message in iter_sse(r):
                    seen.append(message.data)
                    following.set()
            ended.set()

        threading.Thread(target=follow, daemon=True).start()
        # The stream is followed once it shows an execution of the session; then it is idle.
        for _ in range(200):
            done = http.post(
                "/executions/repl", json={"session_id": session["id"], "input": "'seen'"}
            ).json()
            assert done["status"] == "ok"
            if following.wait(0.05):
                break
        assert following.is_set(), "the session stream never showed an execution"
        (host,) = [
            h for h in http.get("/runtime/summary").json()["hosts"] if h["id"] == session["host_id"]
        ]
        os.kill(host["pid"], signal.SIGKILL)
        assert ended.wait(2), "the session's event stream did not end within 2 s"
        row = http.get(f"/sessions/{session['id']}").json()
        assert row["status"] == "crashed"
        assert "SIGKILL" in row["last_error"]
        assert http.get("/runtime/summary").json()["active_sessions"] == 0


def test_a_daemon_with_process_hosts_never_loads_v8_and_names_the_hosts_engine(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    daemon = start_daemon("--hosts", "process", "--host-processes", "1")
    assert daemon.process is not None
    with daemon.client() as http:
        (engine,) = http.get("/metadata/engines").json()
        assert engine["name"] == "v8" and engine["version"][0].isdigit()
        assert http.get("/runtime/summary").json()["engine"] == {
            "name": "v8",
            "version": engine["version"],
        }
        template = create_template(http, "engine")
        session = create_session(http, template["id"], worktree)
        run = http.post("/executions/repl", json={"session_id": session["id"], "input": "1+1"})
        assert run.json()["provenance"]["engine"] == {"name": "v8", "version": engine["version"]}
        with open(f"/proc/{daemon.process.pid}/maps", encoding="utf-8") as maps:
            assert "mini_racer" not in maps.read()
