"""Attacks on a real daemon process over HTTP: DNS rebinding, cross-site requests, CORS, the
token, body limits and bad bodies, half-open connections, the session cap, and what an exec
child can see of the daemon."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Daemon, free_port, run_cli
from vmsystem import client as sdk

pytestmark = pytest.mark.e2e

TOKEN = "security-suite-token"
ALLOWED_ORIGIN = "http://ui.allowed.example"


def _start(root: Path, *flags: str, token: str | None = TOKEN) -> Daemon:
    (root / "cache").mkdir(parents=True, exist_ok=True)
    daemon = Daemon(
        db=root / "vm.db",
        cache_dir=root / "cache",
        log=root / "daemon.log",
        port=free_port(),
        flags=flags,
        token=token,
        env={"VMSYSTEM_AUTH_TOKEN": token} if token else {},
    )
    return daemon.start()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A daemon with a token (from its environment), a CORS origin, an extra allowed host,
    64 KiB bodies and a 1 s request read timeout."""
    d = _start(
        tmp_path_factory.mktemp("security-daemon"),
        "--cors-origin",
        ALLOWED_ORIGIN,
        "--allowed-host",
        "vm.allowed.example",
        "--max-request-bytes",
        "65536",
        "--request-read-timeout",
        "1",
    )
    yield d
    code, _ = d.terminate()
    assert code == 0, d.output()


@pytest.fixture(scope="module")
def open_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A daemon as most run on a desktop: loopback, no token (what a cross-site page attacks:
    a bearer token is itself something a foreign page cannot send)."""
    d = _start(tmp_path_factory.mktemp("open-daemon"), "--cors-origin", ALLOWED_ORIGIN, token=None)
    yield d
    code, _ = d.terminate()
    assert code == 0, d.output()


def host_flags(request: pytest.FixtureRequest, kind: str) -> tuple[str, ...]:
    """``serve`` flags for session hosts of ``kind``: ``process``, or ``ray`` on the test
    session's local Ray cluster."""
    if kind == "ray":
        return ("--hosts", "ray", "--ray-address", request.getfixturevalue("ray_cluster"))
    return ("--hosts", "process")


@pytest.fixture(scope="module", params=["process", "ray"])
def host_daemon(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Daemon]:
    """A daemon with a token, on process hosts and on Ray hosts: for the attacks whose outcome
    depends on where a session's code runs."""
    root = tmp_path_factory.mktemp(f"hosts-{request.param}")
    d = _start(root, *host_flags(request, request.param))
    yield d
    code, _ = d.terminate()
    assert code == 0, d.output()


@pytest.fixture
def http(daemon: Daemon) -> Iterator[httpx.Client]:
    with daemon.client() as c:
        yield c


def _bare(daemon: Daemon, **headers: str) -> httpx.Client:
    """A client sending only ``headers``: no token, no X-Requested-With, as a browser would
    for a page of another site."""
    return httpx.Client(base_url=daemon.api, timeout=30, headers=headers)


def _session(
    http: httpx.Client, worktree: Path, modules: tuple[str, ...] = (), **limits: int
) -> dict[str, Any]:
    t = http.post("/templates", json={"name": f"sec-{time.monotonic_ns()}"})
    assert t.status_code == 201, t.text
    tid = t.json()["id"]
    for module in modules:
        assert http.post(f"/templates/{tid}/modules", json={"name": module}).status_code == 201
    if limits:
        r = http.patch(f"/templates/{tid}", json={"settings": {"limits": limits}})
        assert r.status_code == 200, r.text
    r = http.post("/sessions", json={"template_id": tid, "worktree_path": str(worktree)})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


# ------------------------------------------------------------------- DNS rebinding (Host)
@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:{port}", "evil.localhost"])
def test_a_rebound_host_name_is_refused(daemon: Daemon, host: str) -> None:
    with daemon.client() as c:
        r = c.get("/templates", headers={"Host": host.format(port=daemon.port)})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "INVALID_HOST"


def test_loopback_names_and_allowed_hosts_are_served(daemon: Daemon) -> None:
    with daemon.client() as c:
        for host in ("localhost", "127.0.0.1", "[::1]", "vm.allowed.example"):
            r = c.get("/templates", headers={"Host": f"{host}:{daemon.port}"})
            assert r.status_code == 200, (host, r.text)


