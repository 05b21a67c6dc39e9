"""Errors raised by the vm-system SDK.

Generated from the table in ``vmsystem/errorcodes.py`` by ``python scripts/gen_errors.py``: edit the
table (or the hand-written bases in ``vmsystem/client/_error_base.py``), not this file.

The daemon answers every failure with one envelope,
``{"error": {"code": "...", "message": "...", "details": {...}}}``; the SDK turns it into the
:class:`APIError` subclass registered for that ``code``. The tree mirrors the daemon's::

    ClientError
    ├── TransportError                 the request did not get an HTTP answer
    │   └── DaemonUnavailable          nothing listens at the base URL
    ├── StreamError                    an SSE stream broke and could not be resumed
    └── APIError                       the daemon answered with an error status
        ├── InvalidRequest             INVALID_REQUEST (400)
        │   └── InvalidHost            INVALID_HOST (400)
        ├── ValidationError            VALIDATION_ERROR (400)
        ├── Unauthorized               UNAUTHORIZED (401)
        ├── CrossSiteRequest           CROSS_SITE_REQUEST (403)
        ├── NotFound
        │   ├── TemplateNotFound       TEMPLATE_NOT_FOUND (404)
        │   ├── SessionNotFound        SESSION_NOT_FOUND (404)
        │   ├── HostNotFound           HOST_NOT_FOUND (404)
        │   ├── ExecutionNotFound      EXECUTION_NOT_FOUND (404)
        │   ├── DownloadNotFound       DOWNLOAD_NOT_FOUND (404)
        │   ├── FileNotFound           FILE_NOT_FOUND (404)
        │   └── RouteNotFound          ROUTE_NOT_FOUND (404)
        ├── MethodNotAllowed           METHOD_NOT_ALLOWED (405)
        ├── Conflict                   CONFLICT (409)
        │   ├── SessionNotReady        SESSION_NOT_READY (409)
        │   ├── SessionBusy            SESSION_BUSY (409)
        │   ├── SessionActive          SESSION_ACTIVE (409)
        │   ├── TemplateInUse          TEMPLATE_IN_USE (409)
        │   └── IdempotencyInProgress  IDEMPOTENCY_IN_PROGRESS (409)
        ├── PayloadTooLarge            PAYLOAD_TOO_LARGE (413)
        ├── RangeNotSatisfiable        RANGE_NOT_SATISFIABLE (416)
        ├── HeadersTooLarge            HEADERS_TOO_LARGE (431)
        ├── Unprocessable
        │   ├── InvalidPath            INVALID_PATH (422)
        │   ├── InvalidArchive         INVALID_ARCHIVE (422)
        │   ├── OutputLimitExceeded    OUTPUT_LIMIT_EXCEEDED (422)
        │   ├── StartupModeUnsupported STARTUP_MODE_UNSUPPORTED (422)
        │   ├── ModuleNotAllowed       MODULE_NOT_ALLOWED (422)
        │   ├── LibraryNotFound        LIBRARY_NOT_FOUND (422)
        │   ├── EngineNotSupported     ENGINE_NOT_SUPPORTED (422)
        │   ├── MemoryBudgetExceeded   MEMORY_BUDGET_EXCEEDED (422)
        │   ├── StartupFailed          STARTUP_FAILED (422)
        │   ├── IdempotencyKeyReused   IDEMPOTENCY_KEY_REUSED (422)
        │   └── ForkPointInvalid       INVALID_FORK_POINT (422)
        ├── LibraryNotCached           LIBRARY_NOT_CACHED (424)
        ├── TooManySessions            TOO_MANY_SESSIONS (429)
        ├── InternalError              INTERNAL (500)
        └── StoreUnavailable           STORE_UNAVAILABLE (503)

An unknown code gives a plain :class:`APIError` carrying that code; an error body that is not an
envelope gives an :class:`APIError` with only ``status`` set (``code`` is ``None``).
"""

from __future__ import annotations

from typing import Any

from ._error_base import (
    APIError,
    ClientError,
    DaemonUnavailable,
    NamesExecution,
    StreamError,
    TransportError,
)

