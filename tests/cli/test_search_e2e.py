"""Full-text search through the SDK (sync and async) and ``vm-system exec search`` against a
real daemon, and the index surviving a daemon restart."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from vmsystem import client as sdk

from .daemon import running_daemon

pytestmark = pytest.mark.e2e


def test_sdk_and_cli_search_a_real_daemon_and_the_index_survives_a_restart(
    tmp_path: Path,
) -> None:
    worktree = tmp_path / "wt"
    worktree.mkdir()
    home = tmp_path / "daemon"
    home.mkdir()
    with running_daemon(home) as daemon, sdk.Client(daemon.url) as vm:
        template = vm.create_template("search-e2e")
        sid = vm.create_session(template["id"], str(worktree))["id"]
        other = vm.create_session(template["id"], str(worktree))["id"]
        hit = vm.run_repl(sid, "console.log('pelican at the harbour'); 1")
        vm.run_repl(other, "console.log('pelican elsewhere')")
        vm.run_repl(sid, "throw new RangeError('albatross overflow')")

        page = vm.search_executions("Pelican harbour")
        assert [h["execution"]["id"] for h in page["results"]] == [hit["id"]]
        assert page["next_offset"] is None
        first = page["results"][0]
        assert first["session_id"] == sid
        # The input and its console line both have the words.
        assert {first["snippet"][a:b].lower() for a, b in first["highlights"]} == {
            "pelican",
            "harbour",
        }
        assert len(vm.search_executions("pelican")["results"]) == 2
        assert len(vm.search_executions("pelican", session_id=sid)["results"]) == 1
        paged = vm.search_executions("pelican", limit=1)
        assert paged["next_offset"] == 1

        async def search_async() -> sdk.types.ExecutionSearchPage:
            async with sdk.AsyncClient(daemon.url) as avm:
                return await avm.search_executions("albatross", session_id=sid)

        (error_hit,) = asyncio.run(search_async())["results"]
        assert error_hit["execution"]["error"]["name"] == "RangeError"

        text = daemon.cli("exec", "search", "pelican", "--session", sid, check=True).stdout
        assert hit["id"] in text and "pelican" in text
        as_json = json.loads(
            daemon.cli("exec", "search", "pelican", "--limit", "1", "-o", "json", check=True).stdout
        )
        assert len(as_json["results"]) == 1 and as_json["next_offset"] == 1
        hostile = daemon.cli("exec", "search", '" NEAR * (', check=True).stdout
        assert hostile.strip() == "No matching executions"
        with pytest.raises(sdk.ValidationError):
            vm.search_executions("x", limit=0)

    with running_daemon(home) as daemon, sdk.Client(daemon.url) as vm:
        assert [h["execution"]["id"] for h in vm.search_executions("harbour")["results"]] == [
            hit["id"]
        ]
