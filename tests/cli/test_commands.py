"""Every CLI command against the fake daemon: text lines, tables, json/yaml, requests sent."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .conftest import Run
from .fake_daemon import TS, FakeDaemon


def make_template(run: Run, name: str = "demo") -> str:
    out = run("template", "create", "--name", name).stdout
    return out.split("(ID: ")[1].rstrip(")\n")


def make_session(run: Run, tmp_path: Path, template: str = "demo") -> str:
    out = run("session", "create", "--template", template, "--worktree-path", str(tmp_path)).stdout
    return out.split()[2]


def last_body(daemon: FakeDaemon) -> dict[str, object]:
    return dict(json.loads(daemon.requests[-1].content))


# -- templates -----------------------------------------------------------------------------------
def test_template_list_table_and_empty(run: Run, daemon: FakeDaemon) -> None:
    assert run("template", "list").stdout == "No templates found\n"
    tid = make_template(run, "alpha")
    lines = run("template", "list").stdout.splitlines()
    assert lines[0] == f"{'ID':<36} {'Name':<20} {'Engine':<10} {'Active':<10}"
    assert lines[1] == "-" * 84
    assert lines[2] == f"{tid:<36} {'alpha':<20} {'v8':<10} {'yes':<10}"


def test_template_list_json_and_yaml(run: Run, daemon: FakeDaemon) -> None:
    tid = make_template(run)
    as_json = json.loads(run("template", "list", "--output", "json").stdout)
    assert [t["id"] for t in as_json] == [tid]
    as_yaml = yaml.safe_load(run("template", "list", "-o", "yaml").stdout)
    assert as_yaml == as_json
    created = json.loads(run("template", "create", "--name", "b", "-o", "json").stdout)
    assert created["name"] == "b" and created["engine"] == "v8"


def test_template_create_sends_engine_only_when_given(run: Run, daemon: FakeDaemon) -> None:
    make_template(run, "a")
    assert last_body(daemon) == {"name": "a"}
    run("template", "create", "--name", "b", "--engine", "goja")
    assert last_body(daemon) == {"name": "b", "engine": "goja"}


def test_template_get_detail(run: Run, daemon: FakeDaemon) -> None:
    tid = make_template(run, "full")
    run("template", "add-module", tid, "--name", "fs")
    run("template", "add-library", tid, "--name", "lodash")
    run(
        "template",
        "add-capability",
        tid,
        "--kind",
        "exec",
        "--name",
        "run",
        "--config",
        '{"allow":["ls"]}',
    )
    run("template", "add-startup", tid, "--path", "init.js", "--order", "5")
    lines = run("template", "get", tid).stdout.splitlines()
    assert lines[:6] == [
        "Template: full",
        f"ID: {tid}",
        "Engine: v8",
        "Active: true",
        f"Created: {TS}",
        f"Updated: {TS}",
    ]
    assert lines[6:14] == [
        "",
        "Settings:",
        '  Limits: {"wall_ms":5000,"cpu_ms":2000,"mem_mb":128,"max_events":50000,'
        '"max_output_kb":256}',
        '  Resolver: {"roots":["."],"extensions":[".js",".mjs"]}',
        '  Runtime: {"strict":false,"console":true,"language":"javascript",'
        '"unhandled_rejections":"throw"}',
        '  Deterministic: {"seed":null}',
        '  Recovery: {"policy":"replay"}',
        '  Session: {"idle_timeout_s":null}',
    ]
    assert lines[14:] == [
        "",
        "Capabilities:",
        '  [enabled] exec:run (config: {"allow":["ls"]})',
        "",
        "Startup Files:",
        "  [5] init.js (mode: eval)",
        "",
        "Exposed Modules:",
        "  - fs",
        "",
        "Loaded Libraries:",
        "  - lodash",
    ]
    detail = json.loads(run("template", "get", tid, "-o", "json").stdout)
    assert set(detail) == {"template", "settings", "capabilities", "startup_files"}


def test_template_update_and_delete(run: Run, daemon: FakeDaemon) -> None:
    tid = make_template(run, "old")
    result = run("template", "update", tid, "--name", "new")
    assert result.stdout == f"Updated template: new (ID: {tid})\n"
    assert daemon.requests[-1].method == "PATCH" and last_body(daemon) == {"name": "new"}
    assert run("template", "update", tid).exit_code == 1
    result = run("template", "delete", tid)
    assert result.stdout == f"Deleted template: {tid}\n"


def test_template_set_limits_merges(run: Run, daemon: FakeDaemon) -> None:
    tid = make_template(run)
    result = run("template", "set-limits", tid, "--wall-ms", "200", "--max-output-kb", "4")
    assert result.exit_code == 0, result.stderr
    assert last_body(daemon) == {"settings": {"limits": {"wall_ms": 200, "max_output_kb": 4}}}
    assert result.stdout.splitlines() == [
        f"Updated template: demo (ID: {tid})",
        'Limits: {"wall_ms":200,"cpu_ms":2000,"mem_mb":128,"max_events":50000,"max_output_kb":4}',
    ]
    none = run("template", "set-limits", tid)
    assert none.exit_code == 1 and none.stderr.startswith("Error: no limit given")
    assert run("template", "set-limits", tid, "--wall-ms", "0").exit_code == 2


def test_modules_and_libraries(run: Run, daemon: FakeDaemon) -> None:
    tid = make_template(run)
    assert run("template", "list-modules", tid).stdout == "No modules configured\n"
    assert run("template", "list-libraries", tid).stdout == "No libraries configured\n"
    assert run("template", "add-module", tid, "--name", "fs").stdout == (
        f"Added module: fs to template {tid}\n"
    )
    run("template", "add-module", tid, "--name", "exec")
    assert run("template", "list-modules", tid).stdout == "fs\nexec\n"
    assert run("template", "remove-module", tid, "--name", "fs").stdout == (
        f"Removed module: fs from template {tid}\n"
    )
    assert run("template", "add-library", tid, "--name", "lodash-4.17.21").stdout == (
        f"Added library: lodash-4.17.21 to template {tid}\n"
    )
    assert run("template", "list-libraries", tid, "-o", "json").stdout == (
        '[\n  "lodash-4.17.21"\n]\n'
    )
    assert run("template", "remove-library", tid, "--name", "lodash-4.17.21").stdout == (
        f"Removed library: lodash-4.17.21 from template {tid}\n"
    )
    denied = run("template", "add-module", tid, "--name", "json")
    assert denied.exit_code == 1
    assert "MODULE_NOT_ALLOWED" in denied.stderr


def test_capabilities(run: Run, daemon: FakeDaemon) -> None:
    tid = make_template(run)
    assert run("template", "list-capabilities", tid).stdout == "No capabilities found\n"
    result = run("template", "add-capability", tid, "--name", "fs")
    assert result.stdout == f"Added capability: module:fs to template {tid}\n"
    assert last_body(daemon) == {"kind": "module", "name": "fs", "enabled": True, "config": {}}
    long_config = '{"allow": ["ls", "cat", "grep", "sed", "awk"]}'
    run(
        "template",
        "add-capability",
        tid,
        "--kind",
        "exec",
        "--name",
        "run",
        "--config",
        long_config,
        "--enabled=false",
    )
    assert last_body(daemon)["enabled"] is False
    run("template", "add-capability", tid, "--kind", "fs", "--name", "write", "--disabled")
    assert last_body(daemon)["enabled"] is False
    lines = run("template", "list-capabilities", tid).stdout.splitlines()
    caps = daemon.capabilities[tid]
    assert lines[0].startswith(f"{'Kind':<10} {'Name':<20} {'Enabled':<10} {'Config':<30} ID")
    assert lines[2] == f"{'module':<10} {'fs':<20} {'yes':<10} {'{}':<30} {caps[0]['id']}"
    config = '{"allow":["ls","cat","grep",'[:27] + "..."
    assert lines[3] == f"{'exec':<10} {'run':<20} {'no':<10} {config:<30} {caps[1]['id']}"
    result = run("template", "remove-capability", tid, caps[0]["id"])
    assert result.stdout == f"Removed capability: {caps[0]['id']} from template {tid}\n"
    bad = run("template", "add-capability", tid, "--name", "x", "--config", "[1]")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Error: invalid config JSON: expected an object")
    bad = run("template", "add-capability", tid, "--name", "x", "--config", "{")
    assert bad.stderr.startswith("Error: invalid config JSON: ")


def test_startup_files(run: Run, daemon: FakeDaemon) -> None:
    tid = make_template(run)
    assert run("template", "list-startup", tid).stdout == "No startup files found\n"
    run("template", "add-startup", tid, "--path", "b.js", "--order", "20")
    run("template", "add-startup", tid, "--path", "a.js")
    assert last_body(daemon) == {"path": "a.js", "order_index": 10, "mode": "eval"}
    lines = run("template", "list-startup", tid).stdout.splitlines()
    files = sorted(daemon.startup[tid], key=lambda f: f["order_index"])
    assert lines[0] == f"{'Order':<5} {'Mode':<10} {'Path':<50} ID"
    assert lines[2] == f"{'10':<5} {'eval':<10} {'a.js':<50} {files[0]['id']}"
    assert lines[3] == f"{'20':<5} {'eval':<10} {'b.js':<50} {files[1]['id']}"
    result = run("template", "remove-startup", tid, files[0]["id"])
    assert result.stdout == f"Removed startup file: {files[0]['id']} from template {tid}\n"
    bad = run("template", "add-startup", tid, "--path", "x.js", "--mode", "module")
    assert bad.exit_code == 1
    assert bad.stderr == (
        'Error: unsupported startup mode "module": only eval is currently supported\n'
    )


def test_available_catalogs_need_no_daemon(run: Run, daemon: FakeDaemon) -> None:
    modules = json.loads(run("template", "list-available-modules").stdout)
    assert {m["name"] for m in modules} == {"fs", "exec", "database"}
    fs = next(m for m in modules if m["name"] == "fs")
    assert {"readFileSync", "writeFileSync"} <= set(fs["functions"])
    assert daemon.requests == []


# -- sessions ------------------------------------------------------------------------------------
def test_session_create_by_name_with_defaults(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    tid = make_template(run, "named")
    result = run("session", "create", "--template", "named", "--worktree-path", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert last_body(daemon) == {
        "template_id": "named",
        "worktree_path": str(tmp_path),
        "workspace_id": "default",
        "base_commit_oid": "HEAD",
    }
    assert f"Template ID: {tid}" in result.stdout.splitlines()


def test_session_create_relative_worktree(
    run: Run, daemon: FakeDaemon, tmp_path: Path, monkeypatch: object
) -> None:
    import os

    make_template(run)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        (tmp_path / "wt").mkdir()
        run("session", "create", "--template", "demo", "--worktree-path", "wt")
    finally:
        os.chdir(cwd)
    assert last_body(daemon)["worktree_path"] == str(tmp_path / "wt")


def test_session_create_needs_a_template(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    result = run("session", "create", "--worktree-path", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: missing template")
    both = run(
        "session",
        "create",
        "--template",
        "a",
        "--template-id",
        "b",
        "--worktree-path",
        str(tmp_path),
    )
    assert both.exit_code == 1 and "not both" in both.stderr
    missing = run("session", "create", "--template", "nope", "--worktree-path", str(tmp_path))
    assert missing.exit_code == 1
    assert missing.stderr == "api error (status=404, code=TEMPLATE_NOT_FOUND): Template not found\n"


def test_session_list_get_close(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    assert run("session", "list").stdout == "No sessions found\n"
    tid = make_template(run)
    sid = make_session(run, tmp_path)
    lines = run("session", "list").stdout.splitlines()
    header = f"{'Session ID':<36} {'Template ID':<36} {'Status':<10} {'Created':<20}"
    assert lines[0] == f"{header} Template", "the original's columns, then the template name"
    assert lines[1] == "-" * 102
    assert lines[2] == f"{sid:<36} {tid:<36} {'ready':<10} {TS:<20} demo"
    run("session", "list", "--status", "ready")
    assert daemon.requests[-1].url.params["status"] == "ready"
    assert run("session", "get", sid).stdout.splitlines() == [
        f"Session ID: {sid}",
        f"Template ID: {tid}",
        "Template: demo",
        "Workspace ID: default",
        "Base Commit: HEAD",
        f"Worktree Path: {tmp_path}",
        "Status: ready",
        f"Created: {TS}",
    ]
    assert run("session", "close", sid).stdout == f"Closed session: {sid}\n"
    daemon.sessions[sid]["last_error"] = "daemon shutdown"
    lines = run("session", "get", sid).stdout.splitlines()
    assert lines[-2:] == [f"Closed: {TS}", "Last Error: daemon shutdown"]
    assert json.loads(run("session", "get", sid, "-o", "json").stdout)["status"] == "closed"
    not_ready = run("exec", "repl", sid, "1")
    assert not_ready.exit_code == 1
    assert (
        not_ready.stderr == "api error (status=409, code=SESSION_NOT_READY): Session is not ready\n"
    )


# -- executions ------------------------------------------------------------------------------------
def test_exec_list_get_events_cancel(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    make_template(run)
    sid = make_session(run, tmp_path)
    assert run("exec", "list", sid).stdout == "No executions found\n"
    run("exec", "repl", sid, 'console.log("' + "x" * 80 + '"); 1')
    eid = next(iter(daemon.executions))
    lines = run("exec", "list", sid, "--limit", "5").stdout.splitlines()
    assert daemon.requests[-1].url.params["limit"] == "5"
    header = f"{'Execution ID':<36} {'Kind':<10} {'Status':<10} {'Started':<20}"
    assert lines[0] == f"{header} {'Duration':<10} Input"
    assert lines[1] == "-" * 80
    excerpt = 'console.log("' + "x" * 24 + "..."
    assert lines[2] == f"{eid:<36} {'repl':<10} {'ok':<10} {TS:<20} {'0 ms':<10} {excerpt}"

    lines = run("exec", "get", eid).stdout.splitlines()
    assert lines[:5] == [
        f"Execution ID: {eid}",
        f"Session ID: {sid}",
        "Kind: repl",
        "Status: ok",
        f"Started: {TS}",
    ]
    assert lines[5] == f"Ended: {TS}"
    assert lines[6].startswith("Input: console.log(")
    assert lines[7] == 'Result: {"type":"number","preview":"1","inspect":"1","json":1}'

    lines = run("exec", "events", eid).stdout.splitlines()
    assert lines[0] == f"{'Seq':<5} {'Timestamp':<20} {'Type':<15} Payload"
    assert lines[1] == "-" * 80
    assert len(lines) == 5
    seq, clock, kind, payload = lines[3].split(maxsplit=3)
    assert (seq, kind) == ("2", "console")
    assert len(clock) == 8 and clock.count(":") == 2
    assert payload == ('{"level":"log","text":"' + "x" * 80)[:47] + "..."
    assert len(payload) == 50
    after = json.loads(run("exec", "events", eid, "--after-seq", "2", "-o", "json").stdout)
    assert [e["seq"] for e in after] == [3]
    page = run("exec", "events", eid, "--limit", "1")
    assert daemon.requests[-1].url.params["limit"] == "1"
    assert page.stderr == (
        f"More events may follow: vm-system exec events {eid} --after-seq 1 --limit 1\n"
    )
    last = run("exec", "events", eid, "--after-seq", "1", "--limit", "5")
    assert last.stderr == "", "a short page is the last one"

    assert run("exec", "cancel", eid).stdout == f"Execution ID: {eid}\nStatus: ok\n" + (
        'Result: {"type":"number","preview":"1","inspect":"1","json":1}\n'
    )
    assert daemon.requests[-1].url.path == f"/api/v1/executions/{eid}/cancel"
    missing = run("exec", "events", "nope")
    assert missing.stderr.startswith("api error (status=404, code=EXECUTION_NOT_FOUND)")
    assert run("exec", "events", eid, "--after-seq", "9").stdout == "No events found\n"


def test_run_file_errors(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    make_template(run)
    sid = make_session(run, tmp_path)
    daemon.files = {}  # type: ignore[attr-defined]
    bad = run("exec", "run-file", sid, "x.js", "--args", "[1")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: invalid args JSON: ")
    bad = run("exec", "run-file", sid, "x.js", "--env", "3")
    assert bad.exit_code == 1 and bad.stderr.startswith("Error: invalid env JSON: ")
    escape = run("exec", "run-file", sid, "../x.js")
    assert escape.stderr == (
        "api error (status=422, code=INVALID_PATH): Path escapes allowed worktree\n"
    )
    missing = run("exec", "run-file", sid, "x.js")
    assert missing.stderr == "api error (status=404, code=FILE_NOT_FOUND): File not found\n"


# -- ops -------------------------------------------------------------------------------------------
def test_ops(run: Run, daemon: FakeDaemon) -> None:
    assert run("ops", "health").stdout == '{\n  "status": "ok"\n}\n'
    summary = json.loads(run("ops", "runtime-summary").stdout)
    assert summary["active_sessions"] == 0 and summary["db"]["schema_version"] == "0001"
    assert run("ops", "metrics").stdout == "# HELP vm_up up\nvm_up 1\n"
    assert json.loads(run("ops", "metrics", "-o", "json").stdout)["metrics"].startswith("# HELP")
    assert run("ops", "db-version").stdout == "0001\n"
    assert yaml.safe_load(run("ops", "db-version", "-o", "yaml").stdout) == {
        "schema_version": "0001"
    }
