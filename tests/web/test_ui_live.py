"""A live UI in Debian's Chromium: History follows the session event stream (an execution run by
another client appears without a reload); readable counts and outcomes (limits state their value);
startup rows name their file; limit validation marks every bad field; checkboxes save at once
everywhere; the template editor's idle timeout; History at 390 px."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PageFactory, WebDaemon
from .helpers import by_attr, create_template, open_workbench, run_code, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def session_id(web_daemon: WebDaemon, worktree: Path) -> Any:
    """A ready session made over the API (as another client would), with a 300 ms wall-time
    limit and a startup file ``init.js``."""
    (worktree / "init.js").write_text("globalThis.BASE = 40;\n")
    with web_daemon.api() as http:
        r = http.post("/templates", json={"name": f"live-{uuid.uuid4().hex[:8]}"})
        assert r.status_code == 201, r.text
        tid = r.json()["id"]
        r = http.patch(f"/templates/{tid}", json={"settings": {"limits": {"wall_ms": 300}}})
        assert r.status_code == 200, r.text
        r = http.post(f"/templates/{tid}/startup-files", json={"path": "init.js"})
        assert r.status_code == 201, r.text
        r = http.post("/sessions", json={"template_id": tid, "worktree_path": str(worktree)})
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
    # Only the startup execution so far, named by its file.
    expect(page.get_by_test_id("history-row")).to_have_count(1)
    expect(page.get_by_test_id("history-row").first).to_contain_text("init.js")
    expect(page.get_by_test_id("history-live")).to_have_attribute("data-state", "live")

    first = repl(web_daemon, session_id, "console.log('from the CLI'); 40 + 2")
    row = by_attr(page, "history-row", execution_id=first["id"])
    expect(row).to_have_attribute("data-status", "ok")
    second = repl(web_daemon, session_id, "'again'")
    expect(by_attr(page, "history-row", execution_id=second["id"])).to_be_visible()
    expect(page.get_by_test_id("history-row")).to_have_count(3)
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


def test_a_limit_outcome_states_the_limit(page: Any, session_id: str) -> None:
    open_workbench(page, session_id)
    # A burst of output, then the limit: the console follows the tail to the limit line.
    burst = (
        "for (let i = 0; i < 200; i++) { console.log('line ' + i); "
        "const t = Date.now(); while (Date.now() - t < 1) {} } while (true) {}"
    )
    run_code(page, burst, status="timeout")
    expect(page.get_by_test_id("result-error-text")).to_have_text(
        "Wall-time limit of 300 ms exceeded"
    )
    expect(page.get_by_test_id("result-error-code")).to_have_text("WALL_TIME_EXCEEDED")
    line = page.get_by_test_id("system-line").last
    expect(line).to_contain_text("Wall-time limit of 300 ms exceeded")
    # How many lines fit in 300 ms depends on the machine's load.
    expect(page.get_by_test_id("console-count")).to_have_text(re.compile(r"^\d{2,3} lines$"))
    console = page.get_by_test_id("console")
    gap = console.evaluate("e => e.scrollHeight - e.scrollTop - e.clientHeight")
    assert gap < 24, f"console is {gap} px above its tail"
    expect(line).to_be_in_viewport()


def test_limit_validation_marks_every_bad_field(page: Any) -> None:
    create_template(page, f"limits-{uuid.uuid4().hex[:8]}")
    page.get_by_test_id("limit-input-wall_ms").fill("0")
    page.get_by_test_id("limit-input-mem_mb").fill("1.5")
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("limits-invalid")).to_have_text(
        "Wall time, Memory must be whole numbers greater than 0."
    )
    for key in ("wall_ms", "mem_mb"):
        expect(page.get_by_test_id(f"limit-input-{key}")).to_have_attribute("aria-invalid", "true")
    for key in ("cpu_ms", "max_events", "max_output_kb"):
        expect(page.get_by_test_id(f"limit-input-{key}")).not_to_have_attribute(
            "aria-invalid", "true"
        )
    screenshot(page, "limits-invalid")


def test_runtime_checkboxes_save_at_once_like_module_checkboxes(page: Any) -> None:
    template_id = create_template(page, f"runtime-{uuid.uuid4().hex[:8]}")
    page.get_by_test_id("runtime-strict").check()
    expect(page.get_by_test_id("toast").filter(has_text="Settings saved")).to_be_visible()
    expect(page.get_by_test_id("settings-save")).to_be_disabled()  # nothing left unsaved
    page.reload()
    expect(page.get_by_test_id("runtime-strict")).to_be_checked()
    page.get_by_test_id("module-toggle-fs").check()
    expect(page.get_by_test_id("toast").filter(has_text="fs")).to_be_visible()
    page.goto(f"/templates/{template_id}")
    expect(page.get_by_test_id("module-toggle-fs")).to_be_checked()


def test_the_repl_language_setting_saves_at_once(page: Any) -> None:
    create_template(page, f"language-{uuid.uuid4().hex[:8]}")
    language = page.get_by_test_id("runtime-language")
    expect(language).to_have_value("javascript")
    language.select_option("typescript")
    expect(page.get_by_test_id("toast").filter(has_text="Settings saved")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("runtime-language")).to_have_value("typescript")


def test_the_template_editor_sets_its_sessions_idle_timeout(
    page: Any, web_daemon: WebDaemon
) -> None:
    template_id = create_template(page, f"idle-{uuid.uuid4().hex[:8]}")
    idle = page.get_by_test_id("idle-timeout-input")
    expect(idle).to_have_value("")  # the daemon's default
    idle.fill("-5")
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("idle-invalid")).to_have_text(
        "Idle timeout must be a number of seconds from 0 to 2592000, or empty."
    )
    expect(idle).to_have_attribute("aria-invalid", "true")
    idle.fill("90")
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("toast").filter(has_text="Settings saved")).to_be_visible()
    expect(page.get_by_test_id("settings-save")).to_be_disabled()
    expect(page.get_by_test_id("idle-invalid")).to_have_count(0)
    with web_daemon.api() as http:
        settings = http.get(f"/templates/{template_id}").json()["settings"]
    assert settings["session"] == {"idle_timeout_s": 90}
    page.reload()
    expect(page.get_by_test_id("idle-timeout-input")).to_have_value("90")
    screenshot(page, "template-idle-timeout")
    page.get_by_test_id("idle-timeout-input").fill("")  # back to the daemon's default
    page.get_by_test_id("settings-save").click()
    expect(page.get_by_test_id("settings-save")).to_be_disabled()
    with web_daemon.api() as http:
        settings = http.get(f"/templates/{template_id}").json()["settings"]
    assert settings["session"] == {"idle_timeout_s": None}
