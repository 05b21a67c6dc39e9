"""The README's "Five minutes with the CLI" block and docs/sdk.md's example, run twice in a row
against a real daemon (taken from the documents themselves, so they stay true)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vmsystem import client as sdk

from .daemon import Daemon, running_daemon

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    home = tmp_path / "daemon-home"
    home.mkdir()
    with running_daemon(home) as running:
        yield running


def readme_cli_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Five minutes with the CLI", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def environment(daemon: Daemon, bin_dir: Path) -> dict[str, str]:
    """A shell whose `vm-system` is this checkout's CLI, talking to the test daemon."""
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "vm-system"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m vmsystem "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMSYSTEM_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["VMSYSTEM_SERVER_URL"] = daemon.url
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def test_readme_cli_block_runs_twice(daemon: Daemon, tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    script = "set -euo pipefail\n" + readme_cli_block().replace("/tmp/wt", str(worktree))
    env = environment(daemon, tmp_path / "bin")
    runs = [
        subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=120,
        )
        for _ in range(2)
    ]
    for done in runs:
        assert done.returncode == 0, done.stdout + done.stderr
        assert 'Result: {"type":"number","preview":"42","inspect":"42","json":42}' in done.stdout
        assert "Status: timeout" in done.stdout
        assert 'Result: {"type":"number","preview":"80","inspect":"80","json":80}' in done.stdout
        assert "Closed session: " in done.stdout
    assert "Added startup file: init.js" in runs[0].stdout
    assert "Startup file exists: init.js (order: 10)" in runs[1].stdout
    with sdk.Client(daemon.url) as vm:
        (template,) = vm.list_templates()
        assert template["name"] == "demo"
        assert [f["path"] for f in vm.list_startup_files(template["id"])] == ["init.js"]
        assert [s["status"] for s in vm.list_sessions()] == ["closed", "closed"]


def test_sdk_example_runs_twice(daemon: Daemon, tmp_path: Path) -> None:
    text = (ROOT / "docs" / "sdk.md").read_text(encoding="utf-8")
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    env = environment(daemon, tmp_path / "bin")
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0] == "ok 42"
