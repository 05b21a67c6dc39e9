"""Idempotency keys survive a daemon restart and a daemon crash (a real ``vm-system serve``)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from vmsystem import client as sdk

from .daemon import running_daemon

pytestmark = pytest.mark.e2e

COUNT = "globalThis.n = (globalThis.n || 0) + 1; n"
SLOW = "const t = Date.now(); while (Date.now() - t < 3000) {} 'slow'"


def repl(url: str, sid: str, code: str, key: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/executions/repl",
        json={"session_id": sid, "input": code},
        headers={"Idempotency-Key": key},
        timeout=30,
    )


def test_a_key_answers_its_first_execution_after_a_restart_and_after_a_crash(
    tmp_path: Path,
) -> None:
    worktree = tmp_path / "wt"
    worktree.mkdir()
    home = tmp_path / "daemon"
    home.mkdir()
    with running_daemon(home) as daemon, sdk.Client(daemon.url) as vm:
        template = vm.create_template("idem-e2e")
        sid = vm.create_session(template["id"], str(worktree))["id"]
        first = repl(daemon.url, sid, COUNT, "before-restart")
        assert first.status_code == 201 and first.json()["result"]["json"] == 1
        # The SDK's own key: a plain call still works and runs once.
        assert vm.run_repl(sid, COUNT)["result"]["json"] == 2

    with running_daemon(home) as daemon:
        again = repl(daemon.url, sid, COUNT, "before-restart")
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["result"]["json"] == 1
        other = repl(daemon.url, sid, "2", "before-restart")
        assert other.status_code == 422
        assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"

        # A second session, and a run cut short by a crash.
        sid2 = httpx.post(
            f"{daemon.url}/api/v1/sessions",
            json={"template_id": template["id"], "worktree_path": str(worktree)},
            timeout=30,
        ).json()["id"]
        outcome: dict[str, Any] = {}

        def slow() -> None:
            try:
                outcome["r"] = repl(daemon.url, sid2, SLOW, "crash-key")
            except httpx.TransportError as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(1.0)
        daemon.process.kill()
        daemon.process.wait()
        thread.join()
        assert "error" in outcome

    with running_daemon(home) as daemon:
        replayed = repl(daemon.url, sid2, SLOW, "crash-key")
        assert replayed.status_code == 201, replayed.text
        x = replayed.json()
        assert x["status"] == "error" and x["error"]["code"] == "DAEMON_RESTARTED"
        listed = httpx.get(
            f"{daemon.url}/api/v1/executions", params={"session_id": sid2}, timeout=30
        ).json()
        assert [e["id"] for e in listed if e["kind"] == "repl"] == [x["id"]]
