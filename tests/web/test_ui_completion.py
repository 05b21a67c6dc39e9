"""The workbench editor autocompletes from the session (``POST /sessions/{id}/complete``) in
Debian's Chromium, at 1366 and 390 px: globals' properties and the session's own bindings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import PageFactory, WebDaemon
from .helpers import open_workbench, run_code, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def session_id(web_daemon: WebDaemon, worktree: Path) -> Iterator[str]:
    with web_daemon.api() as http:
        r = http.post("/templates", json={"name": f"complete-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 201, r.text
        r = http.post(
            "/sessions", json={"template_id": r.json()["id"], "worktree_path": str(worktree)}
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        yield sid
        http.post(f"/sessions/{sid}/close")


@pytest.mark.parametrize("width", [1366, 390])
def test_the_editor_completes_from_the_session(
    open_page: PageFactory, web_daemon: WebDaemon, session_id: str, width: int
) -> None:
    page = open_page(web_daemon, width=width, height=900)
    open_workbench(page, session_id)
    run_code(page, "const sessionOnlyName = {innerField: 1}", status="ok")
    editor = page.get_by_test_id("workbench-editor-input")
    editor.fill("")
    editor.press_sequentially("Math.ma")
    menu = page.locator(".cm-tooltip-autocomplete")
    expect(menu).to_be_visible()
    expect(menu.get_by_text("max", exact=True)).to_be_visible()
    screenshot(page, f"workbench-completion-{width}")
    editor.press("Escape")
    editor.fill("")
    editor.press_sequentially("sessionOnly")
    expect(menu.get_by_text("sessionOnlyName", exact=True)).to_be_visible()
    menu.get_by_text("sessionOnlyName", exact=True).click()  # accepts it
    expect(editor).to_have_text("sessionOnlyName")
    editor.press_sequentially(".inner")
    option = menu.get_by_text("innerField", exact=True)
    expect(option).to_be_visible()
    option.click()  # accepts it
    expect(editor).to_have_text("sessionOnlyName.innerField")
