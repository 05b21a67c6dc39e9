"""What a new user met in the CLI (issue 15), against a real daemon: failed starts and their
sessions, purge and prune, stdin and file input, names for templates, SESSION_BUSY and
output-limit reports, uncached libraries, readable output on a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from vmsystem import client as sdk

from .daemon import Daemon, running_daemon

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("daemon")) as running:
        yield running


@pytest.fixture
def vm(daemon: Daemon) -> Iterator[sdk.Client]:
    with sdk.Client(daemon.url) as client:
        yield client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def template(daemon: Daemon) -> str:
    """The name of a fresh template."""
    name = unique("friction")
    daemon.cli("template", "create", "--name", name, check=True)
    return name


def create(daemon: Daemon, template: str, worktree: Path) -> subprocess.CompletedProcess[str]:
    return daemon.cli("session", "create", "--template", template, "--worktree-path", str(worktree))


def start(daemon: Daemon, template: str, worktree: Path) -> str:
    done = create(daemon, template, worktree)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[2]


def test_a_failed_start_names_its_kept_session_which_delete_purge_removes(
    daemon: Daemon, template: str, tmp_path: Path
) -> None:
    (tmp_path / "boom.js").write_text("throw new Error('no start')")
    daemon.cli("template", "add-startup", template, "--path", "boom.js", check=True)
    failed = daemon.cli(
        "session", "create", "--template", template, "--worktree-path", str(tmp_path)
    )
    assert failed.returncode == 1
    first, second = failed.stderr.splitlines()
    assert first.startswith("api error (status=422, code=STARTUP_FAILED): startup failed: boom.js")
    assert second.startswith("Session ID: ")
    sid = second.split()[2]
    assert f"vm-system session delete --purge {sid}" in second

    listed = daemon.cli("session", "list", "--status", "crashed", "--template", template).stdout
    assert sid in listed and template in listed
    startup_log = daemon.cli("exec", "list", sid, check=True).stdout
    assert "startup" in startup_log and "boom.js" in startup_log

    again = daemon.cli("repl", "--new", "--template", template, "--worktree-path", str(tmp_path))
    assert again.returncode == 1
    assert again.stderr.splitlines()[1].startswith("Session ID: "), "repl --new says it too"

    purged = daemon.cli("session", "delete", "--purge", sid, check=True)
    assert purged.stdout == f"Purged session: {sid}\n"
    gone = daemon.cli("session", "get", sid)
    assert gone.returncode == 1 and "SESSION_NOT_FOUND" in gone.stderr


def test_a_missing_library_warns_when_added_and_names_the_session_at_start(
    daemon: Daemon, template: str, tmp_path: Path
) -> None:
    added = daemon.cli("template", "add-library", template, "--name", "lodash", check=True)
    assert added.stdout == f"Added library: lodash to template {template}\n"
    assert added.stderr.startswith("Warning: library lodash@")
    assert "vm-system libs download lodash" in added.stderr
    failed = daemon.cli(
        "session", "create", "--template", template, "--worktree-path", str(tmp_path)
    )
    assert failed.returncode == 1
    assert "code=LIBRARY_NOT_CACHED" in failed.stderr
    assert "Session ID: " in failed.stderr


def test_purge_refuses_a_ready_session_and_prune_removes_closed_and_crashed(
    daemon: Daemon, vm: sdk.Client, template: str, tmp_path: Path
) -> None:
    ready = start(daemon, template, tmp_path)
    closed = start(daemon, template, tmp_path)
    daemon.cli("session", "close", closed, check=True)
    refused = daemon.cli("session", "delete", "--purge", ready)
    assert refused.returncode == 1
    assert "code=SESSION_ACTIVE" in refused.stderr
    assert vm.get_session(ready)["status"] == "ready"

    (tmp_path / "boom.js").write_text("throw 1")
    daemon.cli("template", "add-startup", template, "--path", "boom.js", check=True)
    crashed = daemon.cli(
        "session", "create", "--template", template, "--worktree-path", str(tmp_path)
    )
    crashed_id = crashed.stderr.splitlines()[1].split()[2]

    pruned = daemon.cli("session", "prune", "--status", "crashed,closed", check=True).stdout
    assert f"Purged session: {closed}" in pruned and f"Purged session: {crashed_id}" in pruned
    remaining = {s["id"] for s in vm.list_sessions()}
    assert ready in remaining and closed not in remaining and crashed_id not in remaining
    bad = daemon.cli("session", "prune", "--status", "ready")
    assert bad.returncode == 2 and "close ready ones first" in bad.stderr
    vm.close_session(ready)


def test_exec_repl_reads_stdin_and_local_files(
    daemon: Daemon, template: str, tmp_path: Path
) -> None:
    sid = start(daemon, template, tmp_path)
    env = {**os.environ, "VMSYSTEM_CACHE_DIR": str(daemon.cache_dir)}
    piped = subprocess.run(
        [sys.executable, "-m", "vmsystem", "--server-url", daemon.url, "exec", "repl", sid, "-"],
        input="1+41",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert piped.returncode == 0, piped.stderr
    assert 'Result: {"type":"number","preview":"42","inspect":"42","json":42}' in piped.stdout
    snippet = tmp_path / "local" / "snippet.js"
    snippet.parent.mkdir()
    snippet.write_text("const fromFile = 6;\nfromFile * 7\n")
    from_file = daemon.cli("exec", "repl", sid, "--file", str(snippet), check=True)
    assert 'Result: {"type":"number","preview":"42","inspect":"42","json":42}' in from_file.stdout
    listed = daemon.cli("exec", "list", sid, check=True).stdout.splitlines()
    assert listed[2].endswith("const fromFile = 6; fromFile * 7"), "an input excerpt"
    assert " ms " in listed[2], "and a duration"
    daemon.cli("session", "close", sid, check=True)


def test_template_commands_take_names(daemon: Daemon, vm: sdk.Client, template: str) -> None:
    shown = daemon.cli("template", "get", template, check=True).stdout
    assert shown.startswith(f"Template: {template}\nID: ")
    daemon.cli("template", "add-module", template, "--name", "fs", check=True)
    assert daemon.cli("template", "list-modules", template, check=True).stdout == "fs\n"
    missing = daemon.cli("template", "get", unique("absent"))
    assert missing.returncode == 1 and "no template named" in missing.stderr
    empty = daemon.cli("template", "add-startup", "", "--path", "a.js")
    assert empty.returncode == 2 and "must not be empty" in empty.stderr


def test_session_busy_names_the_running_execution(
    daemon: Daemon, vm: sdk.Client, template: str, tmp_path: Path
) -> None:
    sid = start(daemon, template, tmp_path)
    running = vm.run_repl(sid, "while (true) {}", stream=True)
    try:
        busy = daemon.cli("exec", "repl", sid, "1")
        assert busy.returncode == 1
        assert "code=SESSION_BUSY" in busy.stderr
        assert f"Running execution: {running['id']}" in busy.stderr
    finally:
        vm.cancel_execution(running["id"])
        vm.close_session(sid)


def test_a_plain_repl_over_the_output_limit_prints_the_execution_and_its_events(
    daemon: Daemon, template: str, tmp_path: Path
) -> None:
    daemon.cli("template", "set-limits", template, "--max-events", "5", check=True)
    sid = start(daemon, template, tmp_path)
    hit = daemon.cli("exec", "repl", sid, "for (let i = 0; i < 100; i++) console.log(i)")
    assert hit.returncode == 1
    assert hit.stderr.startswith("api error (status=422, code=OUTPUT_LIMIT_EXCEEDED)")
    lines = hit.stdout.splitlines()
    assert lines[0].startswith("Execution ID: ") and lines[1] == "Status: error"
    assert '[2] console: {"level":"log","text":"0"}' in lines
    assert any("OUTPUT_LIMIT_EXCEEDED" in line for line in lines[lines.index("Events:") :])
    as_json = daemon.cli(
        "exec", "repl", sid, "for (let i = 0; i < 100; i++) console.log(i)", "-o", "json"
    )
    assert json.loads(as_json.stdout)["error"]["code"] == "OUTPUT_LIMIT_EXCEEDED"
    daemon.cli("session", "close", sid, check=True)


def test_text_output_on_a_terminal_is_readable(
    daemon: Daemon, template: str, tmp_path: Path
) -> None:
    sid = start(daemon, template, tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMSYSTEM_")}
    code = (
        "console.log(0); console.log('a\\nb'); function far() { throw new RangeError('too far') }; "
        "far()"
    )
    child = pexpect.spawn(
        sys.executable,
        ["-m", "vmsystem", "--server-url", daemon.url, "exec", "repl", sid, code],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
    )
    child.expect(pexpect.EOF)
    lines = child.before.replace("\r\n", "\n").splitlines()
    assert lines[1] == "Status: error"
    assert lines[2] == "", "the error is shown once, by its event"
    events = lines[lines.index("Events:") + 1 :]
    assert events[:4] == [f"> {code}", "0", "a", "b"]
    # As Node's REPL shows it: the frames of the input's own top level are cut.
    assert events[4] == "Uncaught RangeError: too far"
    assert events[5].lstrip().startswith("at far ("), "the stack on its own lines"
    daemon.cli("session", "close", sid, check=True)


@pytest.mark.network
def test_add_library_download_makes_the_library_usable(
    daemon: Daemon, template: str, tmp_path: Path
) -> None:
    added = daemon.cli("template", "add-library", template, "--name", "dayjs", "--download")
    assert added.returncode == 0, added.stderr
    assert "Warning" not in added.stderr
    sid = start(daemon, template, tmp_path)
    typed = daemon.cli("exec", "repl", sid, "typeof dayjs", check=True).stdout
    assert '"preview":"function"' in typed
    daemon.cli("session", "close", sid, check=True)


def test_idle_timeouts_from_the_cli(
    daemon: Daemon, vm: sdk.Client, template: str, tmp_path: Path
) -> None:
    daemon.cli("template", "update", template, "--idle-timeout", "120", check=True)
    assert 'Session: {"idle_timeout_s":120.0}' in daemon.cli("template", "get", template).stdout
    by_template = start(daemon, template, tmp_path)
    assert vm.get_session(by_template).get("idle_timeout_s") == 120
    own = daemon.cli(
        "session",
        "create",
        "--template",
        template,
        "--worktree-path",
        str(tmp_path),
        "--idle-timeout",
        "0",
    )
    assert own.returncode == 0, own.stderr
    own_id = own.stdout.split()[2]
    assert "Idle Timeout: never" in daemon.cli("session", "get", own_id, check=True).stdout
    bad = daemon.cli("template", "update", template, "--idle-timeout", "-3")
    assert bad.returncode == 1
    assert "settings.session.idle_timeout_s must be null or a number" in bad.stderr
    for session_id in (by_template, own_id):
        vm.close_session(session_id)
