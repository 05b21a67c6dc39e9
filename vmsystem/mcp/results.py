"""What ``run_js`` and ``run_file`` answer: the outcome of one execution, as structured JSON
and as text a model reads at a glance."""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import BaseModel, Field

from vmsystem.mcp.backend import Json

__all__ = [
    "MAX_CONSOLE_CHARS",
    "MAX_CONSOLE_LINES",
    "ConsoleCollector",
    "ConsoleLine",
    "Display",
    "Image",
    "RunResult",
    "run_result",
    "run_text",
]

#: Console lines kept in a tool result; the rest stay readable with ``get_events``.
MAX_CONSOLE_LINES = 200
#: ... and at most this many characters of them.
MAX_CONSOLE_CHARS = 32_000

#: Images (from display() bundles and a result's bundle) returned as image content, at most.
MAX_IMAGES = 8
#: ... each of at most this many base64 characters.
MAX_IMAGE_CHARS = 2_000_000
#: The MIME types returned as image content (PNG and JPEG data is base64 already).
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/svg+xml")
#: An image for the tool result's content: (MIME type, base64 data).
Image = tuple[str, str]

#: Why an execution stopped, for a reader who only sees the text.
_STOP_NOTES = {
    "WALL_TIME_EXCEEDED": "the template's wall-time limit (wall_ms) stopped it",
    "CPU_TIME_EXCEEDED": "the template's CPU-time limit (cpu_ms) stopped it",
    "MEMORY_LIMIT_EXCEEDED": "the template's memory limit stopped it",
    "OUTPUT_LIMIT_EXCEEDED": "the template's output limit (max_events) stopped it",
    "CANCELLED": "it was cancelled",
}


class ConsoleLine(BaseModel):
    """One console line of the run."""

    level: str = Field(description="log, info, warn, error or debug")
    text: str


class Display(BaseModel):
    """One display() output of the run (a MIME bundle)."""

    text: str = Field(description="Its text/plain form")
    mime_types: list[str] = Field(description="The MIME types of the bundle")


class RunResult(BaseModel):
    """The outcome of one execution."""

    execution_id: str
    session_id: str
    kind: str = Field(description="repl or run_file")
    status: str = Field(description="ok, error (JS exception or limit), timeout or cancelled")
    value: dict[str, Any] | None = Field(
        description="On ok: {type, preview, json?, inspect?}: preview is String(value), json "
        "its JSON form where one exists, inspect a util.inspect-like rendering when present."
    )
    console: list[ConsoleLine] = Field(description="Console output, in order (capped).")
    console_omitted: int = Field(
        description="Console lines left out of `console` (read them with get_events)."
    )
    displays: list[Display] = Field(
        default_factory=list,
        description="display() outputs, in order (capped); images also come as image content.",
    )
    error: dict[str, Any] | None = Field(
        description="Otherwise: {name, message, stack?} for a JS exception, or {code, message} "
        "when vm-system stopped the run (WALL_TIME_EXCEEDED, CPU_TIME_EXCEEDED, "
        "MEMORY_LIMIT_EXCEEDED, OUTPUT_LIMIT_EXCEEDED, CANCELLED, SESSION_CRASHED)."
    )
    metrics: dict[str, Any] = Field(description="duration_ms, cpu_ms, event_count, output_bytes")


class ConsoleCollector:
    """Keeps the first console lines and display() outputs of a run, within the caps."""

    def __init__(self) -> None:
        self.lines: list[ConsoleLine] = []
        self.displays: list[Display] = []
        self.images: list[Image] = []
        self.omitted = 0
        self._chars = 0

    def add(self, event: Json) -> None:
        """Take a ``console`` or ``display`` event (other events are ignored)."""
        payload = event.get("payload") or {}
        if event.get("type") == "display":
            self.add_bundle(payload.get("data") or {})
            return
        if event.get("type") != "console":
            return
        text = str(payload.get("text", ""))
        if len(self.lines) >= MAX_CONSOLE_LINES or self._chars + len(text) > MAX_CONSOLE_CHARS:
            self.omitted += 1
            return
        self._chars += len(text)
        self.lines.append(ConsoleLine(level=str(payload.get("level", "log")), text=text))

    def add_bundle(self, bundle: dict[str, Any], *, listed: bool = True) -> None:
        """Take a MIME bundle: listed in ``displays``, its image (if any) kept for content."""
        text = str(bundle.get("text/plain", ""))
        if listed and len(self.displays) < MAX_CONSOLE_LINES:
            self.displays.append(Display(text=text, mime_types=sorted(bundle)))
        for mime in _IMAGE_TYPES:
            data = bundle.get(mime)
            if not isinstance(data, str) or len(self.images) >= MAX_IMAGES:
                continue
            if mime == "image/svg+xml":
                data = base64.b64encode(data.encode()).decode()
            if len(data) <= MAX_IMAGE_CHARS:
                self.images.append((mime, data))
            break


def run_result(execution: Json, console: ConsoleCollector) -> RunResult:
    """The tool result of a finished execution."""
    return RunResult(
        execution_id=execution["id"],
        session_id=execution["session_id"],
        kind=execution["kind"],
        status=execution["status"],
        value=execution.get("result"),
        console=console.lines,
        console_omitted=console.omitted,
        displays=console.displays,
        error=execution.get("error"),
        metrics=execution.get("metrics") or {},
    )


def describe_value(value: dict[str, Any]) -> list[str]:
    """Text lines for a value payload."""
    lines = [f"value ({value.get('type', '?')}): {value.get('preview', '')}"]
    if "json" in value:
        rendered = json.dumps(value["json"], ensure_ascii=False)
        if rendered != value.get("preview"):
            lines.append(f"json: {rendered}")
    if value.get("inspect"):
        lines.append(f"inspect: {value['inspect']}")
    return lines


def describe_error(error: dict[str, Any]) -> list[str]:
    """Text lines for an execution's error."""
    if "code" in error:
        code = str(error["code"])
        lines = [f"stopped: {code}: {error.get('message', '')}"]
        if code == "SESSION_CRASHED":
            lines.append("The session's runtime was lost: start a new session.")
        else:
            note = _STOP_NOTES.get(code, "vm-system stopped it")
            lines.append(f"({note}; the session is still ready and keeps its state)")
        return lines
    head = f"{error.get('name', 'Error')}: {error.get('message', '')}"
    stack = str(error.get("stack") or "")
    if stack.startswith(head):
        return [f"uncaught {stack}"]
    return [f"uncaught {head}", *([stack] if stack else [])]


def run_text(result: RunResult) -> str:
    """The result as text: status line, console, then the value or the error."""
    duration = result.metrics.get("duration_ms")
    took = f" in {duration} ms" if duration is not None else ""
    lines = [f"status: {result.status}{took} (execution {result.execution_id})"]
    if result.console:
        lines.append("console:")
        for line in result.console:
            prefix = "" if line.level == "log" else f"[{line.level}] "
            lines.append(f"  {prefix}{line.text}")
    if result.console_omitted:
        lines.append(f"  ... {result.console_omitted} more console lines (see get_events)")
    for display in result.displays:
        lines.append(f"display ({', '.join(display.mime_types)}): {display.text}")
    if result.value is not None:
        lines.extend(describe_value(result.value))
    if result.error is not None:
        lines.extend(describe_error(result.error))
    return "\n".join(lines)
