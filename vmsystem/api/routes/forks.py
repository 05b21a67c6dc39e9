"""Forks: a new session from a session's snapshot and worktree, its history replayed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vmsystem.api.deps import run_blocking, vm
from vmsystem.api.responses import json_response, session_json
from vmsystem.api.schemas import ForkIn
from vmsystem.core.forks import Fork

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])


def fork_json(f: Fork) -> dict[str, Any]:
    """Wire form of a fork's outcome."""
    return {
        "session": session_json(f.session),
        "replayed": f.replayed,
        "diverged": [
            {"original": d.original, "replay": d.replay, "reason": d.reason} for d in f.diverged
        ],
    }


@router.post(
    "/{session_id}/fork",
    status_code=201,
    summary="Fork a session: a new session from the same template snapshot and worktree, with "
    "the source's successful REPL and run-file executions replayed in order",
)
async def fork_session(request: Request, session_id: str, body: ForkIn | None = None) -> Response:
    until = body.until_execution_id if body is not None else None
    fork = await run_blocking(request, vm(request).forks.fork, session_id, until_execution_id=until)
    return json_response(fork_json(fork), 201)
