"""The Python end of the prelude's SharedArrayBuffer mailbox (a synchronous JS -> host call).

Layout: four little-endian int32 header words, then UTF-16 code units.
``hdr[0]`` = request units in this chunk (``-1``: JS asks for the next reply chunk),
``hdr[1]`` = reply units in this chunk, ``hdr[2]`` = flags (1: more request chunks follow,
2: more reply chunks follow), ``hdr[3]`` = 1 once a finish call has started (see
:attr:`Mailbox.started`). JS writes a request chunk and rings the bell; :meth:`serve` runs
on the isolate thread while JS waits inside the bell call, and leaves the reply in the buffer.
UTF-16 is used because the engine has no ``TextEncoder`` and copying code units is cheap.
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Callable
from typing import Any

import orjson

from vmsystem.runtime.base import HostError

__all__ = ["Mailbox"]

_HEADER = 16
_MORE_REQUEST = 1
_MORE_REPLY = 2
_log = logging.getLogger(__name__)


class Mailbox:
    """Serves host calls written into a shared buffer by ``hostCall`` (js/prelude/2-bridge.js)."""

    def __init__(self, buffer: memoryview, handler: Callable[[str, Any], Any]) -> None:
        self._mv = buffer.cast("B") if buffer.format != "B" else buffer
        self._capacity = (len(self._mv) - _HEADER) // 2
        self._handler = handler
        self._request: list[bytes] = []
        self._reply = b""

    @property
    def started(self) -> bool:
        """Whether the harness marked the start of its current call (read without a callback)."""
        return bool(struct.unpack_from("<i", self._mv, 12)[0])

    @started.setter
    def started(self, value: bool) -> None:
        struct.pack_into("<i", self._mv, 12, int(value))

    def serve(self) -> None:
        """Handle one bell: take a request chunk, or hand out the next reply chunk."""
        try:
            units, _, flags = struct.unpack_from("<iii", self._mv, 0)
            if units == -1:
                self._send_chunk()
                return
            self._request.append(bytes(self._mv[_HEADER : _HEADER + 2 * units]))
            if flags & _MORE_REQUEST:
                struct.pack_into("<ii", self._mv, 4, 0, 0)
                return
            raw = b"".join(self._request)
            self._request.clear()
            self._reply = self._answer(raw.decode("utf-16-le", "surrogatepass")).encode(
                "utf-16-le", "surrogatepass"
            )
            self._send_chunk()
        except Exception:  # a failure here must not unwind into the engine's thread
            _log.exception("host call failed")
            self._reply = '{"e":"internal error in host call"}'.encode("utf-16-le")
            self._send_chunk()

    def _answer(self, text: str) -> str:
        try:
            op, payload = _loads(text)
            value = self._handler(op, payload)
            return _dumps({"v": value})
        except HostError as exc:
            return _dumps({"e": str(exc), "n": exc.js_name})
        except Exception as exc:  # host functions report failures as JS errors
            return _dumps({"e": f"{type(exc).__name__}: {exc}", "n": "Error"})

    def _send_chunk(self) -> None:
        chunk = self._reply[: 2 * self._capacity]
        self._reply = self._reply[len(chunk) :]
        self._mv[_HEADER : _HEADER + len(chunk)] = chunk
        more = _MORE_REPLY if self._reply else 0
        struct.pack_into("<ii", self._mv, 4, len(chunk) // 2, more)


# orjson rejects lone surrogates both ways (JS strings may hold them, e.g. "\\ud800", and
# JSON.stringify escapes them): the standard library's json takes them, and is used when
# orjson refuses, so that such a host call (or console.log("\\ud800")) does not fail.
def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)
