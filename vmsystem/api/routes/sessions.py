"""Sessions: start, read, close, and the per-session event stream."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from vmsystem.api.deps import run_blocking, vm
from vmsystem.api.idempotency import HEADER_PARAMETERS, found, idempotent
from vmsystem.api.responses import json_response, session_json
from vmsystem.api.schemas import CompleteIn, RestartIn, SessionIn
from vmsystem.api.streams import session_stream

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


@router.get("", summary="List sessions (newest first)")
def list_sessions(
    request: Request, status: str | None = None, template_id: str | None = None
) -> Response:
    rows = vm(request).sessions.list(status=status, template_id=template_id)
    return json_response([session_json(s) for s in rows])


@router.post(
    "",
    status_code=201,
    summary="Start a session from a template (synchronous)",
    openapi_extra={"parameters": HEADER_PARAMETERS},
)
async def create_session(request: Request, body: SessionIn) -> Response:
    sessions = vm(request).sessions

    async def run(session_id: str | None) -> Response:
        s = await run_blocking(
            request,
            sessions.create,
            body.template_id,
            body.worktree_path,
            workspace_id=body.workspace_id,
            base_commit_oid=body.base_commit_oid,
            session_id=session_id,
            idle_timeout_s=body.idle_timeout_s,
            interactive=body.interactive,
        )
        return json_response(session_json(s), 201)

    return await idempotent(
        request, body, run, exists=found(sessions.get), load=sessions.get, render=session_json
    )


@router.get("/{session_id}", summary="One session")
def get_session(request: Request, session_id: str) -> Response:
    return json_response(session_json(vm(request).sessions.get(session_id)))


@router.post("/{session_id}/close", summary="Close a session (idempotent)")
def close_session(request: Request, session_id: str) -> Response:
    return json_response(session_json(vm(request).sessions.close(session_id)))


@router.post(
    "/{session_id}/restart",
    summary="Restart a ready or crashed session: a fresh runtime under the same id, startup "
    "files run again, history kept",
)
def restart_session(request: Request, session_id: str, body: RestartIn | None = None) -> Response:
    refresh = body.refresh_template if body is not None else False
    return json_response(
        session_json(vm(request).sessions.restart(session_id, refresh_template=refresh))
    )


@router.delete(
    "/{session_id}",
    summary="Close a session (alias of close); with purge=true delete a closed or crashed "
    "session and its history",
)
def delete_session(request: Request, session_id: str, purge: bool = False) -> Response:
    if purge:
        row = vm(request).sessions.purge(session_id)
        return json_response({"status": "ok", "session_id": row.id, "purged": True})
    return json_response(session_json(vm(request).sessions.close(session_id)))


@router.get("/{session_id}/events/stream", summary="SSE: events of every execution of a session")
async def stream_session(
    request: Request,
    session_id: str,
    last_event_id: str | None = Header(None),
) -> Response:
    return await session_stream(request, session_id, last_event_id)


@router.post(
    "/{session_id}/complete",
    summary="Completions at a cursor (globals, REPL bindings, properties); not an execution",
    description="Computed in the session's runtime without running user code (no getter, "
    "no Proxy trap, no call). While an execution runs the answer is 409 SESSION_BUSY at once.",
)
async def complete_session(request: Request, session_id: str, body: CompleteIn) -> Response:
    done = await run_blocking(
        request, vm(request).completions.complete, session_id, body.code, body.cursor
    )
    return json_response(done.to_dict())
