"""The command tree, help texts, docs/cli.md and global behaviour (flags, errors, exit codes)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from vmsystem.cli import state
from vmsystem.cli.main import app, normalize_args
from vmsystem.cli.reference import render_markdown, walk

from .conftest import Run
from .fake_daemon import FakeDaemon, error

ROOT = Path(__file__).resolve().parents[2]


def subcommands(*path: str) -> set[str]:
    command: Any = get_command(app)
    ctx = typer.Context(command, info_name="vm-system")
    for name in path:
        command = command.get_command(ctx, name)  # the root loads its subcommands on use
        ctx = typer.Context(command, info_name=name, parent=ctx)
    return set(command.list_commands(ctx))


def test_top_level_commands() -> None:
    top = subcommands()
    assert {"serve", "template", "session", "exec", "ops", "libs", "mcp"} <= top
    assert "http" not in top


def test_session_has_close_restart_fork_and_delete_with_purge_and_prune() -> None:
    assert subcommands("session") == {
        "create",
        "list",
        "get",
        "close",
        "restart",
        "fork",
        "delete",
        "prune",
        "export",
        "run-notebook",
    }


def test_boolean_flags_read_as_flags_in_help(monkeypatch: pytest.MonkeyPatch) -> None:
    # What a terminal shows: Typer's Rich help would print `--follow <bool>`.
    monkeypatch.setenv("COLUMNS", "100")
    runner = CliRunner()
    for path, _ctx in walk(get_command(app)):
        args = path.split()[1:]
        shown = runner.invoke(app, [*args, "--help"]).stdout
        assert "<bool>" not in shown and "BOOLEAN" not in shown, path
    follow = runner.invoke(app, ["exec", "repl", "--help"]).stdout
    assert "-f, --follow " in follow and "--fail-on-error " in follow


def test_template_subcommands() -> None:
    assert subcommands("template") >= {
        "create",
        "list",
        "get",
        "delete",
        "update",
        "set-limits",
        "add-module",
        "remove-module",
        "list-modules",
        "add-library",
        "remove-library",
        "list-libraries",
        "list-available-modules",
        "list-available-libraries",
        "add-capability",
        "list-capabilities",
        "remove-capability",
        "add-startup",
        "list-startup",
        "remove-startup",
    }


def test_exec_and_ops_subcommands() -> None:
    assert subcommands("exec") == {"repl", "run-file", "list", "get", "events", "cancel", "search"}
    assert subcommands("ops") == {"health", "runtime-summary", "drain", "metrics", "db-version"}


def test_libs_subcommands() -> None:
    assert subcommands("libs") >= {"download", "list", "cache-info", "add"}


def test_every_command_and_parameter_has_help() -> None:
    missing = []
    for path, ctx in walk(get_command(app)):
        command = ctx.command
        if not (command.help or "").strip():
            missing.append(path)
        for param in command.params:
            if param.name == "help":
                continue
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{path} {param.name}")
    assert missing == []


def test_every_client_command_has_output_option() -> None:
    for path, ctx in walk(get_command(app)):
        command = ctx.command
        # `repl` is interactive; `mcp` speaks the protocol on stdout: no output format to choose.
        interactive = {"vm-system serve", "vm-system help", "vm-system repl", "vm-system mcp"}
        if hasattr(command, "commands") or path in interactive:
            continue
        assert "output" in {p.name for p in command.params}, path


def test_docs_cli_md_is_up_to_date() -> None:
    current = (ROOT / "docs" / "cli.md").read_text()
    assert current == render_markdown(), "docs/cli.md is stale: run python scripts/gen_cli_docs.py"


def test_gen_cli_docs_check_mode() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr


def test_help_works_everywhere(run: Run) -> None:
    result = run("--help")
    assert result.exit_code == 0 and "template" in result.stdout
    assert run("-h").exit_code == 0
    result = run("exec", "repl", "--help")
    assert result.exit_code == 0 and "--fail-on-error" in result.stdout
    result = run("help", "template", "create")
    assert result.exit_code == 0 and "--name" in result.stdout
    result = run("help", "nope")
    assert result.exit_code == 1 and result.stderr == "Error: unknown command: nope\n"


def test_version(run: Run) -> None:
    from vmsystem import __version__

    assert run("--version").stdout == f"vm-system {__version__}\n"


# -- global flags ------------------------------------------------------------------------------
def test_server_url_trimmed_and_token_sent(run: Run, daemon: FakeDaemon) -> None:
    result = run("--server-url", "http://h.test:1///", "--auth-token", "tok", "ops", "health")
    assert result.exit_code == 0
    request = daemon.requests[-1]
    assert str(request.url) == "http://h.test:1/api/v1/health"
    assert request.headers["authorization"] == "Bearer tok"


def test_env_vars(run: Run, daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMSYSTEM_SERVER_URL", "http://env.test:2")
    monkeypatch.setenv("VMSYSTEM_AUTH_TOKEN", "envtok")
    run("ops", "health")
    request = daemon.requests[-1]
    assert str(request.url) == "http://env.test:2/api/v1/health"
    assert request.headers["authorization"] == "Bearer envtok"


def test_default_server_url(run: Run, daemon: FakeDaemon) -> None:
    run("ops", "health")
    assert str(daemon.requests[-1].url) == "http://127.0.0.1:3210/api/v1/health"
    assert "authorization" not in daemon.requests[-1].headers


def test_global_flags_after_the_subcommand(run: Run, daemon: FakeDaemon) -> None:
    result = run("template", "list", "--server-url", "http://late.test:3", "--db", "x.db")
    assert result.exit_code == 0, result.stderr
    assert str(daemon.requests[-1].url) == "http://late.test:3/api/v1/templates"
    run("template", "list", "--server-url=http://eq.test:4")
    assert str(daemon.requests[-1].url) == "http://eq.test:4/api/v1/templates"


def test_normalize_args() -> None:
    assert normalize_args(["--db", "x", "template", "list"]) == ["--db", "x", "template", "list"]
    assert normalize_args(["template", "list", "--db", "x"]) == ["--db", "x", "template", "list"]
    assert normalize_args(["serve", "--db", "x"]) == ["serve", "--db", "x"]
    assert normalize_args(["--server-url", "u", "serve", "--db", "x"]) == [
        "--server-url",
        "u",
        "serve",
        "--db",
        "x",
    ]
    assert normalize_args(["exec", "repl", "s", "--", "--db"]) == [
        "exec",
        "repl",
        "s",
        "--",
        "--db",
    ]
    assert normalize_args(["template", "add-capability", "t", "--enabled=false"]) == [
        "template",
        "add-capability",
        "t",
        "--disabled",
    ]
    assert normalize_args(["template", "add-capability", "t", "--enabled=TRUE"])[-1] == "--enabled"
    assert normalize_args([]) == []


def test_usage_errors_exit_2(run: Run) -> None:
    result = run("template", "create")
    assert result.exit_code == 2
    assert "--name" in result.stderr
    assert run("template", "frobnicate").exit_code == 2


# -- failures ----------------------------------------------------------------------------------
def test_api_error_line(run: Run, daemon: FakeDaemon) -> None:
    result = run("template", "get", "00000000-0000-4000-8000-000000000000")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "api error (status=404, code=TEMPLATE_NOT_FOUND): Template not found\n"


def test_an_unknown_template_name_is_a_local_error(run: Run, daemon: FakeDaemon) -> None:
    result = run("template", "get", "nope")
    assert result.exit_code == 1
    assert result.stderr == 'Error: no template named "nope" (see `vm-system template list`)\n'
    assert [r.url.path for r in daemon.requests] == ["/api/v1/templates"]


@pytest.mark.parametrize(
    "args",
    [
        ("template", "add-startup", "", "--path", "a.js"),
        ("template", "get", " "),
        ("template", "remove-capability", "demo", ""),
        ("session", "get", ""),
        ("session", "delete", "", "--purge"),
        ("exec", "repl", "", "1"),
        ("exec", "events", ""),
        ("session", "list", "--template-id", ""),
    ],
)
def test_empty_ids_are_usage_errors_before_any_request(
    run: Run, daemon: FakeDaemon, args: tuple[str, ...]
) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert "must not be empty" in result.stderr
    assert daemon.requests == []


def test_conflict_and_in_use(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    run("template", "create", "--name", "dup")
    result = run("template", "create", "--name", "dup")
    assert result.stderr == "api error (status=409, code=CONFLICT): template name already exists\n"
    tid = next(iter(daemon.templates))
    run("session", "create", "--template-id", tid, "--worktree-path", str(tmp_path))
    result = run("template", "delete", tid)
    assert result.exit_code == 1
    assert result.stderr.startswith("api error (status=409, code=TEMPLATE_IN_USE): ")


def test_envelope_less_error(run: Run, daemon: FakeDaemon) -> None:
    daemon.overrides[("GET", "/api/v1/templates")] = lambda r: httpx.Response(
        502, text="<html>bad gateway</html>"
    )
    result = run("template", "list")
    assert result.exit_code == 1
    assert result.stderr == "api error (status=502)\n"


def test_unknown_code_error(run: Run, daemon: FakeDaemon) -> None:
    daemon.overrides[("GET", "/api/v1/health")] = lambda r: error(418, "TEAPOT", "short")
    result = run("ops", "health")
    assert (result.exit_code, result.stderr) == (1, "api error (status=418, code=TEAPOT): short\n")


def test_daemon_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "client_factory", state.default_client_factory)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = CliRunner().invoke(app, ["--server-url", url + "/", "template", "list"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"no vm-system daemon at {url}: start one with `vm-system serve`\n"


def test_console_script_entry_point(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vmsystem",
            "--server-url",
            f"http://127.0.0.1:{port}",
            "session",
            "list",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"no vm-system daemon at http://127.0.0.1:{port}: start one with `vm-system serve`\n"
    )
