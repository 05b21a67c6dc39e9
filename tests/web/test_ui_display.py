"""display() in the workbench, in Debian's Chromium: images are shown inline (checked on a
screenshot), HTML renders in a sandbox where no script runs, a result's own bundle is shown."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from .conftest import WebDaemon
from .helpers import open_workbench, run_code, screenshot

pytestmark = pytest.mark.browser

RED_SQUARE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="60">'
    '<rect width="60" height="60" fill="#ff0000"/></svg>'
)


@pytest.fixture
def session_id(web_daemon: WebDaemon, worktree: Path) -> Any:
    with web_daemon.api() as http:
        r = http.post("/templates", json={"name": f"display-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 201, r.text
        r = http.post(
            "/sessions", json={"template_id": r.json()["id"], "worktree_path": str(worktree)}
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        yield sid
        http.post(f"/sessions/{sid}/close")


def test_a_displayed_svg_is_drawn_in_the_console(page: Any, session_id: str) -> None:
    open_workbench(page, session_id)
    run_code(
        page, f"display({{'image/svg+xml': '{RED_SQUARE}', 'text/plain': 'chart'}})", status="ok"
    )
    image = page.get_by_test_id("display-image")
    expect(image).to_be_visible()
    expect(image).to_have_attribute("alt", "chart")
    expect(page.get_by_test_id("display")).to_have_attribute("data-mime", "image/svg+xml")
    shot = Image.open(io.BytesIO(image.screenshot())).convert("RGB")
    assert shot.size[0] >= 50 and shot.size[1] >= 50
    assert shot.getpixel((shot.size[0] // 2, shot.size[1] // 2)) == (255, 0, 0)
    screenshot(page, "display-svg")


def test_displayed_html_cannot_run_script_in_the_ui(page: Any, session_id: str) -> None:
    open_workbench(page, session_id)
    html = (
        "<p id=shown>rich text</p>"
        "<script>parent.document.title = 'pwned'; top.pwned = 1; document.body.dataset.ran = 1"
        "</script><img src=x onerror=\"parent.document.title = 'pwned'\">"
    )
    run_code(page, f"display({{'text/html': {html!r}, 'text/plain': 'html'}})", status="ok")
    frame_element = page.get_by_test_id("display-html")
    expect(frame_element).to_have_attribute("sandbox", "")
    frame = frame_element.content_frame
    expect(frame.locator("#shown")).to_have_text("rich text")
    # No script ran inside the frame, and nothing reached the UI's document.
    assert frame.locator("body").get_attribute("data-ran") is None
    assert page.evaluate("() => window.pwned") is None
    assert page.title() != "pwned"


def test_a_result_with_its_own_bundle_is_shown_rich(page: Any, session_id: str) -> None:
    open_workbench(page, session_id)
    bundle = f"{{'image/svg+xml': '{RED_SQUARE}'}}"
    code = f"({{ [Symbol.for('Jupyter.display')]() {{ return {bundle}; }} }})"
    run_code(page, code, status="ok")
    expect(page.get_by_test_id("result-value").get_by_test_id("display-image")).to_be_visible()
