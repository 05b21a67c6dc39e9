"""Errors raised by the vm-system SDK.

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
        │   ├── ExecutionNotFound      EXECUTION_NOT_FOUND (404)
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
        │   ├── StartupFailed          STARTUP_FAILED (422)
        │   ├── IdempotencyKeyReused   IDEMPOTENCY_KEY_REUSED (422)
        │   └── ForkPointInvalid       INVALID_FORK_POINT (422)
        ├── LibraryNotCached           LIBRARY_NOT_CACHED (424)
        ├── TooManySessions            TOO_MANY_SESSIONS (429)
        ├── InternalError              INTERNAL (500)
        └── StoreUnavailable           STORE_UNAVAILABLE (503)

An unknown code gives a plain :class:`APIError` carrying that code; an error body that is not
an envelope gives an :class:`APIError` with only ``status`` set (``code`` is ``None``).
"""

from __future__ import annotations

from typing import Any, ClassVar

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
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "InternalError",
    "InvalidHost",
    "InvalidPath",
    "InvalidRequest",
    "LibraryNotCached",
    "LibraryNotFound",
    "MethodNotAllowed",
    "ModuleNotAllowed",
    "NotFound",
    "OutputLimitExceeded",
    "PayloadTooLarge",
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


class ClientError(Exception):
    """Base of every error the SDK raises."""


class TransportError(ClientError):
    """The request got no HTTP answer (connection reset, read timeout, protocol error)."""

    def __init__(self, message: str, url: str | None = None) -> None:
        self.url = url
        super().__init__(message)


class DaemonUnavailable(TransportError):
    """No daemon accepts connections at the client's base URL."""

    def __init__(self, url: str) -> None:
        super().__init__(f"no vm-system daemon at {url}: start one with `vm-system serve`", url)


class StreamError(ClientError):
    """An event stream ended without its terminal event and could not be resumed."""


class APIError(ClientError):
    """The daemon answered with an error status.

    Attributes:
        status: the HTTP status code.
        code: the envelope's ``code`` (``None`` when the body was not an error envelope).
        message: the envelope's ``message`` (empty when there was none).
        details: the envelope's ``details`` (``{}`` when absent).
    """

    #: The code this class stands for (``None`` on :class:`APIError` and on groupings).
    error_code: ClassVar[str | None] = None

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(str(self))

    def __str__(self) -> str:
        """The one-line form the CLI prints: ``api error (status=S, code=C): message``."""
        if self.code is None:
            return f"api error (status={self.status})"
        return f"api error (status={self.status}, code={self.code}): {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, details={self.details!r})"
        )


class InvalidRequest(APIError):
    """400 INVALID_REQUEST: undecodable body, unknown or mistyped fields."""

    error_code = "INVALID_REQUEST"


class InvalidHost(InvalidRequest):
    """400 INVALID_HOST: the ``Host`` is not one the daemon serves (see ``--allowed-host``)."""

    error_code = "INVALID_HOST"


class ValidationError(APIError):
    """400 VALIDATION_ERROR: a required field is missing or empty, or a value is malformed."""

    error_code = "VALIDATION_ERROR"


class Unauthorized(APIError):
    """401 UNAUTHORIZED: the daemon needs a bearer token (``token=`` / ``VMSYSTEM_AUTH_TOKEN``)."""

    error_code = "UNAUTHORIZED"


class CrossSiteRequest(APIError):
    """403 CROSS_SITE_REQUEST: a state-changing request without JSON, ``X-Requested-With``
    or an allowed ``Origin`` (the SDK always sends ``X-Requested-With``)."""

    error_code = "CROSS_SITE_REQUEST"


class NotFound(APIError):
    """Grouping of the 404 errors."""


class TemplateNotFound(NotFound):
    """404 TEMPLATE_NOT_FOUND."""

    error_code = "TEMPLATE_NOT_FOUND"


class SessionNotFound(NotFound):
    """404 SESSION_NOT_FOUND."""

    error_code = "SESSION_NOT_FOUND"


class ExecutionNotFound(NotFound):
    """404 EXECUTION_NOT_FOUND."""

    error_code = "EXECUTION_NOT_FOUND"


class DownloadNotFound(NotFound):
    """404 DOWNLOAD_NOT_FOUND: the library download job does not exist."""

    error_code = "DOWNLOAD_NOT_FOUND"


class FileNotFound(NotFound):
    """404 FILE_NOT_FOUND: the file to run does not exist in the worktree."""

    error_code = "FILE_NOT_FOUND"


class RouteNotFound(NotFound):
    """404 ROUTE_NOT_FOUND: no such route (often a daemon of another version)."""

    error_code = "ROUTE_NOT_FOUND"


class MethodNotAllowed(APIError):
    """405 METHOD_NOT_ALLOWED."""

    error_code = "METHOD_NOT_ALLOWED"


class Conflict(APIError):
    """409 CONFLICT (for example a duplicate template name); parent of the other 409s."""

    error_code = "CONFLICT"


