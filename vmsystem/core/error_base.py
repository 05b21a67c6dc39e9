"""The hand-written part of the core's error tree: the base class and behaviour a table
cannot hold. The classes of every code are generated into ``vmsystem/core/errors.py`` from
``vmsystem/errorcodes.py``; import errors from there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from vmsystem.models import Execution

__all__ = ["CarriesExecution", "VmError"]


class VmError(Exception):
    """Base of every vm-system error: a stable ``code``, a message and JSON details."""

    code: ClassVar[str] = "INTERNAL"
    default_message: ClassVar[str] = "Internal error"

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.message = message or self.default_message
        self.details: dict[str, Any] = {k: v for k, v in details.items() if v is not None}
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The ``error`` object of the API envelope."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class CarriesExecution(VmError):
    """An error raised about a finished execution, which it carries (not sent on the wire).

    ``execution``: the finished execution (None when raised without one)."""

    execution: Execution | None

    def __init__(
        self, message: str | None = None, *, execution: Execution | None = None, **details: Any
    ) -> None:
        super().__init__(message, **details)
        self.execution = execution
