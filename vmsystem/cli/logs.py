"""The daemon's log format: one JSON object per line.

Each line has ``event`` (the message), ``level``, ``logger`` and ``timestamp`` (ISO 8601, UTC),
then the record's ``extra`` fields (``request_id``, ``session_id``, ``execution_id``...) and,
for a failure, ``exception`` (the formatted traceback). Rendered directly with orjson: the
access log writes a line per request, so it is kept to a few microseconds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = ["JsonLineFormatter"]

#: Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}


class JsonLineFormatter(logging.Formatter):
    """Formats a record as one JSON line (see the module docstring for its keys)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "event": record.getMessage(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat()
            .replace("+00:00", "Z"),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return orjson.dumps(line, default=str).decode()
