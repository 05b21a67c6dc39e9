"""The daemon process: restart recovery, graceful shutdown, auth, listen-address safety,
start-up errors and idle culling."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import (
    DaemonFactory,
    create_session,
    create_template,
    free_port,
    iter_sse,
    run_cli,
    wait_for,
)

pytestmark = pytest.mark.e2e
RESTART_MESSAGE = "daemon restarted: runtime state does not survive process restarts"
#: A restart closes the sessions that were ready (tests/e2e/test_durable_sessions.py: they
#: come back by default).
NOT_DURABLE = ("--session-recovery", "off")


def _start_endless(http: httpx.Client, session_id: str) -> dict[str, Any]:
    r = http.post(
        "/executions/repl",
        json={"session_id": session_id, "input": "while(true){}", "stream": True},
    )
    assert r.status_code == 202, r.text
    return r.json()  # type: ignore[no-any-return]


def test_restart_after_kill_marks_the_running_execution_and_closes_sessions(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    first = start_daemon(*NOT_DURABLE)
    with first.client() as http:
        t = create_template(http, "long", wall_ms=600_000, cpu_ms=600_000)
        s = create_session(http, t["id"], worktree)
        done = http.post(
            "/executions/repl", json={"session_id": s["id"], "input": "console.log('kept'); 1 + 1"}
        ).json()
        assert done["status"] == "ok"
        running = _start_endless(http, s["id"])
        wait_for(lambda: http.get("/runtime/summary").json()["running_executions"] == 1)
    first.kill()

    second = start_daemon(*NOT_DURABLE)
    assert "recovered after restart" in second.output()
    with second.client() as http:
        x = http.get(f"/executions/{running['id']}").json()
        assert x["status"] == "error"
        assert x["error"]["code"] == "DAEMON_RESTARTED"
        assert x["ended_at"] is not None
        evs = http.get(f"/executions/{running['id']}/events").json()
        assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
        assert evs[-1]["type"] == "system" and evs[-1]["payload"]["code"] == "DAEMON_RESTARTED"

        session = http.get(f"/sessions/{s['id']}").json()
        assert session["status"] == "closed"
        assert session["last_error"] == RESTART_MESSAGE
        assert session["closed_at"] is not None

        kept = http.get(f"/executions/{done['id']}").json()
        assert kept == done
        kept_events = http.get(f"/executions/{done['id']}/events").json()
        assert [e["type"] for e in kept_events] == ["input_echo", "console", "value"]

        summary = http.get("/runtime/summary").json()
        assert (summary["active_sessions"], summary["running_executions"]) == (0, 0)
        r = http.post("/executions/repl", json={"session_id": s["id"], "input": "1"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "SESSION_NOT_READY"


def test_sigterm_cancels_running_work_closes_sessions_and_exits_0_within_10_s(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    first = start_daemon(*NOT_DURABLE)
    with first.client() as http:
        t = create_template(http, "shutdown", wall_ms=600_000, cpu_ms=600_000)
        s = create_session(http, t["id"], worktree)
        idle = create_session(http, t["id"], worktree)
        running = _start_endless(http, s["id"])

    follower_done = threading.Event()
    followed: list[Any] = []
    following = threading.Event()

    def follow() -> None:  # a UI following the run while the daemon stops
        try:
            with (
                first.client() as c,
                c.stream("GET", f"/executions/{running['id']}/events/stream") as r,
            ):
                for message in iter_sse(r):
                    followed.append(message)
                    following.set()
        except httpx.HTTPError:
            pass
        follower_done.set()

    threading.Thread(target=follow, daemon=True).start()
    assert following.wait(5), "the follower received the input echo"
    code, took = first.terminate()
    assert code == 0, first.output()
    assert took < 10, f"shutdown took {took:.1f} s"
    assert follower_done.wait(5), "streams are closed at shutdown"
    # Running executions are cancelled as shutdown begins: the follower sees the outcome.
    assert "CANCELLED" in repr(followed[-1]), followed

    second = start_daemon(*NOT_DURABLE)
    assert "recovered after restart" not in second.output(), "shutdown left nothing to recover"
    with second.client() as http:
        x = http.get(f"/executions/{running['id']}").json()
        assert x["status"] == "cancelled"
        assert x["error"]["code"] == "CANCELLED"
        assert (
            http.get(f"/executions/{running['id']}/events").json()[-1]["payload"]["code"]
            == "CANCELLED"
        )
        for sid in (s["id"], idle["id"]):
            session = http.get(f"/sessions/{sid}").json()
            assert (session["status"], session["last_error"]) == ("closed", "daemon shutdown")


def test_sigint_is_a_graceful_shutdown_too(start_daemon: DaemonFactory, worktree: Path) -> None:
    d = start_daemon(*NOT_DURABLE)
    with d.client() as http:
        t = create_template(http, "ctrl-c")
        s = create_session(http, t["id"], worktree)
    code, took = d.terminate(sig=signal.SIGINT)
    assert code == 0, d.output()
    assert took < 10
    again = start_daemon(*NOT_DURABLE)
    with again.client() as http:
        session = http.get(f"/sessions/{s['id']}").json()
        assert (session["status"], session["last_error"]) == ("closed", "daemon shutdown")


def test_auth_token_is_required_except_for_health(start_daemon: DaemonFactory) -> None:
    d = start_daemon(token="e2e-token")
    with httpx.Client(base_url=d.api, timeout=10) as anonymous:
        health = anonymous.get("/health")
        assert (health.status_code, health.content) == (200, b'{"status":"ok"}')
        for path in ("/templates", "/runtime/summary", "/metadata/engines"):
            r = anonymous.get(path)
            assert r.status_code == 401
            assert r.json()["error"]["code"] == "UNAUTHORIZED"
            assert set(r.json()) == {"error"} and r.headers["x-request-id"]
        wrong = anonymous.get("/templates", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert anonymous.get(f"{d.url}/metrics").status_code == 401
    with d.client() as http:
        assert http.get("/templates").json() == []
        assert http.post("/templates", json={"name": "ok"}).status_code == 201


def test_the_daemon_logs_one_json_line_per_request_and_per_execution(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    d = start_daemon("--access-log", env={"VMSYSTEM_LOG_LEVEL": "debug"})
    with d.client() as http:
        session = create_session(http, create_template(http, "logs")["id"], worktree)
        r = http.post(
            "/executions/repl",
            json={"session_id": session["id"], "input": "1+1"},
            headers={"X-Request-Id": "log-check-1"},
        )
        assert r.status_code == 201
    d.terminate()
    lines = [json.loads(x) for x in d.output().splitlines() if x.startswith("{")]
    access = [x for x in lines if x.get("request_id") == "log-check-1"]
    assert len(access) == 1
    assert access[0]["event"] == "request" and access[0]["logger"] == "vmsystem.http"
    assert (access[0]["method"], access[0]["status"]) == ("POST", 201)
    finished = [x for x in lines if x.get("execution_id") == r.json()["id"]]
    assert [x["event"] for x in finished] == ["execution finished"]
    assert finished[0]["session_id"] == session["id"] and finished[0]["status"] == "ok"
    assert finished[0]["level"] == "debug"


def test_by_default_the_daemon_logs_no_line_per_request_or_execution(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    d = start_daemon()
    with d.client() as http:
        session = create_session(http, create_template(http, "quiet")["id"], worktree)
        r = http.post(
            "/executions/repl",
            json={"session_id": session["id"], "input": "1+1"},
            headers={"X-Request-Id": "log-check-2"},
        )
        assert r.status_code == 201
    d.terminate()
    lines = [json.loads(x) for x in d.output().splitlines() if x.startswith("{")]
    assert [x for x in lines if x.get("request_id") == "log-check-2"] == []
    assert [x for x in lines if x.get("execution_id") == r.json()["id"]] == []


def test_non_loopback_listen_without_token_is_refused_with_exit_2(tmp_path: Path) -> None:
    done = run_cli(
        [
            "serve",
            "--db",
            str(tmp_path / "vm.db"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--listen",
            f"0.0.0.0:{free_port()}",
        ]
    )
    assert done.returncode == 2, done.stderr
    assert "non-loopback" in done.stderr
    assert "--auth-token" in done.stderr and "--insecure-no-auth" in done.stderr


def test_insecure_no_auth_allows_a_non_loopback_listen(start_daemon: DaemonFactory) -> None:
    port = free_port()
    d = start_daemon("--listen", f"0.0.0.0:{port}", "--insecure-no-auth", port=port)
    with d.client() as http:
        assert http.get("/templates").status_code == 200
    code, _ = d.terminate()
    assert code == 0


def test_non_loopback_listen_with_a_token_is_allowed(start_daemon: DaemonFactory) -> None:
    port = free_port()
    d = start_daemon("--listen", f"0.0.0.0:{port}", token="tok", port=port)
    with d.client() as http:
        assert http.get("/templates").status_code == 200


def test_missing_db_parent_directory_is_a_clear_startup_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"
    done = run_cli(
        [
            "serve",
            "--db",
            str(missing / "vm.db"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--listen",
            f"127.0.0.1:{free_port()}",
        ]
    )
    assert done.returncode == 2, done.stderr
    assert str(missing) in done.stderr
    assert "does not exist" in done.stderr
    assert "Traceback" not in done.stderr
    assert not missing.exists()


def test_idle_sessions_are_closed_after_the_idle_timeout(
    start_daemon: DaemonFactory, worktree: Path
) -> None:
    d = start_daemon("--session-idle-timeout", "1")
    with d.client() as http:
        t = create_template(http, "idle")
        s = create_session(http, t["id"], worktree)
        closed = wait_for(
            lambda: (x := http.get(f"/sessions/{s['id']}").json())["status"] == "closed" and x,
            timeout=15,
        )
        assert "idle" in closed["last_error"]
        assert http.get("/runtime/summary").json()["active_sessions"] == 0
        r = http.post("/executions/repl", json={"session_id": s["id"], "input": "1"})
        assert r.json()["error"]["code"] == "SESSION_NOT_READY"


def test_serve_without_flags_uses_the_user_data_dir_and_vmsystem_environment(
    start_daemon: DaemonFactory, tmp_path: Path
) -> None:
    """``vm-system serve`` with no flags at all: SQLite in the user's data directory (printed
    at start), every setting from its VMSYSTEM_* variable."""
    port = free_port()
    home = tmp_path / "home"
    env = {
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "VMSYSTEM_LISTEN": f"127.0.0.1:{port}",
        "VMSYSTEM_AUTH_TOKEN": "from-env",
    }
    d = start_daemon(port=port, env=env, bare=True)
    db = home / "data" / "vm-system" / "vm-system.db"
    assert db.is_file()
    assert str(db) in d.output()
    with httpx.Client(base_url=d.api, timeout=10) as anonymous:
        assert anonymous.get("/templates").status_code == 401
    d.token = "from-env"
    with d.client() as http:
        assert http.post("/templates", json={"name": "env-configured"}).status_code == 201
        assert http.get("/runtime/summary").json()["db"]["url"].endswith("vm-system.db")
