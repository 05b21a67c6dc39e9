"""POST/GET /api/v1/libraries/downloads: validation, the job's shape and the 404s; a real
download through the route against the npm registry (marked ``network``)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from vmsystem.core import VmSystem

from .conftest import API, TestClient


def wait_done(client: TestClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"{API}/libraries/downloads/{job_id}")
        assert r.status_code == 200, r.text
        if r.json()["status"] != "running":
            return r.json()  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, r.text
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"names": []}, 400, "VALIDATION_ERROR"),
        ({}, 400, "VALIDATION_ERROR"),
        ({"names": "lodash"}, 400, "INVALID_REQUEST"),
        ({"names": ["lodash"], "extra": 1}, 400, "INVALID_REQUEST"),
        ({"names": ["left-pad"]}, 422, "LIBRARY_NOT_FOUND"),
        ({"names": ["lodash@1.0.0"]}, 422, "LIBRARY_NOT_FOUND"),
    ],
)
def test_bad_download_requests_get_the_envelope(
    client: TestClient, body: dict[str, Any], status: int, code: str
) -> None:
    r = client.post(f"{API}/libraries/downloads", json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert client.get(f"{API}/libraries/downloads").json() == []


def test_unknown_download_is_404_and_a_bad_id_400(client: TestClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for r in (
        client.get(f"{API}/libraries/downloads/{missing}"),
        client.post(f"{API}/libraries/downloads/{missing}/cancel"),
    ):
        assert r.status_code == 404, r.text
        assert r.json()["error"]["code"] == "DOWNLOAD_NOT_FOUND"
    r = client.get(f"{API}/libraries/downloads/nope")
    assert r.status_code == 400 and r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_download_without_npm_ends_failed_with_the_reason(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    r = client.post(f"{API}/libraries/downloads", json={"names": ["dayjs"]})
    assert r.status_code == 202, r.text
    job = r.json()
    assert set(job) == {
        "id",
        "names",
        "status",
        "progress",
        "error",
        "created_at",
        "finished_at",
    }
    assert job["names"] == ["dayjs@1.11.10"]
    done = wait_done(client, job["id"])
    assert done["status"] == "failed"
    assert done["error"]["code"] == "NPM_NOT_FOUND"
    assert [j["id"] for j in client.get(f"{API}/libraries/downloads").json()] == [job["id"]]
    # cancelling a finished job changes nothing
    r = client.post(f"{API}/libraries/downloads/{job['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "failed"


@pytest.mark.network
def test_real_download_through_the_route_makes_the_library_cached(
    client: TestClient, vm: VmSystem
) -> None:
    from tests.libraries.test_network import _registry_reachable

    if not _registry_reachable():
        pytest.skip("npm registry unreachable (npm view lodash@4.17.21 failed)")
    before = {lib["name"]: lib["cached"] for lib in client.get(f"{API}/metadata/libraries").json()}
    assert before["dayjs"] is False
    r = client.post(f"{API}/libraries/downloads", json={"names": ["dayjs"]})
    assert r.status_code == 202, r.text
    done = wait_done(client, r.json()["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"] == {
        "total": 1,
        "completed": 1,
        "libraries": [
            {"name": "dayjs", "version": "1.11.10", "state": "downloaded", "error": None}
        ],
    }
    after = {lib["name"]: lib["cached"] for lib in client.get(f"{API}/metadata/libraries").json()}
    assert after["dayjs"] is True
    assert vm.libraries.load("dayjs").source
