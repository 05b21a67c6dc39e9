"""Templates and their modules, libraries, capabilities and startup files."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vmsystem.api.deps import vm
from vmsystem.api.responses import (
    capability_json,
    json_response,
    startup_file_json,
    template_detail_json,
    template_json,
)
from vmsystem.api.schemas import CapabilityIn, NameIn, StartupFileIn, TemplateIn, TemplatePatch

router = APIRouter(prefix="/api/v1/templates", tags=["templates"])


@router.get("", summary="List templates (newest first)")
def list_templates(request: Request) -> Response:
    return json_response([template_json(t) for t in vm(request).templates.list()])


@router.post("", status_code=201, summary="Create a template")
def create_template(request: Request, body: TemplateIn) -> Response:
    return json_response(template_json(vm(request).templates.create(body.name, body.engine)), 201)


@router.get("/{template_id}", summary="Template detail")
def get_template(request: Request, template_id: str) -> Response:
    return json_response(template_detail_json(vm(request).templates.get(template_id)))


@router.patch("/{template_id}", summary="Rename, change engine, or merge settings")
def patch_template(request: Request, template_id: str, body: TemplatePatch) -> Response:
    t = vm(request).templates.update(
        template_id, name=body.name, engine=body.engine, settings=body.settings
    )
    return json_response(template_json(t))


@router.delete("/{template_id}", summary="Delete a template (409 while it has live sessions)")
def delete_template(request: Request, template_id: str) -> Response:
    tid = vm(request).templates.delete(template_id)
    return json_response({"status": "ok", "template_id": tid})


@router.get("/{template_id}/capabilities", summary="List capabilities")
def list_capabilities(request: Request, template_id: str) -> Response:
    caps = vm(request).templates.capabilities(template_id)
    return json_response([capability_json(c) for c in caps])


@router.post("/{template_id}/capabilities", status_code=201, summary="Grant a capability")
def add_capability(request: Request, template_id: str, body: CapabilityIn) -> Response:
    cap = vm(request).templates.add_capability(
        template_id, body.kind, body.name, enabled=body.enabled, config=body.config
    )
    return json_response(capability_json(cap), 201)


@router.delete("/{template_id}/capabilities/{capability_id}", summary="Revoke a capability")
def delete_capability(request: Request, template_id: str, capability_id: str) -> Response:
    tid, cid = vm(request).templates.remove_capability(template_id, capability_id)
    return json_response({"status": "ok", "template_id": tid, "capability_id": cid})


@router.get("/{template_id}/modules", summary="Native modules exposed to require()")
def list_modules(request: Request, template_id: str) -> Response:
    return json_response(vm(request).templates.get(template_id).modules)


@router.post("/{template_id}/modules", status_code=201, summary="Expose a native module")
def add_module(request: Request, template_id: str, body: NameIn) -> Response:
    tid, name = vm(request).templates.add_module(template_id, body.name)
    return json_response({"template_id": tid, "name": name}, 201)


@router.delete("/{template_id}/modules/{module_name}", summary="Stop exposing a module")
def delete_module(request: Request, template_id: str, module_name: str) -> Response:
    tid, name = vm(request).templates.remove_module(template_id, module_name)
    return json_response({"status": "ok", "template_id": tid, "name": name})


@router.get("/{template_id}/libraries", summary="Libraries loaded in new sessions")
def list_libraries(request: Request, template_id: str) -> Response:
    return json_response(vm(request).templates.get(template_id).libraries)


@router.post("/{template_id}/libraries", status_code=201, summary="Add a catalog library")
def add_library(request: Request, template_id: str, body: NameIn) -> Response:
    system = vm(request)
    tid, name = system.templates.add_library(template_id, body.name)
    answer: dict[str, object] = {"template_id": tid, "name": name, "cached": True}
    missing = system.libraries.not_cached(name)
    if missing is not None:
        answer["cached"] = False
        answer["warning"] = (
            f"{missing}; until then new sessions of this template fail with LIBRARY_NOT_CACHED"
        )
    return json_response(answer, 201)


@router.delete("/{template_id}/libraries/{library_name}", summary="Remove a library")
def delete_library(request: Request, template_id: str, library_name: str) -> Response:
    tid, name = vm(request).templates.remove_library(template_id, library_name)
    return json_response({"status": "ok", "template_id": tid, "name": name})


@router.get("/{template_id}/startup-files", summary="Startup files in run order")
def list_startup_files(request: Request, template_id: str) -> Response:
    files = vm(request).templates.startup_files(template_id)
    return json_response([startup_file_json(s) for s in files])


@router.post("/{template_id}/startup-files", status_code=201, summary="Add a startup file")
def add_startup_file(request: Request, template_id: str, body: StartupFileIn) -> Response:
    s = vm(request).templates.add_startup_file(
        template_id, body.path, order_index=body.order_index, mode=body.mode
    )
    return json_response(startup_file_json(s), 201)


@router.delete("/{template_id}/startup-files/{startup_id}", summary="Remove a startup file")
def delete_startup_file(request: Request, template_id: str, startup_id: str) -> Response:
    tid, sid = vm(request).templates.remove_startup_file(template_id, startup_id)
    return json_response({"status": "ok", "template_id": tid, "startup_file_id": sid})
