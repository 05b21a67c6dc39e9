"""The sandbox every ``exec.run`` child runs in: a bubblewrap (``bwrap``) command line.

The command allowlist says *which* program starts; this says what it (and anything it starts:
``find -exec``, git hooks and ``core.fsmonitor``, a shell) can reach. Each command gets:

- new user, PID, mount, IPC, UTS and cgroup namespaces, and a new network namespace (only a
  loopback interface) unless the ``exec:network`` capability is granted; runs as uid/gid
  65534 with no capabilities and cannot create further user namespaces;
- a file system made of the host's ``/usr`` (and the ``/bin``, ``/sbin``, ``/lib*`` links or
  directories) read-only, a handful of ``/etc`` files (the loader cache, ``passwd``/``group``,
  alternatives, time zone; name resolution and CA certificates only with the network), a
  fresh ``/proc`` that shows only the sandbox's processes, a minimal ``/dev``, a private
  64 MiB ``/tmp``, and the worktree at its own path: writable with ``fs:write``, read-only
  without. Nothing else of the host (home directories, the daemon's database and library
  cache, other worktrees) exists inside;
- PID 1 of its namespace is bubblewrap's reaper: when the command exits, is killed, or the
  daemon dies (``--die-with-parent``), the kernel kills every process left in the namespace,
  ``setsid``/double-forked ones included;
- resource limits (``prlimit``): :data:`RLIMITS`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "RLIMITS",
    "SANDBOX_GID",
    "SANDBOX_UID",
    "SYSTEM_DIRS",
    "SandboxUnavailable",
    "inside_sandbox",
    "sandbox_command",
]

SANDBOX_UID = 65534
SANDBOX_GID = 65534
#: Top-level host paths mirrored read-only (a symlink stays a symlink: /bin -> usr/bin).
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: /etc entries every command gets (read-only; missing ones are skipped).
_ETC_BASE = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
)
#: /etc entries for name resolution and TLS, only with ``exec:network``.
_ETC_NETWORK = (
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
)
_TMP_BYTES = 64 * 1024 * 1024
#: ``prlimit`` options: 1 GiB of address space, 256 MiB files, 256 descriptors, no core
#: dumps. (RLIMIT_NPROC is not set: it counts every task of the daemon's user, threads
#: included, and the kernel ignores it for root; the PID namespace and the timeout bound a
#: fork loop instead.)
RLIMITS = ("--as=1073741824", "--fsize=268435456", "--nofile=256", "--core=0")


class SandboxUnavailable(RuntimeError):
    """bubblewrap or prlimit is not installed: commands are refused, never run unconfined."""


def _tool(name: str) -> str:
    found = shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")
    if found is None:
        raise SandboxUnavailable(
            f"the exec sandbox needs {name!r} (Debian package "
            f"{'bubblewrap' if name == 'bwrap' else 'util-linux'}), which is not installed"
        )
    return found


def inside_sandbox(path: str, worktree: Path) -> bool:
    """Whether ``path`` (absolute, symlinks resolved) exists inside the sandbox's view."""
    real = os.path.realpath(path)
    roots = [str(worktree), *(os.path.realpath(d) for d in SYSTEM_DIRS if os.path.exists(d))]
    return any(real == root or real.startswith(root.rstrip("/") + "/") for root in roots)


def _system_mounts() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _etc_mounts(paths: Sequence[str]) -> list[str]:
    args: list[str] = []
    for path in paths:
        if os.path.lexists(path):
            args += ["--ro-bind-try", path, path]
    return args


def sandbox_command(
    argv: Sequence[str], *, worktree: Path, writable: bool, network: bool, cpu_seconds: int
) -> list[str]:
    """The full command line running ``argv`` in the sandbox, cwd = ``worktree``.

    Raises :class:`SandboxUnavailable` when bubblewrap or prlimit is missing.
    """
    root = str(worktree)
    if root == "/" or not os.path.isabs(root):
        raise SandboxUnavailable(f"the worktree {root!r} cannot be mounted in the sandbox")
    bwrap = _tool("bwrap")
    prlimit = _tool("prlimit")
    cmd = [prlimit, *RLIMITS, f"--cpu={max(cpu_seconds, 1)}", "--", bwrap]
    cmd += ["--unshare-all", "--unshare-user", "--disable-userns"]
    if network:
        cmd.append("--share-net")
    cmd += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID), "--cap-drop", "ALL"]
    cmd += ["--die-with-parent", "--new-session", "--hostname", "vm-system-sandbox"]
    cmd += _system_mounts()
    cmd += ["--dir", "/etc"]
    cmd += _etc_mounts(_ETC_BASE + (_ETC_NETWORK if network else ()))
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    cmd += ["--size", str(_TMP_BYTES), "--tmpfs", "/tmp", "--dir", "/var/tmp"]
    # Mounted last, so that a worktree under /tmp sits on top of the private /tmp.
    cmd += ["--bind" if writable else "--ro-bind", root, root, "--chdir", root]
    cmd += ["--", *argv]
    return cmd
