"""Least privilege for a host process: no new privileges and resource limits.

Applied by the host process to itself before it loads V8 (so the daemon never runs code between
fork and exec), and inherited by everything it starts (``exec.run`` children).
"""

from __future__ import annotations

import ctypes
import os
import resource

from vmsystem.hosts.procfs import user_tasks

__all__ = ["FSIZE_LIMIT_BYTES", "NPROC_HEADROOM", "apply_limits", "scrubbed_environment"]

#: Largest file a host (or an exec child) may write: 1 GiB.
FSIZE_LIMIT_BYTES = 1 << 30
#: RLIMIT_NPROC counts every thread of the user, machine-wide; a host may add this many
#: (its own V8 threads included) to what the user runs when it starts.
NPROC_HEADROOM = 1024
_PR_SET_NO_NEW_PRIVS = 38

#: What a host process's environment keeps of the daemon's (nothing else: no VMSYSTEM_*
#: variable, no token, no database URL).
_KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ", "PYTHONPATH")


def scrubbed_environment(environ: dict[str, str], package_root: str) -> dict[str, str]:
    """A host's environment: a few variables Python needs, and ``package_root`` importable."""
    env = {k: environ[k] for k in _KEPT_VARIABLES if k in environ}
    paths = [package_root, *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.setdefault("PATH", "/usr/bin:/bin")
    return {k: v for k, v in env.items() if not k.upper().startswith("VMSYSTEM_")}


def _lower(limit: int, value: int) -> None:
    soft, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    if soft == resource.RLIM_INFINITY or soft > value:
        resource.setrlimit(limit, (value, value))


def apply_limits(memory_mb: int) -> None:
    """``no_new_privs``, RLIMIT_DATA (``memory_mb``; 0: none), RLIMIT_FSIZE and RLIMIT_NPROC.

    Raises OSError if the kernel refuses ``no_new_privs``.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(errno)}")
    if memory_mb > 0:
        _lower(resource.RLIMIT_DATA, memory_mb * 1024 * 1024)
    _lower(resource.RLIMIT_FSIZE, FSIZE_LIMIT_BYTES)
    _lower(resource.RLIMIT_NPROC, user_tasks(os.getuid()) + NPROC_HEADROOM)
