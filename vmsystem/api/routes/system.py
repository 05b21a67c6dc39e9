"""Health, runtime summary and metadata catalogs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vmsystem.api.deps import vm
from vmsystem.api.responses import json_response
from vmsystem.core.capabilities import capability_catalog
from vmsystem.core.modules import module_specs
from vmsystem.core.templates import DEFAULT_ENGINE, ENGINE_ALIASES

router = APIRouter(prefix="/api/v1", tags=["system"])
_HEALTH = b'{"status":"ok"}'


@router.get("/health", summary="Liveness (never needs auth)")
async def health() -> Response:
    return Response(_HEALTH, media_type="application/json")


@router.get("/runtime/summary", summary="Live runtimes, running executions, version, database")
def summary(request: Request) -> Response:
    return json_response(vm(request).summary())


@router.post(
    "/runtime/hosts/{host_id}/drain",
    summary="Move a session host's sessions to other hosts by replay, then retire it",
)
def drain_host(request: Request, host_id: str) -> Response:
    return json_response(vm(request).drains.drain(host_id))


@router.get("/metadata/modules", summary="Native modules templates can expose")
def modules() -> Response:
    return json_response(
        [
            {
                "name": m.name,
                "description": m.description,
                "functions": list(m.functions),
                "capabilities": list(m.capabilities),
            }
            for m in module_specs().values()
        ]
    )


@router.get("/metadata/libraries", summary="Library catalog with cached status")
def libraries(request: Request) -> Response:
    return json_response(vm(request).libraries.catalog())


@router.get("/metadata/engines", summary="Available JavaScript engines")
def engines(request: Request) -> Response:
    engine = vm(request).engine
    return json_response(
        [
            {
                "name": engine.name,
                "version": engine.version,
                "default": engine.name == DEFAULT_ENGINE,
                "aliases": sorted(k for k, v in ENGINE_ALIASES.items() if v == engine.name),
            }
        ]
    )


@router.get("/metadata/capabilities", summary="Capability kinds and names, with their effect")
def capabilities() -> Response:
    return json_response(capability_catalog())
