"""Python SDK of the vm-system daemon: :class:`Client` (sync) and :class:`AsyncClient`.

Both cover every route of ``docs/http-api.md``, return the daemon's JSON as typed dicts
(:mod:`vmsystem.client.types`), raise typed errors keyed by the error envelope's ``code``
(:mod:`vmsystem.client.errors`) and follow event streams (SSE) with automatic resume.

This package depends on httpx and the standard library only. :class:`AsyncClient` (and
asyncio with it) is imported on first use, so a synchronous program (the CLI) does not pay
for it.
"""

from typing import TYPE_CHECKING, Any

from . import _httpx  # noqa: F401  (first: httpx without its command-line tool)
from ._base import DEFAULT_SERVER_URL, DEFAULT_TIMEOUT, ENV_AUTH_TOKEN, ENV_SERVER_URL
from ._sse import is_terminal
from ._sync import Client
from .errors import (
    APIError,
    ClientError,
    Conflict,
    CrossSiteRequest,
    DaemonUnavailable,
    DownloadNotFound,
    EngineNotSupported,
    ExecutionNotFound,
    FileNotFound,
    ForkPointInvalid,
    HeadersTooLarge,
    HostNotFound,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InternalError,
    InvalidArchive,
    InvalidHost,
    InvalidPath,
    InvalidRequest,
    LibraryNotCached,
    LibraryNotFound,
    MemoryBudgetExceeded,
    MethodNotAllowed,
    ModuleNotAllowed,
    NotFound,
    OutputLimitExceeded,
    PayloadTooLarge,
    RangeNotSatisfiable,
    RouteNotFound,
    SessionActive,
    SessionBusy,
    SessionNotFound,
    SessionNotReady,
    StartupFailed,
    StartupModeUnsupported,
    StoreUnavailable,
    StreamError,
    TemplateInUse,
    TemplateNotFound,
    TooManySessions,
    TransportError,
    Unauthorized,
    Unprocessable,
    ValidationError,
)

if TYPE_CHECKING:
    from ._async import AsyncClient


def __getattr__(name: str) -> Any:
    if name == "AsyncClient":
        from ._async import AsyncClient

        globals()["AsyncClient"] = AsyncClient
        return AsyncClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_SERVER_URL",
    "DEFAULT_TIMEOUT",
    "ENV_AUTH_TOKEN",
    "ENV_SERVER_URL",
    "APIError",
    "AsyncClient",
    "Client",
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
    "is_terminal",
]
