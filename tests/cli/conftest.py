"""CLI tests: typer's CliRunner with the SDK client pointed at an in-memory fake daemon."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from vmsystem.cli import state
from vmsystem.cli.main import app
from vmsystem.client import Client

from .fake_daemon import FakeDaemon

Run = Callable[..., Result]


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> FakeDaemon:
    """The fake daemon every client built by the CLI talks to."""
    fake = FakeDaemon()
    built: list[dict[str, Any]] = []

    def factory(cli_state: state.CliState) -> Client:
        built.append({"server_url": cli_state.server_url, "token": cli_state.auth_token})
        return Client(
            cli_state.server_url,
            token=cli_state.auth_token,
            transport=httpx.MockTransport(fake.handle),
            retry_backoff=0.0,
        )

    monkeypatch.setattr(state, "client_factory", factory)
    monkeypatch.delenv("VMSYSTEM_SERVER_URL", raising=False)
    monkeypatch.delenv("VMSYSTEM_AUTH_TOKEN", raising=False)
    fake.built = built  # type: ignore[attr-defined]
    return fake


@pytest.fixture
def run(daemon: FakeDaemon) -> Run:
    """Run ``vm-system ARGS...``; returns the click Result (stdout and stderr apart)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, list(args), input=input)

    return invoke
