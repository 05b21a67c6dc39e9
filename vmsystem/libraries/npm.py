"""Fetching one file of an npm package with ``npm pack`` (so npm's own configuration applies).

``npm pack <package>@<version>`` downloads the package tarball into a fresh temporary
directory (user and global ``.npmrc``, ``npm_config_*`` variables, proxies and mirrors all
apply). The wanted file is then read from the tarball in memory: nothing from the archive is
ever extracted to disk, so member names cannot escape anywhere.

npm runs in a process group of its own: a timeout or a cancellation kills the whole group
(npm and anything it started), not just the ``npm`` process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import threading
import time
from pathlib import Path

from vmsystem.libraries.errors import DownloadCancelled, DownloadError, NpmNotFoundError

__all__ = ["MAX_FILE_BYTES", "extract_package_file", "find_npm", "npm_pack_file"]

MAX_FILE_BYTES = 32 * 1024 * 1024
#: How often a running npm is checked for cancellation, in seconds.
_POLL_S = 0.1
_NPM_HINT = (
    "install Node.js with npm, or add a file you have with "
    "`vm-system libs add FILE --name N --version V --global G`"
)


def find_npm(npm: str | None = None) -> str:
    """The npm executable to run: ``npm`` (or the given command/path) resolved on ``PATH``.

    Raises :class:`NpmNotFoundError` with a message saying how to proceed.
    """
    command = npm or "npm"
    found = shutil.which(command)
    if found is None:
        raise NpmNotFoundError(
            f"npm was not found (looked for {command!r}): {_NPM_HINT}", hint=_NPM_HINT
        )
    return found


def _tail(text: str, lines: int = 8) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


def _member_path(name: str) -> str | None:
    """``dist/x.js`` for a member ``<top>/dist/x.js`` whose ``<top>`` is a plain name."""
    top, sep, rest = name.partition("/")
    if not sep or top in ("", ".", "..") or "\\" in name:
        return None
    return rest


def extract_package_file(tarball: Path, file: str, *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read ``<top>/<file>`` (``<top>`` is normally ``package``) from an npm tarball.

    The member must be unique and a regular file (not a link or device) of at most
    ``max_bytes``. Raises :class:`DownloadError` otherwise.
    """
    wanted = file.strip("/")
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            matches = [m for m in archive.getmembers() if _member_path(m.name) == wanted]
            if not matches:
                raise DownloadError(f"{wanted} is not in the package tarball {tarball.name}")
            if len(matches) > 1:
                raise DownloadError(f"{wanted} occurs more than once in {tarball.name}")
            member = matches[0]
            if not member.isreg():
                raise DownloadError(f"{wanted} in {tarball.name} is not a regular file")
            if member.size > max_bytes:
                raise DownloadError(
                    f"{wanted} in {tarball.name} is {member.size} bytes (limit {max_bytes})"
                )
            handle = archive.extractfile(member)
            if handle is None:  # pragma: no cover - isreg() members always have data
                raise DownloadError(f"{wanted} in {tarball.name} has no data")
            with handle:
                data = handle.read(max_bytes + 1)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DownloadError(f"cannot read the package tarball {tarball.name}: {exc}") from exc
    if len(data) > max_bytes:  # pragma: no cover - guarded by member.size
        raise DownloadError(f"{wanted} in {tarball.name} exceeds {max_bytes} bytes")
    return data


def npm_pack_file(
    npm: str,
    package: str,
    version: str,
    file: str,
    *,
    timeout: float = 120.0,
    max_bytes: int = MAX_FILE_BYTES,
    cancelled: threading.Event | None = None,
) -> bytes:
    """Run ``npm pack package@version`` in a temporary directory and return ``file``'s bytes.

    ``npm`` is an executable path (see :func:`find_npm`). No shell is involved; stdin is
    closed so npm can never prompt. Setting ``cancelled`` kills npm's process group and
    raises :class:`DownloadCancelled`. Raises :class:`DownloadError` on any failure.
    """
    spec = f"{package}@{version}"
    env = dict(os.environ)
    env.update(
        npm_config_update_notifier="false",
        npm_config_fund="false",
        npm_config_audit="false",
    )
    with tempfile.TemporaryDirectory(prefix="vm-system-npm-") as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        argv = [npm, "pack", spec, "--pack-destination", str(out), "--ignore-scripts", "--json"]
        try:
            proc = subprocess.Popen(
                argv,
                cwd=tmp,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        except OSError as exc:
            raise DownloadError(f"cannot run npm ({npm}): {exc}") from exc
        stdout, stderr = _wait(proc, spec, timeout, cancelled)
        if proc.returncode != 0:
            detail = _tail(stderr) or _tail(stdout) or "no output"
            raise DownloadError(f"npm pack {spec} failed (exit {proc.returncode}): {detail}")
        tarballs = sorted(out.glob("*.tgz"))
        if len(tarballs) != 1:
            raise DownloadError(
                f"npm pack {spec} produced {len(tarballs)} tarballs, expected exactly one"
            )
        return extract_package_file(tarballs[0], file, max_bytes=max_bytes)


def _wait(
    proc: subprocess.Popen[str], spec: str, timeout: float, cancelled: threading.Event | None
) -> tuple[str, str]:
    """npm's output once it exits; its process group is killed at the timeout or when
    ``cancelled`` is set."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                return proc.communicate(timeout=_POLL_S)
            except subprocess.TimeoutExpired:
                pass
            if cancelled is not None and cancelled.is_set():
                raise DownloadCancelled(f"npm pack {spec} was cancelled")
            if time.monotonic() >= deadline:
                raise DownloadError(f"npm pack {spec} timed out after {timeout:g} s")
    except BaseException:
        # npm's group: npm and whatever it started, even if npm itself has just exited.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
