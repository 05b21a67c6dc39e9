"""What the sync and async clients share: configuration, request building, response decoding.

Every route of ``docs/http-api.md`` is described once here, by a :class:`Routes` builder that
returns a :class:`Call`. A call knows its method, path, query, body and the type of its answer;
``Client`` and ``AsyncClient`` only send it and hand the response to :func:`decode`.
"""

from __future__ import annotations

import io
import os
import tarfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast
from urllib.parse import quote
from urllib.request import getproxies

import httpx

from .errors import APIError, DaemonUnavailable, TransportError, api_error
from .types import (
    ArchiveUpload,
    Capability,
    CapabilityInfo,
    CapabilityRemoved,
    Completion,
    EngineInfo,
    Event,
    Execution,
    ExecutionSearchPage,
    ExportFormat,
    FileEntry,
    FileListing,
    Health,
    HostDrain,
    LibraryDownload,
    LibraryInfo,
    ModuleInfo,
    NameAdded,
    NameRemoved,
    Notebook,
    RuntimeSummary,
    Session,
    SessionFork,
    SessionPurged,
    Settings,
    StartupFile,
    StartupFileRemoved,
    Template,
    TemplateDeleted,
    TemplateDetail,
)

__all__ = [
    "DEFAULT_SERVER_URL",
    "DEFAULT_TIMEOUT",
    "ENV_AUTH_TOKEN",
    "ENV_SERVER_URL",
    "EVENTS_PAGE_SIZE",
    "Call",
    "ClientConfig",
    "Routes",
    "decode",
    "error_from_response",
    "pack_directory",
    "resolve_base_url",
    "resolve_token",
    "transport_error",
]

T = TypeVar("T")

#: Where the daemon listens by default.
DEFAULT_SERVER_URL = "http://127.0.0.1:3210"
#: Environment variable naming the daemon's URL.
ENV_SERVER_URL = "VMSYSTEM_SERVER_URL"
#: Environment variable holding the bearer token.
ENV_AUTH_TOKEN = "VMSYSTEM_AUTH_TOKEN"
#: Default timeout of one request, in seconds (the original CLI's).
DEFAULT_TIMEOUT = 30.0
#: Read timeout of an event stream: the daemon sends a keep-alive every 15 s.
STREAM_READ_TIMEOUT = 60.0
#: Page size used when the SDK reads all events of an execution.
EVENTS_PAGE_SIZE = 1000
API = "/api/v1"


#: Without the package's version: reading the installed distribution's metadata would cost
#: every command-line call a tenth of its start-up.
USER_AGENT = "vm-system-client"


def resolve_base_url(base_url: str | None = None) -> str:
    """The daemon URL: the argument, else ``$VMSYSTEM_SERVER_URL``, else the default.

    Trailing slashes are trimmed.
    """
    url = base_url or os.environ.get(ENV_SERVER_URL) or DEFAULT_SERVER_URL
    return url.rstrip("/") or DEFAULT_SERVER_URL


def resolve_token(token: str | None = None) -> str | None:
    """The bearer token: the argument, else ``$VMSYSTEM_AUTH_TOKEN``, else none."""
    return token or os.environ.get(ENV_AUTH_TOKEN) or None


