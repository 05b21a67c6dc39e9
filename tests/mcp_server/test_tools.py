"""The MCP tools over a fake backend (unit tests of ``vmsystem.mcp`` alone), through the
``mcp`` SDK's in-process client. The real backends are covered by ``tests/e2e/test_mcp.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

from vmsystem.mcp.backend import Json, ToolFailure
from vmsystem.mcp.results import MAX_CONSOLE_LINES
from vmsystem.mcp.runs import MAX_PROGRESS_MESSAGE
from vmsystem.mcp.server import build_server

SESSION = "11111111-1111-1111-1111-111111111111"
EXECUTION = "22222222-2222-2222-2222-222222222222"


def console(seq: int, text: str, level: str = "log") -> Json:
    return {
        "execution_id": EXECUTION,
        "seq": seq,
        "type": "console",
        "payload": {"level": level, "text": text},
    }


class FakeBackend:
    """Scripted answers; records what the tools asked for."""

    def __init__(self, events: list[Json] | None = None, final: Json | None = None) -> None:
        self.events = events or []
        self.final = final or execution("ok", result={"type": "number", "preview": "1", "json": 1})
        self.failure: Exception | None = None
        self.block = False
        self.cancelled: list[str] = []
        self.languages: list[str | None] = []
        self.files: dict[str, bytes] = {}

    def _fail(self) -> None:
        if self.failure is not None:
            raise self.failure

    async def list_templates(self) -> list[Json]:
        self._fail()
        return [{"id": "t", "name": "demo"}]

    async def create_session(self, template: str, worktree_path: str | None) -> Json:
        self._fail()
        return {"id": SESSION, "status": "ready"}

    async def write_file(self, session_id: str, path: str, data: bytes) -> Json:
        self.files[path] = data
        return {"path": path, "type": "file", "size": len(data), "mtime": 1.0}

    async def read_file(self, session_id: str, path: str) -> bytes:
        if path not in self.files:
            raise ToolFailure("FILE_NOT_FOUND", f"File not found: {path}")
        return self.files[path]

    async def list_files(self, session_id: str, path: str, recursive: bool) -> Json:
        entries = [
            {"path": p, "type": "file", "size": len(d), "mtime": 1.0} for p, d in self.files.items()
        ]
        return {"path": path or ".", "entries": entries, "truncated": False}

    async def list_sessions(self, status: str | None) -> list[Json]:
        return [{"id": SESSION, "status": "ready", "template_snapshot": {"name": "demo"}}]

    async def get_session(self, session_id: str) -> Json:
        if session_id != SESSION:
            raise ToolFailure("SESSION_NOT_FOUND", "Session not found")
        return {"id": SESSION, "status": "ready", "template_id": "t", "worktree_path": "/w"}

    async def close_session(self, session_id: str) -> Json:
        return {"id": session_id, "status": "closed", "template_snapshot": {"name": "demo"}}

    async def start_repl(self, session_id: str, code: str, language: str | None = None) -> Json:
        self.languages.append(language)
        self._fail()
        return execution("running")

    async def start_file(
        self,
        session_id: str,
        path: str,
        args: Mapping[str, Any] | None,
        env: Mapping[str, str] | None,
    ) -> Json:
        return execution("running")

    async def follow(self, execution_id: str) -> AsyncIterator[Json]:
        for event in self.events:
            yield event
        if self.block:
            await anyio.sleep_forever()

    async def get_execution(self, execution_id: str) -> Json:
        return self.final

    async def list_executions(self, session_id: str, limit: int) -> list[Json]:
        return [self.final]

    async def list_events(self, execution_id: str, after_seq: int, limit: int) -> list[Json]:
        return [e for e in self.events if e["seq"] > after_seq][:limit]

    async def cancel_execution(self, execution_id: str) -> Json:
        self.cancelled.append(execution_id)
        return execution("cancelled", error={"code": "CANCELLED", "message": "execution cancelled"})


def execution(status: str, **fields: Any) -> Json:
    base: Json = {
        "id": EXECUTION,
        "session_id": SESSION,
        "kind": "repl",
        "input": "x",
        "status": status,
        "started_at": "2026-01-01T00:00:00.000Z",
        "result": None,
        "error": None,
        "metrics": {"duration_ms": 1.0},
    }
    return base | fields


def client(backend: FakeBackend) -> Client:
    return Client(build_server(backend, version="test"), cache=None)


async def test_console_lines_go_out_as_progress_in_order_within_the_size_cap() -> None:
    lines = [f"line {i:04d} " + "x" * 40 for i in range(400)]
    backend = FakeBackend([console(i + 1, t) for i, t in enumerate(lines)])
    reports: list[tuple[float, str]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, message or ""))

    async with client(backend) as mcp:
        result = await mcp.call_tool(
            "run_js", {"session_id": SESSION, "code": "x"}, progress_callback=progress
        )
    assert not result.is_error
    assert reports[0] == (0, f"execution {EXECUTION} running")
    batches = reports[1:]
    assert all(len(message) <= MAX_PROGRESS_MESSAGE for _, message in batches)
    assert "\n".join(message for _, message in batches).split("\n") == lines
    assert [p for p, _ in batches] == sorted({p for p, _ in batches})  # increasing
    assert batches[-1][0] == len(lines)
    assert len(batches) < len(lines) / 10  # batched, not one notification a line


async def test_the_result_keeps_the_first_console_lines_and_counts_the_rest() -> None:
    events = [
        console(i + 1, f"l{i}", "warn" if i == 0 else "log") for i in range(MAX_CONSOLE_LINES + 50)
    ]
    async with client(FakeBackend(events)) as mcp:
        result = await mcp.call_tool("run_js", {"session_id": SESSION, "code": "x"})
    data = result.structured_content
    assert data is not None
    assert len(data["console"]) == MAX_CONSOLE_LINES
    assert data["console"][0] == {"level": "warn", "text": "l0"}
    assert data["console_omitted"] == 50
    text = result.content[0].text  # type: ignore[union-attr]
    assert "[warn] l0" in text and "50 more console lines" in text


async def test_a_limit_hit_is_a_result_that_says_the_session_lives_on() -> None:
    final = execution(
        "timeout", error={"code": "WALL_TIME_EXCEEDED", "message": "wall-time limit exceeded"}
    )
    async with client(FakeBackend(final=final)) as mcp:
        result = await mcp.call_tool("run_js", {"session_id": SESSION, "code": "for(;;){}"})
    assert not result.is_error
    assert result.structured_content is not None
    assert result.structured_content["status"] == "timeout"
    text = result.content[0].text  # type: ignore[union-attr]
    assert "WALL_TIME_EXCEEDED" in text and "wall_ms" in text and "still ready" in text


async def test_run_js_passes_its_language_to_the_backend() -> None:
    backend = FakeBackend()
    async with client(backend) as mcp:
        typed = {"session_id": SESSION, "code": "1 as number", "language": "typescript"}
        assert not (await mcp.call_tool("run_js", typed)).is_error
        assert not (await mcp.call_tool("run_js", {"session_id": SESSION, "code": "1"})).is_error
        bad = {"session_id": SESSION, "code": "1", "language": "cobol"}
        assert (await mcp.call_tool("run_js", bad)).is_error
    assert backend.languages == ["typescript", None]


async def test_api_errors_are_tool_errors_with_code_message_and_details() -> None:
    backend = FakeBackend()
    backend.failure = ToolFailure("SESSION_BUSY", "Session is busy", {"session_id": SESSION})
    async with client(backend) as mcp:
        result = await mcp.call_tool("run_js", {"session_id": SESSION, "code": "1"})
    assert result.is_error
    assert result.content[0].text == "SESSION_BUSY: Session is busy"  # type: ignore[union-attr]
    assert result.structured_content == {
        "error": {
            "code": "SESSION_BUSY",
            "message": "Session is busy",
            "details": {"session_id": SESSION},
        }
    }


async def test_an_unexpected_failure_is_an_internal_tool_error_without_its_text() -> None:
    backend = FakeBackend()
    backend.failure = RuntimeError("secret internals")
    async with client(backend) as mcp:
        result = await mcp.call_tool("list_templates", {})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert text.startswith("INTERNAL:") and "secret" not in text


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        (
            "run_js",
            {"session_id": SESSION},
            "VALIDATION_ERROR: invalid arguments: code: Field required",
        ),
        (
            "run_js",
            {"session_id": SESSION, "code": "1", "extra": 1},
            "VALIDATION_ERROR: invalid arguments: extra",
        ),
        (
            "get_events",
            {"execution_id": EXECUTION, "limit": 5000},
            "VALIDATION_ERROR: invalid arguments: limit",
        ),
        ("no_such_tool", {}, "TOOL_NOT_FOUND: unknown tool 'no_such_tool'"),
    ],
)
async def test_bad_calls_are_tool_errors(
    name: str, arguments: dict[str, Any], expected: str
) -> None:
    async with client(FakeBackend()) as mcp:
        result = await mcp.call_tool(name, arguments)
    assert result.is_error
    assert result.content[0].text.startswith(expected)  # type: ignore[union-attr]


async def test_a_failure_while_following_cancels_the_run_and_is_a_tool_error() -> None:
    backend = FakeBackend([console(1, "a")])

    async def broken(execution_id: str) -> AsyncIterator[Json]:
        yield console(1, "a")
        raise ToolFailure("STREAM_ERROR", "the stream broke")

    backend.follow = broken  # type: ignore[method-assign]
    async with client(backend) as mcp:
        result = await mcp.call_tool("run_js", {"session_id": SESSION, "code": "x"})
    assert result.is_error and result.content[0].text.startswith("STREAM_ERROR:")  # type: ignore[union-attr]
    assert backend.cancelled == [EXECUTION]


async def test_transcripts_are_listed_and_read_and_unknown_ones_refused() -> None:
    backend = FakeBackend(
        [{"seq": 1, "type": "input_echo", "payload": {"text": "x"}}, console(2, "hi")],
        execution("ok", input="let a = 1\na", result={"type": "number", "preview": "1", "json": 1}),
    )
    uri = f"vmsystem://sessions/{SESSION}/transcript"
    async with client(backend) as mcp:
        assert [str(r.uri) for r in (await mcp.list_resources()).resources] == [uri]
        text = (await mcp.read_resource(uri)).contents[0].text  # type: ignore[union-attr]
        with pytest.raises(MCPError):
            await mcp.read_resource(
                "vmsystem://sessions/33333333-3333-3333-3333-333333333333/transcript"
            )
        with pytest.raises(MCPError):
            await mcp.read_resource("vmsystem://elsewhere")
    assert text.splitlines()[0] == f"# session {SESSION}"
    assert "> let a = 1\n> a\nhi\n= value (number): 1" in text


async def test_file_tools_carry_text_and_base64() -> None:
    backend = FakeBackend()
    async with client(backend) as mcp:
        wrote = await mcp.call_tool(
            "write_file", {"session_id": SESSION, "path": "a.mjs", "content": "é = 1"}
        )
        assert not wrote.is_error and backend.files["a.mjs"] == "é = 1".encode()
        binary = {"session_id": SESSION, "path": "b.bin", "content": "AP8=", "encoding": "base64"}
        assert not (await mcp.call_tool("write_file", binary)).is_error
        assert backend.files["b.bin"] == b"\x00\xff"
        bad = {"session_id": SESSION, "path": "c", "content": "!!", "encoding": "base64"}
        refused = await mcp.call_tool("write_file", bad)
        assert refused.is_error and "VALIDATION_ERROR" in refused.content[0].text  # type: ignore[union-attr]
        text = await mcp.call_tool("read_file", {"session_id": SESSION, "path": "a.mjs"})
        assert text.content[0].text == "é = 1"  # type: ignore[union-attr]
        assert text.structured_content is not None
        assert text.structured_content["encoding"] == "utf-8"
        raw = await mcp.call_tool("read_file", {"session_id": SESSION, "path": "b.bin"})
        assert raw.structured_content is not None
        assert (raw.structured_content["encoding"], raw.structured_content["content"]) == (
            "base64",
            "AP8=",
        )
        listed = await mcp.call_tool("list_files", {"session_id": SESSION})
        assert listed.structured_content is not None
        assert [e["path"] for e in listed.structured_content["entries"]] == ["a.mjs", "b.bin"]
        missing = await mcp.call_tool("read_file", {"session_id": SESSION, "path": "nope"})
        assert missing.is_error and "FILE_NOT_FOUND" in missing.content[0].text  # type: ignore[union-attr]


async def test_a_lone_surrogate_in_a_result_is_sent_as_its_escape() -> None:
    value = {"type": "string", "preview": "a\ud800", "json": "a\ud800"}
    backend = FakeBackend([console(1, "b\udc00")], execution("ok", result=value))
    async with client(backend) as mcp:
        result = await mcp.call_tool("run_js", {"session_id": SESSION, "code": "x"})
    assert not result.is_error
    data = result.structured_content
    assert data is not None
    assert data["console"] == [{"level": "log", "text": "b\\udc00"}]
    text = result.content[0].text  # type: ignore[union-attr]
    assert "a\\ud800" in text and "b\\udc00" in text
