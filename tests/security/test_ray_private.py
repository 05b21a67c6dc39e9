"""Ray only where the operator says: a daemon with ``--hosts ray`` and no ``--ray-address``
starts a private local cluster in a temporary directory of its own, joins no cluster the
environment names (``RAY_ADDRESS`` here; the machine-wide ``/tmp/ray/ray_current_cluster``
the same way), and SIGTERM stops every process of that cluster and removes its directory."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import Daemon, free_port, wait_for

pytestmark = pytest.mark.e2e


def _descendants(pid: int) -> dict[int, str]:
    """Every process below ``pid``, with its command line."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(stat[1])
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                try:
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                except OSError:
                    continue
                found[child] = cmdline.decode(errors="replace")
                frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_daemon_without_an_address_runs_a_private_cluster_and_stops_it(
    tmp_path: Path, worktree: Path
) -> None:
    (tmp_path / "cache").mkdir()
    daemon = Daemon(
        db=tmp_path / "vm.db",
        cache_dir=tmp_path / "cache",
        log=tmp_path / "daemon.log",
        port=free_port(),
        flags=("--hosts", "ray", "--host-processes", "1"),
        # A cluster someone else named: the daemon must not try to join it.
        env={"RAY_ADDRESS": "127.0.0.1:9"},
    )
    try:
        daemon.start()
        assert daemon.process is not None
        with daemon.client() as http:
            t = http.post("/templates", json={"name": "ray-private"}).json()
            s = http.post(
                "/sessions", json={"template_id": t["id"], "worktree_path": str(worktree)}
            )
            assert s.status_code == 201, s.text
            r = http.post("/executions/repl", json={"session_id": s.json()["id"], "input": "6*7"})
            assert r.json()["result"]["json"] == 42, r.text
        cluster = _descendants(daemon.process.pid)
        ray_procs = {p: c for p, c in cluster.items() if "raylet" in c or "gcs_server" in c}
        assert ray_procs, cluster
        private = {m for c in ray_procs.values() for m in re.findall(r"/[^\s=,'\"]*/vmray-\w+", c)}
        assert len(private) == 1, ray_procs  # one temporary directory of its own
        assert not any("/tmp/ray/" in c for c in ray_procs.values()), ray_procs
    finally:
        code, _ = daemon.terminate()
    assert code == 0, daemon.output()
    wait_for(lambda: not any(_alive(p) for p in cluster), timeout=60)
    (temp_dir,) = private
    assert not Path(temp_dir).exists()