class SessionNotReady(Conflict):
    """409 SESSION_NOT_READY: the session is closed, crashed or still starting."""

    error_code = "SESSION_NOT_READY"


class SessionBusy(Conflict):
    """409 SESSION_BUSY: the session is already running an execution."""

    error_code = "SESSION_BUSY"

    @property
    def execution_id(self) -> str | None:
        """The execution the session is running, when the daemon named it."""
        value = self.details.get("execution_id")
        return value if isinstance(value, str) else None


class SessionActive(Conflict):
    """409 SESSION_ACTIVE: purging a session that is starting or ready (close it first)."""

    error_code = "SESSION_ACTIVE"


class TemplateInUse(Conflict):
    """409 TEMPLATE_IN_USE: the template still has starting or ready sessions."""

    error_code = "TEMPLATE_IN_USE"


class IdempotencyInProgress(Conflict):
    """409 IDEMPOTENCY_IN_PROGRESS: a request with the same ``Idempotency-Key`` is still being
    carried out (retry later, or send ``Prefer: wait=N`` to wait for its result)."""

    error_code = "IDEMPOTENCY_IN_PROGRESS"


class HeadersTooLarge(APIError):
    """431 HEADERS_TOO_LARGE: the request line and headers are over the daemon's limits."""

    error_code = "HEADERS_TOO_LARGE"


class RangeNotSatisfiable(APIError):
    """416 RANGE_NOT_SATISFIABLE: the ``Range`` starts past the end of the file."""

    error_code = "RANGE_NOT_SATISFIABLE"


class PayloadTooLarge(APIError):
    """413 PAYLOAD_TOO_LARGE."""

    error_code = "PAYLOAD_TOO_LARGE"


class Unprocessable(APIError):
    """Grouping of the 422 errors."""


class InvalidPath(Unprocessable):
    """422 INVALID_PATH: absolute, ``..`` or symlink escape, or a directory."""

    error_code = "INVALID_PATH"


class InvalidArchive(Unprocessable):
    """422 INVALID_ARCHIVE: a damaged archive or a refused member; nothing was written."""

    error_code = "INVALID_ARCHIVE"


class OutputLimitExceeded(Unprocessable):
    """422 OUTPUT_LIMIT_EXCEEDED; ``details["execution_id"]`` names the stored execution."""

    error_code = "OUTPUT_LIMIT_EXCEEDED"

    @property
    def execution_id(self) -> str | None:
        """The execution that hit the limit, when the daemon named it."""
        value = self.details.get("execution_id")
        return value if isinstance(value, str) else None


class StartupModeUnsupported(Unprocessable):
    """422 STARTUP_MODE_UNSUPPORTED: only ``eval`` startup files exist."""

    error_code = "STARTUP_MODE_UNSUPPORTED"


class ModuleNotAllowed(Unprocessable):
    """422 MODULE_NOT_ALLOWED: a JS built-in or an unknown native module."""

    error_code = "MODULE_NOT_ALLOWED"


class LibraryNotFound(Unprocessable):
    """422 LIBRARY_NOT_FOUND: the library is not in the catalog."""

    error_code = "LIBRARY_NOT_FOUND"


class EngineNotSupported(Unprocessable):
    """422 ENGINE_NOT_SUPPORTED."""

    error_code = "ENGINE_NOT_SUPPORTED"


class StartupFailed(Unprocessable):
    """422 STARTUP_FAILED: a startup file threw or the session could not be initialised."""

    error_code = "STARTUP_FAILED"


class IdempotencyKeyReused(Unprocessable):
    """422 IDEMPOTENCY_KEY_REUSED: the ``Idempotency-Key`` was used for a different request."""

    error_code = "IDEMPOTENCY_KEY_REUSED"


class ForkPointInvalid(Unprocessable):
    """422 INVALID_FORK_POINT: ``until_execution_id`` is not an execution of the session."""

    error_code = "INVALID_FORK_POINT"


class LibraryNotCached(APIError):
    """424 LIBRARY_NOT_CACHED: run ``vm-system libs download`` (the message names the fix)."""

    error_code = "LIBRARY_NOT_CACHED"


class TooManySessions(APIError):
    """429 TOO_MANY_SESSIONS: the daemon's ``--max-sessions`` live sessions exist already."""

    error_code = "TOO_MANY_SESSIONS"


class InternalError(APIError):
    """500 INTERNAL: a fault inside the daemon."""

    error_code = "INTERNAL"


class StoreUnavailable(APIError):
    """503 STORE_UNAVAILABLE: the daemon's database cannot record results; no code ran."""

    error_code = "STORE_UNAVAILABLE"


def _subclasses(cls: type[APIError]) -> list[type[APIError]]:
    out: list[type[APIError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


#: The error class for each envelope code.
ERRORS_BY_CODE: dict[str, type[APIError]] = {
    cls.error_code: cls for cls in _subclasses(APIError) if cls.error_code is not None
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
