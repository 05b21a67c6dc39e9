"""Durable sessions in the web UI: the workbench of a session rebuilt by replay shows a banner
with its divergences; the workbench of a crashed session offers Restart."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import PageFactory, WebDaemon, _start

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDaemon]:
    """A daemon of this module's own: its host is killed."""
    daemon = _start(tmp_path_factory, "web-recovery", None)
    yield daemon
    assert daemon.stop() == 0, daemon.output()


def test_a_recovered_sessions_workbench_lists_what_diverged(
    open_page: PageFactory, own_daemon: WebDaemon, tmp_path: Path
) -> None:
    (tmp_path / "v.js").write_text("'first'")
    with own_daemon.api() as api:
        template = api.post("/templates", json={"name": "recovered-ui"}).json()
        session = api.post(
            "/sessions", json={"template_id": template["id"], "worktree_path": str(tmp_path)}
        ).json()
        sid = session["id"]
        ran = api.post("/executions/run-file", json={"session_id": sid, "path": "v.js"}).json()
        assert ran["status"] == "ok", ran
        (tmp_path / "v.js").write_text("'changed'")
        (host,) = [
            h for h in api.get("/runtime/summary").json()["hosts"] if h["id"] == session["host_id"]
        ]
        os.kill(host["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not (
            (row := api.get(f"/sessions/{sid}").json())["status"] == "ready"
            and row["recovery_count"] == 1
        ):
            assert time.monotonic() < deadline, row
            time.sleep(0.1)
    page = open_page(own_daemon)
    page.goto(f"/workbench/{sid}")
    banner = page.get_by_test_id("workbench-recovered")
    expect(banner).to_contain_text("recovered")
    expect(banner).to_contain_text("1 execution(s) replayed, 1 diverged")
    expect(page.get_by_test_id("workbench-recovered-divergences")).to_contain_text(
        "different value"
    )


def test_a_crashed_sessions_workbench_offers_restart(
    open_page: PageFactory, own_daemon: WebDaemon, tmp_path: Path
) -> None:
    (tmp_path / "init.js").write_text("throw new Error('startup broke')")
    with own_daemon.api() as api:
        template = api.post("/templates", json={"name": "crashed-ui"}).json()
        api.post(f"/templates/{template['id']}/startup-files", json={"path": "init.js"})
        r = api.post(
            "/sessions", json={"template_id": template["id"], "worktree_path": str(tmp_path)}
        )
        assert r.status_code == 422
        sid = r.json()["error"]["details"]["session_id"]
    (tmp_path / "init.js").write_text("globalThis.started = true")
    page = open_page(own_daemon)
    page.goto(f"/workbench/{sid}")
    expect(page.get_by_test_id("workbench-not-ready")).to_contain_text("crashed")
    page.get_by_test_id("workbench-restart").click()
    expect(page.get_by_test_id("workbench-not-ready")).to_have_count(0)
    with own_daemon.api() as api:
        assert api.get(f"/sessions/{sid}").json()["status"] == "ready"
