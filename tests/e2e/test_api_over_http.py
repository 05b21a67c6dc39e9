"""Against one real daemon: session continuity, live SSE delivery and resumption, the session
stream, cancellation latency, and the bare health answer."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Daemon, SseMessage, create_session, create_template, iter_sse, wait_for

pytestmark = pytest.mark.e2e

#: Prints ``n`` lines ``line 0..n-1``, ``gap_ms`` apart (busy wait), then evaluates to 42.
SLOW_PRINT = (
    "for (let i = 0; i < {n}; i++) {{ console.log('line ' + i); "
    "const t = Date.now(); while (Date.now() - t < {gap_ms}) {{}} }} 42"
)


@pytest.fixture(scope="module")
def http(daemon: Daemon) -> Any:
    with daemon.client() as client:
        yield client


@pytest.fixture(scope="module")
def template(http: httpx.Client) -> dict[str, Any]:
    return create_template(http, "e2e-shared")


@pytest.fixture
def session(http: httpx.Client, template: dict[str, Any], worktree: Path) -> Any:
    s = create_session(http, template["id"], worktree)
    yield s
    http.post(f"/sessions/{s['id']}/close")


def start(http: httpx.Client, session_id: str, code: str) -> dict[str, Any]:
    r = http.post(
        "/executions/repl", json={"session_id": session_id, "input": code, "stream": True}
    )
    assert r.status_code == 202, r.text
    return r.json()  # type: ignore[no-any-return]


def test_health_answers_exactly_status_ok_on_the_wire(daemon: Daemon) -> None:
    if shutil.which("curl"):
        out = subprocess.run(
            ["curl", "-sS", "-i", f"{daemon.api}/health"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        head, _, body = out.replace("\r\n", "\n").partition("\n\n")
        assert head.startswith("HTTP/1.1 200")
        assert "content-type: application/json" in head.lower()
    else:
        conn = HTTPConnection("127.0.0.1", daemon.port, timeout=10)
        conn.request("GET", "/api/v1/health")
        body = conn.getresponse().read().decode()
    assert body == '{"status":"ok"}'
    conn = HTTPConnection("127.0.0.1", daemon.port, timeout=10)
    conn.request("HEAD", "/api/v1/health")
    head = conn.getresponse()
    assert (head.status, head.read()) == (200, b"")


def test_session_state_persists_across_separate_http_requests(
    daemon: Daemon, template: dict[str, Any], worktree: Path
) -> None:
    with daemon.client() as first:
        s = create_session(first, template["id"], worktree)
        r = first.post(
            "/executions/repl",
            json={"session_id": s["id"], "input": "var persisted = 20; persisted"},
        )
        assert r.json()["result"]["preview"] == "20"
    with daemon.client() as second:  # a new connection
        r = second.post("/executions/repl", json={"session_id": s["id"], "input": "persisted + 22"})
        assert r.status_code == 201
        assert r.json()["result"] == {
            "type": "number",
            "preview": "42",
            "inspect": "42",
            "json": 42,
        }
        summary = second.get("/runtime/summary").json()
        assert s["id"] in summary["active_session_ids"]
        second.post(f"/sessions/{s['id']}/close")


def test_execution_stream_delivers_console_lines_live_then_closes_after_the_terminal_event(
    http: httpx.Client, session: dict[str, Any]
) -> None:
    x = start(http, session["id"], SLOW_PRINT.format(n=4, gap_ms=250))
    received: list[SseMessage] = []
    with http.stream("GET", f"/executions/{x['id']}/events/stream") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for message in iter_sse(r):
            received.append(message)
        closed_at = time.monotonic()
    kinds = [m.event for m in received]
    assert kinds == ["input_echo", "console", "console", "console", "console", "value"]
    assert [m.data["payload"]["text"] for m in received[1:5]] == [f"line {i}" for i in range(4)]
    assert [m.id for m in received] == [f"{x['id']}:{i}" for i in range(1, 7)]
    assert all(m.event == m.data["type"] for m in received)
    # Live: the first line arrived well before the result (the run takes >= 1 s).
    assert received[-1].received_at - received[1].received_at > 0.3
    assert closed_at - received[-1].received_at < 2.0, "the stream ends after the terminal event"
    stored = http.get(f"/executions/{x['id']}/events").json()
    assert [m.data for m in received] == stored


def test_execution_stream_resumes_with_last_event_id_without_loss_or_duplicates(
    http: httpx.Client, session: dict[str, Any]
) -> None:
    x = start(http, session["id"], SLOW_PRINT.format(n=8, gap_ms=60))
    first: list[SseMessage] = []
    with http.stream("GET", f"/executions/{x['id']}/events/stream") as r:
        for message in iter_sse(r):
            first.append(message)
            if message.event == "console" and message.data["seq"] >= 3:
                break  # drop the connection mid-stream
    assert first[-1].data["seq"] == 3
    running = http.get(f"/executions/{x['id']}").json()["status"]
    rest: list[SseMessage] = []
    headers = {"Last-Event-ID": first[-1].id or ""}
    with http.stream("GET", f"/executions/{x['id']}/events/stream", headers=headers) as r:
        rest.extend(iter_sse(r))
    seqs = [m.data["seq"] for m in first + rest]
    assert seqs == list(range(1, 11)), f"no loss, no duplicates (running when dropped: {running})"
    assert rest[-1].event == "value"
    assert [m.data for m in first + rest] == http.get(f"/executions/{x['id']}/events").json()


def test_session_stream_carries_every_execution_of_the_session(
    http: httpx.Client, session: dict[str, Any]
) -> None:
    messages: list[SseMessage] = []
    with http.stream("GET", f"/sessions/{session['id']}/events/stream") as r:
        assert r.status_code == 200
        # The subscription exists once the headers are back: run two executions now.
        a = http.post(
            "/executions/repl", json={"session_id": session["id"], "input": "console.log('a'); 1"}
        ).json()
        b = http.post(
            "/executions/repl", json={"session_id": session["id"], "input": "console.log('b'); 2"}
        ).json()
        terminals = 0
        for message in iter_sse(r):
            messages.append(message)
            if message.event in {"value", "exception", "system"}:
                terminals += 1
                if terminals == 2:
                    break
    by_exec: dict[str, list[int]] = {}
    ordinals: dict[str, str] = {}
    for m in messages:
        ordinal, _, seq = (m.id or "").partition(":")
        assert seq == str(m.data["seq"])  # ids are ordinal:seq
        assert ordinals.setdefault(m.data["execution_id"], ordinal) == ordinal
        by_exec.setdefault(m.data["execution_id"], []).append(m.data["seq"])
    assert int(ordinals[b["id"]]) == int(ordinals[a["id"]]) + 1
    assert by_exec == {a["id"]: [1, 2, 3], b["id"]: [1, 2, 3]}
    assert [m.data["execution_id"] for m in messages] == [a["id"]] * 3 + [b["id"]] * 3


def test_session_stream_resumes_after_last_event_id(
    http: httpx.Client, session: dict[str, Any]
) -> None:
    a = http.post(
        "/executions/repl", json={"session_id": session["id"], "input": "console.log('a'); 1"}
    ).json()
    b = http.post("/executions/repl", json={"session_id": session["id"], "input": "2"}).json()
    got: list[SseMessage] = []
    headers = {"Last-Event-ID": f"{a['id']}:2"}
    with http.stream("GET", f"/sessions/{session['id']}/events/stream", headers=headers) as r:
        for message in iter_sse(r):
            got.append(message)
            if message.data["execution_id"] == b["id"] and message.event == "value":
                break
    assert [(m.data["execution_id"], m.data["seq"]) for m in got] == [
        (a["id"], 3),
        (b["id"], 1),
        (b["id"], 2),
    ]


def test_session_stream_resumes_after_an_ordinal_last_event_id(
    http: httpx.Client, session: dict[str, Any]
) -> None:
    got: list[SseMessage] = []
    with http.stream("GET", f"/sessions/{session['id']}/events/stream") as r:
        a = http.post(
            "/executions/repl", json={"session_id": session["id"], "input": "console.log('a'); 1"}
        ).json()
        for message in iter_sse(r):
            got.append(message)
            if message.event == "value":
                break
    b = http.post("/executions/repl", json={"session_id": session["id"], "input": "2"}).json()
    resumed: list[SseMessage] = []
    headers = {"Last-Event-ID": got[1].id or ""}  # after a's console line
    with http.stream("GET", f"/sessions/{session['id']}/events/stream", headers=headers) as r:
        for message in iter_sse(r):
            resumed.append(message)
            if message.data["execution_id"] == b["id"] and message.event == "value":
                break
    assert [(m.data["execution_id"], m.data["seq"]) for m in resumed] == [
        (a["id"], 3),
        (b["id"], 1),
        (b["id"], 2),
    ]
    ordinal = int((got[0].id or "").partition(":")[0])
    assert [m.id for m in resumed] == [f"{ordinal}:3", f"{ordinal + 1}:1", f"{ordinal + 1}:2"]


def test_cancel_over_http_stops_an_endless_loop_quickly(
    http: httpx.Client, session: dict[str, Any]
) -> None:
    http.post(
        "/executions/repl", json={"session_id": session["id"], "input": "var survivor = 'alive'"}
    )
    x = start(http, session["id"], "while(true){}")
    seen: list[SseMessage] = []

    def follow() -> None:
        with (
            httpx.Client(base_url=str(http.base_url), timeout=30) as c,
            c.stream("GET", f"/executions/{x['id']}/events/stream") as r,
        ):
            seen.extend(iter_sse(r))

    follower = threading.Thread(target=follow)
    follower.start()
    wait_for(lambda: seen)  # a follower is connected and the loop is spinning
    assert http.get(f"/executions/{x['id']}").json()["status"] == "running"
    started = time.monotonic()
    r = http.post(f"/executions/{x['id']}/cancel")
    cancel_s = time.monotonic() - started
    follower.join(timeout=10)
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["error"]["code"]) == ("cancelled", "CANCELLED")
    print(f"cancel round trip: {cancel_s * 1000:.1f} ms")
    assert cancel_s < 0.5, f"cancel took {cancel_s * 1000:.0f} ms (target ~50-100 ms)"
    assert seen[-1].event == "system" and seen[-1].data["payload"]["code"] == "CANCELLED"
    assert seen[-1].received_at - started < 1.0, "followers see the cancellation at once"
    r = http.post("/executions/repl", json={"session_id": session["id"], "input": "survivor"})
    assert r.json()["result"]["preview"] == "alive"


def test_asynchronous_execution_is_readable_while_running(
    http: httpx.Client, session: dict[str, Any]
) -> None:
    x = start(http, session["id"], SLOW_PRINT.format(n=3, gap_ms=100))
    assert x["status"] == "running"
    assert http.get(f"/executions/{x['id']}").json()["status"] == "running"
    listed = http.get("/executions", params={"session_id": session["id"]}).json()
    assert listed[0]["id"] == x["id"]
    done = wait_for(
        lambda: (e := http.get(f"/executions/{x['id']}").json())["status"] == "ok" and e
    )
    assert done["result"]["preview"] == "42"


def test_chunked_bodies_are_read_and_capped_by_the_real_server(http: httpx.Client) -> None:
    def small() -> Iterator[bytes]:
        yield b'{"name": '
        yield b'"chunked-e2e"}'

    r = http.post("/templates", content=small(), headers={"content-type": "application/json"})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert r.status_code == 201, r.text

    def huge() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 65536  # 1.25 MiB in all, over the default 1 MiB limit
        yield b'"}'

    r = http.post("/templates", content=huge(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json() == {
        "error": {"code": "PAYLOAD_TOO_LARGE", "message": r.json()["error"]["message"]}
    }


def test_request_id_is_echoed_by_the_real_server(http: httpx.Client) -> None:
    r = http.get("/templates/not-a-uuid", headers={"X-Request-Id": "e2e-trace-1"})
    assert r.status_code == 400
    assert r.headers["x-request-id"] == "e2e-trace-1"
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