__all__ = [
    "ERRORS_BY_CODE",
    "APIError",
    "ClientError",
    "Conflict",
    "CrossSiteRequest",
    "DaemonUnavailable",
    "DownloadNotFound",
    "EngineNotSupported",
    "ExecutionNotFound",
    "FileNotFound",
    "ForkPointInvalid",
    "HeadersTooLarge",
    "HostNotFound",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "InternalError",
    "InvalidArchive",
    "InvalidHost",
    "InvalidPath",
    "InvalidRequest",
    "LibraryNotCached",
    "LibraryNotFound",
    "MemoryBudgetExceeded",
    "MethodNotAllowed",
    "ModuleNotAllowed",
    "NotFound",
    "OutputLimitExceeded",
    "PayloadTooLarge",
    "RangeNotSatisfiable",
    "RouteNotFound",
    "SessionActive",
    "SessionBusy",
    "SessionNotFound",
    "SessionNotReady",
    "StartupFailed",
    "StartupModeUnsupported",
    "StoreUnavailable",
    "StreamError",
    "TemplateInUse",
    "TemplateNotFound",
    "TooManySessions",
    "TransportError",
    "Unauthorized",
    "Unprocessable",
    "ValidationError",
    "api_error",
]


class InvalidRequest(APIError):
    """400 INVALID_REQUEST: The request body could not be decoded or has unknown or mistyped
    fields."""

    error_code = "INVALID_REQUEST"


class InvalidHost(InvalidRequest):
    """400 INVALID_HOST: The ``Host`` header names no host the daemon serves (a DNS-rebinding
    defence). See ``--allowed-host``."""

    error_code = "INVALID_HOST"


class ValidationError(APIError):
    """400 VALIDATION_ERROR: A required field is missing or empty, or a value is malformed."""

    error_code = "VALIDATION_ERROR"


class Unauthorized(APIError):
    """401 UNAUTHORIZED: The daemon requires a bearer token and none (or a wrong one) was given.
    Pass ``token=`` or set ``VMSYSTEM_AUTH_TOKEN``."""

    error_code = "UNAUTHORIZED"


class CrossSiteRequest(APIError):
    """403 CROSS_SITE_REQUEST: A state-changing request that a web page of another site could
    have sent: neither JSON, nor an ``X-Requested-With`` header, nor an allowed ``Origin``. The
    SDK always sends ``X-Requested-With``."""

    error_code = "CROSS_SITE_REQUEST"


class NotFound(APIError):
    """Grouping of the 404 errors: Something named by the request does not exist."""


class TemplateNotFound(NotFound):
    """404 TEMPLATE_NOT_FOUND: The template does not exist."""

    error_code = "TEMPLATE_NOT_FOUND"


class SessionNotFound(NotFound):
    """404 SESSION_NOT_FOUND: The session does not exist."""

    error_code = "SESSION_NOT_FOUND"


class HostNotFound(NotFound):
    """404 HOST_NOT_FOUND: No session host of the daemon has this id (``GET /runtime/summary``
    lists them)."""

    error_code = "HOST_NOT_FOUND"


class ExecutionNotFound(NotFound):
    """404 EXECUTION_NOT_FOUND: The execution does not exist."""

    error_code = "EXECUTION_NOT_FOUND"


class DownloadNotFound(NotFound):
    """404 DOWNLOAD_NOT_FOUND: The library download job does not exist (or the daemon no longer
    remembers it)."""

    error_code = "DOWNLOAD_NOT_FOUND"


class FileNotFound(NotFound):
    """404 FILE_NOT_FOUND: The file to run does not exist in the worktree."""

    error_code = "FILE_NOT_FOUND"


class RouteNotFound(NotFound):
    """404 ROUTE_NOT_FOUND: No route matches the request path. Often a daemon of another version."""

    error_code = "ROUTE_NOT_FOUND"


class MethodNotAllowed(APIError):
    """405 METHOD_NOT_ALLOWED: The route exists but not with this HTTP method."""

    error_code = "METHOD_NOT_ALLOWED"


class Conflict(APIError):
    """409 CONFLICT: The request conflicts with the current state (for example a duplicate name)."""

    error_code = "CONFLICT"


