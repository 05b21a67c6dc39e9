"""A real daemon: ``python -m vmsystem serve`` as a subprocess on a free port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

STARTUP_TIMEOUT_S = 90.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def daemon_env() -> dict[str, str]:
    """The test process's environment without any VMSYSTEM_* setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VMSYSTEM_")}


def serve_command(*flags: str) -> list[str]:
    """``python -m vmsystem serve FLAGS``."""
    return [sys.executable, "-m", "vmsystem", "serve", *flags]


@dataclass
class Daemon:
    """One daemon process with its own database, cache and log."""

    db: Path | str  # a SQLite file or a database URL
    cache_dir: Path
    log: Path
    port: int
    flags: tuple[str, ...] = ()
    token: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    bare: bool = False  # no --db/--cache-dir/--listen flags: configuration from env only
    process: subprocess.Popen[bytes] | None = None
    stopped: bool = False
    exit_codes: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    def start(self) -> Daemon:
        """Start the process and wait until /api/v1/health answers."""
        listen = () if self.bare else ("--listen", f"127.0.0.1:{self.port}")
        flags = self.flags if "--listen" in self.flags else (*listen, *self.flags)
        if not self.bare:
            flags = ("--db", str(self.db), "--cache-dir", str(self.cache_dir), *flags)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                serve_command(*flags),
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**daemon_env(), **self.env},
            )
        self.stopped = False
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"daemon exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                if httpx.get(f"{self.api}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"daemon not healthy after {STARTUP_TIMEOUT_S} s:\n{self.output()}"
                )
            time.sleep(0.05)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client for the API (with the bearer token when the daemon has one)."""
        # X-Requested-With as the SDK sends it: the daemon refuses state-changing requests
        # that carry neither JSON nor it (a cross-site request defence).
        headers = {"X-Requested-With": "tests"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return httpx.Client(base_url=self.api, timeout=30, headers=headers, **kwargs)

    def terminate(
        self, timeout: float = 15.0, sig: signal.Signals = signal.SIGTERM
    ) -> tuple[int, float]:
        """SIGTERM (or ``sig``); returns (exit code, seconds it took)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"daemon ignored SIGTERM for {timeout} s:\n{self.output()}"
            ) from None
        self.stopped = True
        self.exit_codes.append(code)
        return code, time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.stopped = True

    def output(self) -> str:
        """Everything the daemon printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


DaemonFactory = Callable[..., Daemon]


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[DaemonFactory]:
    """Start daemons (``start_daemon("--flag", ...)``); each one still running at teardown gets
    SIGTERM and must exit 0."""
    started: list[Daemon] = []

    def start(
        *flags: str,
        token: str | None = None,
        db: Path | str | None = None,
        port: int | None = None,
        env: dict[str, str] | None = None,
        bare: bool = False,
    ) -> Daemon:
        n = len(started)
        cache = tmp_path / "cache"
        cache.mkdir(exist_ok=True)
        daemon = Daemon(
            db=db or tmp_path / "vm.db",
            cache_dir=cache,
            log=tmp_path / f"daemon-{n}.log",
            port=port or free_port(),
            flags=(*flags, *(("--auth-token", token) if token else ())),
            token=token,
            env=env or {},
            bare=bare,
        )
        started.append(daemon)
        return daemon.start()

    yield start
    problems = []
    for daemon in started:
        if daemon.process is not None and not daemon.stopped:
            code, _ = daemon.terminate()
            if code != 0:
                problems.append(f"daemon on port {daemon.port} exited {code}:\n{daemon.output()}")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One daemon shared by a module's tests; SIGTERM at the end must exit 0."""
    root = tmp_path_factory.mktemp("daemon")
    (root / "cache").mkdir()
    d = Daemon(
        db=root / "vm.db", cache_dir=root / "cache", log=root / "daemon.log", port=free_port()
    )
    d.start()
    yield d
    code, _ = d.terminate()
    assert code == 0, d.output()


def create_template(http: httpx.Client, name: str, **limits: int) -> dict[str, Any]:
    """A template (with ``limits`` merged into its settings)."""
    r = http.post("/templates", json={"name": name})
    assert r.status_code == 201, r.text
    t: dict[str, Any] = r.json()
    if limits:
        r = http.patch(f"/templates/{t['id']}", json={"settings": {"limits": limits}})
        assert r.status_code == 200, r.text
        t = r.json()
    return t


def create_session(http: httpx.Client, template_id: str, worktree: Path) -> dict[str, Any]:
    """A ready session."""
    r = http.post("/sessions", json={"template_id": template_id, "worktree_path": str(worktree)})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {value!r})")
        time.sleep(interval)


@dataclass
class SseMessage:
    """One Server-Sent Event as received."""

    id: str | None
    event: str | None
    data: dict[str, Any]
    received_at: float


def iter_sse(response: httpx.Response) -> Iterator[SseMessage]:
    """Parse a streaming SSE response message by message (comments skipped)."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line == "":
            if "data" in fields:
                yield SseMessage(
                    fields.get("id"),
                    fields.get("event"),
                    json.loads(fields["data"]),
                    time.monotonic(),
                )
            fields = {}
            continue
        if line.startswith(":"):
            continue
        key, _, value = line.partition(":")
        fields[key] = value[1:] if value.startswith(" ") else value


def run_cli(args: Sequence[str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m vmsystem ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "vmsystem", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=daemon_env(),
    )
