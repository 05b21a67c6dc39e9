"""Start the daemon and the bare baseline as real subprocesses and watch their resources."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = [
    "HOST_BACKENDS",
    "ServerProcess",
    "cpu_seconds",
    "free_port",
    "pss_kb",
    "rss_kb",
    "sched_wait_seconds",
    "start_bare",
    "start_daemon",
    "voluntary_switches",
]

_CLK_TCK = os.sysconf("SC_CLK_TCK")

#: the daemon's ``--hosts`` choices
HOST_BACKENDS = ("inprocess", "process", "ray")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (all threads) so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def sched_wait_seconds(pid: int) -> float:
    """Time the threads of process ``pid`` have spent runnable but waiting for a CPU (the
    second field of ``/proc/PID/task/TID/schedstat``), summed over its live threads."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        # OSError: a thread that just ended
        with (
            contextlib.suppress(OSError, IndexError, ValueError),
            open(f"/proc/{pid}/task/{task}/schedstat") as f,
        ):
            total += int(f.read().split()[1])
    return total / 1e9


def rss_kb(pid: int) -> int:
    """VmRSS of process ``pid`` in kB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def pss_kb(pid: int) -> int:
    """The proportional set size of ``pid`` in kB (``/proc/PID/smaps_rollup``): shared pages
    (libraries, the interpreter) count once across the processes that map them."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError(f"no Pss for pid {pid}")


def voluntary_switches(pid: int) -> int:
    """Voluntary context switches of the live threads of ``pid`` so far (each thread's
    ``voluntary_ctxt_switches``; a thread that ended takes its count with it)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/status") as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
    return total


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A server subprocess listening on 127.0.0.1:``port``."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        port: int,
        health: str,
        log: Path,
        *,
        ready_timeout: float = 60.0,
    ) -> None:
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
        self._wait_ready(health, ready_timeout)

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
        return cpu_seconds(self.pid)

    def rss_kb(self) -> int:
        """VmRSS of the process in kB."""
        return rss_kb(self.pid)

    def host_pids(self) -> list[int]:
        """The pids of the daemon's session hosts (``GET /api/v1/runtime/summary``); none
        for the in-process backend, whose one pseudo host is the daemon itself."""
        r = httpx.get(self.base_url + "/api/v1/runtime/summary", timeout=30)
        r.raise_for_status()
        return [int(h["pid"]) for h in r.json()["hosts"] if h.get("pid") and h.get("alive")]

    def tree_rss_kb(self) -> tuple[int, list[int]]:
        """The RSS of the daemon plus every host process in kB, and the host pids summed."""
        pids = [p for p in self.host_pids() if p != self.pid]
        total = self.rss_kb()
        for pid in pids:
            with contextlib.suppress(OSError, RuntimeError):  # a host that just stopped
                total += rss_kb(pid)
        return total, pids

    def tree_pss_kb(self, pids: list[int]) -> int:
        """The PSS of the daemon plus the processes ``pids`` (its hosts) in kB."""
        total = pss_kb(self.pid)
        for pid in pids:
            with contextlib.suppress(OSError, RuntimeError):
                total += pss_kb(pid)
        return total

    def tree_cpu_seconds(self, pids: list[int]) -> float:
        """CPU seconds of the daemon plus the processes ``pids`` (its hosts)."""
        total = self.cpu_seconds()
        for pid in pids:
            with contextlib.suppress(OSError):
                total += cpu_seconds(pid)
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def start_daemon(
    workdir: Path,
    name: str = "daemon",
    *,
    hosts: str = "inprocess",
    args: tuple[str, ...] = (),
) -> ServerProcess:
    """``python -m vmsystem serve --hosts HOSTS`` on a fresh SQLite file; libraries from
    ``workdir/cache``; ``args`` are more ``serve`` flags (e.g. ``--host-processes 1``)."""
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
        "--hosts",
        hosts,
        *args,
    ]
    # A Ray daemon starts a local Ray cluster first (about 10 s, longer on a loaded machine).
    timeout = 180.0 if hosts == "ray" else 60.0
    return ServerProcess(
        name, cmd, port, "/api/v1/health", workdir / f"{name}.log", ready_timeout=timeout
    )


def start_bare(workdir: Path) -> ServerProcess:
    """The bare endpoint (bench/bare_app.py) on the same server stack."""
    port = free_port()
    cmd = [sys.executable, "-m", "bench.bare_app", "--listen", f"127.0.0.1:{port}"]
    return ServerProcess("bare", cmd, port, "/health", workdir / "bare.log")
