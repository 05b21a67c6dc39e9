"""Forking a session through the SDK (sync and async) and ``vm-system session fork`` against a
real daemon."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from vmsystem import client as sdk

from .daemon import running_daemon

pytestmark = pytest.mark.e2e


def test_sdk_and_cli_fork_a_session_on_a_real_daemon(tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    worktree.mkdir()
    home = tmp_path / "daemon"
    home.mkdir()
    with running_daemon(home) as daemon, sdk.Client(daemon.url) as vm:
        template = vm.create_template("fork-e2e")
        sid = vm.create_session(template["id"], str(worktree))["id"]
        first = vm.run_repl(sid, "globalThis.total = 40; total")
        random = vm.run_repl(sid, "Math.random()")

        fork = vm.fork_session(sid)
        assert (fork["replayed"], fork["session"]["status"]) == (2, "ready")
        assert [d["original"] for d in fork["diverged"]] == [random["id"]]
        replay = vm.get_execution(fork["diverged"][0]["replay"])
        assert replay["replay_of"] == random["id"]
        assert vm.run_repl(fork["session"]["id"], "total + 2")["result"]["json"] == 42  # type: ignore[index]

        async def fork_async() -> sdk.types.SessionFork:
            async with sdk.AsyncClient(daemon.url) as avm:
                return await avm.fork_session(sid, until_execution_id=first["id"])

        assert (asyncio.run(fork_async())["replayed"]) == 1
        other = vm.create_session(template["id"], str(worktree))["id"]
        foreign = vm.run_repl(other, "1")["id"]
        with pytest.raises(sdk.ForkPointInvalid):
            vm.fork_session(sid, until_execution_id=foreign)

        text = daemon.cli("session", "fork", sid, check=True).stdout
        assert "Forked session:" in text and "2 replayed, 1 diverged" in text
        assert f"diverged: {random['id']}" in text
        as_json = json.loads(
            daemon.cli(
                "session", "fork", sid, "--until", first["id"], "-o", "json", check=True
            ).stdout
        )
        assert (as_json["replayed"], as_json["diverged"]) == (1, [])
        refused = daemon.cli("session", "fork", sid, "--until", foreign)
        assert refused.returncode != 0
        assert "INVALID_FORK_POINT" in refused.stderr
