"""The one typed error tree of vm-system.

Generated from the table in ``vmsystem/errorcodes.py`` by ``python scripts/gen_errors.py``: edit the
table (or the hand-written bases in ``vmsystem/core/error_base.py``), not this file.

Every failure a user can cause or observe is a :class:`VmError` with a stable ``code``. The HTTP
layer gives each code the status of the same table (``vmsystem.api.errors``); the SDK maps codes
back to its own typed errors, generated from the same table; the CLI prints them as one line.

::

    VmError
    ├── InvalidRequest             INVALID_REQUEST
    │   └── InvalidHost            INVALID_HOST
    ├── ValidationError            VALIDATION_ERROR
    ├── Unauthorized               UNAUTHORIZED
    ├── CrossSiteRequest           CROSS_SITE_REQUEST
    ├── NotFound
    │   ├── TemplateNotFound       TEMPLATE_NOT_FOUND
    │   ├── SessionNotFound        SESSION_NOT_FOUND
    │   ├── HostNotFound           HOST_NOT_FOUND
    │   ├── ExecutionNotFound      EXECUTION_NOT_FOUND
    │   ├── DownloadNotFound       DOWNLOAD_NOT_FOUND
    │   ├── FileNotFound           FILE_NOT_FOUND
    │   └── RouteNotFound          ROUTE_NOT_FOUND
    ├── MethodNotAllowed           METHOD_NOT_ALLOWED
    ├── Conflict                   CONFLICT
    │   ├── SessionNotReady        SESSION_NOT_READY
    │   ├── SessionBusy            SESSION_BUSY
    │   ├── SessionActive          SESSION_ACTIVE
    │   ├── TemplateInUse          TEMPLATE_IN_USE
    │   └── IdempotencyInProgress  IDEMPOTENCY_IN_PROGRESS
    ├── PayloadTooLarge            PAYLOAD_TOO_LARGE
    ├── RangeNotSatisfiable        RANGE_NOT_SATISFIABLE
    ├── HeadersTooLarge            HEADERS_TOO_LARGE
    ├── Unprocessable
    │   ├── InvalidPath            INVALID_PATH
    │   ├── InvalidArchive         INVALID_ARCHIVE
    │   ├── OutputLimitExceeded    OUTPUT_LIMIT_EXCEEDED
    │   ├── StartupModeUnsupported STARTUP_MODE_UNSUPPORTED
    │   ├── ModuleNotAllowed       MODULE_NOT_ALLOWED
    │   ├── LibraryNotFound        LIBRARY_NOT_FOUND
    │   ├── EngineNotSupported     ENGINE_NOT_SUPPORTED
    │   ├── MemoryBudgetExceeded   MEMORY_BUDGET_EXCEEDED
    │   ├── StartupFailed          STARTUP_FAILED
    │   ├── IdempotencyKeyReused   IDEMPOTENCY_KEY_REUSED
    │   └── ForkPointInvalid       INVALID_FORK_POINT
    ├── LibraryNotCached           LIBRARY_NOT_CACHED
    ├── TooManySessions            TOO_MANY_SESSIONS
    ├── InternalError              INTERNAL
    └── StoreUnavailable           STORE_UNAVAILABLE
"""

from __future__ import annotations

from .error_base import CarriesExecution, VmError

__all__ = [
    "CarriesExecution",
    "Conflict",
    "CrossSiteRequest",
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
    "TemplateInUse",
    "TemplateNotFound",
    "TooManySessions",
    "Unauthorized",
    "Unprocessable",
    "ValidationError",
    "VmError",
]


class InvalidRequest(VmError):
    """The request body could not be decoded or has unknown or mistyped fields."""

    code = "INVALID_REQUEST"
    default_message = "Invalid request"


class InvalidHost(InvalidRequest):
    """The ``Host`` header names no host the daemon serves (a DNS-rebinding defence)."""

    code = "INVALID_HOST"
    default_message = "Host not allowed"


class ValidationError(VmError):
    """A required field is missing or empty, or a value is malformed."""

    code = "VALIDATION_ERROR"
    default_message = "Validation failed"


class Unauthorized(VmError):
    """The daemon requires a bearer token and none (or a wrong one) was given."""

    code = "UNAUTHORIZED"
    default_message = "Missing or invalid bearer token"


class CrossSiteRequest(VmError):
    """A state-changing request that a web page of another site could have sent: neither JSON,
    nor an ``X-Requested-With`` header, nor an allowed ``Origin``."""

    code = "CROSS_SITE_REQUEST"
    default_message = "Cross-site request refused"


class NotFound(VmError):
    """Something named by the request does not exist."""

    code = "NOT_FOUND"
    default_message = "Not found"


class TemplateNotFound(NotFound):
    """The template does not exist."""

    code = "TEMPLATE_NOT_FOUND"
    default_message = "Template not found"


class SessionNotFound(NotFound):
    """The session does not exist."""

    code = "SESSION_NOT_FOUND"
    default_message = "Session not found"


class HostNotFound(NotFound):
    """No session host of the daemon has this id (``GET /runtime/summary`` lists them)."""

    code = "HOST_NOT_FOUND"
    default_message = "Session host not found"


class ExecutionNotFound(NotFound):
    """The execution does not exist."""

    code = "EXECUTION_NOT_FOUND"
    default_message = "Execution not found"


class DownloadNotFound(NotFound):
    """The library download job does not exist (or the daemon no longer remembers it)."""

    code = "DOWNLOAD_NOT_FOUND"
    default_message = "Library download not found"


