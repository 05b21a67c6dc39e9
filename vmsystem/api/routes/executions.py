"""Executions: REPL, run-file, cancel, reads, paged events and the event stream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from vmsystem.api.bodies import documented, json_body, query_flag
from vmsystem.api.deps import vm
from vmsystem.api.idempotency import HEADER_PARAMETERS, found, idempotent
from vmsystem.api.responses import event_json, execution_json, json_response, match_json
from vmsystem.api.schemas import ReplIn, RunFileIn
from vmsystem.api.streams import clamp_seq, execution_stream
from vmsystem.core.errors import ValidationError

router = APIRouter(prefix="/api/v1/executions", tags=["executions"])


@router.get("", summary="Executions of a session (newest first)")
def list_executions(
    request: Request, session_id: str | None = None, limit: int = Query(50)
) -> Response:
    if not session_id:
        raise ValidationError("session_id query param is required")
    rows = vm(request).executions.list(session_id, limit=limit)
    return json_response([execution_json(x) for x in rows])


@router.get("/search", summary="Full-text search of finished executions (best first)")
def search_executions(
    request: Request,
    q: str = Query(..., description="Plain words; every one must occur (any case)."),
    session_id: str | None = None,
    limit: int = Query(20),
    offset: int = Query(0),
) -> Response:
    page = vm(request).executions.search(q, session_id=session_id, limit=limit, offset=offset)
    return json_response(
        {
            "results": [match_json(m) for m in page.matches],
            "next_offset": page.next_offset,
        }
    )


def _answer(execution: object, asynchronous: bool) -> Response:
    return json_response(execution_json(execution), 202 if asynchronous else 201)  # type: ignore[arg-type]


def _with_headers(extra: dict[str, Any]) -> dict[str, Any]:
    extra["parameters"] = [*extra["parameters"], *HEADER_PARAMETERS]
    return extra


_WAIT = (True, "false: answer 202 at once with the running execution (as `stream`).")


@router.post(
    "/repl",
    status_code=201,
    summary="Run a REPL snippet in a session",
    openapi_extra=_with_headers(documented(ReplIn, wait=_WAIT)),
)
async def repl(request: Request) -> Response:
    wait = query_flag(request, "wait", True)
    body = await json_body(request, ReplIn)
    asynchronous = body.stream or not wait
    executions = vm(request).executions

    async def run(execution_id: str | None) -> Response:
        x = await executions.awaited.repl(
            body.session_id,
            body.input,
            wait=not asynchronous,
            execution_id=execution_id,
            language=body.language,
        )
        return _answer(x, asynchronous)

    return await _idempotent(request, body, run)


async def _idempotent(
    request: Request, body: BaseModel, run: Callable[[str | None], Awaitable[Response]]
) -> Response:
    executions = vm(request).executions
    return await idempotent(
        request,
        body,
        run,
        exists=found(executions.get),
        load=executions.get,
        render=execution_json,
    )


@router.post(
    "/run-file",
    status_code=201,
    summary="Run a worktree file in a session",
    openapi_extra=_with_headers(documented(RunFileIn, wait=_WAIT)),
)
async def run_file(request: Request) -> Response:
    wait = query_flag(request, "wait", True)
    body = await json_body(request, RunFileIn)
    asynchronous = body.stream or not wait

    async def run(execution_id: str | None) -> Response:
        x = await vm(request).executions.awaited.run_file(
            body.session_id,
            body.path,
            args=body.args,
            env=body.env,
            wait=not asynchronous,
            execution_id=execution_id,
        )
        return _answer(x, asynchronous)

    return await _idempotent(request, body, run)


@router.get("/{execution_id}", summary="One execution")
def get_execution(request: Request, execution_id: str) -> Response:
    return json_response(execution_json(vm(request).executions.get(execution_id)))


@router.post("/{execution_id}/cancel", summary="Cancel a running execution")
def cancel_execution(request: Request, execution_id: str) -> Response:
    return json_response(execution_json(vm(request).executions.cancel(execution_id)))


@router.get("/{execution_id}/events", summary="Events of an execution, paged by seq")
def list_events(
    request: Request, execution_id: str, after_seq: int = Query(0), limit: int = Query(1000)
) -> Response:
    if after_seq > 0:
        after_seq = clamp_seq(after_seq)  # negative values stay a VALIDATION_ERROR
    events = vm(request).executions.events(execution_id, after_seq=after_seq, limit=limit)
    return json_response([event_json(e) for e in events])


@router.get("/{execution_id}/events/stream", summary="SSE: events of one execution, live")
async def stream_events(
    request: Request,
    execution_id: str,
    after_seq: int | None = Query(None, ge=0),
    last_event_id: str | None = Header(None),
) -> Response:
    return await execution_stream(request, execution_id, after_seq, last_event_id)
