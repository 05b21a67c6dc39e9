""" "Fork from here" on an execution of the History page: a new session replays the history up
to that execution, the page moves to the fork's history and a toast sums up the replay."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import WebDaemon
from .helpers import screenshot

pytestmark = pytest.mark.browser


def test_fork_from_here_replays_up_to_the_execution_and_opens_the_fork(
    page: Page, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    with web_daemon.api() as api:
        template = api.post("/templates", json={"name": f"fork-{uuid.uuid4().hex[:8]}"}).json()
        session = api.post(
            "/sessions", json={"template_id": template["id"], "worktree_path": str(tmp_path)}
        ).json()

        def repl(code: str) -> str:
            r = api.post("/executions/repl", json={"session_id": session["id"], "input": code})
            return str(r.json()["id"])

        first = repl("globalThis.seed = 7; seed")
        middle = repl("Math.random()")
        repl("globalThis.late = 1")

    page.goto(f"/history/{session['id']}?execution={middle}")
    page.get_by_test_id("history-selected").get_by_test_id("history-fork").click()

    toast = page.get_by_test_id("toast").filter(has_text="Forked into session")
    expect(toast).to_contain_text("2 executions replayed, 1 diverged")
    expect(page).to_have_url(re.compile(r"/history/[0-9a-f-]{36}$"))
    fork_id = page.url.rsplit("/", 1)[1]
    assert fork_id != session["id"]
    rows = page.get_by_test_id("history-row")
    expect(rows).to_have_count(2)
    with web_daemon.api() as api:
        listed = api.get("/executions", params={"session_id": fork_id}).json()
    assert [x["replay_of"] for x in reversed(listed)] == [first, middle]
    rows.first.get_by_test_id("history-toggle").click()
    expect(page.get_by_test_id("history-replay-of")).to_contain_text(middle[:8])
    screenshot(page, "history-fork")
