"""End-to-end tests of the web UI: Debian's Chromium, driven by Playwright, against a real daemon.

Every step goes through the UI as a user would; the API is used only to set up state that a
test is not about (a template and session for the keyboard or narrow-window tests, say).
Screenshots of each area land in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

import vmsystem

from .conftest import AUTH_TOKEN, PageFactory, WebDaemon
from .helpers import (
    by_attr,
    create_template,
    open_workbench,
    run_code,
    run_marks,
    save_wall_ms,
    screenshot,
    start_session,
    watch_run,
)

pytestmark = pytest.mark.browser

STARTUP_JS = """\
globalThis.greeting = 'hello from startup';
console.log('startup file ran');
"""

# Logs, keeps the isolate busy for ~300 ms, logs again, then returns a value: the first line must
# reach the page while the execution is still running, ~300 ms before the second.
STREAMING_JS = """\
console.log('first line: ' + greeting);
(() => { const t0 = Date.now(); while (Date.now() - t0 < 300) {} })();
console.warn('second line, after the busy wait');
console.log('third line');
({ greeting, answer: 42, items: [1, 2, 3] })"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_worktree(tmp_path: Path, name: str = "worktree") -> Path:
    """A worktree holding ``init/setup.js`` (sets a global and logs)."""
    worktree = tmp_path / name
    (worktree / "init").mkdir(parents=True)
    (worktree / "init" / "setup.js").write_text(STARTUP_JS)
    return worktree


def api_session(daemon: WebDaemon, tmp_path: Path, name: str) -> dict[str, Any]:
    """A ready session of a fresh template, made through the API (for tests about other things)."""
    worktree = tmp_path / name
    worktree.mkdir()
    with daemon.api() as api:
        template = api.post("/templates", json={"name": unique(name)})
        assert template.status_code == 201, template.text
        session = api.post(
            "/sessions",
            json={"template_id": template.json()["id"], "worktree_path": str(worktree)},
        )
        assert session.status_code == 201, session.text
        body: dict[str, Any] = session.json()
        assert body["status"] == "ready", body
        return body


# --------------------------------------------------------------------------- the full flow


