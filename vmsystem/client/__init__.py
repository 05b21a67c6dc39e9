"""Python SDK of the vm-system daemon: :class:`Client` (sync) and :class:`AsyncClient`.

Both cover every route of ``docs/http-api.md``, return the daemon's JSON as typed dicts
(:mod:`vmsystem.client.types`), raise typed errors keyed by the error envelope's ``code``
(:mod:`vmsystem.client.errors`) and follow event streams (SSE) with automatic resume.

This package depends on httpx and the standard library only.
"""

from ._async import AsyncClient
from ._base import DEFAULT_SERVER_URL, DEFAULT_TIMEOUT, ENV_AUTH_TOKEN, ENV_SERVER_URL
from ._sse import is_terminal
from ._sync import Client
from .errors import (
    APIError,
    ClientError,
    Conflict,
    DaemonUnavailable,
    DownloadNotFound,
    EngineNotSupported,
    ExecutionNotFound,
    FileNotFound,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InternalError,
    InvalidPath,
    InvalidRequest,
    LibraryNotCached,
    LibraryNotFound,
    MethodNotAllowed,
    ModuleNotAllowed,
    NotFound,
    OutputLimitExceeded,
    PayloadTooLarge,
    RouteNotFound,
    SessionActive,
    SessionBusy,
    SessionNotFound,
    SessionNotReady,
    StartupFailed,
    StartupModeUnsupported,
    StreamError,
    TemplateInUse,
    TemplateNotFound,
    TransportError,
    Unauthorized,
    Unprocessable,
    ValidationError,
)

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
    "DaemonUnavailable",
    "DownloadNotFound",
    "EngineNotSupported",
    "ExecutionNotFound",
    "FileNotFound",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "InternalError",
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
    "StreamError",
    "TemplateInUse",
    "TemplateNotFound",
    "TransportError",
    "Unauthorized",
    "Unprocessable",
    "ValidationError",
    "is_terminal",
]
