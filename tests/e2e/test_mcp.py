"""vm-system as an MCP server, driven by the ``mcp`` SDK's client over both transports
(the daemon's ``/mcp`` and ``vm-system mcp`` over stdio) against a real daemon."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp.shared.exceptions import MCPError

from .conftest import Daemon, free_port
from .mcp_clients import TRANSPORTS, connect, data, text

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("transport", TRANSPORTS)]

TOKEN = "mcp-test-token"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon with an auth token for the module; SIGTERM at the end must exit 0."""
    root = tmp_path_factory.mktemp("mcp-daemon")
    (root / "cache").mkdir()
    d = Daemon(
        db=root / "vm.db",
        cache_dir=root / "cache",
        log=root / "daemon.log",
        port=free_port(),
        flags=("--auth-token", TOKEN, "--worktrees-dir", str(root / "worktrees")),
        token=TOKEN,
    )
    d.start()
    yield d
    code, _ = d.terminate()
    assert code == 0, d.output()


def template(daemon: Daemon, **limits: int) -> str:
    """A new template (its name), with ``limits`` merged into its settings."""
    name = f"mcp-{uuid.uuid4().hex[:8]}"
    with daemon.client() as http:
        r = http.post("/templates", json={"name": name})
        assert r.status_code == 201, r.text
        if limits:
            r = http.patch(f"/templates/{r.json()['id']}", json={"settings": {"limits": limits}})
            assert r.status_code == 200, r.text
    return name


def worktree(tmp_path: Path) -> str:
    path = tmp_path / "wt"
    path.mkdir(exist_ok=True)
    return str(path)


async def new_session(client: Any, daemon: Daemon, tmp_path: Path, **limits: int) -> str:
    created = data(
        await client.call_tool(
            "create_session",
            {"template": template(daemon, **limits), "worktree_path": worktree(tmp_path)},
        )
    )
    assert created["status"] == "ready"
    # An agent's session: the daemon's --interactive-idle-timeout (its default) applies.
    assert created["idle_timeout_s"] == 3600
    return str(created["id"])


async def test_lists_the_tools_with_schemas_and_the_transcript_template(
    daemon: Daemon, transport: str
) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) >= {
            "list_templates",
            "create_session",
            "list_sessions",
            "close_session",
            "run_js",
            "run_file",
            "get_execution",
            "get_events",
            "cancel_execution",
        }
        for tool in tools.values():
            assert tool.description and len(tool.description) > 40, tool.name
            assert tool.input_schema["type"] == "object"
        run_js = tools["run_js"].input_schema
        assert sorted(run_js["required"]) == ["code", "session_id"]
        assert run_js["properties"]["code"]["description"]
        assert tools["run_js"].output_schema is not None
        assert tools["create_session"].input_schema["required"] == ["template"]
        assert {"write_file", "read_file", "list_files"} <= set(tools)
        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["vmsystem://sessions/{id}/transcript"]


