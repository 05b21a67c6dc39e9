"""A command-line call imports only what its command needs: ``vm-system --help`` and a client
command (``exec repl`` against a real daemon) load neither the server stack nor the heavy
libraries other commands use (checked on ``sys.modules`` in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from vmsystem import client as sdk

from .daemon import Daemon, running_daemon

#: Run the CLI as ``python -m vmsystem ARGS`` does, then list the modules it imported.
PROBE = """
import json, sys
sys.argv = ["vm-system", *sys.argv[1:]]
from vmsystem.cli.main import main
try:
    main()
except SystemExit as exit:
    code = exit.code
placeholder = getattr(sys.modules.get("httpx._main"), "__doc__", "")
print(json.dumps({"code": code, "modules": sorted(sys.modules), "httpx_main": placeholder}),
      file=sys.stderr)
"""

#: Never imported by a client command nor by --help: the daemon's stack and its libraries,
#: the interactive prompt, Rich and httpx's own command-line tool (click, pygments).
SERVER_AND_HEAVY = (
    "vmsystem.api",
    "vmsystem.core",
    "vmsystem.store",
    "vmsystem.runtime",
    "vmsystem.hosts",
    "vmsystem.modules",
    "uvicorn",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "prompt_toolkit",
    "rich",
    "pygments",
    "click",
    "ray",
)
#: Besides, never imported by a client command that does not need them. (Typer validates the
#: command's parameters with pydantic, which imports importlib.metadata: not listed.)
CLIENT_COMMAND_AVOIDS = (
    "asyncio",
    "platformdirs",
    "vmsystem.libraries",
    "vmsystem.settings",
    "vmsystem.mcp",
    "vmsystem.client._async",
    "vmsystem.cli.repl",
    "vmsystem.cli.serve",
    "vmsystem.cli.templates",
    "vmsystem.cli.sessions",
    "vmsystem.cli.mcp",
    "vmsystem.cli.libs",
)


def imported(*args: str) -> tuple[object, set[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), report["httpx_main"]


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("daemon")) as running:
        yield running


def test_help_imports_no_server_stack_nor_heavy_libraries() -> None:
    code, modules, httpx_main = imported("--help")
    assert code in (0, None)
    assert loaded(modules, SERVER_AND_HEAVY) == []
    assert "Placeholder" in httpx_main  # httpx's command-line tool was not imported


@pytest.mark.e2e
def test_a_client_command_imports_only_what_it_uses(daemon: Daemon, tmp_path: Path) -> None:
    with sdk.Client(daemon.url) as vm:
        template = vm.create_template(f"imports-{uuid.uuid4().hex[:8]}")
        session = vm.create_session(template["id"], str(tmp_path))
    try:
        code, modules, _ = imported(
            "--server-url", daemon.url, "exec", "repl", session["id"], "1+1"
        )
        assert code in (0, None)
        assert loaded(modules, SERVER_AND_HEAVY + CLIENT_COMMAND_AVOIDS) == []
        assert "vmsystem.cli.executions" in modules
    finally:
        with sdk.Client(daemon.url) as vm:
            vm.close_session(session["id"])
