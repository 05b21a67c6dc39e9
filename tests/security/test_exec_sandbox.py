"""exec.run children run in the bubblewrap sandbox: what they start stays confined.

The allowlist names which program starts; these attacks start other programs through an
allowed one (``find -exec``, git's ``core.fsmonitor``, a shell) and check what they reach.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.modules_harness import Session, cap, js, open_session

from .conftest import require_tool

FIND = ["find", "sh", "id", "cat", "ls", "touch", "git", "python3", "setsid"]


def _exec(*, write: bool = False, network: bool = False) -> list:  # type: ignore[type-arg]
    grants = [cap("exec", "run", config={"allow": FIND})]
    if write:
        grants.append(cap("fs", "write"))
    if network:
        grants.append(cap("exec", "network"))
    return grants


@pytest.fixture
def sandboxed(worktree: Path) -> Iterator[Session]:
    """A session allowed to run a shell and friends, without fs:write."""
    with open_session(worktree, ["exec", "fs"], _exec()) as s:
        yield s


def run(s: Session, cmd: str, *args: str) -> str:
    """exec.run's output, or the text of the error it threw."""
    result = s.value(
        f"(() => {{ try {{ return require('exec').run({js(cmd)}, {js(list(args))}); }} "
        f"catch (e) {{ return 'THREW: ' + e.message; }} }})()"
    )
    assert isinstance(result, str)
    return result


def test_find_exec_runs_as_nobody_without_capabilities(sandboxed: Session) -> None:
    out = run(sandboxed, "find", ".", "-maxdepth", "0", "-exec", "id", "-u", ";")
    assert out.strip() == "65534"
    caps = run(
        sandboxed,
        "find",
        ".",
        "-maxdepth",
        "0",
        "-exec",
        "grep",
        "CapEff",
        "/proc/self/status",
        ";",
    )
    assert "THREW" not in caps and caps.split()[-1] == "0000000000000000"


def test_find_exec_cannot_write_outside_the_worktree(worktree: Path, outside: Path) -> None:
    system = _system_paths("pwned")
    try:
        with open_session(worktree, ["exec"], _exec(write=True)) as s:
            script = f"echo pwned > {outside}/written; " + "; ".join(
                f"echo pwned > {p}" for p in system
            )
            out = run(s, "find", ".", "-maxdepth", "0", "-exec", "sh", "-c", script, ";")
        assert not (outside / "written").exists()
        assert not any(p.exists() for p in system)
        assert "Read-only file system" in out or "No such file" in out or "Permission denied" in out
    finally:
        _remove(system)


