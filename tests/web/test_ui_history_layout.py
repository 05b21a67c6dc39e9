"""History in Debian's Chromium at 1366 and 390 px: the search box is a styled input whose
placeholder fits, and the actions of an execution ("Open this input in the workbench", "Fork
from here") stand apart."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import PageFactory, WebDaemon
from .helpers import screenshot

pytestmark = pytest.mark.browser

PLACEHOLDER_FITS = """
(input) => {
  const style = getComputedStyle(input);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = style.font;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return { text: ctx.measureText(input.placeholder).width, room,
           borderStyle: style.borderTopStyle, height: input.offsetHeight };
}
"""


@pytest.mark.parametrize("width", [1366, 390])
def test_history_search_box_and_execution_actions(
    open_page: PageFactory, web_daemon: WebDaemon, tmp_path: Path, width: int
) -> None:
    with web_daemon.api() as api:
        template = api.post("/templates", json={"name": f"hist-{uuid.uuid4().hex[:8]}"}).json()
        session = api.post(
            "/sessions", json={"template_id": template["id"], "worktree_path": str(tmp_path)}
        ).json()
        r = api.post("/executions/repl", json={"session_id": session["id"], "input": "6 * 7"})
        execution = r.json()["id"]
    try:
        page = open_page(web_daemon, width=width, height=900)
        page.goto(f"/history/{session['id']}?execution={execution}")
        search = page.get_by_test_id("history-search-input")
        expect(search).to_be_visible()
        measured = search.evaluate(PLACEHOLDER_FITS)
        assert measured["borderStyle"] == "solid" and measured["height"] >= 30, measured
        assert measured["text"] <= measured["room"], f"placeholder cut: {measured}"

        selected = page.get_by_test_id("history-selected")
        load, fork = (
            selected.get_by_test_id("history-load-input"),
            selected.get_by_test_id("history-fork"),
        )
        expect(load).to_be_visible()
        expect(fork).to_be_visible()
        a, b = load.bounding_box(), fork.bounding_box()
        assert a and b
        apart_x = b["x"] >= a["x"] + a["width"] + 4 or a["x"] >= b["x"] + b["width"] + 4
        apart_y = b["y"] >= a["y"] + a["height"] + 4 or a["y"] >= b["y"] + b["height"] + 4
        assert apart_x or apart_y, f"the buttons touch: {a} {b}"
        screenshot(page, f"history-layout-{width}")
    finally:
        with web_daemon.api() as api:
            api.post(f"/sessions/{session['id']}/close")
