"""The daemon's HTTP/1.1 protocol (``vm-system serve``): uvicorn's httptools protocol with
the read bounds uvicorn lacks.

- A request whose head and body have not fully arrived ``read_timeout`` seconds after the
  connection opened or the request's first byte is dropped: uvicorn itself times out only
  idle keep-alive connections, so half a request held open (slowloris) would keep a
  connection forever.
- A request head (request line and header fields) larger than ``max_head_bytes``, or with
  more than ``max_header_count`` fields, is answered 431 ``HEADERS_TOO_LARGE`` and the
  connection closed as soon as the limit is crossed: the parser buffers a header field whole
  before handing it on, so without this one endless header is read into memory (and parsed
  on the event loop) before any ASGI code, authentication included, could see it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from vmsystem.core.errors import HeadersTooLarge

__all__ = ["http_protocol", "too_large_answer"]


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a head over the limits."""


def too_large_answer(max_head_bytes: int, max_header_count: int) -> bytes:
    """The complete HTTP response refusing a head over the limits (the connection closes)."""
    error = HeadersTooLarge(
        f"request head is larger than {max_head_bytes} bytes or has more than "
        f"{max_header_count} header fields",
        max_header_bytes=max_head_bytes,
        max_header_count=max_header_count,
    )
    body = orjson.dumps({"error": error.to_dict()})
    return (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


def http_protocol(*, read_timeout: float, max_head_bytes: int, max_header_count: int) -> type[Any]:
    """uvicorn's ``http`` protocol class with the read timeout and head limits above."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    refusal = too_large_answer(max_head_bytes, max_header_count)

    class Protocol(HttpToolsProtocol):
        _read_timer: asyncio.TimerHandle | None = None
        #: Bytes received since the current request's head began (None once it is complete).
        _head_bytes: int | None = 0
        _refused = False

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self._read_timer is None and (self.cycle is None or self.cycle.response_complete):
                self._arm()  # the first byte of the next request on a kept-alive connection
            if self._head_bytes is not None:
                self._head_bytes += len(data)
            super().data_received(data)
            # Still inside the head after this chunk: every byte counted belongs to it.
            if not self._refused and (self._head_bytes or 0) > max_head_bytes:
                self._refuse()

        def on_header(self, name: bytes, value: bytes) -> None:
            if len(self.headers) >= max_header_count:
                self._refused = True
                raise _Refused
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
            self._head_bytes = None
            if size > max_head_bytes:
                self._refused = True
                raise _Refused
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._disarm()
            self._head_bytes = 0
            super().on_message_complete()

        def send_400_response(self, msg: str) -> None:
            # The parser reports an exception from a callback as a parse error.
            if self._refused:
                self._refuse()
            else:
                super().send_400_response(msg)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _refuse(self) -> None:
            self._refused = True
            self._disarm()
            if not self.transport.is_closing():
                self.transport.write(refusal)
                self.transport.close()

        def _arm(self) -> None:
            self._disarm()
            self._read_timer = self.loop.call_later(read_timeout, self._expired)

        def _disarm(self) -> None:
            if self._read_timer is not None:
                self._read_timer.cancel()
                self._read_timer = None

        def _expired(self) -> None:
            self._read_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return Protocol
