"""The channel between the daemon and a host process: length-prefixed JSON frames.

A frame is a 4-byte big-endian length and that many bytes of JSON (orjson): one message of
:mod:`vmsystem.hosts.wire` (its ``op`` and fields, through the wire's one codec). A frame that
is not a message of the protocol is a :class:`~vmsystem.hosts.wire.WireError`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from typing import Any

import orjson

from vmsystem.hosts.wire import Message, decode, encode

__all__ = ["MAX_FRAME_BYTES", "Channel", "ChannelClosed"]

#: The largest frame either side accepts (a run's code, a value, a console batch).
MAX_FRAME_BYTES = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")


class ChannelClosed(Exception):
    """The other side closed the channel (or it broke)."""


def _encode(message: dict[str, Any]) -> bytes:
    try:
        body = orjson.dumps(message)
    except TypeError:
        # orjson refuses integers beyond 64 bits and lone surrogates; the standard library
        # takes both (escaping the surrogates).
        body = json.dumps(message, default=str).encode()
    return _HEADER.pack(len(body)) + body


def _decode(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        # orjson refuses an escaped lone surrogate (a JavaScript string may hold one, and
        # _encode's fallback escapes it); the standard library takes it.
        return json.loads(body)


class Channel:
    """Frames over a connected stream socket: whole-message sends (thread-safe) and reads
    (from one thread)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._send_lock = threading.Lock()
        self._buffer = bytearray()

    def send(self, message: Message) -> None:
        """Send one message; ChannelClosed if the other side is gone."""
        frame = _encode(encode(message))
        try:
            with self._send_lock:
                self.sock.sendall(frame)
        except OSError as exc:
            raise ChannelClosed(str(exc)) from exc

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            try:
                chunk = self.sock.recv(max(size - len(self._buffer), 1 << 16))
            except OSError as exc:
                raise ChannelClosed(str(exc)) from exc
            if not chunk:
                raise ChannelClosed("end of stream")
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def receive(self) -> Message:
        """The next message (blocks); ChannelClosed at the end of the stream, WireError for a
        frame that is not a message of the protocol."""
        (size,) = _HEADER.unpack(self._read_exactly(_HEADER.size))
        if size > MAX_FRAME_BYTES:
            raise ChannelClosed(f"frame of {size} bytes exceeds {MAX_FRAME_BYTES}")
        return decode(_decode(self._read_exactly(size)))

    def close(self) -> None:
        """Close the socket (idempotent)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
