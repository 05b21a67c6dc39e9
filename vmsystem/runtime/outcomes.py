"""How the end of a run becomes an :class:`Outcome`: the type of the script's result, the
finish call's report, and any stop that was requested while it ran."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from vmsystem.runtime.base import Outcome, OutcomeKind
from vmsystem.runtime.exceptions import parse_exception
from vmsystem.runtime.native import ERROR_TYPES, MrTypes

__all__ = ["outcome_of"]

_REASON_MESSAGES = {
    OutcomeKind.WALL_TIMEOUT: "wall-time limit exceeded",
    OutcomeKind.CPU_TIMEOUT: "CPU-time limit exceeded",
    OutcomeKind.CANCELLED: "execution cancelled",
}


def outcome_of(
    result_type: int,
    result_text: Callable[[], str],
    report: dict[str, Any],
    *,
    console_events: int,
    stop: tuple[OutcomeKind | None, str],
    filename: str | None,
    mem_mb: int,
) -> Outcome:
    """The outcome of a run whose script result has type ``result_type`` (its text, for an
    exception, from ``result_text``) and whose finish call reported ``report``; ``stop`` is the
    stop reason requested during the run (if any) and its message."""
    stats = report.get("stats")
    if not isinstance(stats, dict):
        stats = {}
    outcome = Outcome(
        OutcomeKind.OK,
        console_events=console_events,
        output_bytes=_int(stats.get("bytes")),
    )
    reason, message = stop
    value = report.get("value")
    if reason is not None:
        if reason == OutcomeKind.MEMORY and not message:
            message = f"memory limit exceeded: V8 heap over {mem_mb} MB"
        return replace(outcome, kind=reason, message=message or _REASON_MESSAGES.get(reason, ""))
    if result_type == MrTypes.oom_exception:
        return replace(
            outcome,
            kind=OutcomeKind.MEMORY,
            message=f"memory limit exceeded: V8 heap over {mem_mb} MB",
        )
    if result_type in (MrTypes.terminated_exception, MrTypes.timeout_exception):
        return replace(outcome, kind=OutcomeKind.CANCELLED, message="execution terminated")
    if result_type in ERROR_TYPES:
        text = result_text()
        if result_type == MrTypes.parse_exception and filename:
            # A syntax error stops V8 before it reads the trailing sourceURL comment, so its
            # location says <anonymous> instead of the file being run.
            head, sep, rest = text.partition("\n")
            text = head.replace("<anonymous>:", f"{filename}:", 1) + sep + rest
        exception = parse_exception(text, result_type == MrTypes.parse_exception)
        thrown = report.get("thrown")
        if isinstance(thrown, dict) and _same_error(thrown, exception):
            # The value of a top-level `throw` that escaped, formatted by the prelude (a
            # non-Error has no stack of its own: the location V8 reported stays).
            located = exception.get("stack")
            exception = _error_payload(thrown)
            if located is not None and "stack" not in exception:
                exception["stack"] = located
        return replace(outcome, kind=OutcomeKind.EXCEPTION, exception=exception)
    if isinstance(report.get("error"), dict):
        # A rejected top-level await, an uncaught exception in a timer callback, or an
        # unhandled promise rejection (``unhandled``).
        exception = _error_payload(report["error"])
        return replace(outcome, kind=OutcomeKind.EXCEPTION, exception=exception)
    if result_type == MrTypes.invalid:
        # mini-racer cannot marshal a BigInt completion value (the only value it leaves
        # untyped), so the finish call never sees it: only the type is known. The REPL
        # transform hands the prelude the value of a last expression statement, so this is
        # left for BigInts produced otherwise (the last statement is an if, a block...).
        hint = "[BigInt: use String(value) to see it]"
        return replace(outcome, value={"type": "bigint", "preview": hint, "inspect": hint})
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return replace(outcome, value=value)
    return replace(
        outcome,
        kind=OutcomeKind.EXCEPTION,
        exception={
            "name": "Error",
            "message": "the runtime could not report the result (were built-ins such as "
            "JSON.stringify replaced?)",
        },
    )


def _same_error(thrown: dict[str, Any], exception: dict[str, Any]) -> bool:
    """Whether the exception V8 reported is the value a top-level ``throw`` handed over (and not
    one thrown later, after that one was caught)."""
    return thrown.get("name") == exception.get("name") and thrown.get("message") == exception.get(
        "message"
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _error_payload(error: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": str(error.get("name") or "Error"),
        "message": str(error.get("message") or ""),
    }
    for key in ("inspect", "stack"):
        if isinstance(error.get(key), str):
            payload[key] = error[key]
    if isinstance(error.get("props"), dict):
        payload["props"] = {str(k): str(v) for k, v in error["props"].items()}
    if error.get("unhandled") is True:
        payload["unhandled"] = True
        result = error.get("result")
        if isinstance(result, dict) and isinstance(result.get("type"), str):
            # The input's own result: the rejection surfaced after its last line.
            payload["result"] = result
    return payload
