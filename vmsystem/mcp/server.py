"""The MCP server of vm-system (the SDK's low-level ``Server``), over any backend."""

from __future__ import annotations

import logging
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from vmsystem.mcp.backend import Backend, ToolFailure
from vmsystem.mcp.tools import TOOLS, Tool
from vmsystem.mcp.transcript import TRANSCRIPT_URI, read_transcript, session_of, transcript_uri

__all__ = ["INSTRUCTIONS", "SERVER_NAME", "build_server"]

_log = logging.getLogger("vmsystem.mcp")

SERVER_NAME = "vm-system"
#: Sessions listed as transcript resources (newest first); older ones stay readable by URI.
MAX_LISTED_TRANSCRIPTS = 100

INSTRUCTIONS = (
    "vm-system runs JavaScript in persistent, limited V8 sessions and records every run. "
    "Pick a template (list_templates), start a session (create_session) bound to a worktree "
    "directory, then call run_js as often as needed: state persists between calls. Limits "
    "(wall time, CPU, memory, output) come from the template; a run that hits one ends with "
    "status timeout or error and the session stays usable. Each session's transcript is the "
    "resource vmsystem://sessions/{id}/transcript."
)

_BY_NAME: dict[str, Tool[Any]] = {tool.name: tool for tool in TOOLS}


def _tool_listing(tool: Tool[Any]) -> types.Tool:
    return types.Tool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.arguments.model_json_schema(),
        output_schema=tool.output.model_json_schema() if tool.output else None,
        annotations=types.ToolAnnotations(
            title=tool.title,
            read_only_hint=tool.read_only,
            destructive_hint=tool.destructive,
            open_world_hint=False,
        ),
    )


def _failure(
    code: str, message: str, details: dict[str, Any] | None = None
) -> types.CallToolResult:
    error = {"code": code, "message": message, "details": details or {}}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=f"{code}: {message}")],
        structured_content={"error": error},
        is_error=True,
    )


def _invalid_arguments(exc: ValidationError) -> types.CallToolResult:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}"
        for err in exc.errors()
    )
    return _failure("VALIDATION_ERROR", f"invalid arguments: {problems}")


def build_server(backend: Backend, *, version: str) -> Server[Any]:
    """An MCP server whose tools and resources act on ``backend``."""

    async def list_tools(
        _ctx: ServerRequestContext[Any], _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[_tool_listing(tool) for tool in TOOLS])

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = _BY_NAME.get(params.name)
        if tool is None:
            return _failure("TOOL_NOT_FOUND", f"unknown tool {params.name!r}")
        try:
            arguments = tool.arguments.model_validate(params.arguments or {})
        except ValidationError as exc:
            return _invalid_arguments(exc)

        async def report(progress: float, message: str) -> None:
            await ctx.session.report_progress(progress, None, message)

        try:
            answer = await tool.run(backend, arguments, report)
        except ToolFailure as exc:
            return _failure(exc.code, exc.message, exc.details)
        except Exception:
            _log.exception("MCP tool %s failed", tool.name)
            return _failure("INTERNAL", f"internal error in tool {tool.name}")
        text = _encodable(answer.text)
        content: list[types.ContentBlock] = [types.TextContent(type="text", text=text)]
        for mime, data in answer.images:
            content.append(types.ImageContent(type="image", data=data, mime_type=mime))
        return types.CallToolResult(content=content, structured_content=_encodable(answer.data))

    async def list_resources(
        _ctx: ServerRequestContext[Any], _params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        try:
            sessions = await backend.list_sessions(None)
        except ToolFailure as exc:
            raise MCPError(types.INTERNAL_ERROR, str(exc), {"code": exc.code}) from None
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=transcript_uri(s["id"]),
                    name=f"transcript-{s['id']}",
                    title=f"Transcript of session {s['id']} ({s.get('status')})",
                    description="Every execution of the session: input, console, result.",
                    mime_type="text/markdown",
                )
                for s in sessions[:MAX_LISTED_TRANSCRIPTS]
            ]
        )

    async def list_resource_templates(
        _ctx: ServerRequestContext[Any], _params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=TRANSCRIPT_URI,
                    name="session-transcript",
                    title="Session transcript",
                    description="A session's executions, oldest first: each one's input (or "
                    "file), console lines, and result or error.",
                    mime_type="text/markdown",
                )
            ]
        )

    async def read_resource(
        _ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        session_id = session_of(uri)
        if session_id is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown resource {uri!r}", {"uri": uri})
        try:
            text = await read_transcript(backend, session_id)
        except ToolFailure as exc:
            # An unknown or malformed session ID is the caller's mistake (-32602, as the SDK's
            # resource-not-found); anything else is a server-side failure.
            mistake = exc.code.endswith("NOT_FOUND") or exc.code == "VALIDATION_ERROR"
            code = types.INVALID_PARAMS if mistake else types.INTERNAL_ERROR
            raise MCPError(code, str(exc), {"uri": uri, "code": exc.code}) from None
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, text=text, mime_type="text/markdown")]
        )

    return Server(
        SERVER_NAME,
        version=version,
        title="vm-system",
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_resource_templates,
        on_read_resource=read_resource,
    )


def _encodable(value: Any) -> Any:
    """``value`` with each lone surrogate in its strings written as the text ``\\udXXX``: a
    JavaScript string may hold one (the API's JSON carries it as that escape), and the MCP
    SDK's JSON encoder refuses it."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encodable(v) for v in value]
    return value
