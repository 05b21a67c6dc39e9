"""Issue 14's "Done when" list over the REST API, each in one session: REPL-mode declarations,
top-level await, the event loop, inspect previews and the web-platform globals."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .conftest import API, TestClient, create_session, events, patch_limits, repl
from .test_executions import parse_sse


def result_of(client: TestClient, session_id: str, code: str) -> dict[str, Any]:
    x = repl(client, session_id, code)
    assert x["status"] == "ok", x
    return x["result"]  # type: ignore[no-any-return]


def test_const_redeclared_in_a_later_input(client: TestClient, session: dict[str, Any]) -> None:
    assert repl(client, session["id"], "const a = 1")["status"] == "ok"
    assert result_of(client, session["id"], "const a = 2; a")["json"] == 2
    one_input = repl(client, session["id"], "const b = 1; const b = 2")
    assert one_input["status"] == "error"
    assert one_input["error"]["name"] == "SyntaxError"


def test_awaiting_a_timer(client: TestClient, session: dict[str, Any]) -> None:
    start = time.monotonic()
    x = repl(client, session["id"], "await new Promise(r => setTimeout(() => r(5), 50))")
    assert time.monotonic() - start >= 0.05
    assert x["status"] == "ok"
    assert x["result"]["json"] == 5
    assert x["metrics"]["duration_ms"] >= 50


def test_declarations_of_an_awaiting_input_stay_visible(
    client: TestClient, session: dict[str, Any]
) -> None:
    repl(client, session["id"], "const x = await Promise.resolve(21)")
    assert result_of(client, session["id"], "x * 2")["json"] == 42


def test_timer_console_lines_belong_to_the_execution(
    client: TestClient, session: dict[str, Any]
) -> None:
    x = repl(
        client, session["id"], 'setTimeout(() => console.log("later"), 20); console.log("now")'
    )
    assert x["status"] == "ok"
    console = [e["payload"]["text"] for e in events(client, x["id"]) if e["type"] == "console"]
    assert console == ["now", "later"]


def test_a_pending_interval_times_out_and_the_session_stays_ready(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    patch_limits(client, template["id"], wall_ms=300)
    s = create_session(client, template["id"], worktree)
    x = repl(client, s["id"], "setInterval(() => {}, 10)")
    assert x["status"] == "timeout"
    assert x["error"]["code"] == "WALL_TIME_EXCEEDED"
    assert client.get(f"{API}/sessions/{s['id']}").json()["status"] == "ready"
    assert result_of(client, s["id"], "'still here'")["json"] == "still here"


def test_inspect_field(client: TestClient, session: dict[str, Any]) -> None:
    sid = session["id"]
    assert result_of(client, sid, "({a:1,b:[1,2]})")["inspect"] == "{ a: 1, b: [ 1, 2 ] }"
    mapped = result_of(client, sid, "new Map([[1,2]])")
    assert (mapped["type"], mapped["inspect"]) == ("map", "Map(1) { 1 => 2 }")
    big = result_of(client, sid, "10n")
    assert big == {"type": "bigint", "preview": "10", "inspect": "10n"}


def test_text_encoder_and_url(client: TestClient, session: dict[str, Any]) -> None:
    assert result_of(client, session["id"], 'new TextEncoder().encode("é").length')["json"] == 2
    url = 'new URL("https://a.example/p?q=1").searchParams.get("q")'
    assert result_of(client, session["id"], url)["json"] == "1"


def test_structured_clone(client: TestClient, session: dict[str, Any]) -> None:
    code = "structuredClone(new Map([[1, {a: 1}]])).get(1).a"
    assert result_of(client, session["id"], code)["json"] == 1


def test_run_file_with_top_level_await(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "main.js").write_text(
        "const v = await new Promise(r => setTimeout(() => r(__ARGS__.n), 10));\nv * 2\n"
    )
    r = client.post(
        f"{API}/executions/run-file",
        json={"session_id": session["id"], "path": "main.js", "args": {"n": 21}},
    )
    assert r.status_code == 201, r.text
    assert r.json()["result"]["json"] == 42
    assert result_of(client, session["id"], "v")["json"] == 21


def test_a_promise_storm_does_not_leak_into_the_next_executions(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    patch_limits(client, template["id"], wall_ms=2000)
    s = create_session(client, template["id"], worktree)
    x = repl(client, s["id"], "async function g(){ await null; return g() }; g(); 3")
    assert x["status"] != "ok"
    for _ in range(3):
        assert result_of(client, s["id"], "'harmless'")["json"] == "harmless"


def test_an_unhandled_rejection_is_an_exception_event_marked_unhandled(
    client: TestClient, session: dict[str, Any]
) -> None:
    x = repl(client, session["id"], "Promise.reject(new Error('x')); 1")
    assert x["status"] == "error"
    assert x["error"]["message"] == "x"
    assert x["error"]["unhandled"] is True
    assert x["error"]["result"]["inspect"] == "1"  # the input's own result is kept
    stored = events(client, x["id"])
    assert [e["type"] for e in stored] == ["input_echo", "exception"]
    assert stored[-1]["payload"] == x["error"]
    stream = client.get(f"{API}/executions/{x['id']}/events/stream")
    streamed = [m["data"] for m in parse_sse(stream.text)]
    assert streamed == stored
    # The session goes on, and a handled rejection is not reported.
    fine = repl(client, session["id"], "Promise.reject(new Error('y')).catch(() => {}); 2")
    assert fine["status"] == "ok"


def test_the_template_setting_warn_prints_a_warning_and_the_execution_succeeds(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    r = client.patch(
        f"{API}/templates/{template['id']}",
        json={"settings": {"runtime": {"unhandled_rejections": "warn"}}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["runtime"]["unhandled_rejections"] == "warn"
    bad = client.patch(
        f"{API}/templates/{template['id']}",
        json={"settings": {"runtime": {"unhandled_rejections": "ignore"}}},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
    s = create_session(client, template["id"], worktree)
    x = repl(client, s["id"], "async function f() { throw new Error('w') }; f(); 3")
    assert x["status"] == "ok"
    assert x["result"]["json"] == 3
    warnings = [e["payload"] for e in events(client, x["id"]) if e["type"] == "console"]
    assert warnings == [
        {
            "level": "warn",
            "text": "UnhandledPromiseRejectionWarning: Error: w\n    at f (<anonymous>:1:28)",
        }
    ]