class FileNotFound(NotFound):
    """The file to run does not exist in the worktree."""

    code = "FILE_NOT_FOUND"
    default_message = "File not found"


class RouteNotFound(NotFound):
    """No route matches the request path."""

    code = "ROUTE_NOT_FOUND"
    default_message = "Route not found"


class MethodNotAllowed(VmError):
    """The route exists but not with this HTTP method."""

    code = "METHOD_NOT_ALLOWED"
    default_message = "Method not allowed"


class Conflict(VmError):
    """The request conflicts with the current state (for example a duplicate name)."""

    code = "CONFLICT"
    default_message = "Conflict"


class SessionNotReady(Conflict):
    """The session is not ``ready`` (closed, crashed or still starting)."""

    code = "SESSION_NOT_READY"
    default_message = "Session is not ready"


class SessionBusy(Conflict):
    """The session is already running an execution."""

    code = "SESSION_BUSY"
    default_message = "Session is busy"


class SessionActive(Conflict):
    """Purging a session that is still starting or ready (close it first)."""

    code = "SESSION_ACTIVE"
    default_message = "Session is still active: close it before purging"


class TemplateInUse(Conflict):
    """The template still has live (starting or ready) sessions."""

    code = "TEMPLATE_IN_USE"
    default_message = "Template has live sessions; close them first"


class IdempotencyInProgress(Conflict):
    """A request with the same ``Idempotency-Key`` is still being carried out."""

    code = "IDEMPOTENCY_IN_PROGRESS"
    default_message = "A request with this Idempotency-Key is still in progress"


class PayloadTooLarge(VmError):
    """The request body is larger than the daemon accepts."""

    code = "PAYLOAD_TOO_LARGE"
    default_message = "Request body too large"


class RangeNotSatisfiable(VmError):
    """A ``Range`` starts past the end of the file."""

    code = "RANGE_NOT_SATISFIABLE"
    default_message = "Range not satisfiable"


class HeadersTooLarge(VmError):
    """The request's head (request line and header fields) is larger, or has more header fields,
    than the daemon accepts."""

    code = "HEADERS_TOO_LARGE"
    default_message = "Request header fields too large"


class Unprocessable(VmError):
    """The request is well-formed but cannot be carried out as asked."""

    code = "UNPROCESSABLE"
    default_message = "Unprocessable request"


class InvalidPath(Unprocessable):
    """A path is absolute, traverses with ``..``, escapes through a symlink or is a directory."""

    code = "INVALID_PATH"
    default_message = "Path escapes allowed worktree"


class InvalidArchive(Unprocessable):
    """An uploaded archive is damaged or has a member that is refused (``..``, absolute, a link
    or a device); nothing of it was written."""

    code = "INVALID_ARCHIVE"
    default_message = "Archive refused"


class OutputLimitExceeded(CarriesExecution, Unprocessable):
    """The execution produced more events or output than the template allows."""

    code = "OUTPUT_LIMIT_EXCEEDED"
    default_message = "Execution exceeded configured output/event limits"


class StartupModeUnsupported(Unprocessable):
    """A startup file asks for a mode other than ``eval``."""

    code = "STARTUP_MODE_UNSUPPORTED"
    default_message = "Only startup mode 'eval' is currently supported"


class ModuleNotAllowed(Unprocessable):
    """The module is a JS built-in or not a known native module."""

    code = "MODULE_NOT_ALLOWED"
    default_message = "Module is not allowed for template configuration"


class LibraryNotFound(Unprocessable):
    """The library is not in the catalog (nor added locally)."""

    code = "LIBRARY_NOT_FOUND"
    default_message = "Library not found in the catalog"


class EngineNotSupported(Unprocessable):
    """The template names an engine this daemon does not have."""

    code = "ENGINE_NOT_SUPPORTED"
    default_message = "Engine not supported"


class MemoryBudgetExceeded(Unprocessable):
    """A template's ``limits.mem_mb`` is more than one host's memory budget (the sessions of a
    host share V8's ~4 GiB heap cage)."""

    code = "MEMORY_BUDGET_EXCEEDED"
    default_message = "mem_mb is more than a host's memory budget"


class StartupFailed(Unprocessable):
    """A startup file threw, was missing, or the session could not be initialised."""

    code = "STARTUP_FAILED"
    default_message = "Session startup failed"


class IdempotencyKeyReused(Unprocessable):
    """The ``Idempotency-Key`` was used within 24 h for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"
    default_message = "This Idempotency-Key was already used for a different request"


class ForkPointInvalid(Unprocessable):
    """A fork's ``until_execution_id`` is not an execution of the forked session."""

    code = "INVALID_FORK_POINT"
    default_message = "until_execution_id is not an execution of the session"


class LibraryNotCached(VmError):
    """A configured library is known but not in the local cache."""

    code = "LIBRARY_NOT_CACHED"
    default_message = "Library not cached"


class TooManySessions(VmError):
    """The daemon already has as many live sessions as ``--max-sessions`` allows."""

    code = "TOO_MANY_SESSIONS"
    default_message = "Too many live sessions"


class InternalError(VmError):
    """A real internal fault (never a user mistake)."""

    code = "INTERNAL"
    default_message = "Internal error"


class StoreUnavailable(VmError):
    """The store cannot record results (unreadable or unwritable database): no code runs."""

    code = "STORE_UNAVAILABLE"
    default_message = "The store is unavailable"
