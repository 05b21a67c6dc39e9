"""SSE parsing, resume after a dropped connection, termination after the terminal event."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from vmsystem import client as sdk
from vmsystem.client._sse import EventStream, SSEDecoder, is_terminal

from .conftest import ChunkStream, envelope, ev, sse_event, sse_response

STREAM = "/api/v1/executions/e1/events/stream"


def decode_all(text: str) -> list[Any]:
    decoder = SSEDecoder()
    out = []
    for line in text.splitlines():
        message = decoder.feed(line)
        if message is not None:
            out.append(message)
    if (message := decoder.feed("")) is not None:
        out.append(message)
    return out


def test_decoder_fields_comments_and_multiline_data() -> None:
    messages = decode_all(
        ": keep-alive\n\n"
        'event: console\nid: e1:1\ndata: {"a":\ndata: 1}\n\n'
        "retry: 1500\ndata:no-space\n\n"
        "id\ndata: x\n\n"
        "unknown: field\n\n"
    )
    assert [(m.event, m.data, m.id, m.retry) for m in messages] == [
        ("console", '{"a":\n1}', "e1:1", None),
        ("message", "no-space", None, 1500),
        ("message", "x", "", None),
    ]


def test_terminal_events() -> None:
    assert is_terminal(ev(3, "value"))  # type: ignore[arg-type]
    assert is_terminal(ev(3, "exception"))  # type: ignore[arg-type]
    assert is_terminal(ev(3, "system", code="CANCELLED", level="error"))  # type: ignore[arg-type]
    assert is_terminal(ev(3, "system", code="WALL_TIME_EXCEEDED"))  # type: ignore[arg-type]
    assert not is_terminal(ev(3, "system", code="SLOW_WARNING", level="warn"))  # type: ignore[arg-type]
    assert not is_terminal(ev(2, "console"))  # type: ignore[arg-type]
    assert not is_terminal(ev(1, "input_echo", text="1"))  # type: ignore[arg-type]


def test_stream_parses_events_and_stops_after_terminal(make: Any) -> None:
    body = ChunkStream(
        [
            b": keep-alive\r\n\r\n",
            sse_event(ev(1, "input_echo", text="1")),
            # one message split across chunks
            sse_event(ev(2))[:10],
            sse_event(ev(2))[10:],
            sse_event(ev(3, "value", type="number", preview="1", json=1)),
            sse_event(ev(4)),  # must never be read: the stream is over
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == STREAM
        assert request.headers["accept"] == "text/event-stream"
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)

    api = make(handler)
    events = api.stream("stream_execution_events", "e1")
    assert [(e["seq"], e["type"]) for e in events] == [
        (1, "input_echo"),
        (2, "console"),
        (3, "value"),
    ]
    assert events[2]["payload"] == {"type": "number", "preview": "1", "json": 1}
    assert len(api.requests) == 1
    assert api.requests[0].url.params["after_seq"] == "0"
    assert body.consumed == 5


def test_stream_resumes_after_dropped_connection(make: Any) -> None:
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) == 1:
            return sse_response(
                [ev(1, "input_echo", text="x"), ev(2)],
                fail_with=httpx.RemoteProtocolError("peer closed connection"),
            )
        if len(attempts) == 2:
            raise httpx.ConnectError("refused while restarting", request=request)
        # the server replays from after_seq; seq 2 again must not be yielded twice
        return sse_response([ev(2), ev(3), ev(4, "exception", name="Error", message="x")])

    api = make(handler)
    events = api.stream("stream_execution_events", "e1")
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert len(attempts) == 3
    first, second, third = attempts
    assert "last-event-id" not in first.headers
    for retry in (second, third):
        assert retry.url.params["after_seq"] == "2"
        assert retry.headers["last-event-id"] == "e1:2"


def test_stream_resumes_after_read_timeout(make: Any) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return sse_response([ev(5)], fail_with=httpx.ReadTimeout("silent"))
        return sse_response([ev(6, "value")])

    api = make(handler)
    assert [e["seq"] for e in api.stream("stream_execution_events", "e1", after_seq=4)] == [5, 6]
    assert [c.url.params["after_seq"] for c in calls] == ["4", "5"]


def test_terminal_system_event_ends_stream(make: Any) -> None:
    events = [
        ev(1),
        ev(2, "system", level="warn", code="NOTICE", message="slow"),
        ev(3, "system", level="error", code="CANCELLED", message="cancelled"),
    ]
    api = make(lambda r: sse_response(events, extra=[sse_event(ev(4))]))
    assert [e["seq"] for e in api.stream("stream_execution_events", "e1")] == [1, 2, 3]


def test_clean_end_without_terminal_reads_the_tail(make: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == STREAM:
            return sse_response([ev(1)])  # closes early
        if path == "/api/v1/executions/e1":
            return httpx.Response(200, json={"id": "e1", "status": "ok"})
        if path == "/api/v1/executions/e1/events":
            assert request.url.params["after_seq"] == "1"
            return httpx.Response(200, json=[ev(2), ev(3, "value")])
        raise AssertionError(path)

    api = make(handler)
    assert [e["seq"] for e in api.stream("stream_execution_events", "e1")] == [1, 2, 3]


def test_clean_end_while_running_reconnects(make: Any) -> None:
    streams = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == STREAM:
            streams.append(request)
            return sse_response([ev(1)] if len(streams) == 1 else [ev(2, "value")])
        return httpx.Response(200, json={"id": "e1", "status": "running"})

    api = make(handler)
    assert [e["seq"] for e in api.stream("stream_execution_events", "e1")] == [1, 2]
    assert streams[1].url.params["after_seq"] == "1"


def test_stream_gives_up_after_retries(make: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return sse_response([], fail_with=httpx.ReadError("reset"))

    api = make(handler, stream_retries=2)
    with pytest.raises(sdk.StreamError, match="without progress"):
        api.stream("stream_execution_events", "e1")
    assert len(api.requests) == 3


def test_stream_error_status_is_typed(make: Any) -> None:
    api = make(lambda r: envelope(404, "EXECUTION_NOT_FOUND", "Execution not found"))
    with pytest.raises(sdk.ExecutionNotFound):
        api.stream("stream_execution_events", "nope")


def test_stream_without_daemon(make: Any) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    api = make(refuse)
    with pytest.raises(sdk.DaemonUnavailable, match="no vm-system daemon at"):
        api.stream("stream_execution_events", "e1")
    assert len(api.requests) == 1


def test_stream_sends_token(make: Any) -> None:
    api = make(lambda r: sse_response([ev(1, "value")]), token="tok")
    api.stream("stream_execution_events", "e1")
    assert api.requests[0].headers["authorization"] == "Bearer tok"


def test_session_stream_resumes_by_last_event_id_and_dedupes(make: Any) -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/sessions/s1":
            return httpx.Response(200, json={"id": "s1", "status": "closed"})
        calls.append(request)
        if len(calls) == 1:
            return sse_response(
                [
                    ev(1, execution_id="a"),
                    ev(2, "value", execution_id="a"),
                    ev(1, execution_id="b"),
                ],
                fail_with=httpx.ReadError("reset"),
            )
        return sse_response([ev(1, execution_id="b"), ev(2, "value", execution_id="b")])

    api = make(handler)
    events = api.stream("stream_session_events", "s1")
    assert [(e["execution_id"], e["seq"]) for e in events] == [
        ("a", 1),
        ("a", 2),
        ("b", 1),
        ("b", 2),
    ]
    assert calls[0].url.path == "/api/v1/sessions/s1/events/stream"
    assert "after_seq" not in calls[0].url.params
    assert calls[1].headers["last-event-id"] == "b:1"
    assert "after_seq" not in calls[1].url.params


def test_session_stream_resumes_after_a_given_event_id_and_runs_until_stopped(
    make: Any,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/sessions/s1":
            return httpx.Response(200, json={"id": "s1", "status": "ready"})
        return sse_response([ev(n, execution_id="a") for n in range(4, 9)])

    api = make(handler)
    events = api.stream("stream_session_events", "s1", last_event_id="a:3", limit=3)
    assert [e["seq"] for e in events] == [4, 5, 6]
    assert api.requests[0].headers["last-event-id"] == "a:3"
    assert "after_seq" not in api.requests[0].url.params


def test_event_stream_backoff_doubles_and_caps() -> None:
    state = EventStream("execution", "e1", STREAM, after_seq=0, max_retries=10, backoff=1.0)
    state.connected()
    delays = [state.dropped(httpx.ReadError("x"), "http://h") for _ in range(5)]
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]
    state.connected()
    state.feed_line(": ping")  # keep-alives are not progress
    assert state.dropped(None, "http://h") == 5.0
    state.connected()
    state.accept(ev(1))  # a new event is progress
    assert state.dropped(None, "http://h") == 1.0
    state.connected()
    state._connected_at = 0.0  # a connection that stayed up long enough is too
    assert state.dropped(None, "http://h") == 1.0


def test_keepalives_alone_do_not_keep_a_broken_stream_alive(make: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return sse_response([], extra=[b": keep-alive\n\n"], fail_with=httpx.ReadError("reset"))

    api = make(handler, stream_retries=3)
    with pytest.raises(sdk.StreamError):
        api.stream("stream_session_events", "s1")
    assert len(api.requests) == 4
