"""Error decoding, transport errors, configuration (URL, token, timeouts)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from vmsystem import client as sdk
from vmsystem.client import errors
from vmsystem.client._base import DEFAULT_SERVER_URL

from .conftest import envelope

CODES = {
    "INVALID_REQUEST": (400, sdk.InvalidRequest),
    "INVALID_HOST": (400, sdk.InvalidHost),
    "VALIDATION_ERROR": (400, sdk.ValidationError),
    "UNAUTHORIZED": (401, sdk.Unauthorized),
    "CROSS_SITE_REQUEST": (403, sdk.CrossSiteRequest),
    "TEMPLATE_NOT_FOUND": (404, sdk.TemplateNotFound),
    "SESSION_NOT_FOUND": (404, sdk.SessionNotFound),
    "EXECUTION_NOT_FOUND": (404, sdk.ExecutionNotFound),
    "DOWNLOAD_NOT_FOUND": (404, sdk.DownloadNotFound),
    "FILE_NOT_FOUND": (404, sdk.FileNotFound),
    "HOST_NOT_FOUND": (404, sdk.HostNotFound),
    "ROUTE_NOT_FOUND": (404, sdk.RouteNotFound),
    "METHOD_NOT_ALLOWED": (405, sdk.MethodNotAllowed),
    "SESSION_NOT_READY": (409, sdk.SessionNotReady),
    "SESSION_BUSY": (409, sdk.SessionBusy),
    "SESSION_ACTIVE": (409, sdk.SessionActive),
    "CONFLICT": (409, sdk.Conflict),
    "TEMPLATE_IN_USE": (409, sdk.TemplateInUse),
    "IDEMPOTENCY_IN_PROGRESS": (409, sdk.IdempotencyInProgress),
    "IDEMPOTENCY_KEY_REUSED": (422, sdk.IdempotencyKeyReused),
    "INVALID_FORK_POINT": (422, sdk.ForkPointInvalid),
    "PAYLOAD_TOO_LARGE": (413, sdk.PayloadTooLarge),
    "RANGE_NOT_SATISFIABLE": (416, sdk.RangeNotSatisfiable),
    "HEADERS_TOO_LARGE": (431, sdk.HeadersTooLarge),
    "INVALID_PATH": (422, sdk.InvalidPath),
    "INVALID_ARCHIVE": (422, sdk.InvalidArchive),
    "OUTPUT_LIMIT_EXCEEDED": (422, sdk.OutputLimitExceeded),
    "STARTUP_MODE_UNSUPPORTED": (422, sdk.StartupModeUnsupported),
    "MODULE_NOT_ALLOWED": (422, sdk.ModuleNotAllowed),
    "LIBRARY_NOT_FOUND": (422, sdk.LibraryNotFound),
    "ENGINE_NOT_SUPPORTED": (422, sdk.EngineNotSupported),
    "MEMORY_BUDGET_EXCEEDED": (422, sdk.MemoryBudgetExceeded),
    "STARTUP_FAILED": (422, sdk.StartupFailed),
    "LIBRARY_NOT_CACHED": (424, sdk.LibraryNotCached),
    "TOO_MANY_SESSIONS": (429, sdk.TooManySessions),
    "INTERNAL": (500, sdk.InternalError),
    "STORE_UNAVAILABLE": (503, sdk.StoreUnavailable),
}


@pytest.mark.parametrize("code", sorted(CODES))
def test_error_mapped_by_code(make: Any, code: str) -> None:
    status, cls = CODES[code]
    api = make(lambda r: envelope(status, code, "it failed", template_id="t-1"))
    with pytest.raises(cls) as info:
        api.call("get_template", "t-1")
    err = info.value
    assert type(err) is cls
    assert isinstance(err, sdk.APIError)
    assert (err.status, err.code, err.message) == (status, code, "it failed")
    assert err.details == {"template_id": "t-1"}
    assert str(err) == f"api error (status={status}, code={code}): it failed"


def test_code_table_matches_the_sdk() -> None:
    assert set(errors.ERRORS_BY_CODE) == set(CODES)


def test_groupings() -> None:
    assert issubclass(sdk.SessionBusy, sdk.Conflict)
    assert issubclass(sdk.TemplateInUse, sdk.Conflict)
    assert issubclass(sdk.TemplateNotFound, sdk.NotFound)
    assert issubclass(sdk.InvalidPath, sdk.Unprocessable)
    assert issubclass(sdk.DaemonUnavailable, sdk.TransportError)
    assert issubclass(sdk.APIError, sdk.ClientError)


def test_output_limit_names_its_execution(make: Any) -> None:
    api = make(lambda r: envelope(422, "OUTPUT_LIMIT_EXCEEDED", "too much", execution_id="e-9"))
    with pytest.raises(sdk.OutputLimitExceeded) as info:
        api.call("run_repl", "s", "x")
    assert info.value.execution_id == "e-9"


def test_session_busy_names_the_running_execution(make: Any) -> None:
    api = make(lambda r: envelope(409, "SESSION_BUSY", "busy", session_id="s", execution_id="e-1"))
    with pytest.raises(sdk.SessionBusy) as info:
        api.call("run_repl", "s", "x")
    assert info.value.execution_id == "e-1"


def test_unknown_code_gives_plain_api_error(make: Any) -> None:
    api = make(lambda r: envelope(418, "TEAPOT", "short and stout"))
    with pytest.raises(sdk.APIError) as info:
        api.call("health")
    assert type(info.value) is sdk.APIError
    assert (info.value.status, info.value.code) == (418, "TEAPOT")
    assert str(info.value) == "api error (status=418, code=TEAPOT): short and stout"


@pytest.mark.parametrize(
    ("status", "kwargs"),
    [
        (502, {"text": "<html>Bad Gateway</html>"}),
        (500, {"json": {"detail": "nope"}}),
        (404, {"json": ["not", "an", "envelope"]}),
        (400, {"json": {"error": "just a string"}}),
        (503, {}),
    ],
    ids=["html", "json-no-error", "json-list", "error-string", "empty"],
)
def test_envelope_less_errors(make: Any, status: int, kwargs: dict[str, Any]) -> None:
    api = make(lambda r: httpx.Response(status, **kwargs))
    with pytest.raises(sdk.APIError) as info:
        api.call("health")
    err = info.value
    assert type(err) is sdk.APIError
    assert err.status == status
    assert err.code is None
    assert err.message == ""
    assert err.details == {}
    assert str(err) == f"api error (status={status})"


def test_daemon_unavailable_message(make: Any) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    api = make(refuse, base_url="http://127.0.0.1:9/")
    with pytest.raises(sdk.DaemonUnavailable) as info:
        api.call("list_templates")
    assert str(info.value) == (
        "no vm-system daemon at http://127.0.0.1:9: start one with `vm-system serve`"
    )
    assert info.value.url == "http://127.0.0.1:9"


def test_real_refused_connection() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with sdk.Client(f"http://127.0.0.1:{port}") as vm, pytest.raises(sdk.DaemonUnavailable):
        vm.health()


def test_other_transport_errors(make: Any) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    api = make(slow)
    with pytest.raises(sdk.TransportError) as info:
        api.call("health")
    assert not isinstance(info.value, sdk.DaemonUnavailable)
    assert "timed out" in str(info.value)


def test_base_url_trimmed_and_defaulted(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    api = make(lambda r: httpx.Response(200, json={"status": "ok"}), base_url="http://h:1///")
    assert api.client.base_url == "http://h:1"
    api.call("health")
    assert str(api.requests[0].url) == "http://h:1/api/v1/health"

    monkeypatch.delenv("VMSYSTEM_SERVER_URL", raising=False)
    assert sdk.Client().base_url == DEFAULT_SERVER_URL == "http://127.0.0.1:3210"
    monkeypatch.setenv("VMSYSTEM_SERVER_URL", "http://env.test:1/")
    assert sdk.Client().base_url == "http://env.test:1"
    assert sdk.AsyncClient().base_url == "http://env.test:1"
    assert sdk.Client("http://arg.test").base_url == "http://arg.test"


def test_base_url_with_path_prefix(make: Any) -> None:
    api = make(lambda r: httpx.Response(200, json={}), base_url="http://h/prefix/")
    api.call("health")
    assert api.requests[0].url.path == "/prefix/api/v1/health"


def test_token_header(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VMSYSTEM_AUTH_TOKEN", raising=False)
    ok = lambda r: httpx.Response(200, json={})  # noqa: E731
    make(ok, token="s3cret").call("health")
    plain = make(ok)
    plain.call("health")
    assert "authorization" not in plain.requests[0].headers

    monkeypatch.setenv("VMSYSTEM_AUTH_TOKEN", "from-env")
    env = make(ok)
    env.call("health")
    assert env.requests[0].headers["authorization"] == "Bearer from-env"
    explicit = make(ok, token="s3cret")
    explicit.call("list_templates")
    assert explicit.requests[0].headers["authorization"] == "Bearer s3cret"


def test_client_only_imports_httpx_and_stdlib() -> None:
    package = Path(sdk.__file__).parent
    allowed = set(sys.stdlib_module_names) | {"httpx"}
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


def test_sdk_knows_every_code_the_daemon_uses() -> None:
    from vmsystem.api.errors import STATUS_BY_CODE

    assert {code: status for code, (status, _) in CODES.items()} == STATUS_BY_CODE
