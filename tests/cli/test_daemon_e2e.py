"""The CLI and the SDK against a real ``vm-system serve`` process.

The first tests replay the original project's shell harness (smoke-test.sh, test-e2e.sh):
global flags before the subcommand, IDs parsed with the same sed and awk programs.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

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


def sh(program: list[str], text: str) -> str:
    return subprocess.run(program, input=text, capture_output=True, text=True, check=True).stdout


def template_id(output: str) -> str:
    return sh(["sed", "-n", r"s/.*(ID: \(.*\)).*/\1/p"], output).strip()


def session_id(output: str) -> str:
    return sh(["awk", "/Created session:/ {print $3}"], output).strip()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


needs_tools = pytest.mark.skipif(
    shutil.which("sed") is None or shutil.which("awk") is None, reason="needs sed and awk"
)


@needs_tools
def test_smoke_script(daemon: Daemon, tmp_path: Path) -> None:
    (tmp_path / "startup.js").write_text(
        'console.log("Startup script loaded"); globalThis.SMOKE_VALUE = 40;'
    )
    (tmp_path / "app.js").write_text('console.log("app.js running"); SMOKE_VALUE + 2;')
    assert daemon.cli("template", "list-available-modules", check=True).stdout.strip()
    name = unique("SmokeTemplate")
    out = daemon.cli("template", "create", "--name", name, "--engine", "goja", check=True).stdout
    tid = template_id(out)
    assert len(tid) == 36
    daemon.cli("template", "add-module", tid, "--name", "fs", check=True)
    daemon.cli(
        "template",
        "add-startup",
        tid,
        "--path",
        "startup.js",
        "--order",
        "10",
        "--mode",
        "eval",
        check=True,
    )
    out = daemon.cli(
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
        check=True,
    ).stdout
    sid = session_id(out)
    assert len(sid) == 36
    assert "Status: ready" in out
    out = daemon.cli("exec", "repl", sid, "SMOKE_VALUE + 2", check=True).stdout
    assert '"preview":"42"' in out
    out = daemon.cli("exec", "run-file", sid, "app.js", check=True).stdout
    assert "Execution ID:" in out
    assert '[1] console: {"level":"log","text":"app.js running"}' in out
    summary = json.loads(daemon.cli("ops", "runtime-summary", check=True).stdout)
    assert sid in summary["active_session_ids"]
    daemon.cli("session", "close", sid, check=True)


@needs_tools
def test_e2e_script(daemon: Daemon, tmp_path: Path) -> None:
    (tmp_path / "runtime").mkdir()
    (tmp_path / "runtime" / "init.js").write_text(
        'console.log("Startup: init.js loaded")\nglobalThis.testGlobal = "initialized"\n'
    )
    (tmp_path / "runtime" / "bootstrap.js").write_text(
        'console.log("Startup: bootstrap.js loaded")\n'
    )
    (tmp_path / "test.js").write_text(
        'console.log("Hello from test.js")\nconst result = testGlobal + "-ok"\n'
        'console.log("Result:", result)\nresult\n'
    )
    tid = template_id(
        daemon.cli(
            "template", "create", "--name", unique("test-template"), "--engine", "goja", check=True
        ).stdout
    )
    daemon.cli(
        "template",
        "add-startup",
        tid,
        "--path",
        "runtime/init.js",
        "--order",
        "10",
        "--mode",
        "eval",
        check=True,
    )
    daemon.cli(
        "template",
        "add-startup",
        tid,
        "--path",
        "runtime/bootstrap.js",
        "--order",
        "20",
        "--mode",
        "eval",
        check=True,
    )
    sid = session_id(
        daemon.cli(
            "session",
            "create",
            "--template-id",
            tid,
            "--workspace-id",
            "ws-test-1",
            "--base-commit",
            "abc123",
            "--worktree-path",
            str(tmp_path),
            check=True,
        ).stdout
    )
    out = daemon.cli("exec", "repl", sid, "1 + 2", check=True).stdout
    assert 'Result: {"type":"number","preview":"3","inspect":"3","json":3}' in out
    out = daemon.cli("exec", "run-file", sid, "test.js", check=True).stdout
    assert "initialized-ok" in out
    assert "Status: ok" in out
    assert sid in daemon.cli("session", "list", check=True).stdout
    listing = daemon.cli("exec", "list", sid, check=True).stdout
    assert listing.splitlines()[1] == "-" * 80
    assert "run_file" in listing and "startup" in listing
    events = daemon.cli(
        "exec",
        "events",
        json.loads(daemon.cli("exec", "list", sid, "-o", "json", check=True).stdout)[0]["id"],
        check=True,
    ).stdout
    assert "Hello from test.js" in events
    daemon.cli("session", "close", sid, check=True)


def test_module_json_is_refused(daemon: Daemon) -> None:
    tid = template_id(
        daemon.cli("template", "create", "--name", unique("NoLibs"), check=True).stdout
    )
    done = daemon.cli("template", "add-module", tid, "--name", "json")
    assert done.returncode != 0
    assert "MODULE_NOT_ALLOWED" in done.stderr
    assert done.stderr.startswith("api error (status=422, code=MODULE_NOT_ALLOWED): ")


def test_js_error_exit_codes_and_follow(daemon: Daemon, tmp_path: Path) -> None:
    tid = template_id(
        daemon.cli("template", "create", "--name", unique("errors"), check=True).stdout
    )
    sid = session_id(
        daemon.cli(
            "session", "create", "--template", tid, "--worktree-path", str(tmp_path), check=True
        ).stdout
    )
    done = daemon.cli("exec", "repl", sid, 'throw new Error("boom")')
    assert done.returncode == 0
    assert "Status: error" in done.stdout
    assert '"message":"boom"' in done.stdout
    assert daemon.cli("exec", "repl", sid, "throw 1", "--fail-on-error").returncode == 3
    done = daemon.cli("exec", "repl", sid, 'console.log("live"); 6 * 7', "--follow", check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == '[1] input_echo: {"text":"console.log(\\"live\\"); 6 * 7"}'
    assert lines[1] == '[2] console: {"level":"log","text":"live"}'
    assert lines[2].startswith('[3] value: {"type":"number","preview":"42","inspect":"42"')
    assert lines[3] == ""
    assert lines[4].startswith("Execution ID: ")
    assert lines[5] == "Status: ok"
    daemon.cli("session", "close", sid, check=True)


def test_output_limit_and_set_limits(daemon: Daemon, tmp_path: Path) -> None:
    tid = template_id(
        daemon.cli("template", "create", "--name", unique("limits"), check=True).stdout
    )
    out = daemon.cli(
        "template", "set-limits", tid, "--max-events", "5", "--wall-ms", "2000", check=True
    ).stdout
    assert '"max_events":5' in out and '"wall_ms":2000' in out
    sid = session_id(
        daemon.cli(
            "session", "create", "--template", tid, "--worktree-path", str(tmp_path), check=True
        ).stdout
    )
    done = daemon.cli("exec", "repl", sid, "for (let i = 0; i < 100; i++) console.log(i)")
    assert done.returncode == 1
    assert done.stderr.startswith("api error (status=422, code=OUTPUT_LIMIT_EXCEEDED): ")
    done = daemon.cli("exec", "repl", sid, "while (true) {}")
    assert done.returncode == 0
    assert "Status: timeout" in done.stdout
    daemon.cli("session", "close", sid, check=True)


def test_ops_commands(daemon: Daemon) -> None:
    assert json.loads(daemon.cli("ops", "health", check=True).stdout) == {"status": "ok"}
    assert daemon.cli("ops", "db-version", check=True).stdout.strip() not in ("", "unknown")
    assert "# TYPE" in daemon.cli("ops", "metrics", check=True).stdout


def test_missing_things_are_typed(vm: sdk.Client) -> None:
    with pytest.raises(sdk.TemplateNotFound):
        vm.get_template(str(uuid.uuid4()))
    with pytest.raises(sdk.SessionNotFound):
        vm.get_session(str(uuid.uuid4()))
    with pytest.raises(sdk.ExecutionNotFound):
        vm.get_execution(str(uuid.uuid4()))
    with pytest.raises(sdk.ValidationError):
        vm.get_template("not-a-uuid")
    name = unique("dup")
    vm.create_template(name)
    with pytest.raises(sdk.Conflict):
        vm.create_template(name)
    with pytest.raises(sdk.EngineNotSupported):
        vm.create_template(unique("e"), engine="spidermonkey")


def test_sdk_stream_cancel_and_busy(vm: sdk.Client, tmp_path: Path) -> None:
    template = vm.create_template(unique("stream"))
    session = vm.create_session(template["name"], str(tmp_path))
    assert session["status"] == "ready"
    running = vm.run_repl(
        session["id"], "for (let i = 0; i < 3; i++) console.log(i); 42", stream=True
    )
    events = list(vm.stream_execution_events(running["id"]))
    assert [e["type"] for e in events] == ["input_echo", "console", "console", "console", "value"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["seq"] for e in vm.stream_execution_events(running["id"], after_seq=3)] == [4, 5]

    loop = vm.run_repl(session["id"], "while (true) {}", stream=True)
    with pytest.raises(sdk.SessionBusy):
        vm.run_repl(session["id"], "1")
    seen: list[sdk.types.Event] = []

    def follow() -> None:
        seen.extend(vm.stream_execution_events(loop["id"]))

    thread = threading.Thread(target=follow)
    thread.start()
    time.sleep(0.2)
    vm.cancel_execution(loop["id"])
    thread.join(10)
    assert not thread.is_alive()
    assert seen[-1]["type"] == "system"
    assert vm.get_execution(loop["id"])["status"] == "cancelled"
    assert vm.run_repl(session["id"], "1 + 1")["result"]["preview"] == "2"  # type: ignore[index]
    vm.close_session(session["id"])
    with pytest.raises(sdk.SessionNotReady):
        vm.run_repl(session["id"], "1")


def test_session_stream(vm: sdk.Client, tmp_path: Path) -> None:
    template = vm.create_template(unique("sess"))
    session = vm.create_session(template["id"], str(tmp_path))
    got: list[sdk.types.Event] = []

    def follow() -> None:
        for event in vm.stream_session_events(session["id"]):
            got.append(event)
            if sum(e["type"] == "value" for e in got) == 2:
                return

    thread = threading.Thread(target=follow)
    thread.start()
    time.sleep(0.3)
    first = vm.run_repl(session["id"], "1")
    second = vm.run_repl(session["id"], "2")
    thread.join(10)
    assert not thread.is_alive()
    assert [(e["execution_id"], e["seq"]) for e in got] == [
        (first["id"], 1),
        (first["id"], 2),
        (second["id"], 1),
        (second["id"], 2),
    ]
    vm.close_session(session["id"])


def test_async_client(daemon: Daemon, tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        async with sdk.AsyncClient(daemon.url) as vm:
            template = await vm.create_template(unique("async"))
            session = await vm.create_session(template["id"], str(tmp_path))
            running = await vm.run_repl(session["id"], 'console.log("a"); 1', stream=True)
            types = [e["type"] async for e in vm.stream_execution_events(running["id"])]
            await vm.close_session(session["id"])
            return types

    assert asyncio.run(scenario()) == ["input_echo", "console", "value"]


def test_auth_token(tmp_path: Path) -> None:
    with running_daemon(tmp_path, ["--auth-token", "s3cret"]) as secured:
        with sdk.Client(secured.url) as anonymous:
            assert anonymous.health() == {"status": "ok"}
            with pytest.raises(sdk.Unauthorized):
                anonymous.list_templates()
        with sdk.Client(secured.url, token="s3cret") as client:
            assert isinstance(client.list_templates(), list)
        done = secured.cli("template", "list")
        assert done.returncode == 1
        assert done.stderr.startswith("api error (status=401, code=UNAUTHORIZED)")
        assert secured.cli("--auth-token", "s3cret", "template", "list").returncode == 0
        assert (
            secured.cli("template", "list", env={"VMSYSTEM_AUTH_TOKEN": "s3cret"}).returncode == 0
        )


LODASH_TEST = """
if (typeof _ === 'undefined') { throw new Error('Lodash library not available'); }
const users = [{ name: 'Alice' }, { name: 'Bob' }, { name: 'Charlie' }];
const names = _.map(users, 'name');
console.log('SUCCESS_LODASH', JSON.stringify(names));
"""
JSON_TEST = """
const encoded = JSON.stringify({ a: 1, b: 2 });
if (encoded !== '{"a":1,"b":2}') { throw new Error('JSON builtin broken'); }
console.log('SUCCESS_JSON_BUILTIN', encoded);
"""


def _session_for(daemon: Daemon, template: str, worktree: Path) -> str:
    out = daemon.cli(
        "session", "create", "--template", template, "--worktree-path", str(worktree), check=True
    ).stdout
    return session_id(out)


@needs_tools
def test_library_matrix_offline(daemon: Daemon, tmp_path: Path) -> None:
    """test-library-matrix.sh with a local library instead of a download."""
    (tmp_path / "test-lodash.js").write_text(LODASH_TEST)
    (tmp_path / "test-json-builtin.js").write_text(JSON_TEST)
    fake = tmp_path / "minidash.js"
    fake.write_text("globalThis._ = { map: (xs, k) => xs.map((x) => x[k]) };\n")
    out = daemon.cli(
        "libs",
        "add",
        str(fake),
        "--name",
        "minidash",
        "--version",
        "1.0.0",
        "--global",
        "_",
        check=True,
    ).stdout
    assert out.startswith("Added library: minidash@1.0.0")
    assert "minidash@1.0.0" in daemon.cli("libs", "cache-info", check=True).stdout

    plain = template_id(
        daemon.cli("template", "create", "--name", unique("NoLibs"), check=True).stdout
    )
    sid = _session_for(daemon, plain, tmp_path)
    assert (
        "SUCCESS_JSON_BUILTIN"
        in daemon.cli("exec", "run-file", sid, "test-json-builtin.js", check=True).stdout
    )
    out = daemon.cli("exec", "run-file", sid, "test-lodash.js", check=True).stdout
    assert "Status: error" in out and "Lodash library not available" in out
    assert out.splitlines()[2].startswith('Error: {"name":"Error"')

    with_lib = template_id(
        daemon.cli("template", "create", "--name", unique("LibTemplate"), check=True).stdout
    )
    daemon.cli("template", "add-library", with_lib, "--name", "minidash-1.0.0", check=True)
    sid = _session_for(daemon, with_lib, tmp_path)
    assert (
        'SUCCESS_LODASH [\\"Alice\\",\\"Bob\\",\\"Charlie\\"]'
        in daemon.cli("exec", "run-file", sid, "test-lodash.js", check=True).stdout
    )


def test_library_not_cached_and_unknown(daemon: Daemon, tmp_path: Path) -> None:
    tid = template_id(daemon.cli("template", "create", "--name", unique("lib"), check=True).stdout)
    unknown = daemon.cli("template", "add-library", tid, "--name", "leftpad")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("api error (status=422, code=LIBRARY_NOT_FOUND): ")
    daemon.cli("template", "add-library", tid, "--name", "ramda", check=True)
    failed = daemon.cli("session", "create", "--template", tid, "--worktree-path", str(tmp_path))
    assert failed.returncode == 1
    assert failed.stderr.startswith("api error (status=424, code=LIBRARY_NOT_CACHED): ")
    assert "vm-system libs download ramda" in failed.stderr


@pytest.mark.network
@needs_tools
def test_library_matrix_with_download(daemon: Daemon, tmp_path: Path) -> None:
    """test-library-matrix.sh as written: download, then the legacy lodash-4.17.21 name."""
    (tmp_path / "test-lodash.js").write_text(LODASH_TEST)
    out = daemon.cli("libs", "download", "lodash", check=True).stdout
    assert "lodash@4.17.21" in out
    tid = template_id(
        daemon.cli("template", "create", "--name", unique("LodashTemplate"), check=True).stdout
    )
    daemon.cli("template", "add-library", tid, "--name", "lodash-4.17.21", check=True)
    sid = _session_for(daemon, tid, tmp_path)
    assert (
        "SUCCESS_LODASH" in daemon.cli("exec", "run-file", sid, "test-lodash.js", check=True).stdout
    )


def test_sdk_types_describe_the_real_json(vm: sdk.Client, tmp_path: Path) -> None:
    from typing import Any, get_type_hints

    from vmsystem.client import types

    def keys(cls: Any) -> set[str]:
        return set(get_type_hints(cls))

    template = vm.create_template(unique("shapes"))
    assert set(template) == keys(types.Template)
    cap = vm.add_capability(template["id"], "fs", "write")
    assert set(cap) == keys(types.Capability)
    (tmp_path / "s.js").write_text("globalThis.S = 1")
    startup = vm.add_startup_file(template["id"], "s.js")
    assert set(startup) == keys(types.StartupFile)
    assert set(vm.get_template(template["id"])) == keys(types.TemplateDetail)
    session = vm.create_session(template["id"], str(tmp_path))
    assert set(session) == keys(types.Session)
    execution = vm.run_repl(session["id"], "S + 1")
    assert set(execution) == keys(types.Execution)
    assert set(execution["metrics"]) <= keys(types.ExecutionMetrics)
    events = vm.list_events(execution["id"])
    assert all(set(e) == keys(types.Event) for e in events)
    assert set(vm.runtime_summary()) == keys(types.RuntimeSummary)
    assert set(vm.module_catalog()[0]) == keys(types.ModuleInfo)
    assert set(vm.library_catalog()[0]) >= keys(types.LibraryInfo)
    assert set(vm.engine_catalog()[0]) == keys(types.EngineInfo)
    assert set(vm.capability_catalog()[0]) >= keys(types.CapabilityInfo) - {
        "config_schema",
        "names",
    }
    vm.close_session(session["id"])


def test_modules_typescript_and_a_library_imported_by_name(
    daemon: Daemon, vm: sdk.Client, tmp_path: Path
) -> None:
    lib = tmp_path / "pairs.js"
    lib.write_text("globalThis.Pairs = { pair: (a, b) => [a, b] };\n")
    daemon.cli(
        "libs",
        "add",
        str(lib),
        "--name",
        "pairs",
        "--version",
        "1.0.0",
        "--global",
        "Pairs",
        check=True,
    )
    tid = template_id(
        daemon.cli("template", "create", "--name", unique("modules"), check=True).stdout
    )
    daemon.cli("template", "add-library", tid, "--name", "pairs-1.0.0", check=True)
    root = tmp_path / "project"
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "util.mts").write_text("export const twice = (n: number): number => 2 * n;\n")
    (root / "main.ts").write_text(
        "import { twice } from './lib/util.mjs';\nimport Pairs from 'pairs';\n"
        "const cjs = require('pairs');\n"
        "console.log(JSON.stringify(Pairs.pair(twice(21), cjs === Pairs)));\n"
    )
    sid = _session_for(daemon, tid, root)
    out = daemon.cli("exec", "run-file", sid, "main.ts", check=True).stdout
    assert "Status: ok" in out and "[42,true]" in out, out
    typed = daemon.cli(
        "exec", "repl", sid, "const n: number = 2; n * 21", "--language", "typescript", check=True
    ).stdout
    assert "Status: ok" in typed and '"preview":"42"' in typed, typed
    x = vm.run_repl(
        sid, "type T = { a: number }; const t: T = { a: 7 }; t.a * 6", language="typescript"
    )
    assert x["status"] == "ok" and x["result"] is not None and x["result"]["json"] == 42
    bad = daemon.cli("exec", "repl", sid, "1", "--language", "cobol")
    assert bad.returncode != 0
    daemon.cli("template", "update", tid, "--language", "typescript", check=True)
    ts_sid = _session_for(daemon, tid, root)
    default = daemon.cli("exec", "repl", ts_sid, "const k: number = 6; k * 7", check=True).stdout
    assert '"preview":"42"' in default, default


def test_ops_drain_moves_a_hosts_sessions_with_their_state(
    daemon: Daemon, vm: sdk.Client, tmp_path: Path
) -> None:
    template = vm.create_template(unique("drain"))
    session = vm.create_session(template["name"], str(tmp_path))
    sid, host = session["id"], session["host_id"]
    assert host is not None
    vm.run_repl(sid, "globalThis.k = 41")
    out = daemon.cli("ops", "drain", host, check=True).stdout
    assert out.startswith(f"host {host} drained and retired\n")
    moved = vm.get_session(sid)
    assert moved["status"] == "ready" and moved["host_id"] != host
    assert f"{sid}  ready  on host {moved['host_id']}" in out
    assert vm.run_repl(sid, "k + 1")["result"]["preview"] == "42"  # type: ignore[index]
    assert host not in [h["id"] for h in vm.runtime_summary()["hosts"]]
    missing = daemon.cli("ops", "drain", "no-such-host")
    assert missing.returncode == 1
    assert missing.stderr.startswith("api error (status=404, code=HOST_NOT_FOUND): ")
