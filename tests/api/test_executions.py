"""Executions over HTTP: REPL, run-file, asynchronous starts, cancel, paged events, streams."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import API, TestClient, create_session, events, patch_limits, repl
from .helpers import UUID, wait_for

EXECUTION_KEYS = {
    "id",
    "session_id",
    "kind",
    "input",
    "path",
    "args",
    "env",
    "status",
    "started_at",
    "ended_at",
    "result",
    "error",
    "metrics",
    "provenance",
    "replay_of",
    "ordinal",
}
EVENT_KEYS = {"execution_id", "seq", "ts", "type", "payload"}


def test_repl_answers_201_with_result_and_persisted_events(
    client: TestClient, session: dict[str, Any]
) -> None:
    x = repl(client, session["id"], "console.log('repl'); 20 + 22")
    assert set(x) == EXECUTION_KEYS
    assert UUID.match(x["id"])
    assert (x["kind"], x["status"], x["input"], x["path"]) == (
        "repl",
        "ok",
        "console.log('repl'); 20 + 22",
        None,
    )
    assert x["result"] == {"type": "number", "preview": "42", "inspect": "42", "json": 42}
    assert x["error"] is None and x["ended_at"] is not None
    assert x["args"] == {} and x["env"] == {}
    assert set(x["metrics"]) >= {"duration_ms", "cpu_ms", "event_count", "output_bytes"}
    assert x["metrics"]["event_count"] == 3
    evs = events(client, x["id"])
    assert all(set(e) == EVENT_KEYS and e["execution_id"] == x["id"] for e in evs)
    assert [(e["seq"], e["type"]) for e in evs] == [(1, "input_echo"), (2, "console"), (3, "value")]
    assert evs[0]["payload"] == {"text": "console.log('repl'); 20 + 22"}
    assert evs[1]["payload"] == {"level": "log", "text": "repl"}
    assert evs[2]["payload"] == x["result"]
    assert client.get(f"{API}/executions/{x['id']}").json() == x


def test_js_exception_is_201_with_status_error(client: TestClient, session: dict[str, Any]) -> None:
    x = repl(client, session["id"], "throw new RangeError('boom')")
    assert x["status"] == "error" and x["result"] is None
    assert (x["error"]["name"], x["error"]["message"]) == ("RangeError", "boom")
    assert [e["type"] for e in events(client, x["id"])] == ["input_echo", "exception"]


@pytest.mark.parametrize(
    ("code", "result"),
    [
        ("undefined", {"type": "undefined", "preview": "undefined", "inspect": "undefined"}),
        ("'hi'", {"type": "string", "preview": "hi", "inspect": "'hi'", "json": "hi"}),
        ("[1, 2]", {"type": "array", "preview": "1,2", "inspect": "[ 1, 2 ]", "json": [1, 2]}),
        ("null", {"type": "null", "preview": "null", "inspect": "null", "json": None}),
    ],
)
def test_value_payloads(
    client: TestClient, session: dict[str, Any], code: str, result: dict[str, Any]
) -> None:
    assert repl(client, session["id"], code)["result"] == result


def test_wall_time_limit_is_201_timeout_and_the_session_stays_usable(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    patch_limits(client, template["id"], wall_ms=150)
    s = create_session(client, template["id"], worktree)
    repl(client, s["id"], "var kept = 'yes'")
    x = repl(client, s["id"], "while(true){}")
    assert x["status"] == "timeout"
    assert x["error"]["code"] == "WALL_TIME_EXCEEDED"
    last = events(client, x["id"])[-1]
    assert (last["type"], last["payload"]["code"]) == ("system", "WALL_TIME_EXCEEDED")
    assert repl(client, s["id"], "kept")["result"]["preview"] == "yes"


def test_run_file_passes_args_and_env_and_records_path(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "lib").mkdir()
    (worktree / "lib" / "calc.js").write_text(
        "console.log('file', __ARGS__.a, process.env.MODE); __ARGS__.a + 41"
    )
    r = client.post(
        f"{API}/executions/run-file",
        json={
            "session_id": session["id"],
            "path": "./lib/../lib/calc.js",
            "args": {"a": 1},
            "env": {"MODE": "test"},
        },
    )
    assert r.status_code == 201
    x = r.json()
    assert (x["kind"], x["status"], x["path"], x["input"]) == (
        "run_file",
        "ok",
        "lib/calc.js",
        None,
    )
    assert (x["args"], x["env"]) == ({"a": 1}, {"MODE": "test"})
    assert x["result"]["preview"] == "42"
    evs = events(client, x["id"])
    assert [e["type"] for e in evs] == ["console", "value"]
    assert evs[0]["payload"]["text"] == "file 1 test"


def test_run_file_env_is_only_for_that_execution(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "env.js").write_text("String(process.env.MODE)")
    url = f"{API}/executions/run-file"
    with_env = client.post(
        url, json={"session_id": session["id"], "path": "env.js", "env": {"MODE": "x"}}
    )
    without = client.post(url, json={"session_id": session["id"], "path": "env.js"})
    assert with_env.json()["result"]["preview"] == "x"
    assert without.json()["result"]["preview"] == "undefined"


def test_run_file_with_non_string_env_values_is_refused(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "a.js").write_text("1")
    r = client.post(
        f"{API}/executions/run-file",
        json={"session_id": session["id"], "path": "a.js", "env": {"N": 1}},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] in {"INVALID_REQUEST", "VALIDATION_ERROR"}


def test_run_file_through_a_symlink_inside_the_worktree_runs_the_target(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "real.js").write_text("'real'")
    (worktree / "alias.js").symlink_to(worktree / "real.js")
    r = client.post(
        f"{API}/executions/run-file", json={"session_id": session["id"], "path": "alias.js"}
    )
    assert r.status_code == 201
    assert (r.json()["path"], r.json()["result"]["preview"]) == ("real.js", "real")


def test_executions_list_is_newest_first_with_limit(
    client: TestClient, session: dict[str, Any]
) -> None:
    url = f"{API}/executions?session_id={session['id']}"
    assert client.get(url).json() == []
    ids = []
    for i in range(3):
        x = repl(client, session["id"], str(i))  # the same millisecond or not: ordinals order
        ids.append(x["id"])
        assert x["ordinal"] == i + 1
    listed = client.get(url).json()
    assert [x["id"] for x in listed] == ids[::-1]
    assert [x["ordinal"] for x in listed] == [3, 2, 1]
    assert all(set(x) == EXECUTION_KEYS for x in listed)
    assert [x["id"] for x in client.get(f"{url}&limit=2").json()] == ids[:0:-1]
    assert len(client.get(f"{url}&limit=1000").json()) == 3


def test_executions_of_an_unknown_session_is_an_empty_list(client: TestClient) -> None:
    r = client.get(
        f"{API}/executions", params={"session_id": "9f0b8f5e-1c1e-4c4e-9d7b-2c9a6f1e0a11"}
    )
    assert (r.status_code, r.json()) == (200, [])


def test_events_are_paged_by_after_seq_and_limit(
    client: TestClient, session: dict[str, Any]
) -> None:
    x = repl(client, session["id"], "for (let i = 0; i < 8; i++) console.log(i); 'done'")
    all_events = events(client, x["id"])
    assert [e["seq"] for e in all_events] == list(range(1, 11))
    assert events(client, x["id"], after_seq=0, limit=3) == all_events[:3]
    assert events(client, x["id"], after_seq=3, limit=3) == all_events[3:6]
    assert events(client, x["id"], after_seq=9) == all_events[9:]
    assert events(client, x["id"], after_seq=10) == []
    assert events(client, x["id"], after_seq=500) == []
    assert events(client, x["id"], limit=10000) == all_events


def test_asynchronous_start_answers_202_running_and_finishes(
    client: TestClient, session: dict[str, Any]
) -> None:
    started = repl(
        client,
        session["id"],
        "let s = 0; for (let i = 0; i < 1e6; i++) s += i; s",
        status=202,
        stream=True,
    )
    assert started["status"] == "running" and started["ended_at"] is None
    assert started["result"] is None
    done = wait_for(
        lambda: (
            (x := client.get(f"{API}/executions/{started['id']}").json())["status"] != "running"
            and x
        )
    )
    assert done["status"] == "ok"
    assert done["result"]["preview"] == str(sum(range(10**6)))


def test_wait_false_query_is_the_same_as_stream_true(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "a.js").write_text("'async file'")
    r = client.post(
        f"{API}/executions/run-file?wait=false", json={"session_id": session["id"], "path": "a.js"}
    )
    assert r.status_code == 202 and r.json()["status"] == "running"
    wait_for(lambda: client.get(f"{API}/executions/{r.json()['id']}").json()["status"] == "ok")


@pytest.mark.parametrize("wait", ["false", "0", "no", "off"])
def test_wait_flag_spellings_of_false_answer_202(
    client: TestClient, session: dict[str, Any], wait: str
) -> None:
    r = client.post(
        f"{API}/executions/repl?wait={wait}", json={"session_id": session["id"], "input": "1+1"}
    )
    assert r.status_code == 202 and r.json()["status"] == "running"
    wait_for(lambda: client.get(f"{API}/executions/{r.json()['id']}").json()["status"] == "ok")


def test_openapi_documents_the_hand_read_execution_bodies_and_the_wait_flag(
    client: TestClient,
) -> None:
    doc = client.get("/openapi.json").json()
    for path, model in (("/executions/repl", "ReplIn"), ("/executions/run-file", "RunFileIn")):
        op = doc["paths"][f"{API}{path}"]["post"]
        body = op["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{model}"}
        assert "session_id" in doc["components"]["schemas"][model]["properties"]
        (wait,) = [p for p in op["parameters"] if p["name"] == "wait"]
        assert wait["in"] == "query" and wait["schema"]["type"] == "boolean"


def test_cancel_stops_a_running_execution_and_keeps_session_state(
    client: TestClient, session: dict[str, Any]
) -> None:
    repl(client, session["id"], "var before = 'kept'")
    running = repl(client, session["id"], "while(true){}", status=202, stream=True)
    started = time.monotonic()
    r = client.post(f"{API}/executions/{running['id']}/cancel")
    elapsed = time.monotonic() - started
    assert r.status_code == 200
    x = r.json()
    assert (x["status"], x["error"]["code"]) == ("cancelled", "CANCELLED")
    assert elapsed < 2.0
    last = events(client, x["id"])[-1]
    assert (last["type"], last["payload"]["code"]) == ("system", "CANCELLED")
    assert client.get(f"{API}/sessions/{session['id']}").json()["status"] == "ready"
    assert repl(client, session["id"], "before")["result"]["preview"] == "kept"


def test_cancelling_a_finished_execution_returns_it_unchanged(
    client: TestClient, session: dict[str, Any]
) -> None:
    x = repl(client, session["id"], "1 + 1")
    r = client.post(f"{API}/executions/{x['id']}/cancel")
    assert (r.status_code, r.json()) == (200, x)


def test_execution_stream_of_a_finished_execution_replays_and_ends(
    client: TestClient, session: dict[str, Any]
) -> None:
    x = repl(client, session["id"], "console.log('a'); console.log('b'); 3")
    r = client.get(f"{API}/executions/{x['id']}/events/stream")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    messages = parse_sse(r.text)
    assert [m["id"] for m in messages] == [f"{x['id']}:{i}" for i in range(1, 5)]
    assert [m["event"] for m in messages] == ["input_echo", "console", "console", "value"]
    assert [m["data"] for m in messages] == events(client, x["id"])


def test_execution_stream_resumes_after_after_seq_or_last_event_id(
    client: TestClient, session: dict[str, Any]
) -> None:
    x = repl(client, session["id"], "console.log('a'); console.log('b'); 3")
    url = f"{API}/executions/{x['id']}/events/stream"
    after_query = parse_sse(client.get(f"{url}?after_seq=2").text)
    assert [m["data"]["seq"] for m in after_query] == [3, 4]
    by_header = parse_sse(client.get(url, headers={"Last-Event-ID": f"{x['id']}:3"}).text)
    assert [m["data"]["seq"] for m in by_header] == [4]
    bare = parse_sse(client.get(url, headers={"Last-Event-ID": "1"}).text)
    assert [m["data"]["seq"] for m in bare] == [2, 3, 4]


def parse_sse(text: str) -> list[dict[str, Any]]:
    """SSE messages (``id``, ``event``, parsed ``data``); comments are skipped."""
    messages = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            fields[key] = value[1:] if value.startswith(" ") else value
        if "data" in fields:
            fields["data"] = json.loads(fields["data"])
            messages.append(fields)
    return messages
