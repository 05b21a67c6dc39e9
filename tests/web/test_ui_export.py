"""The History page's Export buttons download the session (with the auth token) in real
Chromium; the downloaded ipynb is a valid notebook holding the session's cells."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import expect

from .conftest import AUTH_TOKEN, PageFactory, WebDaemon


def _session_with_history(daemon: WebDaemon, tmp_path: Path) -> tuple[str, list[str]]:
    worktree = tmp_path / "export-wt"
    worktree.mkdir()
    inputs = ["const greeting = 'hi'", "console.log(greeting); ({n: 42})", "nope()"]
    with daemon.api() as api:
        template = api.post("/templates", json={"name": f"export-{uuid.uuid4().hex[:8]}"})
        assert template.status_code == 201, template.text
        session = api.post(
            "/sessions",
            json={"template_id": template.json()["id"], "worktree_path": str(worktree)},
        )
        assert session.status_code == 201, session.text
        sid: str = session.json()["id"]
        for code in inputs:
            r = api.post("/executions/repl", json={"session_id": sid, "input": code})
            assert r.status_code == 201, r.text
    return sid, inputs


def test_export_buttons_download_the_session_with_the_auth_token(
    open_page: PageFactory, auth_daemon: WebDaemon, tmp_path: Path
) -> None:
    sid, inputs = _session_with_history(auth_daemon, tmp_path)
    page = open_page(auth_daemon)
    page.add_init_script(f"sessionStorage.setItem('vm-system.auth-token', {AUTH_TOKEN!r})")
    page.goto(f"/history/{sid}")
    expect(page.get_by_test_id("history-row")).to_have_count(3)
    with page.expect_download() as info:
        page.get_by_test_id("history-export-ipynb").click()
    download: Any = info.value
    assert download.suggested_filename == f"session-{sid}.ipynb"
    nb = nbformat.from_dict(json.loads(Path(download.path()).read_text()))
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.language == "javascript"
    assert [c.source for c in nb.cells] == inputs
    assert nb.cells[1].outputs[0].text == "hi\n"
    assert nb.cells[1].outputs[1].data["application/json"] == {"n": 42}
    assert nb.cells[2].outputs[0].ename == "ReferenceError"

    with page.expect_download() as info:
        page.get_by_test_id("history-export-md").click()
    md: Any = info.value
    assert md.suggested_filename == f"session-{sid}.md"
    assert Path(md.path()).read_text().startswith(f"# Session {sid}")
    expect(page.get_by_test_id("history-export-error")).to_have_count(0)
