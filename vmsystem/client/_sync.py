"""The synchronous client."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from ._base import (
    DEFAULT_TIMEOUT,
    EVENTS_PAGE_SIZE,
    IDEMPOTENT_RETRIES,
    Call,
    ClientConfig,
    Routes,
    decode,
    error_from_response,
    idempotency_headers,
    new_idempotency_key,
    pack_directory,
    transport_error,
)
from ._sse import EventStream
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

__all__ = ["Client"]

T = TypeVar("T")


class Client:
    """Synchronous client of the vm-system daemon.

    ::

        with Client() as vm:
            template = vm.create_template("demo")
            session = vm.create_session(template["id"], "/abs/worktree")
            execution = vm.run_repl(session["id"], "20 + 22")
            print(execution["result"]["preview"])  # 42

    Args:
        base_url: daemon URL; default ``$VMSYSTEM_SERVER_URL`` or ``http://127.0.0.1:3210``.
            Trailing slashes are trimmed.
        token: bearer token; default ``$VMSYSTEM_AUTH_TOKEN``.
        timeout: seconds per request (``None``: no limit). Requests that wait for an
            execution have no read limit (the daemon enforces ``wall_ms``).
        transport: an httpx transport (tests pass ``httpx.MockTransport``).
        headers: extra headers sent with every request.
        stream_retries: reconnection attempts in a row without a new event before an event
            stream gives up.
        retry_backoff: first wait before reconnecting a stream, or before retrying a POST
            that creates something after a connection error; doubled on each attempt.

    Errors: :class:`~vmsystem.client.errors.APIError` subclasses by envelope code,
    :class:`~vmsystem.client.errors.DaemonUnavailable` when nothing listens.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        stream_retries: int = 5,
        retry_backoff: float = 0.25,
    ) -> None:
        self._config = ClientConfig.resolve(
            base_url, token, timeout, stream_retries, retry_backoff, headers
        )
        self._http = httpx.Client(
            base_url=self._config.base_url,
            headers=self._config.headers(),
            timeout=self._config.httpx_timeout(),
            transport=transport,
            verify=self._config.verify(),
        )

    @property
    def base_url(self) -> str:
        """The daemon URL this client talks to (no trailing slash)."""
        return self._config.base_url

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, call: Call[T]) -> T:
        timeout = self._config.waiting_timeout() if call.waits else self._config.httpx_timeout()
        key = new_idempotency_key() if call.idempotent else None
        attempt = 0
        while True:
            headers = None if key is None else idempotency_headers(key, attempt)
            try:
                response = self._http.request(
                    call.method,
                    call.path,
                    params=call.query(),
                    json=call.body if call.content is None else None,
                    content=call.content,
                    headers=call.request_headers(headers),
                    timeout=timeout,
                )
            except httpx.TransportError as exc:
                # The same key makes a retry safe: the daemon runs the request at most once.
                if key is None or attempt >= IDEMPOTENT_RETRIES:
                    raise transport_error(exc, self.base_url) from exc
                time.sleep(self._config.retry_backoff * 2**attempt)
                attempt += 1
                continue
            return decode(call, response)

    # -- ops -------------------------------------------------------------------------------
    def health(self) -> Health:
        """``GET /api/v1/health``: ``{"status": "ok"}``."""
        return self._call(Routes.health())

    def runtime_summary(self) -> RuntimeSummary:
        """``GET /api/v1/runtime/summary``: live sessions, running executions, version, db."""
        return self._call(Routes.runtime_summary())

    def drain_host(self, host_id: str) -> HostDrain:
        """``POST /api/v1/runtime/hosts/{id}/drain``: move the host's sessions to other hosts
        by replay, then retire it (HostNotFound for an unknown id)."""
        return self._call(Routes.drain_host(host_id))

    def metrics(self) -> str:
        """``GET /metrics``: Prometheus text."""
        return self._call(Routes.metrics())

    def openapi(self) -> dict[str, Any]:
        """``GET /openapi.json``: the OpenAPI description."""
        return self._call(Routes.openapi())

    # -- templates -------------------------------------------------------------------------
    def list_templates(self) -> list[Template]:
        """All templates, newest first."""
        return self._call(Routes.list_templates())

    def create_template(self, name: str, engine: str | None = None) -> Template:
        """Create a template (``engine`` ``v8`` by default; ``goja`` is an alias)."""
        return self._call(Routes.create_template(name, engine))

    def get_template(self, template_id: str) -> TemplateDetail:
        """A template with its settings, capabilities and startup files."""
        return self._call(Routes.get_template(template_id))

    def update_template(
        self,
        template_id: str,
        *,
        name: str | None = None,
        engine: str | None = None,
        settings: Settings | None = None,
    ) -> Template:
        """Rename, change the engine, or merge ``settings`` key by key (PATCH)."""
        return self._call(Routes.update_template(template_id, name, engine, settings))

    def delete_template(self, template_id: str) -> TemplateDeleted:
        """Delete a template (409 TEMPLATE_IN_USE while it has live sessions)."""
        return self._call(Routes.delete_template(template_id))

    def list_capabilities(self, template_id: str) -> list[Capability]:
        """The template's capabilities."""
        return self._call(Routes.list_capabilities(template_id))

    def add_capability(
        self,
        template_id: str,
        kind: str,
        name: str,
        *,
        enabled: bool = True,
        config: Mapping[str, Any] | None = None,
    ) -> Capability:
        """Add a capability ``kind:name`` with its JSON ``config``."""
        return self._call(Routes.add_capability(template_id, kind, name, enabled, config))

    def remove_capability(self, template_id: str, capability_id: str) -> CapabilityRemoved:
        """Remove a capability by its ID."""
        return self._call(Routes.remove_capability(template_id, capability_id))

    def list_modules(self, template_id: str) -> list[str]:
        """Native modules ``require()`` may load in the template's sessions."""
        return self._call(Routes.list_modules(template_id))

    def add_module(self, template_id: str, name: str) -> NameAdded:
        """Allow a native module (``fs``, ``exec``, ``database``)."""
        return self._call(Routes.add_module(template_id, name))

    def remove_module(self, template_id: str, name: str) -> NameRemoved:
        """Disallow a native module."""
        return self._call(Routes.remove_module(template_id, name))

    def list_libraries(self, template_id: str) -> list[str]:
        """Libraries loaded into the template's sessions, in order."""
        return self._call(Routes.list_libraries(template_id))

    def add_library(self, template_id: str, name: str) -> NameAdded:
        """Add a catalog library (``lodash``, ``lodash@4.17.21`` or ``lodash-4.17.21``)."""
        return self._call(Routes.add_library(template_id, name))

    def remove_library(self, template_id: str, name: str) -> NameRemoved:
        """Remove a library."""
        return self._call(Routes.remove_library(template_id, name))

    def list_startup_files(self, template_id: str) -> list[StartupFile]:
        """Startup files in ascending ``order_index``."""
        return self._call(Routes.list_startup_files(template_id))

    def add_startup_file(
        self, template_id: str, path: str, *, order_index: int = 0, mode: str = "eval"
    ) -> StartupFile:
        """Add a startup file (``path`` relative to the session worktree)."""
        return self._call(Routes.add_startup_file(template_id, path, order_index, mode))

    def remove_startup_file(self, template_id: str, startup_file_id: str) -> StartupFileRemoved:
        """Remove a startup file by its ID."""
        return self._call(Routes.remove_startup_file(template_id, startup_file_id))

    # -- sessions --------------------------------------------------------------------------
    def list_sessions(
        self, *, status: str | None = None, template_id: str | None = None
    ) -> list[Session]:
        """Sessions, newest first, optionally filtered by status and template."""
        return self._call(Routes.list_sessions(status, template_id))

    def create_session(
        self,
        template_id: str,
        worktree_path: str | None = None,
        *,
        workspace_id: str | None = None,
        base_commit_oid: str | None = None,
        idle_timeout_s: float | None = None,
        interactive: bool = False,
    ) -> Session:
        """Start a session from a template (ID or name) bound to an absolute worktree path on
        the daemon's machine, or (``worktree_path`` None) to a fresh managed worktree that the
        daemon creates and removes at purge (fill it with :meth:`write_file`).

        ``idle_timeout_s``: close it after this many seconds without activity (0: never;
        None: its template's ``settings.session.idle_timeout_s``, else the daemon's default);
        ``interactive``: it serves a person or an agent at a prompt, so the daemon's
        ``--interactive-idle-timeout`` applies when neither sets one."""
        return self._call(
            Routes.create_session(
                template_id,
                worktree_path,
                workspace_id,
                base_commit_oid,
                idle_timeout_s,
                interactive,
            )
        )

    def get_session(self, session_id: str) -> Session:
        """One session."""
        return self._call(Routes.get_session(session_id))

    def close_session(self, session_id: str) -> Session:
        """Close a session (idempotent; cancels its running execution first)."""
        return self._call(Routes.close_session(session_id))

    def delete_session(self, session_id: str) -> Session:
        """``DELETE /sessions/{id}``: alias of :meth:`close_session`."""
        return self._call(Routes.delete_session(session_id))

    def purge_session(self, session_id: str) -> SessionPurged:
        """``DELETE /sessions/{id}?purge=true``: delete a closed or crashed session with its
        executions and events. Raises :class:`~vmsystem.client.errors.SessionActive` while the
        session is starting or ready (close it first)."""
        return self._call(Routes.purge_session(session_id))

    def restart_session(self, session_id: str, *, refresh_template: bool = False) -> Session:
        """``POST /sessions/{id}/restart``: a fresh runtime for a ready or crashed session
        under the same id (its startup files run again, its history is kept); with
        ``refresh_template`` from the template's current state instead of the snapshot."""
        return self._call(Routes.restart_session(session_id, refresh_template))

    def complete(self, session_id: str, code: str, cursor: int | None = None) -> Completion:
        """``POST /sessions/{id}/complete``: what may complete the input at ``cursor``
        (default: the end of ``code``): globals, REPL bindings, keywords, or properties along
        the prototype chain after a ``.``, computed in the session's runtime without running
        user code; not an execution. Raises :class:`SessionBusy` while an execution runs."""
        return self._call(Routes.complete(session_id, code, cursor))

    def fork_session(
        self, session_id: str, *, until_execution_id: str | None = None
    ) -> SessionFork:
        """``POST /sessions/{id}/fork``: a new session from the source's template snapshot
        and worktree (closed sources too) with its ``ok`` REPL and run-file executions replayed
        oldest first, up to and including ``until_execution_id``. Raises
        :class:`~vmsystem.client.errors.ForkPointInvalid` when that is not the session's."""
        return self._call(Routes.fork_session(session_id, until_execution_id))

    def export_session(self, session_id: str, format: ExportFormat = "ipynb") -> str:
        """``GET /sessions/{id}/export``: the session's whole history as text: an nbformat v4
        notebook (``ipynb``, JSON), a Markdown transcript (``md``) or JSON Lines (``jsonl``,
        one execution with its ``events`` a line)."""
        return self._call(Routes.export_session(session_id, format))

    def run_notebook(
        self,
        session_id: str,
        notebook: Mapping[str, Any],
        *,
        continue_on_error: bool = False,
    ) -> Notebook:
        """``POST /sessions/{id}/notebook``: run a notebook's code cells in order in the
        session (stopping at the first failed cell unless ``continue_on_error``); returns the
        executed notebook, each cell's ``metadata.vmsystem.execution_id`` naming its run."""
        return self._call(Routes.run_notebook(session_id, notebook, continue_on_error))

    def stream_session_events(
        self, session_id: str, last_event_id: str | None = None
    ) -> Iterator[Event]:
        """Follow every event of every execution of a session (SSE), resuming after drops.

        It starts with events from now on, or resumes after ``last_event_id``
        (``"ordinal:seq"``, the ``id`` of an SSE message). The generator ends when the
        session is closed or crashed; otherwise it runs until the caller stops iterating.
        """
        state = EventStream(
            "session",
            session_id,
            Routes.session_events_path(session_id),
            after_seq=0,
            max_retries=self._config.stream_retries,
            backoff=self._config.retry_backoff,
        )
        state.last_event_id = last_event_id
        return self._follow(state, lambda: self.get_session(session_id))

    # -- files -----------------------------------------------------------------------------
    def write_file(self, session_id: str, path: str, data: bytes | str) -> FileEntry:
        """``PUT /sessions/{id}/files/{path}``: write a worktree file (``str`` as UTF-8;
        parents created, the old file replaced atomically)."""
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        return self._call(Routes.write_file(session_id, path, payload))

    def read_file(
        self, session_id: str, path: str, *, start: int | None = None, end: int | None = None
    ) -> bytes:
        """``GET /sessions/{id}/files/{path}``: a worktree file's bytes, or bytes
        ``start``..``end`` (inclusive; a negative ``start`` alone: the last bytes)."""
        return self._call(Routes.read_file(session_id, path, start, end))

    def delete_file(self, session_id: str, path: str) -> None:
        """``DELETE /sessions/{id}/files/{path}``: a file, a symlink or a whole directory."""
        self._call(Routes.delete_file(session_id, path))

    def list_files(
        self, session_id: str, path: str = "", *, recursive: bool = False
    ) -> FileListing:
        """``GET /sessions/{id}/files``: the entries under directory ``path`` (default: the
        worktree), the whole tree with ``recursive``."""
        return self._call(Routes.list_files(session_id, path, recursive))

    def upload_archive(self, session_id: str, data: bytes, *, path: str = "") -> ArchiveUpload:
        """``POST /sessions/{id}/archive``: unpack a tar or zip archive into directory
        ``path`` (refused as a whole if any member is)."""
        return self._call(Routes.upload_archive(session_id, data, path))

    def upload_directory(
        self, session_id: str, directory: str | os.PathLike[str], *, path: str = ""
    ) -> ArchiveUpload:
        """Upload a local directory tree into directory ``path`` of the worktree, as one
        archive."""
        return self.upload_archive(session_id, pack_directory(directory), path=path)

    def download_archive(self, session_id: str, path: str = "", *, format: str = "tar") -> bytes:
        """``GET /sessions/{id}/archive``: directory ``path`` (default: the worktree) as a
        gzip-compressed tar (``tar``) or a ``zip``."""
        return self._call(Routes.download_archive(session_id, path, format))

    # -- executions ------------------------------------------------------------------------
    def list_executions(
        self, session_id: str | None = None, *, limit: int | None = None
    ) -> list[Execution]:
        """Executions, newest first (``limit`` 1..1000, daemon default 50)."""
        return self._call(Routes.list_executions(session_id, limit))

    def search_executions(
        self,
        q: str,
        *,
        session_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> ExecutionSearchPage:
        """Full-text search of finished executions (input, console text, error message),
        best first. ``q`` is plain words, all of which must occur; page with ``offset`` (the
        page's ``next_offset``); ``limit`` 1..100, daemon default 20."""
        return self._call(Routes.search_executions(q, session_id, limit, offset))

    def run_repl(
        self, session_id: str, input: str, *, stream: bool = False, language: str | None = None
    ) -> Execution:
        """Run a REPL snippet; wait for the outcome, or with ``stream=True`` return it running.
        ``language``: ``"javascript"`` or ``"typescript"`` (default: the template's
        ``settings.runtime.language``)."""
        return self._call(Routes.run_repl(session_id, input, stream, language))

    def run_file(
        self,
        session_id: str,
        path: str,
        *,
        args: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> Execution:
        """Run a worktree file (``args`` as ``__ARGS__``, ``env`` as ``process.env``)."""
        return self._call(Routes.run_file(session_id, path, args, env, stream))

    def get_execution(self, execution_id: str) -> Execution:
        """One execution."""
        return self._call(Routes.get_execution(execution_id))

    def cancel_execution(self, execution_id: str) -> Execution:
        """Cancel a running execution (a finished one is returned unchanged)."""
        return self._call(Routes.cancel_execution(execution_id))

    def list_events(
        self, execution_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[Event]:
        """One page of an execution's events with ``seq > after_seq``."""
        return self._call(Routes.list_events(execution_id, after_seq, limit))

    def iter_events(self, execution_id: str, *, after_seq: int = 0) -> Iterator[Event]:
        """All stored events of an execution with ``seq > after_seq``, page by page."""
        while True:
            page = self.list_events(execution_id, after_seq=after_seq, limit=EVENTS_PAGE_SIZE)
            yield from page
            if len(page) < EVENTS_PAGE_SIZE:
                return
            after_seq = page[-1]["seq"]

    def stream_execution_events(self, execution_id: str, after_seq: int = 0) -> Iterator[Event]:
        """Follow an execution's events live (SSE) until its terminal event.

        A dropped connection is resumed with ``after_seq`` and ``Last-Event-ID``; events
        already yielded are never repeated.
        """
        state = EventStream(
            "execution",
            execution_id,
            Routes.execution_events_path(execution_id),
            after_seq=after_seq,
            max_retries=self._config.stream_retries,
            backoff=self._config.retry_backoff,
        )
        return self._follow(state, lambda: self.get_execution(execution_id))

    def _follow(
        self, state: EventStream, fetch: Callable[[], Mapping[str, object]]
    ) -> Iterator[Event]:
        while not state.done():
            error: Exception | None = None
            try:
                with self._http.stream(
                    "GET",
                    state.path,
                    params=state.params(),
                    headers=state.headers(),
                    timeout=self._config.stream_timeout(),
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise error_from_response(response)
                    state.connected()
                    for line in response.iter_lines():
                        event = state.feed_line(line)
                        if event is not None:
                            yield event
                            if state.done():
                                return
            except httpx.TransportError as exc:
                error = exc
            if error is None and state.ended(fetch()):
                if state.kind == "execution":
                    for stored in self.iter_events(state.resource_id, after_seq=state.after_seq):
                        event = state.accept(stored)
                        if event is not None:
                            yield event
                return
            time.sleep(state.dropped(error, self.base_url))

    # -- metadata --------------------------------------------------------------------------
    def module_catalog(self) -> list[ModuleInfo]:
        """``GET /metadata/modules``: native modules and their functions."""
        return self._call(Routes.module_catalog())

    def library_catalog(self) -> list[LibraryInfo]:
        """``GET /metadata/libraries``: the library catalog with cached status."""
        return self._call(Routes.library_catalog())

    # -- library downloads into the daemon's cache ---------------------------------------
    def start_library_download(self, names: list[str]) -> LibraryDownload:
        """Start downloading catalog libraries (``lodash``, ``dayjs@1.11.10``) into the
        daemon's cache with npm, verified against the catalog; returns the running job."""
        return self._call(Routes.start_library_download(list(names)))

    def list_library_downloads(self) -> list[LibraryDownload]:
        """The daemon's library download jobs, newest first."""
        return self._call(Routes.list_library_downloads())

    def get_library_download(self, download_id: str) -> LibraryDownload:
        """One download job: its status and per-library progress."""
        return self._call(Routes.get_library_download(download_id))

    def cancel_library_download(self, download_id: str) -> LibraryDownload:
        """Cancel a running download job (a finished one is returned unchanged)."""
        return self._call(Routes.cancel_library_download(download_id))

    def engine_catalog(self) -> list[EngineInfo]:
        """``GET /metadata/engines``: available JS engines."""
        return self._call(Routes.engine_catalog())

    def capability_catalog(self) -> list[CapabilityInfo]:
        """``GET /metadata/capabilities``: every capability kind and name."""
        return self._call(Routes.capability_catalog())
