"""Session exports: a whole history as a Jupyter notebook (``ipynb``), a Markdown transcript
(``md``) or JSON Lines (``jsonl``, one execution and its events a line).

Executions are read page by page oldest first and their events page by page, so ``md`` and
``jsonl`` stream a history of any size; ``ipynb`` is built in memory, capped at
:data:`~vmsystem.core.notebooks.MAX_NOTEBOOK_CELLS` executions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from vmsystem.core.errors import ValidationError
from vmsystem.core.executions import ExecutionService
from vmsystem.core.notebooks import NotebookService
from vmsystem.core.sessions import SessionService
from vmsystem.models import Event, EventType, Execution, Session
from vmsystem.store import jsontext

__all__ = ["EXPORT_FORMATS", "Export", "ExportService"]

#: format -> media type.
EXPORT_FORMATS: dict[str, str] = {
    "ipynb": "application/x-ipynb+json",
    "md": "text/markdown; charset=utf-8",
    "jsonl": "application/x-ndjson",
}

#: How an execution or an event is rendered in ``jsonl`` (the API passes its wire form).
Render = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class Export:
    """An export ready to send: its file name, media type and content, chunk by chunk."""

    filename: str
    media_type: str
    chunks: Iterator[bytes]


def _iso(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fence(text: str, lang: str = "") -> str:
    """``text`` in a code fence longer than any backtick run inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{ticks}{lang}\n{body}{ticks}\n"


def _default_render(record: Any) -> dict[str, Any]:
    """The JSON form of an execution or event when the caller gives none (the API passes
    its own wire form, which this mirrors)."""
    if isinstance(record, Event):
        return {
            "execution_id": record.execution_id,
            "seq": record.seq,
            "ts": _iso(record.ts),
            "type": record.type.value,
            "payload": record.payload,
        }
    return {
        "id": record.id,
        "session_id": record.session_id,
        "kind": record.kind.value,
        "input": record.input,
        "path": record.path,
        "args": record.args,
        "env": record.env,
        "status": record.status.value,
        "started_at": _iso(record.started_at),
        "ended_at": _iso(record.ended_at) if record.ended_at else None,
        "result": record.result,
        "error": record.error,
        "metrics": record.metrics,
    }


class ExportService:
    """Export a session's history in one of :data:`EXPORT_FORMATS`."""

    def __init__(
        self,
        sessions: SessionService,
        executions: ExecutionService,
        notebooks: NotebookService,
    ) -> None:
        self._sessions = sessions
        self._executions = executions
        self._notebooks = notebooks

    def export(
        self,
        session_id: str,
        format: str,
        *,
        render_execution: Render = _default_render,
        render_event: Render = _default_render,
    ) -> Export:
        """The export of a session: VALIDATION_ERROR for an unknown format and
        SESSION_NOT_FOUND are raised here, before any chunk is produced.

        ``render_execution``/``render_event``: the JSON form of each record in ``jsonl``."""
        if format not in EXPORT_FORMATS:
            raise ValidationError(
                f"format must be one of {', '.join(EXPORT_FORMATS)}", format=format
            )
        session = self._sessions.get(session_id)
        filename = f"session-{session.id}.{format}"
        chunks: Iterator[bytes]
        if format == "ipynb":
            nb = self._notebooks.notebook(session.id)
            chunks = iter([_indented_json(nb) + b"\n"])
        elif format == "md":
            chunks = self._markdown(session)
        else:
            chunks = self._jsonl(session, render_execution, render_event)
        return Export(filename, EXPORT_FORMATS[format], chunks)

    def _jsonl(self, session: Session, render_x: Render, render_e: Render) -> Iterator[bytes]:
        for execution in self._executions.history(session.id):
            line = render_x(execution)
            line["events"] = [render_e(e) for e in self._executions.all_events(execution.id)]
            yield jsontext.dumps(line).encode() + b"\n"

    def _markdown(self, session: Session) -> Iterator[bytes]:
        yield (
            f"# Session {session.id}\n\n"
            f"- template: {session.template_id}\n"
            f"- worktree: {session.worktree_path}\n"
            f"- status: {session.status.value}\n"
            f"- created: {_iso(session.created_at)}\n\n"
        ).encode("utf-8", "backslashreplace")
        for number, execution in enumerate(self._executions.history(session.id), 1):
            # A lone surrogate (a JavaScript string may hold one) is written as \udXXX.
            yield _markdown_execution(
                number, execution, self._executions.all_events(execution.id)
            ).encode("utf-8", "backslashreplace")


def _indented_json(value: Any) -> bytes:
    """JSON of ``value`` indented by two; a lone surrogate as its ``\\udXXX`` escape."""
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2)
    except orjson.JSONEncodeError:
        return json.dumps(value, indent=2).encode()


def _markdown_execution(number: int, execution: Execution, events: Iterator[Event]) -> str:
    duration = execution.metrics.get("duration_ms")
    took = f" · {duration} ms" if duration is not None else ""
    what = execution.kind.value + (f" `{execution.path}`" if execution.path else "")
    parts = [
        f"## {number}. {what} · {execution.status.value}\n\n",
        f"`{execution.id}` · started {_iso(execution.started_at)} · "
        f"ended {_iso(execution.ended_at)}{took}\n\n",
    ]
    if execution.input is not None:
        parts.append(_fence(execution.input, "js") + "\n")
    console: list[str] = []
    tail = ""
    for event in events:
        payload = event.payload
        if event.type is EventType.CONSOLE:
            console.append(f"[{payload.get('level', 'log')}] {payload.get('text', '')}")
        elif event.type is EventType.DISPLAY:
            data = payload.get("data") or {}
            console.append(f"[display] {data.get('text/plain', '')}")
        elif event.type is EventType.VALUE:
            shown = payload.get("inspect") or payload.get("preview", "")
            tail = f"Result ({payload.get('type', 'value')}):\n\n" + _fence(str(shown)) + "\n"
        elif event.type is EventType.EXCEPTION:
            stack = payload.get("stack") or f"{payload.get('name')}: {payload.get('message')}"
            tail = "Error:\n\n" + _fence(str(stack)) + "\n"
        elif event.type is EventType.SYSTEM:
            tail = (
                f"System ({payload.get('level', 'info')}): "
                f"{payload.get('code', '')}: {payload.get('message', '')}\n\n"
            )
    if console:
        parts.append("Console:\n\n" + _fence("\n".join(console)) + "\n")
    parts.append(tail)
    return "".join(parts)
