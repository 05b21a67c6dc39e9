"""The hand-written part of the SDK's errors: the errors that are not envelope codes, the
base of those that are, and behaviour a table cannot hold. The classes of every code are
generated into ``vmsystem/client/errors.py`` from ``vmsystem/errorcodes.py``; import errors
from there (or from ``vmsystem.client``)."""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "APIError",
    "ClientError",
    "DaemonUnavailable",
    "NamesExecution",
    "StreamError",
    "TransportError",
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


class NamesExecution(APIError):
    """An error whose ``details`` may name an execution (``execution_id``)."""

    @property
    def execution_id(self) -> str | None:
        """The execution the error is about, when the daemon named it."""
        value = self.details.get("execution_id")
        return value if isinstance(value, str) else None
