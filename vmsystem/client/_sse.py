"""Server-Sent Events: line decoding and the resume bookkeeping shared by both clients.

The transport loops (sync in ``_sync``, async in ``_async``) only move bytes; every decision
(what to request, which events are new, when a stream is over, how long to wait before
reconnecting, when to give up) is made here, once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import httpx

from .errors import DaemonUnavailable, StreamError
from .types import Event

__all__ = [
    "TERMINAL_EVENT_TYPES",
    "TERMINAL_SYSTEM_CODES",
    "EventStream",
    "SSEDecoder",
    "ServerSentEvent",
    "is_terminal",
]

#: Event types that end an execution.
TERMINAL_EVENT_TYPES = frozenset({"value", "exception"})
#: ``system`` event codes that end an execution (limits, cancellation, restart, crash).
TERMINAL_SYSTEM_CODES = frozenset(
    {
        "WALL_TIME_EXCEEDED",
        "CPU_TIME_EXCEEDED",
        "MEMORY_LIMIT_EXCEEDED",
        "OUTPUT_LIMIT_EXCEEDED",
        "CANCELLED",
        "DAEMON_RESTARTED",
        "DAEMON_LOST",
        "SESSION_CRASHED",
    }
)
#: Upper bound of the wait between two reconnection attempts, in seconds.
MAX_RETRY_DELAY = 5.0
#: A connection that stayed up this long counts as progress even without events (an idle
#: stream cut by a proxy is not a failing daemon).
HEALTHY_CONNECTION_S = 30.0


def is_terminal(event: Event) -> bool:
    """Whether ``event`` is the last event of its execution."""
    if event["type"] in TERMINAL_EVENT_TYPES:
        return True
    if event["type"] == "system":
        return event.get("payload", {}).get("code") in TERMINAL_SYSTEM_CODES
    return False


@dataclass
class ServerSentEvent:
    """One dispatched SSE message."""

    event: str
    data: str
    id: str | None
    retry: int | None


class SSEDecoder:
    """Incremental decoder of ``text/event-stream`` lines (line endings already removed)."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Consume one line; return a message when ``line`` is the blank line ending one."""
        if line == "":
            if not self._data and not self._event:
                self._id = None
                self._retry = None
                return None
            message = ServerSentEvent(
                event=self._event or "message",
                data="\n".join(self._data),
                id=self._id,
                retry=self._retry,
            )
            self._event, self._data, self._id, self._retry = "", [], None, None
            return message
        if line.startswith(":"):
            return None  # comment (keep-alive)
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


StreamKind = Literal["execution", "session"]


class EventStream:
    """Bookkeeping of one resumable event subscription.

    It knows the last event seen (``after_seq`` per execution and the last event id), builds
    the request for the next connection attempt, drops replayed duplicates, recognises the
    terminal event of an execution stream and paces reconnections.
    """

    def __init__(
        self,
        kind: StreamKind,
        resource_id: str,
        path: str,
        *,
        after_seq: int,
        max_retries: int,
        backoff: float,
    ) -> None:
        self.kind: StreamKind = kind
        self.resource_id = resource_id
        self.path = path
        self.after_seq = after_seq
        self.last_event_id: str | None = None
        self.finished = False
        self.max_retries = max_retries
        self.backoff = backoff
        self._seen: dict[str, int] = {}
        self._failures = 0
        self._connected = False
        self._connected_at: float | None = None
        self._server_retry_ms: int | None = None
        self._decoder = SSEDecoder()

    # -- requests -----------------------------------------------------------------------
    def params(self) -> dict[str, int]:
        """Query parameters of the next connection attempt."""
        if self.kind == "execution":
            return {"after_seq": self.after_seq}
        return {}  # session streams resume with Last-Event-ID only

    def headers(self) -> dict[str, str]:
        """Headers of the next connection attempt (``Last-Event-ID`` once an event was seen)."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        return headers

    def done(self) -> bool:
        """Whether the terminal event of the execution was seen."""
        return self.finished

    # -- incoming data -------------------------------------------------------------------
    def connected(self) -> None:
        """The daemon accepted a connection (status 200); start a fresh message decoder."""
        self._connected = True
        self._connected_at = time.monotonic()
        self._decoder = SSEDecoder()

    def feed_line(self, line: str) -> Event | None:
        """Consume one line of the stream; return a new event when one is complete."""
        message = self._decoder.feed(line)
        if message is None:
            return None
        if message.retry is not None:
            self._server_retry_ms = message.retry
        if not message.data:
            return None
        try:
            event = cast(Event, json.loads(message.data))
        except ValueError as exc:
            raise StreamError(f"undecodable event on {self.path}: {message.data[:200]!r}") from exc
        return self.accept(event, message.id)

    def accept(self, event: Event | dict[str, Any], event_id: str | None = None) -> Event | None:
        """Record ``event`` (from SSE or from the paged list); ``None`` if it was seen already."""
        ev = cast(Event, event)
        execution_id = str(ev.get("execution_id", ""))
        seq = int(ev.get("seq", 0))
        if self.kind == "execution":
            if seq <= self.after_seq:
                return None
            self.after_seq = seq
        else:
            if seq <= self._seen.get(execution_id, 0):
                return None
            self._seen[execution_id] = seq
        self.last_event_id = event_id or f"{execution_id}:{seq}"
        self._failures = 0  # progress
        if self.kind == "execution" and is_terminal(ev):
            self.finished = True
        return ev

    # -- end of a connection ---------------------------------------------------------------
    def ended(self, resource: Mapping[str, object]) -> bool:
        """After a clean end of stream: is the subscribed resource finished?

        ``resource`` is the execution (execution stream) or the session (session stream),
        fetched after the server closed the stream without a terminal event.
        """
        status = resource.get("status")
        if self.kind == "execution":
            return status != "running"
        return status in ("closed", "crashed")

    def dropped(self, error: Exception | None, base_url: str) -> float:
        """A connection ended early; return the delay before the next attempt, or raise.

        A daemon that cannot be reached on the very first attempt raises
        :class:`DaemonUnavailable` at once; later, after ``max_retries`` attempts in a row
        without a new event, the stream gives up. A connection that stayed up for
        ``HEALTHY_CONNECTION_S`` counts as progress.
        """
        refused = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
        if refused and not self._connected:
            raise DaemonUnavailable(base_url) from error
        if (
            self._connected_at is not None
            and time.monotonic() - self._connected_at >= HEALTHY_CONNECTION_S
        ):
            self._failures = 0
        self._connected_at = None
        self._failures += 1
        if self._failures > self.max_retries:
            if refused:
                raise DaemonUnavailable(base_url) from error
            reason = f": {error}" if error is not None else ""
            raise StreamError(
                f"event stream {self.path} ended {self._failures} times without progress{reason}"
            ) from error
        if self._server_retry_ms is not None and self._failures == 1:
            return min(self._server_retry_ms / 1000.0, MAX_RETRY_DELAY)
        return min(self.backoff * 2.0 ** (self._failures - 1), MAX_RETRY_DELAY)
