"""docs/deployment.md word for word: ``ray start --head`` (Ray's token authentication on), then
``vm-system serve --hosts ray --ray-address HEAD:PORT``: the daemon joins with the token and
runs sessions on the cluster's actors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import DaemonFactory
from tests.e2e.raycluster import RayHead, ray_head

# A cluster and a daemon start: minutes on a loaded machine.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

__all__ = ["ray_head"]


def test_a_daemon_joins_a_ray_start_cluster_with_token_auth_and_runs_a_session(
    ray_head: RayHead, start_daemon: DaemonFactory, worktree: Path
) -> None:
    assert "Token authentication is enabled" in ray_head.output, ray_head.output
    daemon = start_daemon(
        "--hosts", "ray", "--ray-address", ray_head.address, "--host-processes", "1",
        env=ray_head.env,
    )  # fmt: skip
    with daemon.client() as http:
        hosts = http.get("/runtime/summary").json()["hosts"]
        assert [h["kind"] for h in hosts] == ["ray"], hosts
        t = http.post("/templates", json={"name": "on-the-cluster"}).json()
        s = http.post("/sessions", json={"template_id": t["id"], "worktree_path": str(worktree)})
        assert s.status_code == 201, s.text
        r = http.post("/executions/repl", json={"session_id": s.json()["id"], "input": "6*7"})
        assert r.json()["result"]["json"] == 42, r.text
        r = http.post("/executions/repl", json={"session_id": s.json()["id"], "input": "40+2"})
        assert r.json()["status"] == "ok", r.text
    assert "InvalidAuthToken" not in daemon.output(), daemon.output()
