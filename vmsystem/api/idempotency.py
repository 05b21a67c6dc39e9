"""The ``Idempotency-Key`` header on the submitting routes (IETF httpapi draft semantics).

Without the header a request runs as usual. With it, the first request of a key claims it
(core: :class:`vmsystem.core.idempotency.IdempotencyService`) and creates its resource; a
repeat with the same route, query and JSON body within 24 h answers that resource with the
first answer's status and ``Idempotent-Replayed: true``, without running anything. A repeat
while the first still runs gets 409 IDEMPOTENCY_IN_PROGRESS, or waits for it with
``Prefer: wait=N`` (seconds); a different request with the same key gets 422
IDEMPOTENCY_KEY_REUSED.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from vmsystem.api.deps import run_blocking, vm
from vmsystem.api.responses import json_response
from vmsystem.core.errors import NotFound

__all__ = ["HEADER_PARAMETERS", "KEY_HEADER", "KEY_SCOPE", "REPLAYED_HEADER", "found", "idempotent"]

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: The store scope of every key sent over HTTP.
KEY_SCOPE = "http"
#: OpenAPI parameters of the headers an idempotent route reads.
HEADER_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": KEY_HEADER,
        "in": "header",
        "required": False,
        "description": "Run this request at most once per key (24 h); repeats get the first "
        "resource. 1 to 255 printable ASCII characters.",
        "schema": {"type": "string", "maxLength": 255},
    },
    {
        "name": "Prefer",
        "in": "header",
        "required": False,
        "description": "wait=N: a repeat while the first request runs waits up to N seconds "
        "for its result instead of answering 409 IDEMPOTENCY_IN_PROGRESS.",
        "schema": {"type": "string"},
    },
]
_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def _fingerprint(request: Request, body: BaseModel) -> str:
    """The request as far as idempotency compares it: route, sorted query, canonical body."""
    query = sorted(request.query_params.multi_items())
    payload = orjson.dumps(
        [request.method, request.url.path, query, body.model_dump(mode="json")],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(payload).hexdigest()


def found(get: Callable[[str], Any]) -> Callable[[str], bool]:
    """``exists`` for :func:`idempotent` from a core getter that raises a NotFound error."""

    def check(resource_id: str) -> bool:
        try:
            get(resource_id)
        except NotFound:
            return False
        return True

    return check


def _wait_seconds(request: Request) -> float:
    match = _PREFER_WAIT.search(request.headers.get("prefer", ""))
    return float(match.group(1)) if match else 0.0


async def idempotent(
    request: Request,
    body: BaseModel,
    run: Callable[[str | None], Awaitable[Response]],
    *,
    exists: Callable[[str], bool],
    load: Callable[[str], Any],
    render: Callable[[Any], dict[str, Any]],
) -> Response:
    """Answer ``request`` by ``run(resource_id)``, once per ``Idempotency-Key``.

    ``run`` gets the id the new resource must take (None without the header); ``exists``,
    ``load`` and ``render`` find, read and render a resource by id for repeats.
    """
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return await run(None)
    service = vm(request).idempotency
    # One namespace for every route: the route is part of the fingerprint, so a key first
    # used on one route and sent again on another is IDEMPOTENCY_KEY_REUSED.
    scope = KEY_SCOPE
    claim = await run_blocking(
        request,
        service.begin,
        scope,
        key,
        _fingerprint(request, body),
        exists=exists,
        wait_s=_wait_seconds(request),
    )
    if not claim.new:
        resource = await run_blocking(request, load, claim.resource_id)
        response = json_response(render(resource), claim.response_status or 201)
        response.headers[REPLAYED_HEADER] = "true"
        return response
    try:
        response = await run(claim.resource_id)
    except BaseException:
        # A failure that created nothing (busy, not ready, bad path) leaves the key free for
        # a retry; one that created the resource (a failed startup, the output limit) makes
        # repeats answer that resource, whose status tells the failure.
        if await run_blocking(request, exists, claim.resource_id):
            await run_blocking(request, service.finish, scope, key, 201)
        else:
            await run_blocking(request, service.release, scope, key)
        raise
    await run_blocking(request, service.finish, scope, key, response.status_code)
    return response
