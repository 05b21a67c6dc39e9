"""The SDK sends an Idempotency-Key on the POSTs that create something, and retries them
(with the same key) after a connection error; other calls are never retried."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from vmsystem import client as sdk

from .conftest import Facade

EXECUTION = {"id": "e-1", "session_id": "s-1", "status": "ok"}
CREATING: list[tuple[str, tuple[Any, ...], str]] = [
    ("run_repl", ("s-1", "1+1"), "/api/v1/executions/repl"),
    ("run_file", ("s-1", "a.js"), "/api/v1/executions/run-file"),
    ("create_session", ("t-1", "/wt"), "/api/v1/sessions"),
]


def flaky(failures: int) -> Callable[[httpx.Request], httpx.Response]:
    """Fail the first ``failures`` requests with a connection error, then answer 201."""
    seen = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["n"] += 1
        if seen["n"] <= failures:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(201, json=EXECUTION)

    return handler


@pytest.mark.parametrize(("method", "args", "path"), CREATING)
def test_creating_posts_carry_a_fresh_idempotency_key(
    make: Callable[..., Facade], method: str, args: tuple[Any, ...], path: str
) -> None:
    api = make(flaky(0))
    api.call(method, *args)
    api.call(method, *args)
    first, second = api.requests
    assert first.url.path == path
    keys = [r.headers["Idempotency-Key"] for r in (first, second)]
    assert all(len(k) == 36 for k in keys) and keys[0] != keys[1]
    assert "Prefer" not in first.headers


@pytest.mark.parametrize(("method", "args", "path"), CREATING)
def test_a_connection_error_is_retried_with_the_same_key_asking_to_wait(
    make: Callable[..., Facade], method: str, args: tuple[Any, ...], path: str
) -> None:
    api = make(flaky(2))
    assert api.call(method, *args) == EXECUTION
    assert len(api.requests) == 3
    assert len({r.headers["Idempotency-Key"] for r in api.requests}) == 1
    assert [r.headers.get("Prefer") for r in api.requests] == [None, "wait=300", "wait=300"]
    assert {
        json.loads(r.content)["session_id" if path != "/api/v1/sessions" else "template_id"]
        for r in api.requests
    } == {args[0]}


def test_it_gives_up_after_the_retries(make: Callable[..., Facade]) -> None:
    api = make(flaky(10))
    with pytest.raises(sdk.DaemonUnavailable):
        api.call("run_repl", "s-1", "1")
    assert len(api.requests) == 3


def test_other_calls_have_no_key_and_are_not_retried(make: Callable[..., Facade]) -> None:
    api = make(flaky(1))
    with pytest.raises(sdk.DaemonUnavailable):
        api.call("create_template", "demo")
    assert len(api.requests) == 1
    assert "Idempotency-Key" not in api.requests[0].headers
