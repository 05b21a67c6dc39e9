"""A control group per ``exec.run`` command: a process count (``pids.max``) and a memory limit
for the command and everything it starts.

The sandbox's other limits are per process (``prlimit``): a fork loop was bounded only by the
command's timeout (about 4,500 tasks in a second), since ``RLIMIT_NPROC`` counts all of a
user's tasks and the kernel ignores it for root. A cgroup counts the command's whole tree.

Where it comes from, in order: cgroup v2 (the daemon's own cgroup, when ``pids`` is enabled for
its children, i.e. the cgroup is delegated), then the cgroup v1 ``pids`` hierarchy (and
``memory`` when writable). Where neither can be written (an unprivileged daemon without
delegation), commands run with the per-process limits only, and the daemon logs a warning
once. The command joins its group before it starts (a shell writes its own pid into
``cgroup.procs``, then execs the sandbox), so no child escapes the count; when the command
ends, whatever is left in the group is killed and the group removed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
import uuid
from pathlib import Path

__all__ = ["EXEC_MAX_MEMORY_BYTES", "EXEC_MAX_PROCESSES", "CommandGroup", "command_group"]

_log = logging.getLogger(__name__)

#: Most processes (threads included) one command and its children may have at once.
EXEC_MAX_PROCESSES = 128
#: Memory of one command and its children together.
EXEC_MAX_MEMORY_BYTES = 1024 * 1024 * 1024
_ROOT = Path("/sys/fs/cgroup")
_PREFIX = "vm-system-exec-"
_warned = threading.Event()


def _own_paths() -> dict[str, str]:
    """This process's cgroup path per v1 controller, and ``""`` for v2."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                paths[name] = path
    return paths


def _v2_parent(paths: dict[str, str]) -> Path | None:
    """The daemon's own v2 cgroup, when it lets children have a pids limit."""
    for mount in (_ROOT, _ROOT / "unified"):
        if (mount / "cgroup.controllers").exists() and "" in paths:
            parent = mount / paths[""].lstrip("/")
            control = parent / "cgroup.subtree_control"
            with contextlib.suppress(OSError):
                if "pids" in control.read_text().split() and os.access(parent, os.W_OK):
                    return parent
    return None


def _v1_parent(paths: dict[str, str], controller: str) -> Path | None:
    mount = _ROOT / controller
    if controller not in paths or not (mount / "cgroup.procs").exists():
        return None
    parent = mount / paths[controller].lstrip("/")
    return parent if os.access(parent, os.W_OK) else None


class CommandGroup:
    """The cgroup(s) of one command: :attr:`procs_files` for it to join, then :meth:`close`."""

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files the command writes its pid to before it starts."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def wrap(self, command: list[str]) -> list[str]:
        """``command`` started by a shell that first moves itself into the group(s)."""
        joins = " && ".join(f"echo $$ > '{f}'" for f in self.procs_files)
        return ["/bin/sh", "-c", f'{joins} && exec "$@"', "vm-system-exec", *command]

    def close(self) -> None:
        """Kill what is left in the group(s) and remove them."""
        for d in self.dirs:
            deadline = time.monotonic() + 5
            while True:
                if (d / "cgroup.kill").exists():
                    with contextlib.suppress(OSError):
                        (d / "cgroup.kill").write_text("1")
                with contextlib.suppress(OSError):
                    for pid in (d / "cgroup.procs").read_text().split():
                        with contextlib.suppress(OSError):
                            os.kill(int(pid), signal.SIGKILL)
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        _log.warning("cannot remove the exec cgroup %s", d)
                        break
                    time.sleep(0.01)


def _make(parent: Path, name: str, limits: dict[str, str]) -> Path | None:
    group = parent / name
    try:
        group.mkdir()
    except OSError:
        return None
    try:
        for file, value in limits.items():
            if (group / file).exists():
                (group / file).write_text(value)
    except OSError:
        with contextlib.suppress(OSError):
            group.rmdir()
        return None
    return group


def command_group() -> CommandGroup | None:
    """A fresh cgroup for one command with :data:`EXEC_MAX_PROCESSES` and
    :data:`EXEC_MAX_MEMORY_BYTES`; None (and a warning, once) where none can be made."""
    name = _PREFIX + uuid.uuid4().hex[:12]
    paths = _own_paths()
    v2 = _v2_parent(paths)
    if v2 is not None:
        limits = {"pids.max": str(EXEC_MAX_PROCESSES), "memory.max": str(EXEC_MAX_MEMORY_BYTES)}
        group = _make(v2, name, limits)
        if group is not None:
            return CommandGroup([group])
    pids = _v1_parent(paths, "pids")
    if pids is not None:
        group = _make(pids, name, {"pids.max": str(EXEC_MAX_PROCESSES)})
        if group is not None:
            dirs = [group]
            memory = _v1_parent(paths, "memory")
            limit = {"memory.limit_in_bytes": str(EXEC_MAX_MEMORY_BYTES)}
            if memory is not None and (mem := _make(memory, name, limit)) is not None:
                dirs.append(mem)
            return CommandGroup(dirs)
    if not _warned.is_set():
        _warned.set()
        _log.warning(
            "exec: no writable cgroup (v2 delegation or v1 pids): commands run without a "
            "process-count limit, under the per-process limits only"
        )
    return None
