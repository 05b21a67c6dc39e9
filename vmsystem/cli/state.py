"""What every CLI command shares: the global flags and the SDK client built from them.

``client_factory`` is the seam tests use: they replace it with a function that returns a
:class:`~vmsystem.client.Client` over an ``httpx.MockTransport``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import typer

from vmsystem.client import DEFAULT_SERVER_URL, Client

__all__ = [
    "CliState",
    "ClientFactory",
    "client_factory",
    "client_of",
    "default_client_factory",
    "state_of",
]


@dataclass
class CliState:
    """The root command's global flags (``ctx.obj`` of every command)."""

    server_url: str = DEFAULT_SERVER_URL
    auth_token: str | None = None
    db: str | None = None
    log_level: str | None = None
    _client: Client | None = field(default=None, repr=False)

    def client(self) -> Client:
        """The SDK client for ``--server-url`` and ``--auth-token`` (built once)."""
        if self._client is None:
            self._client = client_factory(self)
        return self._client

    def close(self) -> None:
        """Close the client, if one was built."""
        if self._client is not None:
            self._client.close()
            self._client = None


ClientFactory = Callable[[CliState], Client]


def default_client_factory(state: CliState) -> Client:
    """A client for the daemon at ``state.server_url``."""
    return Client(state.server_url, token=state.auth_token)


#: Builds the client of a command; tests replace it (``monkeypatch.setattr``).
client_factory: ClientFactory = default_client_factory


def state_of(ctx: typer.Context) -> CliState:
    """The global state (a default one when a command runs without the root)."""
    state = ctx.find_object(CliState)
    if state is None:
        state = ctx.ensure_object(CliState)
    return state


def client_of(ctx: typer.Context) -> Client:
    """The SDK client of the running command; closed when the command ends."""
    state = state_of(ctx)
    if state._client is None:
        ctx.call_on_close(state.close)
    return state.client()
