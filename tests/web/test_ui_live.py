"""A live UI in Debian's Chromium: History follows the session event stream (an execution run by
another client appears without a reload); readable counts and outcomes; History at 390 px."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PageFactory, WebDaemon
from .helpers import by_attr, open_workbench, run_code, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def session_id(web_daemon: WebDaemon, worktree: Path) -> Any:
    """A ready session made over the API (as another client would)."""
    with web_daemon.api() as http:
        r = http.post("/templates", json={"name": f"live-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 201, r.text
        r = http.post(
            "/sessions", json={"template_id": r.json()["id"], "worktree_path": str(worktree)}
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        yield sid
        http.post(f"/sessions/{sid}/close")


def repl(daemon: WebDaemon, session_id: str, code: str) -> dict[str, Any]:
    with daemon.api() as http:
        r = http.post("/executions/repl", json={"session_id": session_id, "input": code})
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


def test_history_shows_executions_from_another_client_without_a_reload(
    page: Any, web_daemon: WebDaemon, session_id: str
) -> None:
    page.goto(f"/history/{session_id}")
    expect(page.get_by_test_id("history-empty")).to_be_visible()
    expect(page.get_by_test_id("history-live")).to_have_attribute("data-state", "live")

    first = repl(web_daemon, session_id, "console.log('from the CLI'); 40 + 2")
    row = by_attr(page, "history-row", execution_id=first["id"])
    expect(row).to_have_attribute("data-status", "ok")
    second = repl(web_daemon, session_id, "'again'")
    expect(by_attr(page, "history-row", execution_id=second["id"])).to_be_visible()
    expect(page.get_by_test_id("history-row")).to_have_count(2)
    # Newest first, and the page was never reloaded: the live badge is the same element.
    expect(page.get_by_test_id("history-row").first).to_have_attribute(
        "data-execution-id", second["id"]
    )
    row.get_by_test_id("history-toggle").click()
    expect(page.get_by_test_id("events-count")).to_have_text("3 events shown")
    screenshot(page, "live-history")


def test_one_console_line_reads_1_line_and_cancel_reads_cancelled(
    page: Any, session_id: str
) -> None:
    open_workbench(page, session_id)
    run_code(page, "console.log('only')", status="ok")
    expect(page.get_by_test_id("console-count")).to_have_text("1 line")

    page.get_by_test_id("workbench-editor-input").fill("while (true) {}")
    page.get_by_test_id("run-button").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("running")
    page.get_by_test_id("cancel-button").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("cancelled")
    outcome = page.get_by_test_id("result-system-error")
    expect(outcome).to_contain_text("Cancelled")
    expect(page.get_by_test_id("result-error-code")).to_be_hidden()
    assert "CANCELLED" not in outcome.inner_text()


def test_history_input_column_at_390_px_keeps_code_readable(
    open_page: PageFactory, web_daemon: WebDaemon, session_id: str
) -> None:
    code = "const doubled = [1, 2, 3].map((value) => value * 2); doubled.join(', ')"
    done = repl(web_daemon, session_id, code)
    page = open_page(web_daemon, width=390, height=844)
    page.goto(f"/history/{session_id}")
    cell = by_attr(page, "history-row", execution_id=done["id"]).locator(".history-input-code")
    expect(cell).to_be_visible()
    box = cell.bounding_box()
    assert box is not None
    # Wrapping at spaces only: the words stay whole, so the column is at least a few words wide
    # and the snippet takes a handful of lines, not one line every few characters.
    assert box["width"] >= 120, box
    line_height = float(cell.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 20"))
    assert box["height"] / line_height <= 8, (box, line_height)
    screenshot(page, "history-390px")