@dataclass(frozen=True)
class ClientConfig:
    """Resolved settings of a client."""

    base_url: str
    token: str | None
    timeout: float | None
    stream_retries: int
    retry_backoff: float
    extra_headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        base_url: str | None,
        token: str | None,
        timeout: float | None,
        stream_retries: int,
        retry_backoff: float,
        headers: Mapping[str, str] | None,
    ) -> ClientConfig:
        """Apply the environment and defaults to the constructor arguments."""
        return cls(
            base_url=resolve_base_url(base_url),
            token=resolve_token(token),
            timeout=timeout,
            stream_retries=stream_retries,
            retry_backoff=retry_backoff,
            extra_headers=dict(headers or {}),
        )

    def headers(self) -> dict[str, str]:
        """Headers sent with every request."""
        # X-Requested-With marks the request as not sent by a web page of another site
        # (the daemon refuses state-changing requests that could be; bodyless POSTs too).
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "X-Requested-With": "vm-system-sdk",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(self.extra_headers)
        return headers

    def verify(self) -> bool:
        """Whether to set up TLS verification: not for a daemon at a plain ``http://`` URL
        reached without a proxy, where no TLS is ever used (loading the CA bundle would cost
        every command-line call a tenth of a second); ``https://`` daemons are verified."""
        plain = self.base_url.lower().startswith("http://")
        return not plain or bool(getproxies())

    def httpx_timeout(self) -> httpx.Timeout:
        """Timeout of an ordinary request."""
        return httpx.Timeout(self.timeout)

    def waiting_timeout(self) -> httpx.Timeout:
        """Timeout of a request that waits for an execution: no read limit.

        The daemon bounds executions by the template's ``wall_ms``, so the client does not
        cut a long but legitimate execution short.
        """
        return httpx.Timeout(self.timeout, read=None)

    def stream_timeout(self) -> httpx.Timeout:
        """Timeout of an event stream (a silent stream is dropped and resumed)."""
        return httpx.Timeout(self.timeout, read=STREAM_READ_TIMEOUT)


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API request, and (as its type parameter) the type of its successful answer."""

    method: str
    path: str
    params: Mapping[str, str | int] | None = None
    body: Any = None
    text: bool = False
    waits: bool = False
    #: Sent with an ``Idempotency-Key`` and retried on connection errors (creates a resource).
    idempotent: bool = False
    #: A raw request body (a file or an archive) instead of JSON.
    content: bytes | None = None
    #: The answer is the raw response bytes (a file or an archive).
    raw: bool = False
    #: Extra request headers (``Range``).
    headers: Mapping[str, str] | None = None

    def request_headers(self, extra: Mapping[str, str] | None) -> dict[str, str] | None:
        """The call's own headers merged with ``extra`` (None when there are none)."""
        merged = {**(self.headers or {}), **(extra or {})}
        if self.content is not None:
            merged.setdefault("Content-Type", "application/octet-stream")
        return merged or None

    def query(self) -> dict[str, str | int] | None:
        """Query parameters without the unset ones."""
        if not self.params:
            return None
        return {k: v for k, v in self.params.items() if v is not None}


#: Retries of an idempotent call after a connection error (the same key each time).
IDEMPOTENT_RETRIES = 2
#: How long a retry asks the daemon to wait for the first attempt if it is still running.
RETRY_PREFER_WAIT_S = 300


def idempotency_headers(key: str, attempt: int) -> dict[str, str]:
    """Headers of an idempotent call: its key, and on retries ``Prefer: wait`` (the first
    attempt may still be running on the daemon: wait for its result, never run it twice)."""
    headers = {"Idempotency-Key": key}
    if attempt > 0:
        headers["Prefer"] = f"wait={RETRY_PREFER_WAIT_S}"
    return headers


def new_idempotency_key() -> str:
    """A fresh random key (one per SDK call; retries of the call reuse it)."""
    return str(uuid.uuid4())


def _seg(value: str) -> str:
    """Quote one path segment (IDs and names never escape their segment)."""
    return quote(str(value), safe="@:")


def _file_path(path: str) -> str:
    """A worktree-relative path as URL segments (``/`` kept between segments; every other
    reserved character quoted, and ``.``/``..`` segments percent-encoded so that no HTTP
    client drops them: the daemon sees the path as given, and refuses an escape itself)."""
    return "/".join(
        part.replace(".", "%2E") if part in (".", "..") else quote(part, safe="@:")
        for part in str(path).split("/")
    )


def _range(start: int | None, end: int | None) -> dict[str, str] | None:
    """A ``Range`` header for bytes ``start``..``end`` (inclusive; a negative ``start``
    without ``end``: the last ``-start`` bytes)."""
    if start is None and end is None:
        return None
    if start is not None and start < 0 and end is None:
        return {"Range": f"bytes={start}"}
    return {"Range": f"bytes={start or 0}-{'' if end is None else end}"}


def pack_directory(directory: str | os.PathLike[str]) -> bytes:
    """A local directory as a gzip-compressed tar (names relative to it; symlinks and special
    files left out, as the daemon would refuse them), for :meth:`Client.upload_directory`."""
    root = os.fspath(directory)
    if not os.path.isdir(root):
        raise ValueError(f"not a directory: {root}")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for current, subdirs, names in os.walk(root):
            subdirs.sort()
            for name in sorted(subdirs) + sorted(names):
                full = os.path.join(current, name)
                if os.path.islink(full) or not (os.path.isdir(full) or os.path.isfile(full)):
                    continue
                archive.add(full, arcname=os.path.relpath(full, root), recursive=False)
    return buffer.getvalue()