def test_template_to_closed_session_flow_streams_times_out_cancels_and_keeps_history(
    page: Page, tmp_path: Path
) -> None:
    """Template with a startup file -> session -> streamed console before the result -> cancel ->
    wall-time limit set in the UI -> timeout, session still usable -> history -> close."""
    name = unique("flow")
    worktree = make_worktree(tmp_path)

    # Template with a startup file and a generous wall-time limit for the first session.
    template_id = create_template(page, name)
    expect(page.get_by_test_id("startup-files-empty")).to_be_visible()
    page.get_by_test_id("startup-path-input").fill("init/setup.js")
    page.get_by_test_id("startup-add").click()
    startup_row = by_attr(page, "startup-file-row", path="init/setup.js")
    expect(startup_row).to_be_visible()
    expect(startup_row).to_contain_text("eval")
    save_wall_ms(page, 60_000)

    page.get_by_test_id("nav-templates").click()
    row = by_attr(page, "template-row", template_id=template_id)
    expect(row).to_have_attribute("data-template-name", name)
    screenshot(page, "01-templates")

    # First session: created from the template's "New session" link.
    row.get_by_test_id("template-new-session").click()
    expect(page).to_have_url(re.compile(rf"/sessions\?template={template_id}$"))
    long_session = start_session(page, template_id, worktree)

    # Streaming: the first console line is on screen while the status still says "running".
    page.get_by_test_id("session-created-open").click()
    expect(page).to_have_url(re.compile(rf"/workbench/{long_session}$"))
    expect(page.get_by_test_id("workbench-session-status")).to_have_text("ready")
    expect(page.get_by_test_id("run-button")).to_be_enabled()
    watch_run(page)
    run_code(page, STREAMING_JS, status="ok")
    marks = run_marks(page)
    # Appearance time of each console line, in seq order.
    seen = [t for _, t in sorted((int(seq), t) for seq, t in marks["lines"].items())]
    assert len(seen) == 3 and marks["done"] is not None, marks
    assert marks["statusAtFirstLine"] == "running", marks
    assert marks["resultAtFirstLine"] is False, marks
    # The busy wait separates the first line from the second on screen too.
    assert seen[1] - seen[0] >= 150, marks
    assert seen[2] <= marks["done"], marks

    lines = page.get_by_test_id("console-line")
    expect(lines).to_have_count(3)
    expect(lines.nth(0)).to_contain_text("first line: hello from startup")
    expect(lines.nth(1)).to_have_attribute("data-level", "warn")
    expect(lines.nth(1)).to_contain_text("second line, after the busy wait")
    expect(lines.nth(2)).to_contain_text("third line")
    seqs = [int(s) for s in lines.evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3, seqs
    expect(page.get_by_test_id("console-count")).to_have_text("3 lines")
    expect(page.get_by_test_id("console-echo")).to_contain_text("console.log('first line")
    expect(page.get_by_test_id("result-type")).to_have_text("object")
    expect(page.get_by_test_id("json-tree")).to_contain_text("hello from startup")
    expect(page.get_by_test_id("execution-metrics")).to_contain_text("Duration")
    screenshot(page, "04-workbench")

    # Cancel a run that would otherwise go on for a minute.
    page.get_by_test_id("workbench-editor-input").fill("while (true) {}")
    page.get_by_test_id("run-button").click()
    expect(page.get_by_test_id("execution-status")).to_have_text("running")
    cancel = page.get_by_test_id("cancel-button")
    expect(cancel).to_be_enabled()
    cancel.click()
    expect(page.get_by_test_id("execution-status")).to_have_text("cancelled")
    expect(page.get_by_test_id("result-error-code")).to_have_text("CANCELLED")
    expect(page.get_by_test_id("cancel-button")).to_have_count(0)
    screenshot(page, "05-workbench-cancelled")
    run_code(page, "greeting.toUpperCase()", status="ok")
    expect(page.get_by_test_id("result-preview")).to_contain_text("HELLO FROM STARTUP")

    # A 300 ms wall-time limit, set through the limits form, applies to new sessions.
    page.goto(f"/templates/{template_id}")
    expect(page.get_by_test_id("limit-input-wall_ms")).to_have_value("60000")
    save_wall_ms(page, 300)
    screenshot(page, "02-template-detail")
    short_session = start_session(page, template_id, worktree)
    screenshot(page, "03-sessions")

    open_workbench(page, short_session)
    run_code(page, "while (true) {}", status="timeout")
    expect(page.get_by_test_id("result-error-code")).to_have_text("WALL_TIME_EXCEEDED")
    expect(page.get_by_test_id("result-system-error")).to_contain_text("Wall-time limit")
    expect(by_attr(page, "system-line", code="WALL_TIME_EXCEEDED")).to_be_visible()
    screenshot(page, "06-workbench-timeout")
    # The session survived the limit and still has the startup file's global.
    expect(page.get_by_test_id("workbench-session-status")).to_have_text("ready")
    run_code(page, "greeting + ' / still usable'", status="ok")
    expect(page.get_by_test_id("result-preview")).to_contain_text(
        "hello from startup / still usable"
    )

    # History: the executions of the session, and one execution's event log.
    page.get_by_test_id("workbench-history-link").click()
    expect(page).to_have_url(re.compile(rf"/history/{short_session}$"))
    rows = page.get_by_test_id("history-row")
    expect(rows.first).to_be_visible()
    picker = page.get_by_test_id("history-session-select").bounding_box()
    table = page.get_by_test_id("history-table").bounding_box()
    assert picker and table, (picker, table)
    # Regression: the picker's label once took a 30rem flex-basis as its height.
    gap = table["y"] - (picker["y"] + picker["height"])
    assert gap < 150, f"{gap:.0f} px of empty space between the session picker and the executions"
    expect(rows.filter(has=page.get_by_test_id("history-status"))).to_have_count(3)
    statuses = rows.evaluate_all("els => els.map(e => e.dataset.status)")
    # Newest first: the follow-up run, the timeout, the startup file.
    assert statuses == ["ok", "timeout", "ok"], statuses
    expect(rows.nth(2)).to_contain_text("startup")
    timeout_row = rows.nth(1)
    timeout_row.get_by_test_id("history-toggle").click()
    expect(timeout_row.get_by_test_id("history-toggle")).to_have_attribute("aria-expanded", "true")
    detail = page.get_by_test_id("execution-detail")
    expect(detail.get_by_test_id("result-error-code")).to_have_text("WALL_TIME_EXCEEDED")
    events = detail.get_by_test_id("event-row")
    expect(events.first).to_be_visible()
    log: list[dict[str, str]] = events.evaluate_all(
        "els => els.map(e => ({seq: e.dataset.seq, type: e.dataset.type}))"
    )
    seqs = [int(e["seq"]) for e in log]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), log
    types = [e["type"] for e in log]
    assert types[0] == "input_echo" and "system" in types, log
    system_event = by_attr(page, "event-row", type="system")
    expect(system_event).to_contain_text("WALL_TIME_EXCEEDED")
    expect(detail.get_by_test_id("events-count")).to_have_text(f"{len(log)} events shown")
    screenshot(page, "07-history")

    # Close both sessions from the sessions page.
    page.get_by_test_id("nav-sessions").click()
    expect(page.get_by_test_id("sessions-page")).to_be_visible()
    for session_id in (long_session, short_session):
        session_row = by_attr(page, "session-row", session_id=session_id)
        session_row.get_by_test_id("session-close").click()
        expect(session_row).to_have_attribute("data-status", "closed")
        expect(session_row.get_by_test_id("session-status")).to_have_text("closed")
        expect(session_row.get_by_test_id("session-close")).to_have_count(0)
    page.get_by_test_id("session-filter-closed").click()
    expect(page).to_have_url(re.compile(r"status=closed"))
    expect(by_attr(page, "session-row", session_id=short_session)).to_be_visible()
    expect(page.locator('[data-testid="session-row"]:not([data-status="closed"])')).to_have_count(0)

    # A closed session's workbench says so and cannot run.
    page.goto(f"/workbench/{short_session}")
    expect(page.get_by_test_id("workbench-not-ready")).to_contain_text("closed")
    expect(page.get_by_test_id("run-button")).to_be_disabled()


