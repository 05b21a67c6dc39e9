"""The execution detail on the History page shows the execution's provenance."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import WebDaemon
from .helpers import screenshot

pytestmark = pytest.mark.browser


def test_execution_detail_shows_template_revision_engine_and_host(
    page: Page, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    with web_daemon.api() as api:
        template = api.post("/templates", json={"name": f"prov-{uuid.uuid4().hex[:8]}"}).json()
        api.patch(f"/templates/{template['id']}", json={"settings": {"limits": {"wall_ms": 900}}})
        session = api.post(
            "/sessions", json={"template_id": template["id"], "worktree_path": str(tmp_path)}
        ).json()
        x = api.post("/executions/repl", json={"session_id": session["id"], "input": "6 * 7"})
        execution = x.json()
    provenance = execution["provenance"]
    assert provenance["template_revision"] == 2

    page.goto(f"/history/{session['id']}?execution={execution['id']}")
    view = page.get_by_test_id("history-selected").get_by_test_id("execution-provenance")
    view.locator("summary").click()
    expect(view.get_by_test_id("provenance-revision")).to_have_text("2")
    expect(view.get_by_test_id("provenance-engine")).to_contain_text(
        f"v8 {provenance['engine']['version']}"
    )
    expect(view.get_by_test_id("provenance-host")).to_have_text(provenance["host_id"])
    expect(view.get_by_test_id("provenance-libraries")).to_have_text("none")
    screenshot(page, "history-provenance")
