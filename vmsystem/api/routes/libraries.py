"""Library downloads into the daemon's cache: background jobs with progress, cancellable."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vmsystem.api.deps import vm
from vmsystem.api.responses import download_json, json_response
from vmsystem.api.schemas import LibraryDownloadIn

router = APIRouter(prefix="/api/v1/libraries", tags=["libraries"])


@router.post(
    "/downloads",
    status_code=202,
    summary="Download catalog libraries with npm (verified, as `vm-system libs download`)",
)
def start_download(request: Request, body: LibraryDownloadIn) -> Response:
    return json_response(download_json(vm(request).downloads.start(body.names)), 202)


@router.get("/downloads", summary="Library download jobs (newest first)")
def list_downloads(request: Request) -> Response:
    return json_response([download_json(job) for job in vm(request).downloads.list()])


@router.get("/downloads/{download_id}", summary="One library download job")
def get_download(request: Request, download_id: str) -> Response:
    return json_response(download_json(vm(request).downloads.get(download_id)))


@router.post("/downloads/{download_id}/cancel", summary="Cancel a library download job")
def cancel_download(request: Request, download_id: str) -> Response:
    return json_response(download_json(vm(request).downloads.cancel(download_id)))