def test_every_line_of_a_burst_shows_while_the_run_continues(
    page: Page, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    session = api_session(web_daemon, tmp_path, "burst")
    open_workbench(page, session["id"])
    watch_run(page)
    run_code(
        page,
        "console.log('one'); console.log('two');\n"
        "(() => { const t0 = Date.now(); while (Date.now() - t0 < 300) {} })();\n'done'",
        status="ok",
    )
    marks = run_marks(page)
    seen = [t for _, t in sorted((int(seq), t) for seq, t in marks["lines"].items())]
    assert len(seen) == 2, marks
    assert marks["done"] - seen[1] >= 150, f"'two' appeared only with the result: {marks}"


# --------------------------------------------------------------------------- API errors


def test_duplicate_template_name_shows_conflict_code(page: Page, web_daemon: WebDaemon) -> None:
    name = unique("dup")
    with web_daemon.api() as api:
        assert api.post("/templates", json={"name": name}).status_code == 201
    page.goto("/templates")
    expect(by_attr(page, "template-row", template_name=name)).to_be_visible()
    page.get_by_test_id("template-name-input").fill(name)
    page.get_by_test_id("template-create-submit").click()
    error = page.get_by_test_id("template-create-error")
    expect(error).to_have_attribute("data-code", "CONFLICT")
    expect(error.get_by_test_id("api-error-code")).to_have_text("CONFLICT")
    expect(error.get_by_test_id("api-error-message")).not_to_be_empty()
    expect(page).to_have_url(re.compile(r"/templates$"))
    expect(by_attr(page, "template-row", template_name=name)).to_have_count(1)


def test_delete_template_is_disabled_while_it_has_a_live_session(
    page: Page, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    session = api_session(web_daemon, tmp_path, "in-use")
    template_id = session["template_id"]

    page.goto(f"/templates/{template_id}")
    expect(by_attr(page, "template-session-row", session_id=session["id"])).to_be_visible()
    expect(page.get_by_test_id("template-delete")).to_be_disabled()
    why = page.get_by_test_id("template-delete-why")
    expect(why).to_contain_text("1 session of this template is live: close it first")
    screenshot(page, "08-template-in-use")

    # Follow the explanation: close the session, then the delete goes through.
    why.get_by_test_id("template-delete-why-link").click()
    expect(page).to_have_url(re.compile(rf"/sessions\?template={template_id}"))
    row = by_attr(page, "session-row", session_id=session["id"])
    row.get_by_test_id("session-close").click()
    expect(row).to_have_attribute("data-status", "closed")
    page.goto(f"/templates/{template_id}")
    page.get_by_test_id("template-delete").click()
    page.get_by_test_id("template-delete-confirm").click()
    expect(page).to_have_url(re.compile(r"/templates$"))
    expect(page.get_by_test_id("templates-page")).to_be_visible()
    expect(by_attr(page, "template-row", template_id=template_id)).to_have_count(0)


# --------------------------------------------------------------------------- system


def test_system_page_shows_health_version_and_engine(page: Page, web_daemon: WebDaemon) -> None:
    with web_daemon.api() as api:
        summary = api.get("/runtime/summary").json()
    page.goto("/system")
    expect(page.get_by_test_id("nav-system")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("system-health")).to_have_text("ok")
    expect(page.get_by_test_id("daemon-status")).to_have_attribute("data-state", "up")
    expect(page.get_by_test_id("system-version")).to_have_text(vmsystem.__version__)
    engine = summary["engine"]
    engine_name = engine if isinstance(engine, str) else engine["name"]
    expect(page.get_by_test_id("system-engine")).to_contain_text(engine_name)
    expect(page.get_by_test_id("system-uptime")).to_have_attribute(
        "data-seconds", re.compile(r"\d")
    )
    expect(page.get_by_test_id("system-db-url")).to_contain_text("sqlite")
    expect(page.get_by_test_id("system-link-metrics")).to_have_attribute("href", "/metrics")
    expect(page.get_by_test_id("system-link-docs")).to_have_attribute("href", "/docs")
    # the daemon's default session hosts: supervised worker processes, one row each
    hosts = summary["hosts"]
    assert hosts and all(h["kind"] == "process" for h in hosts)
    expect(page.get_by_test_id("host-row")).to_have_count(len(hosts))
    expect(page.get_by_test_id("hosts-table")).to_contain_text(str(hosts[0]["pid"]))
    # the daemons over the database: this one, with its lease alive
    (daemon,) = summary["daemons"]
    row = page.get_by_test_id("daemon-row")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-self", "true")
    expect(row).to_contain_text(daemon["id"])
    expect(row).to_contain_text(str(daemon["pid"]))
    expect(row.get_by_test_id("daemon-state")).to_have_text("alive")
    screenshot(page, "09-system")


# --------------------------------------------------------------------------- keyboard


def test_ctrl_enter_in_the_editor_runs_the_code(
    page: Page, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    session = api_session(web_daemon, tmp_path, "keyboard")
    open_workbench(page, session["id"])
    run_code(page, "console.log('via keyboard'); 6 * 7", status="ok", keyboard=True)
    expect(page.get_by_test_id("result-preview")).to_have_text("42")
    expect(page.get_by_test_id("console-line")).to_have_text(re.compile("via keyboard"))
    # Focus stayed in the editor: the next Ctrl+Enter runs again without touching the mouse.
    expect(page.get_by_test_id("workbench-editor-input")).to_be_focused()
    run_code(page, "'again'", status="ok", keyboard=True)
    expect(page.get_by_test_id("result-preview")).to_contain_text("again")


# --------------------------------------------------------------------------- modules


def test_the_workbench_runs_typescript_snippets_and_a_typescript_module_file(
    page: Page, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    session = api_session(web_daemon, tmp_path, "typescript")
    root = Path(session["worktree_path"])
    (root / "lib").mkdir()
    (root / "lib" / "util.mjs").write_text("export const add = (a, b) => a + b;\n")
    (root / "main.ts").write_text(
        "import { add } from './lib/util.mjs';\nconst n: number = add(40, 2);\n"
        "console.log('from main.ts', n);\n"
    )
    open_workbench(page, session["id"])
    language = page.get_by_test_id("workbench-language-select")
    expect(language).to_have_value("javascript")
    language.select_option("typescript")
    run_code(page, "const n: number = 2; n * 21", status="ok")
    expect(page.get_by_test_id("result-preview")).to_have_text("42")
    page.get_by_test_id("workbench-mode-file").click()
    page.get_by_test_id("runfile-path-input").fill("main.ts")
    previous = page.get_by_test_id("execution-id").text_content() or ""
    page.get_by_test_id("run-button").click()
    expect(page.get_by_test_id("execution-id")).not_to_have_text(previous)
    expect(page.get_by_test_id("execution-status")).to_have_text("ok")
    expect(page.get_by_test_id("console-line")).to_have_text(re.compile("from main.ts 42"))


# --------------------------------------------------------------------------- auth


def test_auth_prompt_accepts_the_token_then_lists_templates(
    open_page: PageFactory, auth_daemon: WebDaemon
) -> None:
    name = unique("secured")
    with auth_daemon.api() as api:
        assert api.post("/templates", json={"name": name}).status_code == 201
    page = open_page(auth_daemon)
    page.goto("/")
    prompt = page.get_by_test_id("token-prompt")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text("--auth-token")
    expect(page.get_by_test_id("token-input")).to_be_focused()
    screenshot(page, "10-auth-prompt")

    # A wrong token is rejected and the prompt asks again.
    page.get_by_test_id("token-input").fill("wrong-token")
    page.get_by_test_id("token-submit").click()
    expect(prompt).to_contain_text("rejected")

    page.get_by_test_id("token-input").fill(AUTH_TOKEN)
    page.get_by_test_id("token-submit").click()
    expect(prompt).to_have_count(0)
    expect(by_attr(page, "template-row", template_name=name)).to_be_visible()
    stored = page.evaluate("() => sessionStorage.getItem('vm-system.auth-token')")
    assert stored == AUTH_TOKEN
    expect(page.get_by_test_id("token-clear")).to_be_visible()


# --------------------------------------------------------------------------- narrow window


def test_narrow_window_shows_navigation_and_runs_code(
    open_page: PageFactory, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    session = api_session(web_daemon, tmp_path, "narrow")
    page = open_page(web_daemon, width=400, height=800)
    open_workbench(page, session["id"])
    for area in ("templates", "sessions", "workbench", "history", "system"):
        expect(page.get_by_test_id(f"nav-{area}")).to_be_visible()
    run_code(page, "console.log('narrow'); ({ width: 400, ok: true })", status="ok")
    expect(page.get_by_test_id("console-line")).to_contain_text("narrow")
    expect(page.get_by_test_id("json-tree")).to_be_visible()
    for test_id in ("run-button", "console", "result-panel"):
        box = page.get_by_test_id(test_id).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 400, (test_id, box)
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 400, f"the page scrolls sideways at 400 px: scrollWidth={overflow}"
    screenshot(page, "11-narrow-workbench")

    page.get_by_test_id("nav-sessions").click()
    expect(by_attr(page, "session-row", session_id=session["id"])).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 400, f"the sessions page scrolls sideways at 400 px: scrollWidth={overflow}"
    screenshot(page, "12-narrow-sessions")


def test_unknown_route_shows_not_found(page: Page) -> None:
    page.goto("/no/such/page")
    expect(page.get_by_test_id("not-found-page")).to_be_visible()
    expect(page.get_by_test_id("nav-templates")).to_be_visible()


# --------------------------------------------------------------------------- restart


def test_restart_from_the_sessions_page_gives_a_fresh_global_scope(
    page: Page, web_daemon: WebDaemon, tmp_path: Path
) -> None:
    session = api_session(web_daemon, tmp_path, "restart-ui")
    sid = session["id"]
    with web_daemon.api() as api:
        api.post("/executions/repl", json={"session_id": sid, "input": "globalThis.mine = 1"})
    page.goto("/sessions")
    row = by_attr(page, "session-row", session_id=sid)
    row.get_by_test_id("session-restart").click()
    expect(page.get_by_text(f"Session {sid[:8]} restarted")).to_be_visible()
    with web_daemon.api() as api:
        after = api.post("/executions/repl", json={"session_id": sid, "input": "typeof mine"})
        assert after.json()["result"]["json"] == "undefined"
        kinds = [x["kind"] for x in api.get(f"/executions?session_id={sid}").json()]
    assert "restart" in kinds


@pytest.mark.parametrize("width", [1366, 390])
def test_the_page_heading_shows_no_focus_ring_after_load(
    open_page: PageFactory, web_daemon: WebDaemon, width: int
) -> None:
    page = open_page(web_daemon, width=width, height=800)
    page.goto("/")  # redirects to /templates, which focuses its heading (for screen readers)
    heading = page.locator("main h1")
    expect(heading).to_be_focused()
    outline = heading.evaluate("h => getComputedStyle(h).outlineStyle")
    assert outline == "none", outline
    screenshot(page, f"heading-after-load-{width}")
