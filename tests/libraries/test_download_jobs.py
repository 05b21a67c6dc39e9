"""The core's library download jobs (``vm.downloads``) over the hermetic fake npm."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from vmsystem.core.downloads import LibraryDownloads
from vmsystem.core.errors import DownloadNotFound, LibraryNotFound, ValidationError
from vmsystem.libraries import LibraryCache

from .conftest import TEST_CATALOG, FakeNpm


def wait_done(jobs: LibraryDownloads, job_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = jobs.get(job_id)
        if job["status"] != "running":
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


@pytest.fixture
def jobs(lib_dir: Path) -> LibraryDownloads:
    return LibraryDownloads(LibraryCache(lib_dir, catalog=TEST_CATALOG))


def states(job: dict[str, Any]) -> dict[str, str]:
    return {lib["name"]: lib["state"] for lib in job["progress"]["libraries"]}


def test_job_downloads_verifies_and_caches_each_library(
    jobs: LibraryDownloads, fake_npm: FakeNpm
) -> None:
    started = jobs.start(["tiny", "other@1.0.0"])
    assert started["status"] == "running"
    assert started["names"] == ["tiny@1.0.0", "other@1.0.0"]
    assert started["progress"]["total"] == 2
    job = wait_done(jobs, started["id"])
    assert job["status"] == "succeeded", job
    assert job["error"] is None and job["finished_at"] is not None
    assert job["progress"]["completed"] == 2
    assert states(job) == {"tiny": "downloaded", "other": "downloaded"}
    assert {e.name for e in jobs.cache.list()} == {"tiny", "other"}
    again = wait_done(jobs, jobs.start(["tiny"])["id"])
    assert states(again) == {"tiny": "cached"}
    assert len(fake_npm.calls) == 2


def test_integrity_failure_fails_the_job_and_caches_nothing(
    jobs: LibraryDownloads, fake_npm: FakeNpm
) -> None:
    fake_npm.publish("tiny-pkg@1.0.0", {"dist/tiny.min.js": "globalThis.evil = 1;"})
    job = wait_done(jobs, jobs.start(["tiny", "other"])["id"])
    assert job["status"] == "failed"
    assert job["error"]["code"] == "DOWNLOAD_FAILED"
    assert "sha256" in job["error"]["message"]
    assert states(job) == {"tiny": "failed", "other": "downloaded"}
    assert [e.name for e in jobs.cache.list()] == ["other"]


def test_missing_npm_fails_the_job_saying_so(
    jobs: LibraryDownloads, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    job = wait_done(jobs, jobs.start(["tiny", "other"])["id"])
    assert job["status"] == "failed"
    assert job["error"]["code"] == "NPM_NOT_FOUND"
    assert "npm was not found" in job["error"]["message"]
    assert states(job) == {"tiny": "failed", "other": "skipped"}


def test_cancel_stops_the_job_at_once_and_skips_the_rest(
    jobs: LibraryDownloads, fake_npm: FakeNpm
) -> None:
    fake_npm.publish("tiny-pkg@1.0.0", {"dist/tiny.min.js": "x"}, sleep=1.5)
    started = jobs.start(["tiny", "other"])
    time.sleep(0.2)
    cancelled = jobs.cancel(started["id"])
    assert cancelled["status"] == "cancelled"
    assert states(cancelled) == {"tiny": "skipped", "other": "skipped"}
    time.sleep(2)
    assert jobs.get(started["id"])["status"] == "cancelled"
    assert ["pack", "@scope/other@1.0.0"] not in [call[:2] for call in fake_npm.calls]
    assert jobs.cancel(started["id"])["status"] == "cancelled"  # idempotent


def test_bad_requests_are_refused_before_anything_runs(
    jobs: LibraryDownloads, fake_npm: FakeNpm
) -> None:
    with pytest.raises(ValidationError):
        jobs.start([])
    with pytest.raises(LibraryNotFound, match="not in the catalog"):
        jobs.start(["tiny", "left-pad"])
    with pytest.raises(LibraryNotFound):
        jobs.start(["tiny@9.9.9"])
    with pytest.raises(DownloadNotFound):
        jobs.get("00000000-0000-4000-8000-000000000000")
    assert jobs.list() == [] and fake_npm.calls == []
