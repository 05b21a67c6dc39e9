"""Connect the ``mcp`` SDK's own client to a real daemon, over either transport:
``http`` (the daemon's ``/mcp``) or ``stdio`` (a ``vm-system mcp`` process)."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

TRANSPORTS = ("http", "stdio")


@asynccontextmanager
async def connect(
    url: str, transport: str, token: str | None, mode: str = "auto"
) -> AsyncIterator[Client]:
    """An initialized MCP client session with vm-system at ``url``; ``mode="legacy"`` speaks
    the handshake-era protocol (``initialize``) of older clients."""
    if transport == "http":
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120))
        async with http:
            link = streamable_http_client(f"{url}/mcp", http_client=http)
            async with Client(link, cache=None, mode=mode) as client:
                yield client
        return
    # The test process's environment (PYTHONPATH included), without VMSYSTEM_* settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMSYSTEM_")}
    if token:
        env["VMSYSTEM_AUTH_TOKEN"] = token
    server = StdioServerParameters(
        command=sys.executable, args=["-m", "vmsystem", "--server-url", url, "mcp"], env=env
    )
    async with Client(server, cache=None, mode=mode) as client:
        yield client


def data(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful tool result."""
    assert not result.is_error, result.content
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


def text(result: CallToolResult) -> str:
    """The text content of a tool result."""
    return "\n".join(getattr(block, "text", "") for block in result.content)