class SessionNotReady(Conflict):
    """409 SESSION_NOT_READY: The session is not ``ready`` (closed, crashed or still starting)."""

    error_code = "SESSION_NOT_READY"


class SessionBusy(NamesExecution, Conflict):
    """409 SESSION_BUSY: The session is already running an execution. ``execution_id`` names the
    running execution when the daemon named it."""

    error_code = "SESSION_BUSY"


class SessionActive(Conflict):
    """409 SESSION_ACTIVE: Purging a session that is still starting or ready (close it first)."""

    error_code = "SESSION_ACTIVE"


class TemplateInUse(Conflict):
    """409 TEMPLATE_IN_USE: The template still has live (starting or ready) sessions."""

    error_code = "TEMPLATE_IN_USE"


class IdempotencyInProgress(Conflict):
    """409 IDEMPOTENCY_IN_PROGRESS: A request with the same ``Idempotency-Key`` is still being
    carried out. Retry later, or send ``Prefer: wait=N`` to wait for its result."""

    error_code = "IDEMPOTENCY_IN_PROGRESS"


class PayloadTooLarge(APIError):
    """413 PAYLOAD_TOO_LARGE: The request body is larger than the daemon accepts."""

    error_code = "PAYLOAD_TOO_LARGE"


class RangeNotSatisfiable(APIError):
    """416 RANGE_NOT_SATISFIABLE: A ``Range`` starts past the end of the file."""

    error_code = "RANGE_NOT_SATISFIABLE"


class HeadersTooLarge(APIError):
    """431 HEADERS_TOO_LARGE: The request's head (request line and header fields) is larger, or
    has more header fields, than the daemon accepts."""

    error_code = "HEADERS_TOO_LARGE"


class Unprocessable(APIError):
    """Grouping of the 422 errors: The request is well-formed but cannot be carried out as asked."""


class InvalidPath(Unprocessable):
    """422 INVALID_PATH: A path is absolute, traverses with ``..``, escapes through a symlink or
    is a directory."""

    error_code = "INVALID_PATH"


class InvalidArchive(Unprocessable):
    """422 INVALID_ARCHIVE: An uploaded archive is damaged or has a member that is refused
    (``..``, absolute, a link or a device); nothing of it was written."""

    error_code = "INVALID_ARCHIVE"


class OutputLimitExceeded(NamesExecution, Unprocessable):
    """422 OUTPUT_LIMIT_EXCEEDED: The execution produced more events or output than the template
    allows. ``execution_id`` names the stored execution."""

    error_code = "OUTPUT_LIMIT_EXCEEDED"


class StartupModeUnsupported(Unprocessable):
    """422 STARTUP_MODE_UNSUPPORTED: A startup file asks for a mode other than ``eval``."""

    error_code = "STARTUP_MODE_UNSUPPORTED"


class ModuleNotAllowed(Unprocessable):
    """422 MODULE_NOT_ALLOWED: The module is a JS built-in or not a known native module."""

    error_code = "MODULE_NOT_ALLOWED"


class LibraryNotFound(Unprocessable):
    """422 LIBRARY_NOT_FOUND: The library is not in the catalog (nor added locally)."""

    error_code = "LIBRARY_NOT_FOUND"


class EngineNotSupported(Unprocessable):
    """422 ENGINE_NOT_SUPPORTED: The template names an engine this daemon does not have."""

    error_code = "ENGINE_NOT_SUPPORTED"


class MemoryBudgetExceeded(Unprocessable):
    """422 MEMORY_BUDGET_EXCEEDED: A template's ``limits.mem_mb`` is more than one host's memory
    budget (the sessions of a host share V8's ~4 GiB heap cage). ``details`` has ``mem_mb`` and
    ``memory_budget_mb``."""

    error_code = "MEMORY_BUDGET_EXCEEDED"


class StartupFailed(Unprocessable):
    """422 STARTUP_FAILED: A startup file threw, was missing, or the session could not be
    initialised."""

    error_code = "STARTUP_FAILED"


