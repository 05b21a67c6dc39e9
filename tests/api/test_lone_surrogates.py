"""A JavaScript string may hold a lone surrogate (``'\\ud800'``): it round-trips through the
result, the stored events, the stream of events and the exports, on SQLite and on PostgreSQL
(when ``VMSYSTEM_TEST_POSTGRES_URL`` is set), as JSON's ``\\ud800`` escape."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from .conftest import API, create_session, create_template, events, repl

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def api(backend_client: TestClient) -> TestClient:
    return backend_client


def test_a_lone_surrogate_round_trips_through_the_result_and_the_events(
    api: TestClient, worktree: Path
) -> None:
    session = create_session(api, create_template(api, "surrogates")["id"], worktree)
    code = (
        "console.log('logged \\ud800 here', '\\udfff');"
        " ({lead: 'a\\ud800', trail: '\\udc00b', pair: '\\ud83d\\ude00', fffd: '\\ufffd'})"
    )
    answered = repl(api, session["id"], code)
    expected = {"lead": "a\ud800", "trail": "\udc00b", "pair": "\U0001f600", "fffd": "\ufffd"}
    assert answered["status"] == "ok"
    assert answered["result"]["json"] == expected

    stored = api.get(f"{API}/executions/{answered['id']}")
    assert stored.status_code == 200
    assert '"a\\ud800"' in stored.text  # JSON's escape: valid JSON, valid UTF-8
    stored.content.decode("utf-8")
    assert stored.json()["result"]["json"] == expected
    console = [e["payload"]["text"] for e in events(api, answered["id"]) if e["type"] == "console"]
    assert console == ["logged \ud800 here \udfff"]

    value = repl(api, session["id"], "'\\ud800'")
    assert value["result"]["json"] == "\ud800" and value["result"]["preview"] == "\ud800"
    again = api.get(f"{API}/executions/{value['id']}").json()
    assert again["result"]["json"] == "\ud800"
    assert again["result"]["preview"] == "\ud800"


def test_a_session_with_lone_surrogates_streams_searches_and_exports(
    api: TestClient, worktree: Path
) -> None:
    session = create_session(api, create_template(api, "surrogate-export")["id"], worktree)
    done = repl(api, session["id"], "console.log('findme \\ud800'); 'x\\udc00'")
    with api.stream("GET", f"{API}/executions/{done['id']}/events/stream") as stream:
        data = [json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:")]
    assert [e["payload"].get("text") for e in data if e["type"] == "console"] == ["findme \ud800"]

    found = api.get(f"{API}/executions/search", params={"q": "findme"})
    assert found.status_code == 200, found.text
    assert [m["execution"]["id"] for m in found.json()["results"]] == [done["id"]]

    for fmt in ("jsonl", "ipynb", "md"):
        r = api.get(f"{API}/sessions/{session['id']}/export", params={"format": fmt})
        assert r.status_code == 200, (fmt, r.text)
        text = r.content.decode("utf-8")
        assert "\\ud800" in text and "\\udc00" in text, fmt
    line = json.loads(
        api.get(f"{API}/sessions/{session['id']}/export", params={"format": "jsonl"}).text
    )
    assert line["result"]["json"] == "x\udc00"