def _drop_none(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


class Routes:
    """Builders of every route, each returning a typed :class:`Call`."""

    # -- ops -------------------------------------------------------------------------------
    @staticmethod
    def health() -> Call[Health]:
        return Call("GET", f"{API}/health")

    @staticmethod
    def runtime_summary() -> Call[RuntimeSummary]:
        return Call("GET", f"{API}/runtime/summary")

    @staticmethod
    def drain_host(host_id: str) -> Call[HostDrain]:
        return Call("POST", f"{API}/runtime/hosts/{_seg(host_id)}/drain")

    @staticmethod
    def metrics() -> Call[str]:
        return Call("GET", "/metrics", text=True)

    @staticmethod
    def openapi() -> Call[dict[str, Any]]:
        return Call("GET", "/openapi.json")

    # -- templates -------------------------------------------------------------------------
    @staticmethod
    def list_templates() -> Call[list[Template]]:
        return Call("GET", f"{API}/templates")

    @staticmethod
    def create_template(name: str, engine: str | None) -> Call[Template]:
        return Call("POST", f"{API}/templates", body=_drop_none({"name": name, "engine": engine}))

    @staticmethod
    def get_template(template_id: str) -> Call[TemplateDetail]:
        return Call("GET", f"{API}/templates/{_seg(template_id)}")

    @staticmethod
    def update_template(
        template_id: str, name: str | None, engine: str | None, settings: Settings | None
    ) -> Call[Template]:
        body = _drop_none({"name": name, "engine": engine, "settings": settings})
        return Call("PATCH", f"{API}/templates/{_seg(template_id)}", body=body)

    @staticmethod
    def delete_template(template_id: str) -> Call[TemplateDeleted]:
        return Call("DELETE", f"{API}/templates/{_seg(template_id)}")

    @staticmethod
    def list_capabilities(template_id: str) -> Call[list[Capability]]:
        return Call("GET", f"{API}/templates/{_seg(template_id)}/capabilities")

    @staticmethod
    def add_capability(
        template_id: str, kind: str, name: str, enabled: bool, config: Mapping[str, Any] | None
    ) -> Call[Capability]:
        body = {"kind": kind, "name": name, "enabled": enabled, "config": dict(config or {})}
        return Call("POST", f"{API}/templates/{_seg(template_id)}/capabilities", body=body)

    @staticmethod
    def remove_capability(template_id: str, capability_id: str) -> Call[CapabilityRemoved]:
        path = f"{API}/templates/{_seg(template_id)}/capabilities/{_seg(capability_id)}"
        return Call("DELETE", path)

    @staticmethod
    def list_modules(template_id: str) -> Call[list[str]]:
        return Call("GET", f"{API}/templates/{_seg(template_id)}/modules")

    @staticmethod
    def add_module(template_id: str, name: str) -> Call[NameAdded]:
        return Call("POST", f"{API}/templates/{_seg(template_id)}/modules", body={"name": name})

    @staticmethod
    def remove_module(template_id: str, name: str) -> Call[NameRemoved]:
        return Call("DELETE", f"{API}/templates/{_seg(template_id)}/modules/{_seg(name)}")

    @staticmethod
    def list_libraries(template_id: str) -> Call[list[str]]:
        return Call("GET", f"{API}/templates/{_seg(template_id)}/libraries")

    @staticmethod
    def add_library(template_id: str, name: str) -> Call[NameAdded]:
        return Call("POST", f"{API}/templates/{_seg(template_id)}/libraries", body={"name": name})

    @staticmethod
    def remove_library(template_id: str, name: str) -> Call[NameRemoved]:
        return Call("DELETE", f"{API}/templates/{_seg(template_id)}/libraries/{_seg(name)}")

    @staticmethod
    def list_startup_files(template_id: str) -> Call[list[StartupFile]]:
        return Call("GET", f"{API}/templates/{_seg(template_id)}/startup-files")

    @staticmethod
    def add_startup_file(
        template_id: str, path: str, order_index: int, mode: str
    ) -> Call[StartupFile]:
        body = {"path": path, "order_index": order_index, "mode": mode}
        return Call("POST", f"{API}/templates/{_seg(template_id)}/startup-files", body=body)

    @staticmethod
    def remove_startup_file(template_id: str, startup_file_id: str) -> Call[StartupFileRemoved]:
        path = f"{API}/templates/{_seg(template_id)}/startup-files/{_seg(startup_file_id)}"
        return Call("DELETE", path)

    # -- sessions --------------------------------------------------------------------------
    @staticmethod
    def list_sessions(status: str | None, template_id: str | None) -> Call[list[Session]]:
        params = _drop_none({"status": status, "template_id": template_id})
        return Call("GET", f"{API}/sessions", params=params)

    @staticmethod
    def create_session(
        template_id: str,
        worktree_path: str | None,
        workspace_id: str | None,
        base_commit_oid: str | None,
        idle_timeout_s: float | None = None,
        interactive: bool = False,
    ) -> Call[Session]:
        body = _drop_none(
            {
                "template_id": template_id,
                "worktree_path": worktree_path,
                "workspace_id": workspace_id,
                "base_commit_oid": base_commit_oid,
                "idle_timeout_s": idle_timeout_s,
                "interactive": interactive or None,
            }
        )
        return Call("POST", f"{API}/sessions", body=body, waits=True, idempotent=True)

    @staticmethod
    def get_session(session_id: str) -> Call[Session]:
        return Call("GET", f"{API}/sessions/{_seg(session_id)}")

    @staticmethod
    def close_session(session_id: str) -> Call[Session]:
        return Call("POST", f"{API}/sessions/{_seg(session_id)}/close", waits=True)

    @staticmethod
    def delete_session(session_id: str) -> Call[Session]:
        return Call("DELETE", f"{API}/sessions/{_seg(session_id)}", waits=True)

    @staticmethod
    def purge_session(session_id: str) -> Call[SessionPurged]:
        path = f"{API}/sessions/{_seg(session_id)}"
        return Call("DELETE", path, params={"purge": "true"}, waits=True)

    @staticmethod
    def restart_session(session_id: str, refresh_template: bool = False) -> Call[Session]:
        return Call(
            "POST",
            f"{API}/sessions/{_seg(session_id)}/restart",
            body={"refresh_template": refresh_template},
            waits=True,
        )

    @staticmethod
    def complete(session_id: str, code: str, cursor: int | None) -> Call[Completion]:
        body: dict[str, Any] = {"code": code}
        if cursor is not None:
            body["cursor"] = cursor
        return Call("POST", f"{API}/sessions/{_seg(session_id)}/complete", body=body)

    @staticmethod
    def fork_session(session_id: str, until_execution_id: str | None = None) -> Call[SessionFork]:
        return Call(
            "POST",
            f"{API}/sessions/{_seg(session_id)}/fork",
            body=_drop_none({"until_execution_id": until_execution_id}),
            waits=True,
        )

    @staticmethod
    def export_session(session_id: str, format: ExportFormat) -> Call[str]:
        path = f"{API}/sessions/{_seg(session_id)}/export"
        return Call("GET", path, params={"format": format}, text=True, waits=True)

    @staticmethod
    def run_notebook(
        session_id: str, notebook: Mapping[str, Any], continue_on_error: bool
    ) -> Call[Notebook]:
        body = {"notebook": dict(notebook), "continue_on_error": continue_on_error}
        return Call("POST", f"{API}/sessions/{_seg(session_id)}/notebook", body=body, waits=True)

    # -- files -----------------------------------------------------------------------------
    @staticmethod
    def write_file(session_id: str, path: str, data: bytes) -> Call[FileEntry]:
        url = f"{API}/sessions/{_seg(session_id)}/files/{_file_path(path)}"
        return Call("PUT", url, content=data, waits=True)

    @staticmethod
    def read_file(
        session_id: str, path: str, start: int | None = None, end: int | None = None
    ) -> Call[bytes]:
        url = f"{API}/sessions/{_seg(session_id)}/files/{_file_path(path)}"
        return Call("GET", url, raw=True, waits=True, headers=_range(start, end))

    @staticmethod
    def delete_file(session_id: str, path: str) -> Call[bytes]:
        url = f"{API}/sessions/{_seg(session_id)}/files/{_file_path(path)}"
        return Call("DELETE", url, raw=True, waits=True)

    @staticmethod
    def list_files(session_id: str, path: str = "", recursive: bool = False) -> Call[FileListing]:
        params = {"path": path, "recursive": "true" if recursive else "false"}
        return Call("GET", f"{API}/sessions/{_seg(session_id)}/files", params=params, waits=True)

    @staticmethod
    def upload_archive(session_id: str, data: bytes, path: str = "") -> Call[ArchiveUpload]:
        url = f"{API}/sessions/{_seg(session_id)}/archive"
        return Call("POST", url, params={"path": path}, content=data, waits=True)

    @staticmethod
    def download_archive(session_id: str, path: str = "", format: str = "tar") -> Call[bytes]:
        url = f"{API}/sessions/{_seg(session_id)}/archive"
        return Call("GET", url, params={"path": path, "format": format}, raw=True, waits=True)

    @staticmethod
    def session_events_path(session_id: str) -> str:
        return f"{API}/sessions/{_seg(session_id)}/events/stream"

    # -- executions ------------------------------------------------------------------------
    @staticmethod
    def list_executions(session_id: str | None, limit: int | None) -> Call[list[Execution]]:
        params = _drop_none({"session_id": session_id, "limit": limit})
        return Call("GET", f"{API}/executions", params=params)

    @staticmethod
    def search_executions(
        q: str, session_id: str | None, limit: int | None, offset: int | None
    ) -> Call[ExecutionSearchPage]:
        params = _drop_none({"q": q, "session_id": session_id, "limit": limit, "offset": offset})
        return Call("GET", f"{API}/executions/search", params=params)

    @staticmethod
    def run_repl(
        session_id: str, input: str, stream: bool, language: str | None = None
    ) -> Call[Execution]:
        body: dict[str, Any] = {"session_id": session_id, "input": input}
        if stream:
            body["stream"] = True
        if language is not None:
            body["language"] = language
        return Call("POST", f"{API}/executions/repl", body=body, waits=not stream, idempotent=True)

    @staticmethod
    def run_file(
        session_id: str,
        path: str,
        args: Mapping[str, Any] | None,
        env: Mapping[str, str] | None,
        stream: bool,
    ) -> Call[Execution]:
        body: dict[str, Any] = {
            "session_id": session_id,
            "path": path,
            "args": dict(args or {}),
            "env": dict(env or {}),
        }
        if stream:
            body["stream"] = True
        return Call(
            "POST", f"{API}/executions/run-file", body=body, waits=not stream, idempotent=True
        )

    @staticmethod
    def get_execution(execution_id: str) -> Call[Execution]:
        return Call("GET", f"{API}/executions/{_seg(execution_id)}")

    @staticmethod
    def cancel_execution(execution_id: str) -> Call[Execution]:
        return Call("POST", f"{API}/executions/{_seg(execution_id)}/cancel", waits=True)

    @staticmethod
    def list_events(execution_id: str, after_seq: int, limit: int | None) -> Call[list[Event]]:
        params = _drop_none({"after_seq": after_seq, "limit": limit})
        return Call("GET", f"{API}/executions/{_seg(execution_id)}/events", params=params)

    @staticmethod
    def execution_events_path(execution_id: str) -> str:
        return f"{API}/executions/{_seg(execution_id)}/events/stream"

    # -- metadata --------------------------------------------------------------------------
    @staticmethod
    def module_catalog() -> Call[list[ModuleInfo]]:
        return Call("GET", f"{API}/metadata/modules")

    @staticmethod
    def library_catalog() -> Call[list[LibraryInfo]]:
        return Call("GET", f"{API}/metadata/libraries")

    @staticmethod
    def start_library_download(names: list[str]) -> Call[LibraryDownload]:
        return Call("POST", f"{API}/libraries/downloads", body={"names": names})

    @staticmethod
    def list_library_downloads() -> Call[list[LibraryDownload]]:
        return Call("GET", f"{API}/libraries/downloads")

    @staticmethod
    def get_library_download(download_id: str) -> Call[LibraryDownload]:
        return Call("GET", f"{API}/libraries/downloads/{_seg(download_id)}")

    @staticmethod
    def cancel_library_download(download_id: str) -> Call[LibraryDownload]:
        return Call("POST", f"{API}/libraries/downloads/{_seg(download_id)}/cancel")

    @staticmethod
    def engine_catalog() -> Call[list[EngineInfo]]:
        return Call("GET", f"{API}/metadata/engines")

    @staticmethod
    def capability_catalog() -> Call[list[CapabilityInfo]]:
        return Call("GET", f"{API}/metadata/capabilities")


def error_from_response(response: httpx.Response) -> APIError:
    """The typed error for an error response (envelope or not)."""
    try:
        body = response.json()
    except ValueError:
        return APIError(response.status_code)
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return APIError(response.status_code)
    message = error.get("message")
    details = error.get("details")
    return api_error(
        response.status_code,
        error["code"],
        message if isinstance(message, str) else "",
        details if isinstance(details, dict) else None,
    )


def decode(call: Call[T], response: httpx.Response) -> T:
    """The answer of ``call``: decoded JSON (or text), or the typed error raised."""
    if response.status_code >= 400:
        raise error_from_response(response)
    if call.raw:
        return cast(T, response.content)
    if call.text:
        return cast(T, response.text)
    try:
        return cast(T, response.json())
    except ValueError as exc:
        raise APIError(response.status_code, None, "response is not JSON") from exc


def transport_error(exc: httpx.TransportError, base_url: str) -> TransportError:
    """The SDK error for an httpx transport failure."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return DaemonUnavailable(base_url)
    if isinstance(exc, httpx.TimeoutException):
        return TransportError(f"request to {base_url} timed out ({type(exc).__name__})", base_url)
    return TransportError(f"request to {base_url} failed: {exc}", base_url)
