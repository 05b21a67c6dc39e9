"""The daemon's JSON log lines (vmsystem.cli.logs)."""

from __future__ import annotations

import json
import logging
import sys

from vmsystem.cli.logs import JsonLineFormatter


def _record(msg: str, *args: object, exc_info: object = None, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("vmsystem.http", logging.INFO, __file__, 1, msg, args, exc_info)  # type: ignore[arg-type]
    record.__dict__.update(extra)
    return record


def test_a_record_is_one_json_line_with_event_level_logger_timestamp_and_extras() -> None:
    line = JsonLineFormatter().format(
        _record("request %s", "done", request_id="r-1", status=201, duration_ms=0.5)
    )
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["event"] == "request done"
    assert parsed["level"] == "info"
    assert parsed["logger"] == "vmsystem.http"
    assert parsed["timestamp"].endswith("Z") and parsed["timestamp"][10] == "T"
    assert (parsed["request_id"], parsed["status"], parsed["duration_ms"]) == ("r-1", 201, 0.5)
    assert not {"args", "msg", "levelno", "pathname", "created"} & set(parsed)


def test_a_failure_carries_its_traceback_and_odd_extras_become_text() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info(), where={1, 2})
    parsed = json.loads(JsonLineFormatter().format(record))
    assert parsed["exception"].startswith("Traceback") and "ValueError: boom" in parsed["exception"]
    assert parsed["where"] == "{1, 2}"
