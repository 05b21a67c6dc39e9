"""Start a real ``vm-system serve`` process for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Daemon:
    """A running daemon: its URL, database, cache and log file."""

    url: str
    db: Path
    cache_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    def cli(
        self,
        *args: str,
        cwd: Path | None = None,
        check: bool = False,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real console entry point (``python -m vmsystem``) like the shell harness:
        global flags before the subcommand."""
        full_env = {**os.environ, "VMSYSTEM_CACHE_DIR": str(self.cache_dir), **(env or {})}
        full_env.pop("VMSYSTEM_SERVER_URL", None)
        if env and "VMSYSTEM_SERVER_URL" in env:
            full_env["VMSYSTEM_SERVER_URL"] = env["VMSYSTEM_SERVER_URL"]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "vmsystem",
                "--server-url",
                self.url,
                "--db",
                str(self.db),
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=full_env,
            timeout=60,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"vm-system {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done


@contextmanager
def running_daemon(tmp: Path, extra: Sequence[str] = ()) -> Iterator[Daemon]:
    """``vm-system serve`` on a free port with its own database and cache; stopped after."""
    port = free_port()
    db = tmp / "vm-system.db"
    cache = tmp / "cache"
    cache.mkdir(exist_ok=True)
    log = tmp / "daemon.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMSYSTEM_")}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vmsystem",
                "serve",
                "--db",
                str(db),
                "--listen",
                f"127.0.0.1:{port}",
                "--cache-dir",
                str(cache),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    daemon = Daemon(url, db, cache, log, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"daemon exited {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"daemon not healthy after 30 s:\n{log.read_text()}")
            time.sleep(0.1)
        yield daemon
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
