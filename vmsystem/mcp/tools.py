"""The MCP tools of vm-system: argument models (their JSON schemas), descriptions and what
each tool does against a :class:`~vmsystem.mcp.backend.Backend`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from vmsystem.mcp.backend import Backend, Json, ToolFailure
from vmsystem.mcp.results import Image, RunResult
from vmsystem.mcp.runs import Report, follow_run

__all__ = ["TOOLS", "Answer", "Tool"]

#: The largest event page ``get_events`` returns.
MAX_EVENTS_PAGE = 1000

A = TypeVar("A", bound=BaseModel)


@dataclass(frozen=True)
class Answer:
    """A tool's successful result: text for the model, the same content as JSON, and images
    (MIME type, base64) that the run displayed."""

    text: str
    data: Json
    images: tuple[Image, ...] = ()


@dataclass(frozen=True)
class Tool(Generic[A]):
    """One tool: name, description, argument model, optional output model and its code."""

    name: str
    title: str
    description: str
    arguments: type[A]
    run: Callable[[Backend, A, Report], Awaitable[Answer]]
    output: type[BaseModel] | None = None
    read_only: bool = False
    destructive: bool = False


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoArgs(_Args):
    """No arguments."""


class CreateSessionArgs(_Args):
    template: str = Field(
        description="Template name or ID (see list_templates). The session gets the template's "
        "limits, modules, libraries, capabilities and startup files."
    )
    worktree_path: str | None = Field(
        None,
        description="Absolute path of an existing directory on the daemon's machine: the "
        "session's working directory (files for run_file, imports, fs capabilities). Leave it "
        "out (the usual choice) for a fresh managed worktree that the daemon creates: put "
        "files in it with write_file.",
    )


class WriteFileArgs(_Args):
    session_id: str = Field(description="Session ID of a ready session.")
    path: str = Field(
        description="Path relative to the session's worktree, e.g. lib/util.mjs (parent "
        "directories are created; an existing file is replaced)."
    )
    content: str = Field(description="The file's content (text, or base64 with encoding).")
    encoding: Literal["utf-8", "base64"] = Field(
        "utf-8", description="How content is given: utf-8 text (default) or base64 bytes."
    )


class ReadFileArgs(_Args):
    session_id: str = Field(description="Session ID of a ready session.")
    path: str = Field(description="Path of a file relative to the session's worktree.")
    encoding: Literal["utf-8", "base64"] = Field(
        "utf-8",
        description="utf-8 (default: the text; a file that is not UTF-8 comes back as "
        "base64) or base64.",
    )


class ListFilesArgs(_Args):
    session_id: str = Field(description="Session ID of a ready session.")
    path: str = Field("", description="Worktree directory to list (default: the worktree).")
    recursive: bool = Field(False, description="List the whole tree under path.")


class ListSessionsArgs(_Args):
    status: str | None = Field(
        None, description="Only sessions in this status: starting, ready, crashed or closed."
    )


class SessionArgs(_Args):
    session_id: str = Field(description="Session ID (from create_session or list_sessions).")


class RunJsArgs(_Args):
    session_id: str = Field(description="Session ID of a ready session.")
    code: str = Field(
        description="JavaScript (or TypeScript, see language) to evaluate in the session's "
        "global scope, like a REPL line: var/let/const/function/class declarations and globals "
        "persist for later calls (a later call may declare a name again). The completion value "
        "(the last expression) is the result. Top-level await and timers work; "
        "`await import('./lib/x.mjs')` loads a worktree module (paths relative to the "
        "worktree root) and a static `import { a } from './x.mjs'` line binds `a` for later "
        "calls."
    )
    language: Literal["javascript", "typescript"] | None = Field(
        None,
        description="The code's language; typescript strips types before it runs (default: "
        "the template's settings.runtime.language, normally javascript).",
    )


class RunFileArgs(_Args):
    session_id: str = Field(description="Session ID of a ready session.")
    path: str = Field(
        description="Path of a file relative to the session's worktree: .js (a script, or an ES "
        "module when it uses import/export), .mjs, .cjs, .ts, .mts, .cts or .tsx (a module: "
        "its imports resolve inside the worktree, node_modules packages included)."
    )
    args: dict[str, Any] | None = Field(
        None, description="JSON object given to the script as the global __ARGS__."
    )
    env: dict[str, str] | None = Field(
        None, description="String variables given to the script as process.env."
    )


class ExecutionArgs(_Args):
    execution_id: str = Field(
        description="Execution ID (from run_js, run_file or list_executions)."
    )


class ListExecutionsArgs(_Args):
    session_id: str = Field(description="Session ID.")
    limit: int = Field(20, ge=1, le=1000, description="How many, newest first (1-1000).")


class GetEventsArgs(_Args):
    execution_id: str = Field(description="Execution ID.")
    after_seq: int = Field(
        0, ge=0, description="Return events with seq greater than this (0: from the start)."
    )
    limit: int = Field(
        200, ge=1, le=MAX_EVENTS_PAGE, description=f"Page size (1-{MAX_EVENTS_PAGE})."
    )


def _json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


def _compact_session(session: Json) -> Json:
    """A session without its template snapshot (list answers stay short)."""
    snapshot = session.get("template_snapshot") or {}
    out = {k: v for k, v in session.items() if k != "template_snapshot"}
    out["template_name"] = snapshot.get("name")
    return out


def _compact_execution(execution: Json) -> Json:
    return {
        k: execution.get(k)
        for k in ("id", "session_id", "kind", "status", "input", "path", "started_at", "ended_at")
    } | {"error": execution.get("error"), "result": execution.get("result")}


# ---------------------------------------------------------------------------------- tools
async def _list_templates(backend: Backend, _args: NoArgs, _report: Report) -> Answer:
    templates = await backend.list_templates()
    data = {"templates": templates}
    return Answer(_json_text(data), data)


async def _create_session(backend: Backend, args: CreateSessionArgs, _report: Report) -> Answer:
    session = await backend.create_session(args.template, args.worktree_path)
    return Answer(_json_text(session), session)


async def _write_file(backend: Backend, args: WriteFileArgs, _report: Report) -> Answer:
    if args.encoding == "base64":
        try:
            data = base64.b64decode(args.content, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ToolFailure("VALIDATION_ERROR", f"content is not valid base64: {exc}") from None
    else:
        data = args.content.encode("utf-8")
    entry = await backend.write_file(args.session_id, args.path, data)
    return Answer(_json_text(entry), entry)


async def _read_file(backend: Backend, args: ReadFileArgs, _report: Report) -> Answer:
    data = await backend.read_file(args.session_id, args.path)
    encoding = args.encoding
    if encoding == "utf-8":
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "base64"
    if encoding == "base64":
        content = base64.b64encode(data).decode("ascii")
    answer = {"path": args.path, "size": len(data), "encoding": encoding, "content": content}
    text = content if encoding == "utf-8" else _json_text(answer)
    return Answer(text, answer)


async def _list_files(backend: Backend, args: ListFilesArgs, _report: Report) -> Answer:
    listing = await backend.list_files(args.session_id, args.path, args.recursive)
    return Answer(_json_text(listing), listing)


async def _list_sessions(backend: Backend, args: ListSessionsArgs, _report: Report) -> Answer:
    sessions = [_compact_session(s) for s in await backend.list_sessions(args.status)]
    data = {"sessions": sessions}
    return Answer(_json_text(data), data)


async def _close_session(backend: Backend, args: SessionArgs, _report: Report) -> Answer:
    session = _compact_session(await backend.close_session(args.session_id))
    return Answer(_json_text(session), session)


async def _run_js(backend: Backend, args: RunJsArgs, report: Report) -> Answer:
    started = await backend.start_repl(args.session_id, args.code, args.language)
    return Answer(*await follow_run(backend, started, report))


async def _run_file(backend: Backend, args: RunFileArgs, report: Report) -> Answer:
    started = await backend.start_file(args.session_id, args.path, args.args, args.env)
    return Answer(*await follow_run(backend, started, report))


async def _get_execution(backend: Backend, args: ExecutionArgs, _report: Report) -> Answer:
    execution = await backend.get_execution(args.execution_id)
    return Answer(_json_text(execution), execution)


async def _list_executions(backend: Backend, args: ListExecutionsArgs, _report: Report) -> Answer:
    rows = await backend.list_executions(args.session_id, args.limit)
    data = {"executions": [_compact_execution(x) for x in rows]}
    return Answer(_json_text(data), data)


async def _get_events(backend: Backend, args: GetEventsArgs, _report: Report) -> Answer:
    events = await backend.list_events(args.execution_id, args.after_seq, args.limit)
    data = {
        "events": events,
        "next_after_seq": events[-1]["seq"] if events else args.after_seq,
        "more": len(events) == args.limit,
    }
    return Answer(_json_text(data), data)


async def _cancel_execution(backend: Backend, args: ExecutionArgs, _report: Report) -> Answer:
    execution = await backend.cancel_execution(args.execution_id)
    return Answer(_json_text(execution), execution)


# ---------------------------------------------------------------------------------- table
_RUN_NOTE = (
    " Waits for the run to end and answers its status (ok, error, timeout, cancelled), the "
    "value (preview, JSON, inspect text), console lines and the error. The template's limits "
    "apply exactly as over the REST API: a limit hit (wall_ms, cpu_ms, memory, max_events) is "
    "a normal result with status timeout or error and an error code, and the session stays "
    "ready with its state. With a progress token, console output arrives as progress "
    "notifications while the code runs. One run at a time per session (SESSION_BUSY "
    "otherwise); cancel_execution stops a run."
)

TOOLS: tuple[Tool[Any], ...] = (
    Tool(
        "list_templates",
        "List templates",
        "List the templates (runtime profiles) sessions can be started from: name, ID, engine, "
        "settings (limits such as wall_ms, cpu_ms, memory, max_events), modules and libraries.",
        NoArgs,
        _list_templates,
        read_only=True,
    ),
    Tool(
        "create_session",
        "Start a JavaScript session",
        "Start a persistent JavaScript session (a V8 context) from a template, bound to a "
        "worktree directory (without worktree_path: a fresh managed one, filled with "
        "write_file). Its startup files run first. Variables, functions and globals "
        "defined by run_js or run_file stay in the session until it is closed. Answers the "
        "session with its ID and a snapshot of the template (limits, capabilities).",
        CreateSessionArgs,
        _create_session,
    ),
    Tool(
        "write_file",
        "Write a worktree file",
        "Write a file into a ready session's worktree (parents created, an existing file "
        "replaced). run_file runs it, and run_js or other files import it (e.g. "
        "`await import('./lib/util.mjs')`). Paths stay inside the worktree (no .., no absolute "
        "paths).",
        WriteFileArgs,
        _write_file,
    ),
    Tool(
        "read_file",
        "Read a worktree file",
        "Read a file of a ready session's worktree (text, or base64 for binary files).",
        ReadFileArgs,
        _read_file,
        read_only=True,
    ),
    Tool(
        "list_files",
        "List worktree files",
        "List a ready session's worktree (or one of its directories): path, type (file, "
        "directory, symlink), size and modification time of each entry.",
        ListFilesArgs,
        _list_files,
        read_only=True,
    ),
    Tool(
        "list_sessions",
        "List sessions",
        "List sessions, newest first (ID, status, template, worktree, last activity).",
        ListSessionsArgs,
        _list_sessions,
        read_only=True,
    ),
    Tool(
        "close_session",
        "Close a session",
        "Close a session: its runtime and state are discarded (a running execution is "
        "cancelled). Its history stays readable. Closing a closed session is not an error.",
        SessionArgs,
        _close_session,
        destructive=True,
    ),
    Tool(
        "run_js",
        "Run JavaScript",
        "Evaluate JavaScript in a session, like a REPL line: state persists between calls."
        + _RUN_NOTE,
        RunJsArgs,
        _run_js,
        output=RunResult,
    ),
    Tool(
        "run_file",
        "Run a worktree file",
        "Run a JavaScript or TypeScript file from the session's worktree in the session (a "
        "script shares the session's globals; a module's imports load from the worktree)."
        + _RUN_NOTE,
        RunFileArgs,
        _run_file,
        output=RunResult,
    ),
    Tool(
        "list_executions",
        "List executions",
        "List a session's executions (REPL snippets, file runs, startup files), newest first, "
        "with their status; a running one has status running.",
        ListExecutionsArgs,
        _list_executions,
        read_only=True,
    ),
    Tool(
        "get_execution",
        "Get an execution",
        "One execution: kind, input or path, status, result, error, timing and metrics.",
        ExecutionArgs,
        _get_execution,
        read_only=True,
    ),
    Tool(
        "get_events",
        "Get an execution's events",
        "A page of an execution's event log, oldest first: input_echo, console, value, "
        "exception and system events with seq numbers. Page with after_seq = next_after_seq "
        "while more is true.",
        GetEventsArgs,
        _get_events,
        read_only=True,
    ),
    Tool(
        "cancel_execution",
        "Cancel an execution",
        "Stop a running execution (it ends with status cancelled; the session stays ready and "
        "keeps its state). A finished execution is returned unchanged.",
        ExecutionArgs,
        _cancel_execution,
        destructive=True,
    ),
)
