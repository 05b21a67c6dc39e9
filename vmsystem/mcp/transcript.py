"""A session's transcript: every execution's input, console output and outcome, as text."""

from __future__ import annotations

import json
import re

from vmsystem.mcp.backend import Backend, Json, ToolFailure
from vmsystem.mcp.results import describe_error, describe_value

__all__ = ["MAX_TRANSCRIPT_EXECUTIONS", "TRANSCRIPT_URI", "read_transcript", "transcript_uri"]

#: The resource template of transcripts (RFC 6570).
TRANSCRIPT_URI = "vmsystem://sessions/{id}/transcript"
#: The newest executions a transcript shows (the REST page size).
MAX_TRANSCRIPT_EXECUTIONS = 1000
#: Events read per execution; a longer run says how many were left out.
MAX_EVENTS_PER_EXECUTION = 10_000
_URI = re.compile(r"^vmsystem://sessions/(?P<id>[^/]+)/transcript$")


def transcript_uri(session_id: str) -> str:
    """The resource URI of a session's transcript."""
    return TRANSCRIPT_URI.format(id=session_id)


def session_of(uri: str) -> str | None:
    """The session ID in a transcript URI, or None if ``uri`` is not one."""
    match = _URI.match(uri)
    return match["id"] if match else None


async def read_transcript(backend: Backend, session_id: str) -> str:
    """The transcript of a session, oldest execution first."""
    session = await backend.get_session(session_id)
    executions = list(
        reversed(await backend.list_executions(session["id"], MAX_TRANSCRIPT_EXECUTIONS))
    )
    snapshot = session.get("template_snapshot") or {}
    template = snapshot.get("name") or session.get("template_id")
    out = [
        f"# session {session['id']}",
        f"template: {template}; worktree: {session.get('worktree_path')}; "
        f"status: {session.get('status')}; created: {session.get('created_at')}",
    ]
    if session.get("last_error"):
        out.append(f"last error: {session['last_error']}")
    if len(executions) == MAX_TRANSCRIPT_EXECUTIONS:
        out.append(f"(the newest {MAX_TRANSCRIPT_EXECUTIONS} executions)")
    for execution in executions:
        out.append("")
        out.extend(await _execution_lines(backend, execution))
    return "\n".join(out) + "\n"


async def _execution_lines(backend: Backend, execution: Json) -> list[str]:
    kind = execution.get("kind")
    duration = (execution.get("metrics") or {}).get("duration_ms")
    took = f", {duration} ms" if duration is not None else ""
    status = f"{execution.get('status')}{took}"
    lines = [f"## {kind} {execution['id']} ({status}) {execution.get('started_at')}"]
    if kind == "repl":
        lines.extend(f"> {line}" for line in (execution.get("input") or "").splitlines())
    else:
        lines.append(f"file: {execution.get('path')}")
        if execution.get("args"):
            lines.append(f"args: {json.dumps(execution['args'], ensure_ascii=False)}")
    try:
        events = await backend.list_events(execution["id"], 0, MAX_EVENTS_PER_EXECUTION)
    except ToolFailure as exc:
        events = []
        lines.append(f"(events unavailable: {exc})")
    for event in events:
        if event.get("type") == "console":
            payload = event.get("payload") or {}
            level = payload.get("level", "log")
            prefix = "" if level == "log" else f"[{level}] "
            lines.append(f"{prefix}{payload.get('text', '')}")
    if len(events) == MAX_EVENTS_PER_EXECUTION:
        lines.append(f"... (more than {MAX_EVENTS_PER_EXECUTION} events; see get_events)")
    if execution.get("result") is not None:
        lines.extend(f"= {line}" for line in describe_value(execution["result"]))
    if execution.get("error") is not None:
        lines.extend(f"! {line}" for line in describe_error(execution["error"]))
    return lines
