"""Identifiers and timestamps."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from vmsystem.core.errors import ValidationError

__all__ = ["new_id", "normalize_id", "utcnow"]


def new_id() -> str:
    """A fresh lower-case canonical UUID v4."""
    return str(uuid.uuid4())


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
