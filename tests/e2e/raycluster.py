"""A Ray cluster started the way docs/deployment.md says: ``ray start --head`` as a subprocess.

Token authentication is left on: the cluster's processes and the daemons joining it get a home
of their own whose ``~/.ray/auth_token`` was written by ``ray get-auth-token --generate`` (Ray
2.59+ then turns token authentication on for ``ray start --head``; on this machine any earlier
local ``ray.init()`` writes that file too). The cluster is small (no CPUs, 80 MB object store),
on loopback with private ports and a temporary directory of its own, and it is stopped by
ending its process group (never ``ray stop``, which stops every cluster of the user).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import daemon_env, free_port

RAY = str(Path(sys.executable).parent / "ray")
#: Tries of ``ray start --head`` before the test fails.
START_ATTEMPTS = 3


@dataclass
class RayHead:
    """A running head node: its address, the environment to reach it with, its output."""

    address: str
    env: dict[str, str]
    output: str
    pgid: int
    temp_dir: Path


def _stop_group(pgid: int) -> None:
    for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 15.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


@pytest.fixture
def ray_head(tmp_path: Path) -> Iterator[RayHead]:
    """``ray start --head --port=P --num-cpus=0`` (docs/deployment.md step 3), token auth on."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**daemon_env(), "HOME": str(home)}
    env.pop("RAY_AUTH_MODE", None)  # Ray's default, as on an operator's machine
    env.pop("RAY_ADDRESS", None)
    token = subprocess.run(
        [RAY, "get-auth-token", "--generate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert token.returncode == 0, token.stderr
    assert (home / ".ray" / "auth_token").is_file()
    # Ray's own start-up wait for its raylet is a fixed 30 s, which a heavily loaded machine
    # can exceed: a start that fails is cleaned up and tried again.
    failures: list[str] = []
    for _attempt in range(START_ATTEMPTS):
        head, output = _start_head(env)
        if head is not None:
            break
        failures.append(output)
    else:
        raise AssertionError("ray start --head failed:\n" + "\n---\n".join(failures))
    try:
        yield head
    finally:
        _stop_group(head.pgid)
        shutil.rmtree(head.temp_dir, ignore_errors=True)


def _start_head(env: dict[str, str]) -> tuple[RayHead | None, str]:
    """One ``ray start --head``: the head, or None (and its output) if it failed."""
    # Short: Ray's Unix sockets live below it (at most 107 bytes a path).
    temp_dir = Path(tempfile.mkdtemp(prefix="vmrh-"))
    port = free_port()
    # Own process group: stopping the cluster ends exactly its processes.
    start = subprocess.Popen(
        [
            RAY, "start", "--head", f"--port={port}", "--num-cpus=0",
            "--node-ip-address=127.0.0.1", f"--temp-dir={temp_dir}",
            "--include-dashboard=false", f"--dashboard-port={free_port()}",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
            "--object-store-memory=80000000", "--disable-usage-stats",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        output, _ = start.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        start.kill()
        output, _ = start.communicate()
    except BaseException:  # the test's own timeout: leave no cluster behind
        _stop_group(start.pid)
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    if start.returncode == 0:
        return RayHead(f"127.0.0.1:{port}", env, output, start.pid, temp_dir), output
    _stop_group(start.pid)
    shutil.rmtree(temp_dir, ignore_errors=True)
    return None, output