# -------------------------------------------------------------------- cross-site requests
def test_a_bodyless_cross_site_close_is_refused(open_daemon: Daemon, worktree: Path) -> None:
    with open_daemon.client() as http:
        session = _session(http, worktree)
    with _bare(open_daemon) as c:
        r = c.post(f"/sessions/{session['id']}/close")
        assert r.status_code == 403 and r.json()["error"]["code"] == "CROSS_SITE_REQUEST"
        r = c.post(
            f"/sessions/{session['id']}/close",
            headers={"Origin": "http://attacker.example", "X-Requested-With": "x"},
        )
        assert r.status_code == 403
        assert c.get(f"/sessions/{session['id']}").json()["status"] == "ready"


def test_a_form_post_from_another_site_is_refused(open_daemon: Daemon) -> None:
    with _bare(open_daemon) as c:
        r = c.post(
            "/templates",
            content=b"name=from-a-form",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 403
        r = c.post(
            "/templates",
            content=b'{"name": "text-plain"}',
            headers={"Content-Type": "text/plain"},
        )
        assert r.status_code == 403
        names = [t["name"] for t in c.get("/templates").json()]
    assert "from-a-form" not in names and "text-plain" not in names


def test_json_same_origin_and_allowed_origins_pass(open_daemon: Daemon) -> None:
    with _bare(open_daemon) as c:
        assert c.post("/templates", json={"name": "json-ok"}).status_code == 201
        own = {"Origin": f"http://127.0.0.1:{open_daemon.port}", "Content-Type": "text/plain"}
        t = c.post("/templates", content=b'{"name": "same-origin"}', headers=own)
        assert t.status_code in (201, 400), t.text  # not 403: the UI's own origin passes
        r = c.post("/templates", json={"name": "cors-ok"}, headers={"Origin": ALLOWED_ORIGIN})
        assert r.status_code == 201


def test_the_sdk_closes_and_cancels_without_a_body(open_daemon: Daemon, worktree: Path) -> None:
    with sdk.Client(open_daemon.url) as vm:
        template = vm.create_template(f"sdk-{time.monotonic_ns()}")
        session = vm.create_session(template["id"], str(worktree))
        running = vm.run_repl(session["id"], "while (true) {}", stream=True)
        assert vm.cancel_execution(running["id"])["id"] == running["id"]
        assert vm.close_session(session["id"])["status"] == "closed"


# ------------------------------------------------------------------------ CORS and token
def test_a_foreign_origin_gets_no_cors_headers(daemon: Daemon) -> None:
    with daemon.client() as c:
        r = c.get("/templates", headers={"Origin": "http://attacker.example"})
        assert "access-control-allow-origin" not in r.headers
        preflight = c.options(
            "/templates",
            headers={"Origin": "http://attacker.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers
        allowed = c.get("/templates", headers={"Origin": ALLOWED_ORIGIN})
        assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_the_api_needs_the_token(daemon: Daemon) -> None:
    with httpx.Client(base_url=daemon.api, timeout=30) as anonymous:
        for path in ("/templates", "/sessions", "/runtime/summary"):
            assert anonymous.get(path).status_code == 401
        r = anonymous.post("/templates", json={"name": "x"}, headers={"X-Requested-With": "x"})
        assert r.status_code == 401
        wrong = anonymous.get("/templates", headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401


def test_non_loopback_serve_without_a_token_is_refused(tmp_path: Path) -> None:
    done = run_cli(["serve", "--db", str(tmp_path / "vm.db"), "--listen", f"0.0.0.0:{free_port()}"])
    assert done.returncode == 2 and "non-loopback" in done.stderr


# ---------------------------------------------------------------------- bodies and caps
def test_an_oversized_body_is_413(http: httpx.Client) -> None:
    r = http.post("/templates", json={"name": "x" * 70_000})
    assert r.status_code == 413 and r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.parametrize("depth", [5_000, 30_000])
def test_deeply_nested_json_is_400_not_a_dropped_connection(
    http: httpx.Client, worktree: Path, depth: int
) -> None:
    session = _session(http, worktree)
    (worktree / "a.js").write_text("1")
    nested = "[" * depth + "]" * depth
    bodies = {
        "/executions/run-file": f'{{"session_id": "{session["id"]}", "path": "a.js", '
        f'"args": {{"x": {nested}}}}}',
        "/executions/repl": f'{{"session_id": "{session["id"]}", "input": {nested}}}',
        "/templates": f'{{"name": {nested}}}',
    }
    for path, body in bodies.items():
        r = http.post(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (path, r.status_code, r.text[:200])
        assert r.json()["error"]["code"] == "INVALID_REQUEST"
    assert http.get("/templates").status_code == 200


def test_half_open_requests_are_dropped(daemon: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as raw:
        raw.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        assert raw.recv(1024) == b""  # the daemon closed the connection
        assert time.monotonic() - started < 8
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as raw:
        raw.sendall(
            b"POST /api/v1/templates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na'
        )
        data = raw.recv(4096)
        assert data == b"" or data.startswith(b"HTTP/1.1 4"), data[:100]


def test_sessions_over_max_sessions_are_429(tmp_path: Path, worktree: Path) -> None:
    d = _start(tmp_path / "capped", "--max-sessions", "2")
    try:
        with sdk.Client(d.url, token=TOKEN) as vm:
            template = vm.create_template("capped")
            first = vm.create_session(template["id"], str(worktree))
            vm.create_session(template["id"], str(worktree))
            with pytest.raises(sdk.TooManySessions) as raised:
                vm.create_session(template["id"], str(worktree))
            assert raised.value.status == 429
            vm.close_session(first["id"])
            vm.create_session(template["id"], str(worktree))
    finally:
        d.terminate()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_huge_sql_blob_stays_within_the_session_budget(
    daemon: Daemon, http: httpx.Client, worktree: Path
) -> None:
    session = _session(http, worktree, ("database",), mem_mb=128)
    code = (
        "(() => { const db = require('database'); db.configure('sqlite3', ':memory:');"
        " try { return db.query('select zeroblob(9.9e8) b').length; }"
        " catch (e) { return e.message; } })()"
    )
    r = http.post("/executions/repl", json={"session_id": session["id"], "input": code})
    assert r.status_code == 201, r.text
    assert "string or blob too big" in r.json()["result"]["json"]
    assert daemon.process is not None
    assert _rss_mb(daemon.process.pid) < 1024
    hosts = http.get("/runtime/summary").json()["hosts"]
    measured = [h["rss_bytes"] for h in hosts if h.get("rss_bytes")]
    assert measured and max(measured) < 1024 * 1024 * 1024, hosts


# ---------------------------------------------------------------- the daemon's secrets
def test_an_exec_child_cannot_read_the_daemon_environment(
    host_daemon: Daemon, worktree: Path
) -> None:
    with host_daemon.client() as http:
        _exec_child_sees_no_token(host_daemon, http, worktree)


def _exec_child_sees_no_token(daemon: Daemon, http: httpx.Client, worktree: Path) -> None:
    assert daemon.process is not None
    t = http.post("/templates", json={"name": f"exec-{time.monotonic_ns()}"}).json()
    assert http.post(f"/templates/{t['id']}/modules", json={"name": "exec"}).status_code == 201
    allow = {"allow": ["cat", "ls", "env"]}
    grant = {"kind": "exec", "name": "run", "enabled": True, "config": allow}
    assert http.post(f"/templates/{t['id']}/capabilities", json=grant).status_code == 201
    s = http.post("/sessions", json={"template_id": t["id"], "worktree_path": str(worktree)})
    assert s.status_code == 201, s.text
    pid = daemon.process.pid
    code = (
        f"(() => {{ const out = []; for (const p of ['/proc/{pid}/environ', '/proc/1/environ'])"
        " { try { out.push(require('exec').run('cat', [p])); }"
        " catch (e) { out.push('THREW ' + e.message); } } return out.join('\\n'); })()"
    )
    r = http.post("/executions/repl", json={"session_id": s.json()["id"], "input": code})
    assert r.status_code == 201, r.text
    seen = r.json()["result"]["json"]
    assert TOKEN not in seen
    assert "No such file" in seen
    env = "JSON.stringify(process.env) + '\\n' + require('exec').run('env', [])"
    r = http.post("/executions/repl", json={"session_id": s.json()["id"], "input": env})
    assert r.status_code == 201 and r.json()["status"] == "ok", r.text
    assert "PATH=" in r.json()["result"]["json"]  # the child's environment was read
    assert TOKEN not in r.text
    assert os.environ.get("VMSYSTEM_AUTH_TOKEN") != TOKEN  # the token is the daemon's alone


# ------------------------------------------------------------------- a store that fails
def test_a_corrupt_database_refuses_to_run_code(tmp_path: Path, worktree: Path) -> None:
    import sqlite3

    d = _start(tmp_path / "corrupt")
    try:
        with d.client() as c:
            session = _session(c, worktree)
            r = c.post("/executions/repl", json={"session_id": session["id"], "input": "1+1"})
            assert r.json()["status"] == "ok"
            with sqlite3.connect(d.db) as raw:
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            d.db.write_bytes(os.urandom(d.db.stat().st_size))
            for _ in range(3):
                r = c.post("/executions/repl", json={"session_id": session["id"], "input": "2"})
                assert r.status_code == 503, r.text
                assert r.json()["error"]["code"] == "STORE_UNAVAILABLE"
            for path in ("/templates", f"/sessions/{session['id']}", "/sessions"):
                r = c.get(path)
                assert r.status_code == 503, (path, r.status_code, r.text)
                assert r.json()["error"]["code"] == "STORE_UNAVAILABLE"
    finally:
        d.terminate()


def test_a_database_overwritten_while_runs_go_on_refuses_every_later_run(
    tmp_path: Path, worktree: Path
) -> None:
    d = _start(tmp_path / "overwritten")
    try:
        with d.client() as c:
            session = _session(c, worktree)
            for _ in range(20):
                r = c.post("/executions/repl", json={"session_id": session["id"], "input": "1"})
                assert r.json()["status"] == "ok"
            # Overwritten with the WAL still holding recent commits: SQLite could go on
            # appending to the WAL from cached pages, answering runs it can never read back.
            d.db.write_bytes(os.urandom(d.db.stat().st_size))
            for _ in range(50):
                r = c.post("/executions/repl", json={"session_id": session["id"], "input": "2"})
                assert r.status_code == 503, r.text
                assert r.json()["error"]["code"] == "STORE_UNAVAILABLE"
    finally:
        d.terminate()


def test_a_damaged_database_is_left_as_found_at_sigterm(tmp_path: Path, worktree: Path) -> None:
    """Nothing is copied into a damaged file at shutdown: not the pending writes, not the WAL
    (SQLite checkpoints it when the last connection closes unless something stops it)."""
    d = _start(tmp_path / "left-as-found")
    try:
        with d.client() as c:
            session = _session(c, worktree)
            for _ in range(20):
                r = c.post("/executions/repl", json={"session_id": session["id"], "input": "1"})
                assert r.json()["status"] == "ok"
            wal = d.db.with_name(d.db.name + "-wal")
            assert wal.stat().st_size > 0  # recent commits are still only in the WAL
            garbage = os.urandom(d.db.stat().st_size)
            d.db.write_bytes(garbage)
            r = c.post("/executions/repl", json={"session_id": session["id"], "input": "2"})
            assert r.status_code == 503, r.text
    finally:
        code, _ = d.terminate()
    assert code == 0, d.output()
    assert d.db.read_bytes() == garbage
    assert wal.stat().st_size > 0  # kept, not checkpointed into the file or deleted


@pytest.mark.parametrize("hosts", ["process", "ray"])
def test_a_run_whose_result_cannot_be_stored_is_refused_not_reported(
    request: pytest.FixtureRequest, tmp_path: Path, worktree: Path, hosts: str
) -> None:
    """The file is damaged while a run goes on: its final write is refused, so the client
    gets 503 STORE_UNAVAILABLE naming the execution, never the result; the session is free."""
    from concurrent.futures import ThreadPoolExecutor

    d = _start(tmp_path / "mid-run", *host_flags(request, hosts))
    try:
        with d.client() as c, ThreadPoolExecutor(1) as pool:
            session = _session(c, worktree, modules=("fs",))
            code = "while (!require('fs').existsSync('go.flag')) {} 'the result'"

            def run() -> httpx.Response:
                with d.client() as own:
                    body = {"session_id": session["id"], "input": code}
                    return own.post("/executions/repl", json=body)

            pending = pool.submit(run)
            deadline = time.monotonic() + 60
            while True:  # the running row is committed, the code is running
                listed = c.get("/executions", params={"session_id": session["id"]}).json()
                if listed and listed[0]["status"] == "running":
                    break
                assert time.monotonic() < deadline, listed
                time.sleep(0.05)
            d.db.write_bytes(os.urandom(d.db.stat().st_size))
            (worktree / "go.flag").write_text("go")
            r = pending.result(timeout=120)
            assert r.status_code == 503, r.text
            error = r.json()["error"]
            assert error["code"] == "STORE_UNAVAILABLE"
            assert "not reported" in error["message"]
            assert error["details"]["execution_id"] == listed[0]["id"]
            assert "the result" not in r.text
            r = c.post("/executions/repl", json={"session_id": session["id"], "input": "2"})
            assert r.status_code == 503, r.text  # refused before it starts, not SESSION_BUSY
            assert "no code runs" in r.json()["error"]["message"]
    finally:
        d.terminate()
