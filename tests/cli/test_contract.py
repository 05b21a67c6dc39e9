"""The original CLI's contractual lines, the way its shell harness parses them."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import Run
from .fake_daemon import FakeDaemon

needs_tools = pytest.mark.skipif(
    shutil.which("sed") is None or shutil.which("awk") is None, reason="needs sed and awk"
)


def sh(program: list[str], text: str) -> str:
    return subprocess.run(program, input=text, capture_output=True, text=True, check=True).stdout


def template_id(output: str) -> str:
    """The original harness: sed -n 's/.*(ID: \\(.*\\)).*/\\1/p'."""
    return sh(["sed", "-n", r"s/.*(ID: \(.*\)).*/\1/p"], output).strip()


def session_id(output: str) -> str:
    """The original harness: awk '/Created session:/ {print $3}'."""
    return sh(["awk", "/Created session:/ {print $3}"], output).strip()


@needs_tools
def test_smoke_flow_like_the_original(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    cli = ["--server-url", "http://127.0.0.1:3999", "--db", str(tmp_path / "x.db")]
    result = run(*cli, "template", "list-available-modules")
    assert result.exit_code == 0 and result.stdout.strip()

    result = run(*cli, "template", "create", "--name", "SmokeTemplate", "--engine", "goja")
    assert result.exit_code == 0, result.stderr
    tid = template_id(result.stdout)
    assert result.stdout == f"Created template: SmokeTemplate (ID: {tid})\n"
    assert tid in daemon.templates

    assert run(*cli, "template", "add-module", tid, "--name", "fs").exit_code == 0
    result = run(
        *cli,
        "template",
        "add-startup",
        tid,
        "--path",
        "startup.js",
        "--order",
        "10",
        "--mode",
        "eval",
    )
    assert result.exit_code == 0
    assert result.stdout == f"Added startup file: startup.js (order: 10) to template {tid}\n"

    result = run(
        *cli,
        "session",
        "create",
        "--template-id",
        tid,
        "--workspace-id",
        "ws-smoke",
        "--base-commit",
        "deadbeef",
        "--worktree-path",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.stderr
    sid = session_id(result.stdout)
    assert sid in daemon.sessions
    assert result.stdout.splitlines() == [
        f"Created session: {sid}",
        "Status: ready",
        f"Template ID: {tid}",
        "Workspace ID: ws-smoke",
        "Base Commit: deadbeef",
        f"Worktree Path: {tmp_path}",
    ]

    daemon.sessions[sid]["globals"]["SMOKE_VALUE"] = 40
    result = run(*cli, "exec", "repl", sid, "SMOKE_VALUE + 2")
    assert result.exit_code == 0, result.stderr
    assert '"preview":"42"' in result.stdout
    assert all(str(r.url).startswith("http://127.0.0.1:3999/") for r in daemon.requests)


def test_repl_block_exact(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    sid = _session(run, tmp_path)
    result = run("exec", "repl", sid, "1 + 2")
    assert result.exit_code == 0
    eid = next(iter(daemon.executions))
    assert result.stdout.splitlines() == [
        f"Execution ID: {eid}",
        "Status: ok",
        'Result: {"type":"number","preview":"3","inspect":"3","json":3}',
        "",
        "Events:",
        '[1] input_echo: {"text":"1 + 2"}',
        '[2] value: {"type":"number","preview":"3","inspect":"3","json":3}',
    ]


def test_repl_js_error_is_exit_0_and_fail_on_error_is_3(
    run: Run, daemon: FakeDaemon, tmp_path: Path
) -> None:
    sid = _session(run, tmp_path)
    result = run("exec", "repl", sid, 'console.log("hi"); throw new Error("boom")')
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[1] == "Status: error"
    assert lines[2].startswith('Error: {"name":"Error","message":"boom"')
    assert not any(line.startswith("Result:") for line in lines)
    assert '[2] console: {"level":"log","text":"hi"}' in lines
    assert lines[-1].startswith('[3] exception: {"name":"Error"')

    failed = run("exec", "repl", sid, "throw 1", "--fail-on-error")
    assert failed.exit_code == 3
    assert "Status: error" in failed.stdout
    assert run("exec", "repl", sid, "1", "--fail-on-error").exit_code == 0


def test_run_file_block_has_no_result_line(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    sid = _session(run, tmp_path)
    daemon.files = {"app.js": 'console.log("app.js running"); 40 + 2'}  # type: ignore[attr-defined]
    result = run("exec", "run-file", sid, "app.js", "--args", '{"n": 1}', "--env", '{"K": "v"}')
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Execution ID: ")
    assert lines[1:4] == ["Status: ok", "", "Events:"]
    assert lines[4:] == [
        '[1] console: {"level":"log","text":"app.js running"}',
        '[2] value: {"type":"number","preview":"42","inspect":"42","json":42}',
    ]
    body = json.loads(daemon.requests[-2].content)
    assert body["args"] == {"n": 1} and body["env"] == {"K": "v"}


def test_follow_prints_events_live_then_summary(
    run: Run, daemon: FakeDaemon, tmp_path: Path
) -> None:
    sid = _session(run, tmp_path)
    result = run("exec", "repl", sid, 'console.log("a"); 6 * 7', "--follow")
    assert result.exit_code == 0, result.stderr
    eid = next(iter(daemon.executions))
    assert result.stdout.splitlines() == [
        '[1] input_echo: {"text":"console.log(\\"a\\"); 6 * 7"}',
        '[2] console: {"level":"log","text":"a"}',
        '[3] value: {"type":"number","preview":"42","inspect":"42","json":42}',
        "",
        f"Execution ID: {eid}",
        "Status: ok",
        'Result: {"type":"number","preview":"42","inspect":"42","json":42}',
    ]
    post = next(r for r in daemon.requests if r.url.path == "/api/v1/executions/repl")
    assert json.loads(post.content)["stream"] is True
    assert any(r.url.path.endswith("/events/stream") for r in daemon.requests)


def test_follow_json(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    sid = _session(run, tmp_path)
    result = run("exec", "repl", sid, "1", "--follow", "-o", "json")
    data = json.loads(result.stdout)
    assert data["status"] == "ok"
    assert [e["type"] for e in data["events"]] == ["input_echo", "value"]


def test_output_limit_is_an_api_error_after_the_stored_execution(
    run: Run, daemon: FakeDaemon, tmp_path: Path
) -> None:
    sid = _session(run, tmp_path)
    result = run("exec", "repl", sid, "spam()")
    assert result.exit_code == 1
    eid = next(iter(daemon.executions))
    assert result.stdout.splitlines() == [
        f"Execution ID: {eid}",
        "Status: error",
        'Error: {"code":"OUTPUT_LIMIT_EXCEEDED","message":"too much output"}',
        "",
        "Events:",
        '[1] input_echo: {"text":"spam()"}',
        '[2] system: {"level":"error","code":"OUTPUT_LIMIT_EXCEEDED","message":"too much output"}',
    ]
    assert result.stderr == (
        "api error (status=422, code=OUTPUT_LIMIT_EXCEEDED): "
        "Execution exceeded configured output/event limits\n"
    )


def _session(run: Run, tmp_path: Path) -> str:
    tid = run("template", "create", "--name", f"t{tmp_path.name}").stdout.split("(ID: ")[1][:-2]
    out = run("session", "create", "--template-id", tid, "--worktree-path", str(tmp_path)).stdout
    return out.splitlines()[0].split()[2]


class _Interrupting(httpx.SyncByteStream):
    def __init__(self, first: bytes, exc: BaseException) -> None:
        self.first = first
        self.exc = exc

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        raise self.exc


def test_follow_ctrl_c_cancels_the_execution(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    sid = _session(run, tmp_path)

    def stream(request: httpx.Request) -> httpx.Response:
        eid = request.url.path.split("/")[4]
        first = daemon.events[eid][0]
        body = f"id: {eid}:1\ndata: {json.dumps(first)}\n\n".encode()
        return httpx.Response(200, stream=_Interrupting(body, KeyboardInterrupt()))

    daemon.overrides_prefix = ("GET", "/events/stream", stream)
    result = run("exec", "repl", sid, "1", "--follow")
    assert result.exit_code == 130
    assert result.stdout.startswith("[1] input_echo: ")
    assert result.stderr.startswith("Cancelled execution: ")
    assert daemon.requests[-1].url.path.endswith("/cancel")


def test_broken_stream_is_reported(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    sid = _session(run, tmp_path)

    def stream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_Interrupting(b": hi\n\n", httpx.ReadError("reset")))

    daemon.overrides_prefix = ("GET", "/events/stream", stream)
    result = run("exec", "repl", sid, "1", "--follow")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: event stream /api/v1/executions/")
    assert "without progress: reset" in result.stderr
