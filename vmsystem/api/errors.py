"""Error codes to HTTP status (from ``vmsystem/errorcodes.py``), and the error envelope."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from vmsystem.api.responses import json_response
from vmsystem.core import StoreError
from vmsystem.core import errors as e
from vmsystem.errorcodes import status_by_code

__all__ = ["STATUS_BY_CODE", "document_errors", "error_response", "install_error_handlers"]

_log = logging.getLogger("vmsystem.http")

#: HTTP status of every error code, from the one table of codes (docs/errors.md is checked
#: against it).
STATUS_BY_CODE: dict[str, int] = status_by_code()


#: The error envelope in the OpenAPI document: the codes are the table's.
_ERROR_SCHEMAS: dict[str, Any] = {
    "ErrorBody": {
        "title": "ErrorBody",
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "enum": sorted(STATUS_BY_CODE)},
            "message": {"type": "string"},
            "details": {"type": "object", "additionalProperties": True},
        },
    },
    "ErrorEnvelope": {
        "title": "ErrorEnvelope",
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"$ref": "#/components/schemas/ErrorBody"}},
    },
}


def document_errors(app: FastAPI) -> None:
    """Describe the error envelope in the app's OpenAPI document: the ``default`` response of
    every operation. FastAPI's own 422 ``HTTPValidationError`` answers are dropped: the daemon
    never sends them (a bad body is a 400 envelope)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            components.update(_ERROR_SCHEMAS)
            envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    if "HTTPValidationError" in str(responses.get("422", "")):
                        del responses["422"]
                    responses["default"] = {
                        "description": "An error: the envelope of docs/errors.md",
                        "content": {"application/json": {"schema": envelope}},
                    }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def error_response(error: e.VmError, headers: dict[str, str] | None = None) -> Response:
    """The envelope ``{"error": {code, message, details?}}`` with the code's status."""
    status = STATUS_BY_CODE.get(error.code, 500)
    return json_response({"error": error.to_dict()}, status, headers=headers)


def _from_validation(exc: RequestValidationError) -> e.VmError:
    problems = exc.errors()
    first: dict[str, Any] = problems[0] if problems else {}
    kind = str(first.get("type", ""))
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    where = ".".join(loc)
    if kind == "extra_forbidden":
        return e.InvalidRequest(f'unknown field "{where}"', field=where)
    if kind == "json_invalid":  # FastAPI puts the character offset in loc and the reason in ctx
        reason = (first.get("ctx") or {}).get("error") or first.get("msg", "")
        return e.InvalidRequest(f"request body is not valid JSON: {reason}")
    if kind in {"model_type", "model_attributes_type", "dict_type"} and not loc:
        return e.InvalidRequest(f"request body must be a JSON object ({first.get('msg', '')})")
    if kind == "missing":
        if first.get("loc", ("",))[0] == "body" and not loc:
            return e.InvalidRequest("request body is required")
        return e.ValidationError(f"{where} is required", field=where)
    if first.get("loc", ("",))[0] in {"query", "path"}:
        return e.ValidationError(f"{where}: {first.get('msg', 'invalid value')}", field=where)
    if kind == "value_error":  # our own validators name the field in their message
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        return e.InvalidRequest(message, field=where)
    return e.InvalidRequest(f"{where}: {first.get('msg', 'invalid value')}", field=where)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts for this path (the router only reports the first
    route whose path matched, so ``POST`` would be missing from ``GET, POST`` paths)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")  # served by RequestMiddleware
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI, not_found_fallback: Any) -> None:
    """Every failure becomes the envelope (unknown routes and wrong methods included)."""

    async def _vm_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, e.VmError)
        return error_response(exc)

    async def _validation(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(_from_validation(exc))

    async def _http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            fallback = await not_found_fallback(request)
            if fallback is not None:
                return fallback  # type: ignore[no-any-return]
            return error_response(e.RouteNotFound(f"No route for {request.url.path}"))
        if exc.status_code == 405:
            headers = dict(exc.headers or {})
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
            return error_response(
                e.MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}"),
                headers=headers,
            )
        return error_response(e.InvalidRequest(str(exc.detail)))

    async def _store(_request: Request, exc: Exception) -> Response:
        # A database that cannot be read or written (corrupt file, lost server) is not a bug
        # of the daemon: 503, and the cause in the daemon's log rather than in the answer.
        _log.error("store unavailable: %s", exc)
        return error_response(
            e.StoreUnavailable("the store cannot read or write its database (see the daemon's log)")
        )

    async def _internal(_request: Request, exc: Exception) -> Response:
        return error_response(e.InternalError(f"internal error: {type(exc).__name__}"))

    app.add_exception_handler(e.VmError, _vm_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(StoreError, _store)
    app.add_exception_handler(Exception, _internal)
