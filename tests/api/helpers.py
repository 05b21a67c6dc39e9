"""Assertions shared by the API tests: the error envelope, timestamps, request ids."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP_KEYS = {
    "created_at",
    "updated_at",
    "closed_at",
    "last_activity_at",
    "started_at",
    "ended_at",
    "ts",
}
#: A well-formed UUID that names nothing.
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is exactly ``{"error": {code, message, details?}}`` with this status and
    code; returns the ``error`` object."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert set(error) in ({"code", "message"}, {"code", "message", "details"}), error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    if "details" in error:
        assert isinstance(error["details"], dict) and error["details"], error
    assert response.headers.get("x-request-id"), "error responses carry X-Request-Id too"
    return error  # type: ignore[no-any-return]


def is_envelope(body: Any) -> bool:
    """True when ``body`` has exactly the error envelope's shape."""
    if not isinstance(body, dict) or set(body) != {"error"}:
        return False
    error = body["error"]
    return (
        isinstance(error, dict)
        and set(error) in ({"code", "message"}, {"code", "message", "details"})
        and isinstance(error["code"], str)
        and isinstance(error["message"], str)
        and isinstance(error.get("details", {}), dict)
    )


def assert_timestamps(value: Any, path: str = "$") -> int:
    """Every timestamp field in ``value`` (recursively) is RFC 3339 UTC with milliseconds;
    returns how many were checked."""
    checked = 0
    if isinstance(value, dict):
        for key, item in value.items():
            if key in TIMESTAMP_KEYS and item is not None:
                assert isinstance(item, str) and TIMESTAMP.match(item), f"{path}.{key} = {item!r}"
                checked += 1
            else:
                checked += assert_timestamps(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            checked += assert_timestamps(item, f"{path}[{i}]")
    return checked


def check_request_id(response: httpx.Response) -> None:
    """httpx response hook: every response carries X-Request-Id (echoed when sent)."""
    sent = response.request.headers.get("x-request-id")
    got = response.headers.get("x-request-id")
    assert got, f"{response.request.method} {response.request.url} has no X-Request-Id"
    if sent:
        assert got == sent


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {value!r})")
        time.sleep(interval)


def after_millisecond(timestamp: str) -> None:
    """Wait until the clock has passed ``timestamp``'s millisecond, so that the next record
    sorts strictly after it (the API's timestamps have millisecond precision)."""
    then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    wait_for(lambda: datetime.now(UTC).timestamp() - then.timestamp() >= 0.002, interval=0.0005)
