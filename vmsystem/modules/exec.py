"""The ``exec`` native module: ``run(cmd, args)`` for commands the template allows.

A command runs only when ``cmd`` is exactly one of the ``exec:run`` capability's
``config.allow`` entries. It runs without a shell (an argument vector, so ``;``, ``$(...)``
and friends are passed literally), in the worktree, with a minimal environment
(``PATH=/usr/bin:/bin``, ``HOME`` = the worktree, ``LANG=C.UTF-8`` and the variables granted
by ``env:<VAR>``), stdin closed, for at most ``timeout_ms`` (10 s) and
:data:`MAX_OUTPUT_BYTES` of combined output, inside the bubblewrap sandbox of
:mod:`vmsystem.modules.sandbox` (the allowlist is not a boundary: ``find -exec`` or a git
hook runs whatever it likes, so the sandbox is what confines it).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from vmsystem.modules.cgroups import command_group
from vmsystem.modules.grants import exec_policy, session_environment
from vmsystem.modules.sandbox import SandboxUnavailable, inside_sandbox, sandbox_command
from vmsystem.modules.scope import ModuleScope, ModuleSpec
from vmsystem.runtime import HostError, HostFunction

__all__ = ["EXEC_PATH", "MAX_OUTPUT_BYTES", "MODULE"]

#: Where bare command names are looked up, and the children's PATH.
EXEC_PATH = "/usr/bin:/bin"
#: Most combined stdout+stderr a command may produce (1 MiB).
MAX_OUTPUT_BYTES = 1024 * 1024
_POLL_S = 0.02

_JS_FACTORY = """function (hostCall, name) {
  "use strict";
  return {
    run: (cmd, args) => hostCall("run", [cmd, args === undefined ? [] : args]),
  };
}"""


def _resolve(cmd: str, root: Path) -> str:
    """The executable behind an allowed command (bare names through :data:`EXEC_PATH`); it
    must be visible inside the sandbox (the read-only system or the worktree)."""
    if os.path.isabs(cmd):
        path = cmd
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise HostError(f"exec: command not found or not executable: {cmd}")
    else:
        found = shutil.which(cmd, path=EXEC_PATH)
        if found is None:
            raise HostError(f"exec: command not found in {EXEC_PATH}: {cmd}")
        path = found
    if not inside_sandbox(path, root):
        raise HostError(
            f"exec: {cmd} is outside the sandbox (only /usr, /bin, /sbin, /lib* and the "
            f"worktree are visible to commands)"
        )
    return path


def _killpg(proc: subprocess.Popen[bytes]) -> None:
    # The leader is not reaped yet (see _exited), so its pid still names this group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether the child has exited, without reaping it (WNOWAIT)."""
    try:
        info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None


def _build(scope: ModuleScope) -> dict[str, HostFunction]:
    root = Path(os.path.realpath(scope.worktree))

    def run(args: list[Any]) -> str:
        cmd = args[0] if args else None
        argv = args[1] if len(args) > 1 else []
        if not isinstance(cmd, str) or not cmd:
            raise HostError("exec.run: cmd must be a non-empty string", "TypeError")
        if argv is None:
            argv = []
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise HostError("exec.run: args must be an array of strings", "TypeError")
        if "\x00" in cmd or any("\x00" in a for a in argv):
            raise HostError("exec.run: cmd and args must not contain NUL bytes", "TypeError")
        policy = exec_policy(scope.capabilities)
        if policy is None:
            raise HostError('exec.run needs the exec:run capability with config {"allow": [...]}')
        if cmd not in policy.allow:
            allowed = ", ".join(policy.allow) or "nothing"
            raise HostError(f"exec: command not allowed: {cmd!r} (exec:run allows: {allowed})")
        executable = _resolve(cmd, root)
        env = (
            dict(scope.environment)
            if scope.environment is not None
            else session_environment(scope.capabilities, os.environ)
        )
        env.update({"PATH": EXEC_PATH, "HOME": str(root), "LANG": "C.UTF-8"})
        budget = scope.time_left(policy.timeout_ms / 1000)
        if budget <= 0 or scope.interrupt.is_set():
            raise HostError(f"exec: {cmd} not started: the execution is being stopped")
        try:
            command = sandbox_command(
                [executable, *argv],
                worktree=root,
                writable=scope.capability("fs", "write") is not None,
                network=policy.network,
                cpu_seconds=int(budget) + 1,
            )
        except SandboxUnavailable as exc:
            raise HostError(f"exec: {cmd} not started: {exc}") from None
        group = command_group()
        if group is not None:
            command = group.wrap(command)
        try:
            proc = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                shell=False,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            if group is not None:
                group.close()
            raise HostError(f"exec: cannot start {cmd}: {exc.strerror or exc}") from None
        try:
            output, stopped = _collect(proc, time.monotonic() + budget, scope)
        finally:
            if group is not None:
                group.close()
        text = output.decode("utf-8", errors="replace")
        if stopped == "timeout":
            raise HostError(f"exec: {cmd} timed out after {budget * 1000:.0f} ms: {text}")
        if stopped == "interrupt":
            raise HostError(f"exec: {cmd} was stopped (execution cancelled): {text}")
        if stopped == "output":
            raise HostError(
                f"exec: {cmd} produced more than {MAX_OUTPUT_BYTES // 1024} KiB of output "
                f"and was stopped"
            )
        if proc.returncode < 0:
            raise HostError(f"exec: {cmd} was killed by signal {-proc.returncode}: {text}")
        if proc.returncode != 0:
            raise HostError(f"exec: {cmd} exited with status {proc.returncode}: {text}")
        return text

    return {"run": run}


def _collect(
    proc: subprocess.Popen[bytes], deadline: float, scope: ModuleScope
) -> tuple[bytes, str | None]:
    """Read the child's output until it exits; stop it at the deadline, on interrupt or at
    the output cap. Returns the output and why it was stopped (None: it ended by itself)."""
    assert proc.stdout is not None
    chunks: list[bytes] = []
    size = 0
    stopped: str | None = None
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        try:
            while True:
                if scope.interrupt.is_set():
                    stopped = "interrupt"
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    stopped = "timeout"
                    break
                if not selector.select(min(left, _POLL_S)):
                    continue
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    break  # EOF: the child (and anything it started) closed the pipe
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_OUTPUT_BYTES:
                    stopped = "output"
                    break
            if stopped is None:
                while not _exited(proc):
                    if scope.interrupt.is_set():
                        stopped = "interrupt"
                        break
                    if time.monotonic() >= deadline:
                        stopped = "timeout"
                        break
                    time.sleep(_POLL_S / 4)
        finally:
            # Kills prlimit/bwrap and so the sandbox's PID namespace with everything in it.
            _killpg(proc)
            proc.wait()
            proc.stdout.close()
    return b"".join(chunks)[:MAX_OUTPUT_BYTES], stopped


MODULE = ModuleSpec(
    name="exec",
    description=(
        "run(cmd, args) -> combined stdout+stderr of a command listed in the exec:run "
        "capability (no shell, cwd = worktree, minimal env, 10 s and 1 MiB at most) in a "
        "bubblewrap sandbox (read-only system, no network, own PID namespace); throws on a "
        "non-zero exit."
    ),
    functions=("run",),
    js_factory=_JS_FACTORY,
    build=_build,
    capabilities=("exec:run", "exec:network"),
    side_effects=("run",),
)