def _system_paths(kind: str) -> list[Path]:
    """Files in system directories that only a broken sandbox lets a command create (unique
    names, removed after the test whatever happens)."""
    name = f"vm-system-security-{kind}-{uuid.uuid4().hex}"
    return [Path("/usr") / name, Path("/") / name]


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def test_find_exec_cannot_read_the_daemon_environment(
    sandboxed: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VMSYSTEM_AUTH_TOKEN", "daemon-token-canary")
    environ = f"/proc/{os.getpid()}/environ"
    out = run(sandboxed, "find", ".", "-maxdepth", "0", "-exec", "cat", environ, ";")
    assert "daemon-token-canary" not in out
    assert "No such file" in out
    # Only the sandbox's own processes are visible.
    pids = run(sandboxed, "ls", "/proc")
    numeric = [p for p in pids.split() if p.isdigit()]
    assert len(numeric) <= 4, numeric


def test_files_outside_the_worktree_are_absent(sandboxed: Session, outside: Path) -> None:
    out = run(
        sandboxed, "sh", "-c", f"cat {outside}/secret.txt; ls /home /root /var/lib /etc/shadow"
    )
    assert "outside-secret" not in out
    assert out.count("No such file") >= 5, out


def test_without_fs_write_the_worktree_is_read_only(sandboxed: Session, worktree: Path) -> None:
    out = run(sandboxed, "touch", "created")
    assert "Read-only file system" in out
    assert not (worktree / "created").exists()


def test_with_fs_write_the_worktree_is_the_only_writable_path(worktree: Path) -> None:
    system = _system_paths("created")
    try:
        with open_session(worktree, ["exec"], _exec(write=True)) as s:
            assert run(s, "touch", "created") == ""
            assert "Read-only file system" in run(s, "touch", str(system[0]))
        assert (worktree / "created").exists()
        assert not system[0].exists()
    finally:
        _remove(system)


def test_git_core_fsmonitor_runs_only_inside_the_sandbox(worktree: Path, outside: Path) -> None:
    require_tool("git")
    with open_session(worktree, ["exec", "fs"], _exec(write=True)) as s:
        assert "THREW" not in run(s, "git", "init", "-q", ".")
        hook = (
            f"sh -c 'id -u > fsmonitor-ran; echo pwned > {outside}/fsmonitor; "
            f"cat /proc/{os.getpid()}/environ > leaked-environ 2>/dev/null; exit 1'"
        )
        config = f'[core]\n\trepositoryformatversion = 0\n\tfsmonitor = "{hook}"\n'
        s.value(f"require('fs').writeFileSync('.git/config', {js(config)}), 1")
        run(s, "git", "status")
    assert (worktree / "fsmonitor-ran").read_text().strip() == "65534"  # the attack did run
    assert not (outside / "fsmonitor").exists()
    assert (worktree / "leaked-environ").read_text() == ""


def test_setsid_background_processes_do_not_outlive_the_run(sandboxed: Session) -> None:
    marker = f"177.{os.getpid()}{int(time.monotonic() * 1000) % 100000}"
    out = run(
        sandboxed, "sh", "-c", f"setsid sleep {marker} > /dev/null 2>&1 & sleep 0.3; echo started"
    )
    print(
        "DEBUG",
        repr(out),
        subprocess.run(["pgrep", "-af", "sleep"], capture_output=True, text=True).stdout,
    )
    assert out == "started\n"
    _assert_gone(["sleep", marker], "the run")


def _assert_gone(argv: list[str], what: str) -> None:
    """No process runs ``argv`` within 5 s; one that does is killed (it is the test's own)."""
    deadline = time.monotonic() + 5
    while left := _running(argv):
        if time.monotonic() > deadline:
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            pytest.fail(f"{' '.join(argv)!r} outlived {what}")
        time.sleep(0.02)


def _running(argv: list[str]) -> list[int]:
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if cmdline.endswith(wanted) and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server on the host's loopback that accepts connections."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.05)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.sendall(b"hello-from-host")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(5)
    server.close()


CONNECT = (
    "import socket,sys\n"
    "s=socket.create_connection(('127.0.0.1',int(sys.argv[1])),timeout=3)\n"
    "print(s.recv(100).decode())\n"
)


def test_commands_have_no_network_without_exec_network(sandboxed: Session, listener: int) -> None:
    require_tool("python3")
    out = run(sandboxed, "python3", "-c", CONNECT, str(listener))
    assert "hello-from-host" not in out
    assert "Connection refused" in out or "unreachable" in out, out


def test_exec_network_grants_the_host_network(worktree: Path, listener: int) -> None:
    require_tool("python3")
    with open_session(worktree, ["exec"], _exec(network=True)) as s:
        assert run(s, "python3", "-c", CONNECT, str(listener)).strip() == "hello-from-host"


def test_commands_run_under_resource_limits(sandboxed: Session) -> None:
    limits = run(sandboxed, "sh", "-c", "ulimit -v; ulimit -n; ulimit -c; ulimit -f")
    assert limits.split() == ["1048576", "256", "0", str(256 * 1024 * 1024 // 512)]


def test_commands_outside_the_sandbox_are_refused(worktree: Path) -> None:
    grant = cap("exec", "run", config={"allow": [str(Path(os.__file__).resolve())]})
    with open_session(worktree, ["exec"], [grant]) as s:
        error = s.caught(f"require('exec').run({js(str(Path(os.__file__).resolve()))})")
    assert "not executable" in error["message"] or "outside the sandbox" in error["message"]


def test_the_sandbox_dies_with_the_daemon(tmp_path: Path) -> None:
    """A daemon killed with SIGKILL (no clean-up code runs) takes its commands with it."""
    marker = f"199.{os.getpid()}{int(time.monotonic() * 1000) % 100000}"
    script = tmp_path / "daemon.py"
    script.write_text(
        "import subprocess, sys, time\n"
        "from pathlib import Path\n"
        "from vmsystem.modules.sandbox import sandbox_command\n"
        f"cmd = sandbox_command(['/bin/sh', '-c', 'setsid sleep {marker} & sleep {marker}'],"
        f" worktree=Path({str(tmp_path)!r}), writable=False, network=False, cpu_seconds=30)\n"
        "subprocess.Popen(cmd, start_new_session=True)\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    daemon = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, env={**os.environ}
    )
    try:
        assert daemon.stdout is not None and daemon.stdout.readline() == b"started\n"
        deadline = time.monotonic() + 5
        while len(_running(["sleep", marker])) < 2:
            assert time.monotonic() < deadline, "the sandboxed sleeps never started"
            time.sleep(0.02)
    finally:
        daemon.kill()
        daemon.wait()
    _assert_gone(["sleep", marker], "the daemon")


FORK_LOOP = (
    "import os, time\n"
    "n = 0\n"
    "for _ in range(1000):\n"
    "    try:\n"
    "        pid = os.fork()\n"
    "    except OSError:\n"
    "        break\n"
    "    if pid == 0:\n"
    "        time.sleep(3)\n"
    "        os._exit(0)\n"
    "    n += 1\n"
    "print(n)\n"
)


def test_a_fork_loop_stays_under_the_process_limit(sandboxed: Session) -> None:
    from vmsystem.modules.cgroups import EXEC_MAX_PROCESSES, command_group

    group = command_group()
    assert group is not None, "this machine has a writable cgroup (v2 delegated or v1 pids)"
    group.close()
    out = run(sandboxed, "python3", "-c", FORK_LOOP)
    assert not out.startswith("THREW"), out
    assert int(out) < EXEC_MAX_PROCESSES, out
