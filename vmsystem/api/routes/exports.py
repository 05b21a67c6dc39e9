"""Session exports (ipynb, md, jsonl) and notebooks run in a session (``docs/notebooks.md``)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from vmsystem.api.bodies import query_flag
from vmsystem.api.deps import run_blocking, vm
from vmsystem.api.responses import event_json, execution_json, json_response
from vmsystem.core.errors import ValidationError

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


@router.get(
    "/{session_id}/export",
    summary="Export a session's history: ipynb (nbformat v4), md (transcript) or jsonl "
    "(one execution with its events a line)",
    response_class=Response,
)
def export_session(
    request: Request,
    session_id: str,
    format: str = Query("ipynb", description="ipynb, md or jsonl"),
) -> Response:
    export = vm(request).exports.export(
        session_id, format, render_execution=execution_json, render_event=event_json
    )
    return StreamingResponse(
        export.chunks,
        media_type=export.media_type,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


_NOTEBOOK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "An .ipynb notebook, or {notebook, continue_on_error}.",
                }
            }
        },
    },
    "parameters": [
        {
            "name": "continue_on_error",
            "in": "query",
            "required": False,
            "description": "Run every code cell even after one fails (when the body is the "
            "notebook itself).",
            "schema": {"type": "boolean", "default": False, "title": "Continue On Error"},
        }
    ],
}


def _notebook_request(raw: bytes, query_continue: bool) -> tuple[Any, bool]:
    """The notebook and ``continue_on_error`` of a request body: the notebook itself, or
    ``{"notebook": ..., "continue_on_error": bool}``."""
    if not raw:
        raise ValidationError("a notebook (.ipynb JSON) is required as the body")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValidationError(f"the body is not JSON: {exc}") from None
    if isinstance(body, dict) and "notebook" in body:
        extra = set(body) - {"notebook", "continue_on_error"}
        if extra:
            raise ValidationError(f"unknown fields: {', '.join(sorted(extra))}")
        flag = body.get("continue_on_error", query_continue)
        if not isinstance(flag, bool):
            raise ValidationError("continue_on_error must be a boolean", field="continue_on_error")
        return body["notebook"], flag
    return body, query_continue


@router.post(
    "/{session_id}/notebook",
    summary="Run a notebook's code cells in order in the session (like papermill); returns "
    "the executed notebook",
    openapi_extra=_NOTEBOOK_BODY,
)
async def run_notebook(request: Request, session_id: str) -> Response:
    flag = query_flag(request, "continue_on_error", False)
    notebook, continue_on_error = _notebook_request(await request.body(), flag)
    executed = await run_blocking(
        request,
        vm(request).notebooks.run,
        session_id,
        notebook,
        continue_on_error=continue_on_error,
    )
    return json_response(executed)
