"""The History page's search box: Chromium via Playwright against a real daemon."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import WebDaemon
from .helpers import by_attr, screenshot

pytestmark = pytest.mark.browser


def _session(daemon: WebDaemon, worktree: Path) -> str:
    with daemon.api() as api:
        template = api.post("/templates", json={"name": f"search-ui-{uuid.uuid4().hex[:8]}"})
        session = api.post(
            "/sessions",
            json={"template_id": template.json()["id"], "worktree_path": str(worktree)},
        )
        assert session.status_code == 201, session.text
        return str(session.json()["id"])


def _run(daemon: WebDaemon, sid: str, code: str) -> dict[str, Any]:
    with daemon.api() as api:
        r = api.post("/executions/repl", json={"session_id": sid, "input": code})
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]


def test_search_box_finds_executions_and_links_to_one(
    page: Page, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    word = f"kestrel{uuid.uuid4().hex[:6]}"
    sid = _session(web_daemon, tmp_path)
    other = _session(web_daemon, tmp_path)
    found = _run(web_daemon, sid, f"console.log('a {word} <b>flies</b>'); 7")
    _run(web_daemon, other, f"throw new Error('{word} escaped')")
    _run(web_daemon, sid, "'nothing to see'")

    page.goto(f"/history/{sid}")
    page.get_by_test_id("history-search-input").fill(f"{word.upper()} flies")
    page.get_by_test_id("history-search-submit").click()
    hits = page.get_by_test_id("search-hit")
    expect(hits).to_have_count(1)
    hit = by_attr(page, "search-hit", execution_id=found["id"])
    # The matched words are marked; the daemon's text is shown as text, never as HTML.
    expect(hit.locator("mark").first).to_have_text(word)
    expect(hit).to_contain_text("<b>flies</b>")
    screenshot(page, "history-search")

    page.get_by_test_id("history-search-input").fill(word)
    page.get_by_test_id("history-search-submit").click()
    expect(hits).to_have_count(2)
    page.get_by_test_id("history-search-session-only").check()
    expect(hits).to_have_count(1)

    hit.get_by_test_id("search-hit-link").click()
    expect(page).to_have_url(f"{web_daemon.url}/history/{sid}?execution={found['id']}")
    selected = page.get_by_test_id("history-selected")
    expect(selected).to_contain_text(found["id"])
    expect(selected.get_by_test_id("event-row").first).to_be_visible()


def test_search_with_query_syntax_characters_shows_no_error(
    page: Page, web_daemon: WebDaemon
) -> None:
    page.goto("/history")
    page.get_by_test_id("history-search-input").fill('" NEAR * (')
    page.get_by_test_id("history-search-submit").click()
    expect(page.get_by_test_id("search-empty")).to_be_visible()
