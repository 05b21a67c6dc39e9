"""GET /api/v1/executions/search: full-text search over the real app and V8, on SQLite and on
PostgreSQL (when ``VMSYSTEM_TEST_POSTGRES_URL`` is set)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from .conftest import API, create_session, create_template, repl

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def api(backend_client: TestClient) -> TestClient:
    return backend_client


@pytest.fixture
def sid(api: TestClient, worktree: Path) -> str:
    template = create_template(api, "search-tpl")
    return str(create_session(api, template["id"], worktree)["id"])


def search(api: TestClient, status: int = 200, **params: Any) -> dict[str, Any]:
    r = api.get(f"{API}/executions/search", params=params)
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def hit_ids(body: dict[str, Any]) -> list[str]:
    return [hit["execution"]["id"] for hit in body["results"]]


def test_finds_executions_by_input_console_text_and_error_message(
    api: TestClient, sid: str
) -> None:
    by_input = repl(api, sid, "const flamingo = 40 + 2")
    by_console = repl(api, sid, "console.log('the quick brown fox')")
    by_error = repl(api, sid, "throw new TypeError('kaboom happened')")
    assert hit_ids(search(api, q="flamingo")) == [by_input["id"]]
    assert hit_ids(search(api, q="brown fox")) == [by_console["id"]]
    assert hit_ids(search(api, q="kaboom")) == [by_error["id"]]
    assert hit_ids(search(api, q="TypeError")) == [by_error["id"]]


def test_a_hit_has_the_execution_its_session_a_score_and_a_highlighted_snippet(
    api: TestClient, sid: str
) -> None:
    x = repl(api, sid, "console.log('needle in the output')")
    (hit,) = search(api, q="NEEDLE")["results"]
    assert hit["execution"] == api.get(f"{API}/executions/{x['id']}").json()
    assert hit["session_id"] == sid
    assert isinstance(hit["score"], float) and hit["score"] > 0
    assert [hit["snippet"][a:b] for a, b in hit["highlights"]] == ["needle", "needle"]


def test_results_are_ranked_and_paged_by_offset(api: TestClient, sid: str) -> None:
    strong = repl(api, sid, "console.log('ranked ranked ranked'); 'ranked'")
    for i in range(4):
        repl(api, sid, f"let ranked{i} = 'ranked item number {i} among many other words here'")
    first = search(api, q="ranked", limit=2)
    assert hit_ids(first)[0] == strong["id"]
    assert first["next_offset"] == 2
    second = search(api, q="ranked", limit=2, offset=2)
    third = search(api, q="ranked", limit=2, offset=4)
    assert third["next_offset"] is None
    seen = hit_ids(first) + hit_ids(second) + hit_ids(third)
    assert len(seen) == len(set(seen)) == 5


def test_session_id_restricts_the_search(api: TestClient, sid: str, worktree: Path) -> None:
    other = create_session(api, create_template(api, "other-tpl")["id"], worktree)["id"]
    mine = repl(api, sid, "'shared marker'")
    theirs = repl(api, other, "'shared marker'")
    assert hit_ids(search(api, q="marker", session_id=sid)) == [mine["id"]]
    assert hit_ids(search(api, q="marker", session_id=other)) == [theirs["id"]]
    assert sorted(hit_ids(search(api, q="marker"))) == sorted([mine["id"], theirs["id"]])


@pytest.mark.parametrize(
    "q", ['"', "*", "NEAR", 'x" OR "y', "NEAR(a b)", "a*", "col:x", "-", "()", "'", "\\", "%_"]
)
def test_query_syntax_characters_never_fail(api: TestClient, sid: str, q: str) -> None:
    repl(api, sid, "'near and or a b x y col'")
    body = search(api, q=q)
    assert isinstance(body["results"], list)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 1001},
        {"q": "x", "limit": 0},
        {"q": "x", "limit": 101},
        {"q": "x", "offset": -1},
        {"q": "x", "limit": "many"},
        {"q": "x", "session_id": "not-a-uuid"},
    ],
)
def test_bad_parameters_are_validation_errors(
    api: TestClient, sid: str, params: dict[str, Any]
) -> None:
    body = search(api, 400, **params)
    assert body["error"]["code"] == "VALIDATION_ERROR"


def test_search_route_is_not_taken_for_an_execution_id(api: TestClient, sid: str) -> None:
    repl(api, sid, "1")
    assert search(api, q="nothing matches this")["results"] == []
