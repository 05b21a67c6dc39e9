"""Start the daemon and the bare baseline as real subprocesses and watch their resources."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["ServerProcess", "free_port", "start_bare", "start_daemon"]

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A server subprocess listening on 127.0.0.1:``port``."""

    def __init__(self, name: str, cmd: list[str], port: int, health: str, log: Path) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parent.parent,
        )
        self._wait_ready(health)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _wait_ready(self, health: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}: "
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            try:
                if httpx.get(self.base_url + health, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready in {timeout} s")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process (all threads) so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK

    def rss_kb(self) -> int:
        """VmRSS of the process in kB."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def start_daemon(workdir: Path, name: str = "daemon") -> ServerProcess:
    """``python -m vmsystem serve`` on a fresh SQLite file; libraries from ``workdir/cache``."""
    port = free_port()
    db = workdir / f"{name}.db"
    cmd = [
        sys.executable,
        "-m",
        "vmsystem",
        "serve",
        "--db",
        str(db),
        "--listen",
        f"127.0.0.1:{port}",
        "--cache-dir",
        str(workdir / "cache"),
    ]
    return ServerProcess(name, cmd, port, "/api/v1/health", workdir / f"{name}.log")


def start_bare(workdir: Path) -> ServerProcess:
    """The bare endpoint (bench/bare_app.py) on the same server stack."""
    port = free_port()
    cmd = [sys.executable, "-m", "bench.bare_app", "--listen", f"127.0.0.1:{port}"]
    return ServerProcess("bare", cmd, port, "/health", workdir / "bare.log")