class IdempotencyKeyReused(Unprocessable):
    """422 IDEMPOTENCY_KEY_REUSED: The ``Idempotency-Key`` was used within 24 h for a different
    request."""

    error_code = "IDEMPOTENCY_KEY_REUSED"


class ForkPointInvalid(Unprocessable):
    """422 INVALID_FORK_POINT: A fork's ``until_execution_id`` is not an execution of the forked
    session."""

    error_code = "INVALID_FORK_POINT"


class LibraryNotCached(APIError):
    """424 LIBRARY_NOT_CACHED: A configured library is known but not in the local cache. The
    message names the command that fixes it (``vm-system libs download``)."""

    error_code = "LIBRARY_NOT_CACHED"


class TooManySessions(APIError):
    """429 TOO_MANY_SESSIONS: The daemon already has as many live sessions as ``--max-sessions``
    allows."""

    error_code = "TOO_MANY_SESSIONS"


class InternalError(APIError):
    """500 INTERNAL: A real internal fault (never a user mistake)."""

    error_code = "INTERNAL"


class StoreUnavailable(APIError):
    """503 STORE_UNAVAILABLE: The store cannot record results (unreadable or unwritable
    database): no code runs."""

    error_code = "STORE_UNAVAILABLE"


#: The error class for each envelope code.
ERRORS_BY_CODE: dict[str, type[APIError]] = {
    "INVALID_REQUEST": InvalidRequest,
    "INVALID_HOST": InvalidHost,
    "VALIDATION_ERROR": ValidationError,
    "UNAUTHORIZED": Unauthorized,
    "CROSS_SITE_REQUEST": CrossSiteRequest,
    "TEMPLATE_NOT_FOUND": TemplateNotFound,
    "SESSION_NOT_FOUND": SessionNotFound,
    "HOST_NOT_FOUND": HostNotFound,
    "EXECUTION_NOT_FOUND": ExecutionNotFound,
    "DOWNLOAD_NOT_FOUND": DownloadNotFound,
    "FILE_NOT_FOUND": FileNotFound,
    "ROUTE_NOT_FOUND": RouteNotFound,
    "METHOD_NOT_ALLOWED": MethodNotAllowed,
    "CONFLICT": Conflict,
    "SESSION_NOT_READY": SessionNotReady,
    "SESSION_BUSY": SessionBusy,
    "SESSION_ACTIVE": SessionActive,
    "TEMPLATE_IN_USE": TemplateInUse,
    "IDEMPOTENCY_IN_PROGRESS": IdempotencyInProgress,
    "PAYLOAD_TOO_LARGE": PayloadTooLarge,
    "RANGE_NOT_SATISFIABLE": RangeNotSatisfiable,
    "HEADERS_TOO_LARGE": HeadersTooLarge,
    "INVALID_PATH": InvalidPath,
    "INVALID_ARCHIVE": InvalidArchive,
    "OUTPUT_LIMIT_EXCEEDED": OutputLimitExceeded,
    "STARTUP_MODE_UNSUPPORTED": StartupModeUnsupported,
    "MODULE_NOT_ALLOWED": ModuleNotAllowed,
    "LIBRARY_NOT_FOUND": LibraryNotFound,
    "ENGINE_NOT_SUPPORTED": EngineNotSupported,
    "MEMORY_BUDGET_EXCEEDED": MemoryBudgetExceeded,
    "STARTUP_FAILED": StartupFailed,
    "IDEMPOTENCY_KEY_REUSED": IdempotencyKeyReused,
    "INVALID_FORK_POINT": ForkPointInvalid,
    "LIBRARY_NOT_CACHED": LibraryNotCached,
    "TOO_MANY_SESSIONS": TooManySessions,
    "INTERNAL": InternalError,
    "STORE_UNAVAILABLE": StoreUnavailable,
}


def api_error(
    status: int,
    code: str | None = None,
    message: str = "",
    details: dict[str, Any] | None = None,
) -> APIError:
    """Build the typed error for an envelope (plain :class:`APIError` for unknown codes)."""
    cls = ERRORS_BY_CODE.get(code, APIError) if code is not None else APIError
    return cls(status, code, message, details)
