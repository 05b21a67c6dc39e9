"""Library downloads as jobs: the verified ``npm pack`` download of ``vm-system libs download``,
run in the background with per-library progress, and cancellable.

A job fetches its libraries one after another (each one's sha256 and size are checked against
the catalog before it is stored, as on the CLI). Cancelling stops the job at once: libraries
not yet started are skipped; an ``npm pack`` already running finishes in the background and its
file, verified like any other, may still land in the cache (npm gives no safe way to abort it
half-way, and a verified file in the cache is harmless). Jobs live in memory: the newest
:data:`KEEP_JOBS` are kept, and a daemon restart forgets them.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from vmsystem.core.errors import DownloadNotFound, LibraryNotFound, ValidationError
from vmsystem.core.ids import new_id, normalize_id, utcnow
from vmsystem.libraries.cache import LibraryCache
from vmsystem.libraries.catalog import CatalogEntry, catalog_entry, catalog_names
from vmsystem.libraries.errors import DownloadError, LibraryError, NpmNotFoundError
from vmsystem.libraries.names import resolve_name

__all__ = ["KEEP_JOBS", "DownloadJob", "LibraryDownloads", "LibraryProgress"]

_log = logging.getLogger(__name__)

#: How many finished jobs are remembered (running ones are never dropped).
KEEP_JOBS = 100

JobStatus = Literal["running", "succeeded", "failed", "cancelled"]
#: ``pending`` (not started), ``downloading``, ``downloaded``, ``cached`` (already in the
#: cache: no npm run), ``failed``, ``skipped`` (the job was cancelled or npm is missing).
LibraryState = Literal["pending", "downloading", "downloaded", "cached", "failed", "skipped"]


@dataclass
class LibraryProgress:
    """One library of a job."""

    name: str
    version: str
    state: LibraryState = "pending"
    error: str | None = None


@dataclass
class DownloadJob:
    """A snapshot-able download job; read it through :meth:`to_json` or the service."""

    id: str
    libraries: list[LibraryProgress]
    created_at: datetime
    status: JobStatus = "running"
    error: dict[str, str] | None = None
    finished_at: datetime | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    @property
    def names(self) -> list[str]:
        """``name@version`` of each library, in the order they are fetched."""
        return [f"{lib.name}@{lib.version}" for lib in self.libraries]

    def snapshot(self) -> dict[str, Any]:
        """The job as plain data: ``id, names, status, progress, error, created_at,
        finished_at``; ``progress`` is ``{total, completed, libraries: [...]}``."""
        done = sum(1 for lib in self.libraries if lib.state in ("downloaded", "cached"))
        return {
            "id": self.id,
            "names": self.names,
            "status": self.status,
            "progress": {
                "total": len(self.libraries),
                "completed": done,
                "libraries": [
                    {
                        "name": lib.name,
                        "version": lib.version,
                        "state": lib.state,
                        "error": lib.error,
                    }
                    for lib in self.libraries
                ],
            },
            "error": dict(self.error) if self.error else None,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
        }


def _collect(events: list[str]) -> Callable[[str, str], None]:
    """A progress callback that records each event of ``LibraryCache.download``."""

    def report(_spec: str, event: str) -> None:
        events.append(event)

    return report


class LibraryDownloads:
    """Starts, reports and cancels library download jobs over one :class:`LibraryCache`."""

    def __init__(self, cache: LibraryCache) -> None:
        self.cache = cache
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, DownloadJob] = OrderedDict()

    def _targets(self, names: Sequence[str]) -> builtins.list[CatalogEntry]:
        if not names:
            raise ValidationError("names must list at least one library", field="names")
        targets: dict[str, CatalogEntry] = {}
        for spec in names:
            text = (spec or "").strip()
            try:
                name, version = resolve_name(text)
            except LibraryError as exc:
                raise LibraryNotFound(str(exc), library=text) from None
            known = catalog_entry(name, self.cache.catalog)
            if known is None or version not in (None, known.version):
                available = ", ".join(catalog_names(self.cache.catalog))
                raise LibraryNotFound(
                    f"{text} is not in the catalog, so it cannot be downloaded"
                    f" (available: {available})",
                    library=text,
                )
            targets[known.name] = known
        return list(targets.values())

    def start(self, names: Sequence[str]) -> dict[str, Any]:
        """Validate ``names`` (catalog specs: ``lodash``, ``lodash@4.17.21``) and start a job.

        Raises VALIDATION_ERROR for an empty list and LIBRARY_NOT_FOUND for a name outside
        the catalog, before anything runs. Returns the job's snapshot (status ``running``).
        """
        targets = self._targets(names)
        job = DownloadJob(
            id=new_id(),
            libraries=[LibraryProgress(t.name, t.version) for t in targets],
            created_at=utcnow(),
        )
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
            snapshot = job.snapshot()
        threading.Thread(
            target=self._run,
            args=(job, targets),
            name=f"library-download-{job.id[:8]}",
            daemon=True,
        ).start()
        return snapshot

    def get(self, job_id: str) -> dict[str, Any]:
        """The job's snapshot; DOWNLOAD_NOT_FOUND if unknown."""
        with self._lock:
            return self._job(job_id).snapshot()

    def list(self) -> builtins.list[dict[str, Any]]:
        """Every remembered job, newest first."""
        with self._lock:
            return [job.snapshot() for job in reversed(self._jobs.values())]

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop a running job (its snapshot says ``cancelled`` at once); a finished job is
        returned unchanged."""
        with self._lock:
            job = self._job(job_id)
            if job.status == "running":
                job.cancel_requested.set()
                self._finish(job, "cancelled")
            return job.snapshot()

    def cancel_all(self) -> None:
        """Cancel every running job (daemon shutdown)."""
        with self._lock:
            for job in self._jobs.values():
                if job.status == "running":
                    job.cancel_requested.set()
                    self._finish(job, "cancelled")

    def _job(self, job_id: str) -> DownloadJob:
        key = normalize_id(job_id, "download_id")
        job = self._jobs.get(key)
        if job is None:
            raise DownloadNotFound(download_id=key)
        return job

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.status != "running"]
        for key in finished[: max(0, len(self._jobs) - KEEP_JOBS)]:
            del self._jobs[key]

    def _finish(self, job: DownloadJob, status: JobStatus) -> None:
        """Under the lock: the final status; libraries not done are ``skipped``."""
        job.status = status
        job.finished_at = utcnow()
        for lib in job.libraries:
            if lib.state in ("pending", "downloading") and status == "cancelled":
                lib.state = "skipped"

    def _set(
        self, job: DownloadJob, index: int, state: LibraryState, error: str | None = None
    ) -> None:
        with self._lock:
            if job.status != "running":
                return
            job.libraries[index].state = state
            job.libraries[index].error = error

    def _run(self, job: DownloadJob, targets: builtins.list[CatalogEntry]) -> None:
        failures: builtins.list[str] = []
        try:
            for index, target in enumerate(targets):
                if job.cancel_requested.is_set():
                    return
                self._set(job, index, "downloading")
                events: builtins.list[str] = []
                try:
                    self.cache.download([target.spec], _collect(events))
                except NpmNotFoundError as exc:
                    self._fail_all(job, "NPM_NOT_FOUND", exc.message)
                    return
                except DownloadError as exc:
                    message = exc.failures.get(target.spec, exc.message)
                    failures.append(f"{target.spec}: {message}")
                    self._set(job, index, "failed", message)
                    continue
                self._set(job, index, "cached" if "cached" in events else "downloaded")
        except Exception as exc:  # a job never stays "running"
            _log.exception("library download %s failed", job.id)
            self._fail_all(job, "INTERNAL", f"{type(exc).__name__}: {exc}")
            return
        with self._lock:
            if job.status != "running":
                return
            if failures:
                job.error = {
                    "code": "DOWNLOAD_FAILED",
                    "message": f"failed to download {len(failures)} of {len(targets)}"
                    f" libraries: {failures[0]}",
                }
                self._finish(job, "failed")
            else:
                self._finish(job, "succeeded")

    def _fail_all(self, job: DownloadJob, code: str, message: str) -> None:
        with self._lock:
            if job.status != "running":
                return
            for lib in job.libraries:
                if lib.state in ("pending", "downloading"):
                    lib.state = "skipped" if lib.state == "pending" else "failed"
                    lib.error = message if lib.state == "failed" else None
            job.error = {"code": code, "message": message}
            self._finish(job, "failed")
