"""The cap on live sessions (``--max-sessions``): each one holds a V8 isolate and threads."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar, cast

from vmsystem.core.errors import TooManySessions
from vmsystem.core.registry import RuntimeRegistry

__all__ = ["DEFAULT_MAX_SESSIONS", "SessionCap", "capped"]

#: Live sessions a daemon keeps at most by default.
DEFAULT_MAX_SESSIONS = 1000


class SessionCap:
    """Counts live sessions (registered runtimes plus those being started) against a maximum;
    a start over the maximum raises TOO_MANY_SESSIONS before anything is created."""

    def __init__(self, registry: RuntimeRegistry, maximum: int = DEFAULT_MAX_SESSIONS) -> None:
        if maximum < 1:
            raise ValueError("max_sessions must be at least 1")
        self.registry = registry
        self.maximum = maximum
        self._starting = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one place while a session starts (it is in the registry once ready)."""
        with self._lock:
            live = len(self.registry.ids()) + self._starting
            if live >= self.maximum:
                raise TooManySessions(
                    f"{live} sessions are live, the daemon's maximum (--max-sessions "
                    f"{self.maximum}): close sessions first",
                    max_sessions=self.maximum,
                )
            self._starting += 1
        try:
            yield
        finally:
            with self._lock:
                self._starting -= 1


class _HasCap(Protocol):
    cap: SessionCap | None


F = TypeVar("F", bound=Callable[..., Any])


def capped(create: F) -> F:
    """Decorate ``SessionService.create``: it runs inside a :meth:`SessionCap.slot`."""

    @functools.wraps(create)
    def wrapper(self: _HasCap, *args: Any, **kwargs: Any) -> Any:
        if self.cap is None:
            return create(self, *args, **kwargs)
        with self.cap.slot():
            return create(self, *args, **kwargs)

    return cast(F, wrapper)
