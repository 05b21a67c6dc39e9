"""JSON bodies and flags read by hand on the execution routes (the hot path).

A FastAPI body parameter costs 0.05-0.1 ms a request (dependency solving, the stdlib JSON
parser, then the model). These routes take only the ``Request`` and validate the raw body
with the model's own JSON validator (pydantic-core), raising the ``RequestValidationError``
FastAPI would raise, so the error envelope is the same. :func:`documented` puts the body and
flags back into ``/openapi.json``; :func:`install_schemas` adds the models it names.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

__all__ = ["declares_json", "documented", "install_schemas", "json_body", "query_flag"]

M = TypeVar("M", bound=BaseModel)

_FLAG: TypeAdapter[bool] = TypeAdapter(bool)
_TOO_DEEP = "arrays and objects are nested too deeply (at most about 200 levels)"
_DOCUMENTED: dict[str, type[BaseModel]] = {}


def declares_json(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` is JSON (``application/json`` or ``application/*+json``)."""
    if not content_type:
        return False
    kind = content_type.partition(";")[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def _located(exc: ValidationError, *where: str | int) -> RequestValidationError:
    return RequestValidationError(
        [{**error, "loc": (*where, *error["loc"])} for error in exc.errors(include_url=False)]
    )


async def json_body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``; raises ``RequestValidationError``.

    A body not declared as JSON (``application/json`` or ``application/*+json``) is refused
    as not being a JSON object, as FastAPI does.
    """
    raw = await request.body()
    if not raw:
        raise _body_error("missing", "Field required")
    if not declares_json(request.headers.get("content-type")):
        raise _body_error(
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
        )
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] != "json_invalid":
            raise _located(exc, "body") from None
        if "recursion limit" in str(first.get("msg", "")):
            # pydantic-core stops at a fixed depth (about 200); the stdlib parser below would
            # recurse until Python's own limit and raise RecursionError (a 500).
            raise _body_error("json_invalid", _TOO_DEEP) from None
    # pydantic-core's parser refuses what the stdlib's accepts (a lone surrogate escape), and
    # the stdlib says where the JSON is broken: parse again to report the right problem.
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        where = f"{exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise _body_error("json_invalid", where) from None
    except UnicodeDecodeError:
        raise _body_error("json_invalid", "the body is not UTF-8") from None
    except RecursionError:
        raise _body_error("json_invalid", _TOO_DEEP) from None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise _located(exc, "body") from None


def _body_error(kind: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": ("body",), "msg": message, "input": None}])


def query_flag(request: Request, name: str, default: bool) -> bool:
    """A boolean query parameter (``true/false``, ``1/0``, ``yes/no``, ``on/off``)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        return _FLAG.validate_python(raw)
    except ValidationError as exc:
        raise _located(exc, "query", name) from None


def documented(model: type[BaseModel], **flags: tuple[bool, str]) -> dict[str, Any]:
    """``openapi_extra`` of a route reading ``model`` and the boolean query ``flags``
    (name -> (default, description)) by hand."""
    _DOCUMENTED[model.__name__] = model
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        },
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": {"type": "boolean", "default": default, "title": name.title()},
            }
            for name, (default, description) in flags.items()
        ],
    }


def install_schemas(app: FastAPI) -> None:
    """Add the models named by :func:`documented` to the app's OpenAPI components."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in _DOCUMENTED.items():
                components[name] = model.model_json_schema(
                    ref_template="#/components/schemas/{model}"
                )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
