"""Library downloads as jobs: the verified ``npm pack`` download of ``vm-system libs download``,
run in the background with per-library progress, and cancellable.

A job fetches its libraries one after another (each one's sha256 and size are checked against
the catalog before it is stored, as on the CLI). One library is fetched once however many jobs
want it at the same time: a job asking for a ``name@version`` already being fetched waits for
that fetch instead of starting another ``npm pack``. At most :data:`MAX_NPM_PROCESSES` npm
processes run at once, across all jobs; further fetches queue.

Cancelling stops the job at once: libraries not yet started are skipped, and a running
``npm pack`` no other running job waits for is killed (its whole process group). Jobs live in
memory: the newest :data:`KEEP_JOBS` are kept, and a daemon restart forgets them.
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
from vmsystem.libraries.errors import (
    DownloadCancelled,
    DownloadError,
    LibraryError,
    NpmNotFoundError,
)
from vmsystem.libraries.names import resolve_name

__all__ = ["KEEP_JOBS", "MAX_NPM_PROCESSES", "DownloadJob", "LibraryDownloads", "LibraryProgress"]

_log = logging.getLogger(__name__)

#: How many finished jobs are remembered (running ones are never dropped).
KEEP_JOBS = 100
#: Most ``npm pack`` processes running at once (each can take tens of MB).
MAX_NPM_PROCESSES = 4
#: How often a waiting job or queued fetch looks for a cancellation, in seconds.
_POLL_S = 0.1

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


@dataclass
class _Fetch:
    """One library being fetched, shared by every job that wants it meanwhile."""

    spec: str
    #: Ids of the running jobs waiting for it; when the last one leaves, it is cancelled.
    waiters: set[str] = field(default_factory=set)
    cancelled: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    events: list[str] = field(default_factory=list)
    error: Exception | None = None


class LibraryDownloads:
    """Starts, reports and cancels library download jobs over one :class:`LibraryCache`."""

    def __init__(self, cache: LibraryCache, *, max_npm_processes: int = MAX_NPM_PROCESSES) -> None:
        self.cache = cache
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, DownloadJob] = OrderedDict()
        #: Fetches under way by ``name@version``.
        self._fetches: dict[str, _Fetch] = {}
        self._npm_slots = threading.BoundedSemaphore(max_npm_processes)

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
                self._cancel(job)
            return job.snapshot()

    def cancel_all(self) -> None:
        """Cancel every running job (daemon shutdown)."""
        with self._lock:
            for job in self._jobs.values():
                if job.status == "running":
                    self._cancel(job)

    def _cancel(self, job: DownloadJob) -> None:
        """Under the lock: stop ``job``, and the fetches no other running job waits for."""
        job.cancel_requested.set()
        self._finish(job, "cancelled")
        for fetch in self._fetches.values():
            fetch.waiters.discard(job.id)
            if not fetch.waiters:
                fetch.cancelled.set()

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
                try:
                    events = self._fetch(job, target)
                    if events is None:
                        return  # the job was cancelled
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

    def _fetch(self, job: DownloadJob, target: CatalogEntry) -> builtins.list[str] | None:
        """Fetch ``target`` for ``job``, joining a fetch of it already under way; its
        progress events, or None if the job was cancelled first. Raises the fetch's error."""
        with self._lock:
            if job.status != "running":
                return None
            fetch = self._fetches.get(target.spec)
            if fetch is None or fetch.cancelled.is_set():  # a cancelled one is on its way out
                fetch = self._fetches[target.spec] = _Fetch(target.spec)
                threading.Thread(
                    target=self._run_fetch,
                    args=(fetch,),
                    name=f"library-fetch-{target.spec}",
                    daemon=True,
                ).start()
            fetch.waiters.add(job.id)
        while not fetch.done.wait(_POLL_S):
            if job.cancel_requested.is_set():
                return None
        if job.cancel_requested.is_set():
            return None
        if fetch.error is not None:
            raise fetch.error
        return fetch.events

    def _run_fetch(self, fetch: _Fetch) -> None:
        """One library's fetch: wait for an npm slot, then ``npm pack`` (cache hits take
        none); ends with ``fetch.done`` set and the fetch no longer shared."""
        try:
            while not self._npm_slots.acquire(timeout=_POLL_S):
                if fetch.cancelled.is_set():
                    raise DownloadCancelled(f"{fetch.spec}: cancelled")
            try:
                if fetch.cancelled.is_set():
                    raise DownloadCancelled(f"{fetch.spec}: cancelled")
                self.cache.download([fetch.spec], _collect(fetch.events), cancelled=fetch.cancelled)
            finally:
                self._npm_slots.release()
        except Exception as exc:  # handed to the waiting jobs
            fetch.error = exc
        finally:
            with self._lock:
                if self._fetches.get(fetch.spec) is fetch:
                    del self._fetches[fetch.spec]
            fetch.done.set()

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