async def test_run_file_runs_a_typescript_module_and_run_js_takes_typescript(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        session_id = await new_session(client, daemon, tmp_path)
        root = Path(worktree(tmp_path))
        (root / "lib").mkdir()
        (root / "lib" / "util.mjs").write_text("export const add = (a, b) => a + b;\n")
        (root / "main.ts").write_text(
            "import { add } from './lib/util.mjs';\nconst n: number = add(40, 2);\n"
            "console.log(n);\n"
        )
        run = {"session_id": session_id, "path": "main.ts"}
        ran = data(await client.call_tool("run_file", run))
        assert ran["status"] == "ok", ran
        assert ran["console"] == [{"level": "log", "text": "42"}]
        typed = data(
            await client.call_tool(
                "run_js",
                {
                    "session_id": session_id,
                    "code": "const k: number = 6; const m = await import('./lib/util.mjs'); "
                    "m.add(k, 36)",
                    "language": "typescript",
                },
            )
        )
        assert typed["status"] == "ok", typed
        assert typed["value"]["json"] == 42


async def test_a_managed_session_runs_what_write_file_put_there(
    daemon: Daemon, transport: str
) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        created = data(await client.call_tool("create_session", {"template": template(daemon)}))
        assert created["status"] == "ready" and created["worktree_managed"] is True
        session_id = created["id"]
        source = "export const greet = (n) => `hello ${n}`;\n"
        written = data(
            await client.call_tool(
                "write_file",
                {"session_id": session_id, "path": "lib/greet.mjs", "content": source},
            )
        )
        assert (written["path"], written["size"]) == ("lib/greet.mjs", len(source))
        ran = data(
            await client.call_tool(
                "run_js",
                {
                    "session_id": session_id,
                    "code": "const { greet } = await import('./lib/greet.mjs'); greet('mcp')",
                },
            )
        )
        assert ran["status"] == "ok", ran
        assert ran["value"]["json"] == "hello mcp"
        read = data(
            await client.call_tool("read_file", {"session_id": session_id, "path": "lib/greet.mjs"})
        )
        assert (read["content"], read["encoding"]) == (source, "utf-8")
        listed = data(
            await client.call_tool("list_files", {"session_id": session_id, "recursive": True})
        )
        assert [e["path"] for e in listed["entries"]] == ["lib", "lib/greet.mjs"]
        escape = await client.call_tool(
            "write_file", {"session_id": session_id, "path": "../x.mjs", "content": "1"}
        )
        assert escape.is_error and "INVALID_PATH" in text(escape)


async def test_create_session_and_state_persists_across_run_js(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        session_id = await new_session(client, daemon, tmp_path)
        listed = data(await client.call_tool("list_sessions", {"status": "ready"}))
        assert session_id in {s["id"] for s in listed["sessions"]}

        first = await client.call_tool(
            "run_js",
            {"session_id": session_id, "code": "globalThis.base = 40; let step = 2; base"},
        )
        assert data(first)["status"] == "ok"
        assert data(first)["value"]["json"] == 40

        second = await client.call_tool(
            "run_js",
            {
                "session_id": session_id,
                "code": "console.log('sum', base + step); ({sum: base + step})",
            },
        )
        result = data(second)
        assert result["status"] == "ok"
        assert result["value"]["json"] == {"sum": 42}
        assert result["console"] == [{"level": "log", "text": "sum 42"}]
        assert result["error"] is None
        assert "sum 42" in text(second) and '{"sum": 42}' in text(second)

        thrown = data(
            await client.call_tool("run_js", {"session_id": session_id, "code": "null.x"})
        )
        assert thrown["status"] == "error" and thrown["error"]["name"] == "TypeError"

        closed = data(await client.call_tool("close_session", {"session_id": session_id}))
        assert closed["status"] == "closed"


async def test_console_output_arrives_as_progress_while_the_code_runs(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    rest = httpx.AsyncClient(base_url=daemon.api, headers={"Authorization": f"Bearer {TOKEN}"})
    async with connect(daemon.url, transport, TOKEN) as client, rest as http:
        session_id = await new_session(client, daemon, tmp_path)
        seen: list[tuple[str, str]] = []

        async def progress(progress: float, total: float | None, message: str | None) -> None:
            if message and "first line" in message:
                # Still running when the notification arrives: the run is not over.
                running = (await http.get(f"/executions?session_id={session_id}")).json()
                seen.append((message, running[0]["status"]))

        code = (
            "console.log('first line'); const t0 = Date.now(); "
            "while (Date.now() - t0 < 1500) {} console.log('second line'); 'done'"
        )
        result = await client.call_tool(
            "run_js", {"session_id": session_id, "code": code}, progress_callback=progress
        )
        assert data(result)["value"]["preview"] == "done"
        assert seen and seen[0][1] == "running", seen


async def test_clients_of_the_handshake_era_protocol_get_the_same_tools_and_progress(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    async with connect(daemon.url, transport, TOKEN, mode="legacy") as client:
        assert client.protocol_version < "2026"
        session_id = await new_session(client, daemon, tmp_path)
        messages: list[str] = []

        async def progress(progress: float, total: float | None, message: str | None) -> None:
            messages.append(message or "")

        code = "for (let i = 0; i < 3; i++) console.log('n=' + i); 'ok'"
        result = await client.call_tool(
            "run_js", {"session_id": session_id, "code": code}, progress_callback=progress
        )
        assert data(result)["value"]["preview"] == "ok"
        assert "n=0\nn=1\nn=2" in "\n".join(messages)


async def test_a_wall_limit_hit_is_a_normal_result_and_the_session_survives(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        session_id = await new_session(client, daemon, tmp_path, wall_ms=300)
        data(await client.call_tool("run_js", {"session_id": session_id, "code": "var kept = 7"}))

        hit = await client.call_tool("run_js", {"session_id": session_id, "code": "while(true){}"})
        assert not hit.is_error
        outcome = data(hit)
        assert outcome["status"] == "timeout"
        assert outcome["error"]["code"] == "WALL_TIME_EXCEEDED"
        assert "WALL_TIME_EXCEEDED" in text(hit) and "still ready" in text(hit)

        after = data(
            await client.call_tool("run_js", {"session_id": session_id, "code": "kept * 6"})
        )
        assert after["status"] == "ok" and after["value"]["json"] == 42


async def test_an_output_limit_hit_is_a_normal_result_too(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        session_id = await new_session(client, daemon, tmp_path, max_events=20)
        code = "for (let i = 0; i < 100; i++) console.log(i)"
        hit = await client.call_tool("run_js", {"session_id": session_id, "code": code})
        assert not hit.is_error  # over REST this one limit is a 422; here it is an outcome
        assert data(hit)["error"]["code"] == "OUTPUT_LIMIT_EXCEEDED"
        after = data(
            await client.call_tool("run_js", {"session_id": session_id, "code": "'alive'"})
        )
        assert after["value"]["preview"] == "alive"


async def test_cancel_a_long_run_from_another_task_and_busy_is_a_tool_error(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        session_id = await new_session(client, daemon, tmp_path, wall_ms=60000)
        run = asyncio.create_task(
            client.call_tool("run_js", {"session_id": session_id, "code": "while(true){}"})
        )
        running = None
        for _ in range(500):
            listed = data(await client.call_tool("list_executions", {"session_id": session_id}))
            running = next((x for x in listed["executions"] if x["status"] == "running"), None)
            if running:
                break
            await asyncio.sleep(0.02)
        assert running is not None, "the run never showed up as running"

        busy = await client.call_tool("run_js", {"session_id": session_id, "code": "1"})
        assert busy.is_error
        assert text(busy).startswith("SESSION_BUSY:")
        assert busy.structured_content is not None
        assert busy.structured_content["error"]["code"] == "SESSION_BUSY"

        cancelled = data(
            await client.call_tool("cancel_execution", {"execution_id": running["id"]})
        )
        assert cancelled["status"] == "cancelled"
        outcome = await asyncio.wait_for(run, 30)
        assert not outcome.is_error
        assert data(outcome)["status"] == "cancelled"
        assert data(outcome)["error"]["code"] == "CANCELLED"

        again = data(await client.call_tool("run_js", {"session_id": session_id, "code": "6 * 7"}))
        assert again["value"]["json"] == 42


async def test_a_tool_call_the_client_gives_up_on_cancels_its_run(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        session_id = await new_session(client, daemon, tmp_path, wall_ms=60000)
        with anyio.move_on_after(1.5) as scope:
            await client.call_tool("run_js", {"session_id": session_id, "code": "while(true){}"})
        assert scope.cancelled_caught

        async def last_status() -> str:
            listed = await client.call_tool("list_executions", {"session_id": session_id})
            return str(data(listed)["executions"][0]["status"])

        for _ in range(500):
            if await last_status() != "running":
                break
            await asyncio.sleep(0.02)
        assert await last_status() == "cancelled"
        again = data(await client.call_tool("run_js", {"session_id": session_id, "code": "1"}))
        assert again["status"] == "ok"


async def test_run_file_get_execution_and_paged_events(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        session_id = await new_session(client, daemon, tmp_path)
        (Path(worktree(tmp_path)) / "job.js").write_text(
            "for (let i = 0; i < 5; i++) console.log('line ' + i);\n"
            "__ARGS__.n * Number(process.env.FACTOR)\n"
        )
        ran = data(
            await client.call_tool(
                "run_file",
                {
                    "session_id": session_id,
                    "path": "job.js",
                    "args": {"n": 21},
                    "env": {"FACTOR": "2"},
                },
            )
        )
        assert ran["kind"] == "run_file" and ran["value"]["json"] == 42
        assert [line["text"] for line in ran["console"]] == [f"line {i}" for i in range(5)]

        execution = data(
            await client.call_tool("get_execution", {"execution_id": ran["execution_id"]})
        )
        assert execution["path"] == "job.js" and execution["status"] == "ok"

        seqs: list[int] = []
        after = 0
        while True:
            page = data(
                await client.call_tool(
                    "get_events",
                    {"execution_id": ran["execution_id"], "after_seq": after, "limit": 2},
                )
            )
            seqs.extend(e["seq"] for e in page["events"])
            after = page["next_after_seq"]
            if not page["more"]:
                break
        assert seqs == list(range(1, 7))  # five console lines and the value

        missing = await client.call_tool("run_file", {"session_id": session_id, "path": "no.js"})
        assert missing.is_error and text(missing).startswith("FILE_NOT_FOUND:")
        invalid = await client.call_tool(
            "get_events", {"execution_id": ran["execution_id"], "limit": 0}
        )
        assert invalid.is_error and text(invalid).startswith("VALIDATION_ERROR:")


async def test_read_a_session_transcript(daemon: Daemon, transport: str, tmp_path: Path) -> None:
    async with connect(daemon.url, transport, TOKEN) as client:
        session_id = await new_session(client, daemon, tmp_path, wall_ms=300)
        for code in ("console.log('hello'); 1 + 1", "throw new RangeError('nope')", "for(;;){}"):
            await client.call_tool("run_js", {"session_id": session_id, "code": code})
        uri = f"vmsystem://sessions/{session_id}/transcript"
        assert uri in {str(r.uri) for r in (await client.list_resources()).resources}

        contents = (await client.read_resource(uri)).contents
        transcript = contents[0].text  # type: ignore[union-attr]
        assert f"# session {session_id}" in transcript
        hello = transcript.index("> console.log('hello'); 1 + 1")
        assert transcript.index("hello\n", hello) < transcript.index("= value (number): 2")
        assert "> throw new RangeError('nope')" in transcript
        assert "! uncaught RangeError: nope" in transcript
        assert "WALL_TIME_EXCEEDED" in transcript

        with pytest.raises(MCPError):
            await client.read_resource(f"vmsystem://sessions/{uuid.uuid4()}/transcript")


async def test_refused_without_the_token(daemon: Daemon, transport: str) -> None:
    if transport == "http":
        r = httpx.post(
            f"{daemon.url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Accept": "application/json, text/event-stream"},
        )
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "UNAUTHORIZED"
        wrong = httpx.post(f"{daemon.url}/mcp", json={}, headers={"Authorization": "Bearer no"})
        assert wrong.status_code == 401
        with pytest.raises(Exception) as refused:
            async with connect(daemon.url, transport, None) as client:
                await client.list_tools()
        # The SDK's client reports the 401 as an MCPError (inside its task groups' groups).
        assert isinstance(refused.value, MCPError) or refused.group_contains(MCPError, depth=None)
        return
    # stdio: the server starts (a desktop client launches it regardless), every call is refused.
    async with connect(daemon.url, transport, None) as client:
        answer = await client.call_tool("list_templates", {})
        assert answer.is_error
        assert text(answer).startswith("UNAUTHORIZED:")
        assert "--auth-token" in text(answer)


async def test_displayed_images_come_back_as_image_content(
    daemon: Daemon, transport: str, tmp_path: Path
) -> None:
    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
        "RU5ErkJggg=="
    )
    async with connect(daemon.url, transport, TOKEN) as client:
        session_id = await new_session(client, daemon, tmp_path)
        code = (
            f"display({{'image/png': '{png}', 'text/plain': 'dot'}});"
            " display({'image/svg+xml': '<svg/>', 'text/plain': 'chart'}); 1"
        )
        answer = await client.call_tool("run_js", {"session_id": session_id, "code": code})
        result = data(answer)
        assert [d["text"] for d in result["displays"]] == ["dot", "chart"]
        images = [c for c in answer.content if c.type == "image"]
        assert [(i.mime_type, i.data) for i in images] == [
            ("image/png", png),
            ("image/svg+xml", "PHN2Zy8+"),
        ]
        assert "display (image/png, text/plain): dot" in text(answer)
