"""Page helpers for the browser tests: screenshots and the few multi-step UI actions that several
tests share (create a template, start a session, run code)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .conftest import SCREENSHOTS


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save ``artifacts/screenshots/<name>.png`` (the folder is gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def by_attr(page: Page, test_id: str, **attrs: str) -> Locator:
    """Elements with ``data-testid=test_id`` and the given ``data-*`` attributes
    (``template_id="x"`` matches ``data-template-id="x"``)."""
    selector = f'[data-testid="{test_id}"]'
    for key, value in attrs.items():
        selector += f'[data-{key.replace("_", "-")}="{value}"]'
    return page.locator(selector)


def create_template(page: Page, name: str) -> str:
    """Create a template from the templates page; returns its id (from the detail page the
    app navigates to)."""
    page.goto("/templates")
    page.get_by_test_id("template-name-input").fill(name)
    page.get_by_test_id("template-create-submit").click()
    expect(page).to_have_url(re.compile(r"/templates/[0-9a-f-]{36}$"))
    expect(page.get_by_test_id("template-detail-name")).to_have_text(name)
    template_id = page.get_by_test_id("template-detail").get_attribute("data-template-id")
    assert template_id
    return template_id


def save_wall_ms(page: Page, wall_ms: int) -> None:
    """On a template's detail page: set the wall-time limit through the limits form and save."""
    page.get_by_test_id("limit-input-wall_ms").fill(str(wall_ms))
    save = page.get_by_test_id("settings-save")
    expect(save).to_be_enabled()
    save.click()
    expect(page.get_by_test_id("toast").filter(has_text="Settings saved")).to_be_visible()
    # Saved and refetched: the form is clean again and shows the stored value.
    expect(save).to_be_disabled()
    expect(page.get_by_text("Unsaved changes")).to_have_count(0)
    expect(page.get_by_test_id("limit-input-wall_ms")).to_have_value(str(wall_ms))


def start_session(page: Page, template_id: str, worktree: Path | None) -> str:
    """Create a session from the sessions page (``worktree`` None: a managed one); returns its
    id once it is ready."""
    page.goto(f"/sessions?template={template_id}")
    expect(page.get_by_test_id("session-template-select")).to_have_value(template_id)
    worktree_input = page.get_by_test_id("session-worktree-input")
    worktree_input.fill("" if worktree is None else str(worktree))
    if page.viewport_size and page.viewport_size["width"] >= 1280:
        box = worktree_input.bounding_box()
        # Regression: the worktree field was squeezed into one 11rem grid cell.
        assert box and box["width"] >= 400, f"worktree input box: {box}"
    page.get_by_test_id("session-create-submit").click()
    created = page.get_by_test_id("session-created")
    expect(created).to_contain_text("ready")
    href = page.get_by_test_id("session-created-open").get_attribute("href")
    assert href and href.startswith("/workbench/"), href
    session_id = href.removeprefix("/workbench/")
    row = by_attr(page, "session-row", session_id=session_id)
    expect(row).to_have_attribute("data-status", "ready")
    return session_id


def open_workbench(page: Page, session_id: str) -> None:
    page.goto(f"/workbench/{session_id}")
    expect(page.get_by_test_id("workbench-session-status")).to_have_text("ready")
    expect(page.get_by_test_id("workbench-editor-input")).to_be_visible()
    expect(page.get_by_test_id("run-button")).to_be_enabled()


def run_code(page: Page, code: str, *, status: str, keyboard: bool = False) -> None:
    """Type ``code`` into the editor, run it (button or Ctrl+Enter) and wait until this run
    (not a previous one) ends with ``status``."""
    previous = page.get_by_test_id("execution-id")
    before = previous.text_content() if previous.count() else None
    editor = page.get_by_test_id("workbench-editor-input")
    editor.fill(code)
    if keyboard:
        editor.press("Control+Enter")
    else:
        page.get_by_test_id("run-button").click()
    if before is None:
        expect(page.get_by_test_id("execution-id")).to_be_visible()
    else:
        expect(page.get_by_test_id("execution-id")).not_to_have_text(before)
    expect(page.get_by_test_id("execution-status")).to_have_text(status)
    expect(page.get_by_test_id("result-panel")).to_have_attribute("data-status", status)
    expect(page.get_by_test_id("run-button")).to_be_enabled()


# Installed before a run: records (in page time, ms) when each console line appears, what the
# status badge said and whether a result was shown when the first one appeared, and when the
# status first leaves "running".
WATCH_RUN_JS = """
() => {
  const marks = { lines: {}, statusAtFirstLine: null, resultAtFirstLine: null, done: null };
  window.__runMarks = marks;
  const statusText = () => {
    const el = document.querySelector('[data-testid="execution-status"]');
    return el ? el.textContent.trim() : null;
  };
  const check = () => {
    const now = performance.now();
    for (const line of document.querySelectorAll('[data-testid="console-line"]')) {
      if (Object.keys(marks.lines).length === 0) {
        marks.statusAtFirstLine = statusText();
        marks.resultAtFirstLine = !!document.querySelector('[data-testid="result-value"]');
      }
      if (!(line.dataset.seq in marks.lines)) marks.lines[line.dataset.seq] = now;
    }
    const status = statusText();
    if (marks.done === null && status !== null && status !== 'running') marks.done = now;
  };
  new MutationObserver(check).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
  });
}
"""


def watch_run(page: Page) -> None:
    page.evaluate(WATCH_RUN_JS)


def run_marks(page: Page) -> dict[str, Any]:
    marks: dict[str, Any] = page.evaluate("() => window.__runMarks")
    return marks
