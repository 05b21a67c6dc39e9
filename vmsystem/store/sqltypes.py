"""Column types: aware-UTC timestamps and JSON-as-text, identical on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Dialect, Text
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.types import TypeDecorator, TypeEngine

from vmsystem.store import jsontext

__all__ = ["JsonText", "UtcDateTime", "from_micros", "to_micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (naive ones are refused)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the store only accepts aware datetimes")
    return (value - _EPOCH) // _MICROSECOND


def from_micros(value: int) -> datetime:
    """The aware UTC datetime of a count of microseconds since the Unix epoch."""
    return _EPOCH + timedelta(microseconds=value)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp with microsecond precision.

    SQLite stores integer microseconds since the epoch (exact, compact, orderable);
    PostgreSQL stores ``timestamptz``. Values read back are always aware UTC datetimes.
    """

    impl = BigInteger
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """``timestamptz`` on PostgreSQL, ``BIGINT`` (microseconds) elsewhere."""
        if dialect.name == "postgresql":
            return dialect.type_descriptor(TIMESTAMP(timezone=True))
        return dialect.type_descriptor(BigInteger())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        """Aware datetime -> backend value."""
        if value is None:
            return None
        if dialect.name == "postgresql":
            to_micros(value)  # refuses naive datetimes
            return value
        return to_micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Backend value -> aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return from_micros(int(value))


class JsonText(TypeDecorator[Any]):
    """A JSON value stored as text (``NULL`` for ``None``), see :mod:`.jsontext`."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """Python value -> JSON text."""
        if value is None:
            return None
        return jsontext.dumps(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        """JSON text -> Python value."""
        if value is None:
            return None
        return jsontext.loads(value)
