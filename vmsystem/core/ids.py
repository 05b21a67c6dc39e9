"""Identifiers and timestamps."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime

from vmsystem.core.errors import ValidationError

__all__ = ["new_id", "normalize_id", "utcnow"]


#: Random bytes read at a time: one ``getrandom`` call per this many ids, not one per id.
_POOL_BYTES = 16 * 256
_pool = b""
_offset = 0
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """A forked child must not hand out its parent's remaining bytes again."""
    global _pool, _offset
    _pool, _offset = b"", 0


os.register_at_fork(after_in_child=_forget_pool)


def new_id() -> str:
    """A fresh lower-case canonical UUID v4 (from the OS's CSPRNG, read in blocks)."""
    global _pool, _offset
    with _pool_lock:
        if _offset >= len(_pool):
            _pool, _offset = os.urandom(_POOL_BYTES), 0
        raw = _pool[_offset : _offset + 16]
        _offset += 16
    return str(uuid.UUID(bytes=raw, version=4))


def normalize_id(value: str | None, field: str) -> str:
    """Accept any UUID spelling (upper case, braces, ``urn:uuid:``, no hyphens); return the
    canonical lower-case form, or raise ``VALIDATION_ERROR`` naming ``field``."""
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"{field} is required")
    try:
        # lower(): the ``urn:uuid:`` prefix is case-insensitive (RFC 4122), uuid.UUID's is not.
        return str(uuid.UUID(text.lower()))
    except ValueError:
        raise ValidationError(f"{field} must be a valid UUID", **{field: text}) from None


def utcnow() -> datetime:
    """Now, in UTC, truncated to milliseconds (the precision the API shows)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
