"""The workbench's file panel in a real browser against a real daemon: the worktree's tree,
a new file written, opened, edited, saved and run."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import WebDaemon
from .helpers import screenshot, start_session

pytestmark = pytest.mark.browser


def test_the_file_panel_opens_edits_saves_and_runs_a_file(
    page: Page, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    worktree = tmp_path / "wt"
    (worktree / "lib").mkdir(parents=True)
    (worktree / "lib" / "k.mjs").write_text("export const k = 41;\n")
    with web_daemon.api() as api:
        template = api.post("/templates", json={"name": f"files-{uuid.uuid4().hex[:8]}"}).json()
        session = api.post(
            "/sessions", json={"template_id": template["id"], "worktree_path": str(worktree)}
        ).json()
    sid = session["id"]

    page.goto(f"/workbench/{sid}")
    panel = page.get_by_test_id("files-panel")
    expect(panel.locator('[data-testid="files-entry"][data-path="lib/k.mjs"]')).to_be_visible()

    # A new file: created empty, then written in the editor and run with Save and run.
    panel.get_by_test_id("files-new-input").fill("app.mjs")
    panel.get_by_test_id("files-new-button").click()
    editor = panel.get_by_test_id("file-editor")
    expect(editor).to_have_attribute("data-path", "app.mjs")
    panel.get_by_test_id("file-editor-text").fill(
        "import { k } from './lib/k.mjs';\nconsole.log('answer', k + 1);\n"
    )
    expect(editor).to_have_attribute("data-dirty", "true")
    panel.get_by_test_id("file-run").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("ok")
    expect(page.get_by_test_id("console")).to_contain_text("answer 42")
    expect(editor).to_have_attribute("data-dirty", "false")
    assert (worktree / "app.mjs").read_text().startswith("import { k }")

    # An existing file: opened from the tree, edited, saved; the daemon has the new bytes.
    panel.locator('[data-path="lib/k.mjs"] button').click()
    expect(editor).to_have_attribute("data-path", "lib/k.mjs")
    expect(panel.get_by_test_id("file-editor-text")).to_have_value("export const k = 41;\n")
    panel.get_by_test_id("file-editor-text").fill("export const k = 99;\n")
    panel.get_by_test_id("file-save").click()
    expect(editor).to_have_attribute("data-dirty", "false")
    with web_daemon.api() as api:
        assert api.get(f"/sessions/{sid}/files/lib/k.mjs").text == "export const k = 99;\n"
    screenshot(page, "workbench-files")

    panel.get_by_test_id("file-delete").click()
    expect(panel.locator('[data-testid="files-entry"][data-path="lib/k.mjs"]')).to_have_count(0)
    assert not (worktree / "lib" / "k.mjs").exists()


def test_a_session_started_without_a_worktree_is_filled_from_the_file_panel(
    page: Page, web_daemon: WebDaemon
) -> None:
    with web_daemon.api() as api:
        template = api.post("/templates", json={"name": f"managed-{uuid.uuid4().hex[:8]}"}).json()
    sid = start_session(page, template["id"], None)
    with web_daemon.api() as api:
        session = api.get(f"/sessions/{sid}").json()
    assert session["worktree_managed"] is True

    page.goto(f"/workbench/{sid}")
    expect(page.get_by_test_id("workbench-session")).to_contain_text("(managed)")
    panel = page.get_by_test_id("files-panel")
    expect(panel.get_by_test_id("files-empty")).to_be_visible()
    panel.get_by_test_id("files-new-input").fill("main.js")
    panel.get_by_test_id("files-new-button").click()
    panel.get_by_test_id("file-editor-text").fill("6 * 7")
    panel.get_by_test_id("file-run").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("ok")
    expect(page.get_by_test_id("result-preview")).to_have_text("42")
    expect(panel.locator('[data-testid="files-entry"][data-path="main.js"]')).to_be_visible()
