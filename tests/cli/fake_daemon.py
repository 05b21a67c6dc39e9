"""An in-memory stand-in for the daemon's HTTP API, served through httpx.MockTransport.

It implements just enough of docs/http-api.md for the CLI tests: templates and their parts,
sessions, executions (a toy evaluator), events (list and SSE), ops and metadata.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx

TS = "2026-11-22T10:00:00.123Z"
Route = tuple[str, str, Callable[..., httpx.Response]]


def error(status: int, code: str, message: str, **details: Any) -> httpx.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return httpx.Response(status, json={"error": body})


def _uuid() -> str:
    return str(uuid.uuid4())


class FakeDaemon:
    """State and handlers; ``handle`` is the MockTransport handler."""

    def __init__(self) -> None:
        self.templates: dict[str, dict[str, Any]] = {}
        self.capabilities: dict[str, list[dict[str, Any]]] = {}
        self.startup: dict[str, list[dict[str, Any]]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.executions: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[httpx.Request] = []
        self.overrides: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., httpx.Response]]] = []
        self.overrides_prefix: tuple[str, str, Callable[[httpx.Request], httpx.Response]] | None
        self.overrides_prefix = None
        add = self._add
        add("GET", "/api/v1/health", lambda r: httpx.Response(200, json={"status": "ok"}))
        add("GET", "/api/v1/runtime/summary", self.summary)
        add("GET", "/metrics", lambda r: httpx.Response(200, text="# HELP vm_up up\nvm_up 1\n"))
        add("GET", "/api/v1/templates", self.list_templates)
        add("POST", "/api/v1/templates", self.create_template)
        add("GET", "/api/v1/templates/{t}", self.get_template)
        add("PATCH", "/api/v1/templates/{t}", self.patch_template)
        add("DELETE", "/api/v1/templates/{t}", self.delete_template)
        add("GET", "/api/v1/templates/{t}/modules", lambda r, t: self._list(t, "exposed_modules"))
        add("POST", "/api/v1/templates/{t}/modules", self.add_module)
        add("DELETE", "/api/v1/templates/{t}/modules/{n}", self.remove_name("exposed_modules"))
        add("GET", "/api/v1/templates/{t}/libraries", lambda r, t: self._list(t, "libraries"))
        add("POST", "/api/v1/templates/{t}/libraries", self.add_library)
        add("DELETE", "/api/v1/templates/{t}/libraries/{n}", self.remove_name("libraries"))
        add("GET", "/api/v1/templates/{t}/capabilities", self.list_capabilities)
        add("POST", "/api/v1/templates/{t}/capabilities", self.add_capability)
        add("DELETE", "/api/v1/templates/{t}/capabilities/{c}", self.remove_capability)
        add("GET", "/api/v1/templates/{t}/startup-files", self.list_startup)
        add("POST", "/api/v1/templates/{t}/startup-files", self.add_startup)
        add("DELETE", "/api/v1/templates/{t}/startup-files/{s}", self.remove_startup)
        add("GET", "/api/v1/sessions", self.list_sessions)
        add("POST", "/api/v1/sessions", self.create_session)
        add("GET", "/api/v1/sessions/{s}", self.get_session)
        add("POST", "/api/v1/sessions/{s}/close", self.close_session)
        add("GET", "/api/v1/executions", self.list_executions)
        add("POST", "/api/v1/executions/repl", self.repl)
        add("POST", "/api/v1/executions/run-file", self.run_file)
        add("GET", "/api/v1/executions/{e}", self.get_execution)
        add("POST", "/api/v1/executions/{e}/cancel", self.cancel)
        add("GET", "/api/v1/executions/{e}/events", self.list_events)
        add("GET", "/api/v1/executions/{e}/events/stream", self.stream_events)

    def _add(self, method: str, pattern: str, fn: Callable[..., httpx.Response]) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self.routes.append((method, regex, fn))

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        override = self.overrides.get((request.method, request.url.path))
        if override is not None:
            return override(request)
        if self.overrides_prefix is not None:
            method, suffix, fn = self.overrides_prefix
            if request.method == method and request.url.path.endswith(suffix):
                return fn(request)
        for method, regex, fn in self.routes:
            m = regex.match(request.url.path)
            if m and method == request.method:
                return fn(request, **m.groupdict())
        return error(404, "ROUTE_NOT_FOUND", f"no route {request.method} {request.url.path}")

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def body(request: httpx.Request) -> dict[str, Any]:
        return dict(json.loads(request.content or b"{}"))

    def _template(self, key: str) -> dict[str, Any] | None:
        if key in self.templates:
            return self.templates[key]
        return next((t for t in self.templates.values() if t["name"] == key), None)

    def _missing_template(self, t: str) -> httpx.Response:
        return error(404, "TEMPLATE_NOT_FOUND", "Template not found", template_id=t)

    def _list(self, t: str, field: str) -> httpx.Response:
        template = self._template(t)
        if template is None:
            return self._missing_template(t)
        return httpx.Response(200, json=template[field])

    # -- ops -----------------------------------------------------------------------------------
    def summary(self, request: httpx.Request) -> httpx.Response:
        live = [s["id"] for s in self.sessions.values() if s["status"] == "ready"]
        return httpx.Response(
            200,
            json={
                "active_sessions": len(live),
                "active_session_ids": live,
                "running_executions": 0,
                "engine": "v8",
                "version": "0.1.0",
                "uptime_s": 1.5,
                "db": {"url": "sqlite:///x.db", "schema_version": "0001"},
            },
        )

    # -- templates -----------------------------------------------------------------------------
    def list_templates(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=list(reversed(self.templates.values())))

    def create_template(self, request: httpx.Request) -> httpx.Response:
        body = self.body(request)
        if not body.get("name"):
            return error(400, "VALIDATION_ERROR", "name is required")
        if any(t["name"] == body["name"] for t in self.templates.values()):
            return error(409, "CONFLICT", "template name already exists")
        engine = body.get("engine") or "v8"
        if engine not in ("v8", "goja"):
            return error(422, "ENGINE_NOT_SUPPORTED", f"engine {engine!r} is not supported")
        tid = _uuid()
        template = {
            "id": tid,
            "name": body["name"],
            "engine": "v8",
            "is_active": True,
            "settings": {
                "limits": {
                    "wall_ms": 5000,
                    "cpu_ms": 2000,
                    "mem_mb": 128,
                    "max_events": 50000,
                    "max_output_kb": 256,
                },
                "runtime": {
                    "strict": False,
                    "console": True,
                    "language": "javascript",
                    "unhandled_rejections": "throw",
                },
                "resolver": {"roots": ["."], "extensions": [".js", ".mjs"]},
                "deterministic": {"seed": None},
                "recovery": {"policy": "replay"},
                "session": {"idle_timeout_s": None},
            },
            "exposed_modules": [],
            "libraries": [],
            "created_at": TS,
            "updated_at": TS,
        }
        self.templates[tid] = template
        self.capabilities[tid] = []
        self.startup[tid] = []
        return httpx.Response(201, json=template)

    def get_template(self, request: httpx.Request, t: str) -> httpx.Response:
        template = self._template(t)
        if template is None:
            return self._missing_template(t)
        return httpx.Response(
            200,
            json={
                "template": template,
                "settings": template["settings"],
                "capabilities": self.capabilities[template["id"]],
                "startup_files": self.startup[template["id"]],
            },
        )

    def patch_template(self, request: httpx.Request, t: str) -> httpx.Response:
        template = self._template(t)
        if template is None:
            return self._missing_template(t)
        body = self.body(request)
        for key in ("name", "engine"):
            if key in body:
                template[key] = body[key]
        for section, values in body.get("settings", {}).items():
            template["settings"].setdefault(section, {}).update(values)
        return httpx.Response(200, json=template)

    def delete_template(self, request: httpx.Request, t: str) -> httpx.Response:
        template = self._template(t)
        if template is None:
            return self._missing_template(t)
        if any(
            s["template_id"] == template["id"] and s["status"] == "ready"
            for s in self.sessions.values()
        ):
            return error(409, "TEMPLATE_IN_USE", "Template has live sessions; close them first")
        del self.templates[template["id"]]
        return httpx.Response(200, json={"status": "ok", "template_id": template["id"]})

    def add_module(self, request: httpx.Request, t: str) -> httpx.Response:
        template = self._template(t)
        if template is None:
            return self._missing_template(t)
        name = self.body(request)["name"]
        if name not in ("fs", "exec", "database"):
            return error(422, "MODULE_NOT_ALLOWED", f"module {name!r} is not allowed")
        if name not in template["exposed_modules"]:
            template["exposed_modules"].append(name)
        return httpx.Response(201, json={"template_id": template["id"], "name": name})

    def add_library(self, request: httpx.Request, t: str) -> httpx.Response:
        template = self._template(t)
        if template is None:
            return self._missing_template(t)
        name = self.body(request)["name"]
        if not name.startswith(("lodash", "dayjs", "ramda", "moment")):
            return error(422, "LIBRARY_NOT_FOUND", f"library {name!r} is not in the catalog")
        template["libraries"].append(name)
        return httpx.Response(201, json={"template_id": template["id"], "name": name})

    def remove_name(self, field: str) -> Callable[..., httpx.Response]:
        def remove(request: httpx.Request, t: str, n: str) -> httpx.Response:
            template = self._template(t)
            if template is None:
                return self._missing_template(t)
            if n in template[field]:
                template[field].remove(n)
            return httpx.Response(200, json={"status": "ok", "template_id": t, "name": n})

        return remove

    def list_capabilities(self, request: httpx.Request, t: str) -> httpx.Response:
        return httpx.Response(200, json=self.capabilities.get(t, []))

    def add_capability(self, request: httpx.Request, t: str) -> httpx.Response:
        if t not in self.templates:
            return self._missing_template(t)
        body = self.body(request)
        cap = {
            "id": _uuid(),
            "template_id": t,
            "kind": body["kind"],
            "name": body["name"],
            "enabled": body.get("enabled", True),
            "config": body.get("config", {}),
        }
        self.capabilities[t].append(cap)
        return httpx.Response(201, json=cap)

    def remove_capability(self, request: httpx.Request, t: str, c: str) -> httpx.Response:
        self.capabilities[t] = [x for x in self.capabilities.get(t, []) if x["id"] != c]
        return httpx.Response(200, json={"status": "ok", "template_id": t, "capability_id": c})

    def list_startup(self, request: httpx.Request, t: str) -> httpx.Response:
        files = sorted(self.startup.get(t, []), key=lambda f: f["order_index"])
        return httpx.Response(200, json=files)

    def add_startup(self, request: httpx.Request, t: str) -> httpx.Response:
        if t not in self.templates:
            return self._missing_template(t)
        body = self.body(request)
        sf = {
            "id": _uuid(),
            "template_id": t,
            "path": body["path"],
            "order_index": body.get("order_index", 0),
            "mode": body.get("mode", "eval"),
        }
        self.startup[t].append(sf)
        return httpx.Response(201, json=sf)

    def remove_startup(self, request: httpx.Request, t: str, s: str) -> httpx.Response:
        self.startup[t] = [x for x in self.startup.get(t, []) if x["id"] != s]
        return httpx.Response(200, json={"status": "ok", "template_id": t, "startup_file_id": s})

    # -- sessions ------------------------------------------------------------------------------
    def list_sessions(self, request: httpx.Request) -> httpx.Response:
        status = request.url.params.get("status")
        found = [s for s in reversed(self.sessions.values()) if not status or s["status"] == status]
        return httpx.Response(200, json=found)

    def create_session(self, request: httpx.Request) -> httpx.Response:
        body = self.body(request)
        template = self._template(body.get("template_id", ""))
        if template is None:
            return self._missing_template(body.get("template_id", ""))
        if not str(body.get("worktree_path", "")).startswith("/"):
            return error(400, "VALIDATION_ERROR", "worktree_path must be absolute")
        sid = _uuid()
        session = {
            "id": sid,
            "template_id": template["id"],
            "workspace_id": body.get("workspace_id", "default"),
            "base_commit_oid": body.get("base_commit_oid", "HEAD"),
            "worktree_path": body["worktree_path"],
            "status": "ready",
            "created_at": TS,
            "last_activity_at": TS,
            "closed_at": None,
            "last_error": None,
            "template_snapshot": {"name": template["name"]},
            "globals": {},
        }
        self.sessions[sid] = session
        return httpx.Response(201, json={k: v for k, v in session.items() if k != "globals"})

    def _session_json(self, session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if k != "globals"}

    def get_session(self, request: httpx.Request, s: str) -> httpx.Response:
        if s not in self.sessions:
            return error(404, "SESSION_NOT_FOUND", "Session not found", session_id=s)
        return httpx.Response(200, json=self._session_json(self.sessions[s]))

    def close_session(self, request: httpx.Request, s: str) -> httpx.Response:
        if s not in self.sessions:
            return error(404, "SESSION_NOT_FOUND", "Session not found", session_id=s)
        session = self.sessions[s]
        session["status"] = "closed"
        session["closed_at"] = TS
        return httpx.Response(200, json=self._session_json(session))

    # -- executions ----------------------------------------------------------------------------
    def _new_execution(self, session_id: str, kind: str, **fields: Any) -> dict[str, Any]:
        eid = _uuid()
        execution = {
            "id": eid,
            "session_id": session_id,
            "kind": kind,
            "input": None,
            "path": None,
            "args": {},
            "env": {},
            "status": "running",
            "started_at": TS,
            "ended_at": None,
            "result": None,
            "error": None,
            "metrics": {"duration_ms": 0.4, "cpu_ms": 0.2, "event_count": 0, "output_bytes": 0},
        }
        execution.update(fields)
        self.executions[eid] = execution
        self.events[eid] = []
        return execution

    def _emit(self, execution: dict[str, Any], type_: str, payload: dict[str, Any]) -> None:
        events = self.events[execution["id"]]
        events.append(
            {
                "execution_id": execution["id"],
                "seq": len(events) + 1,
                "ts": TS,
                "type": type_,
                "payload": payload,
            }
        )

    def _evaluate(self, execution: dict[str, Any], code: str, session: dict[str, Any]) -> None:
        """A toy JS: console.log("x"), throw, globals, integer arithmetic."""
        for text in re.findall(r'console\.log\("([^"]*)"\)', code):
            self._emit(execution, "console", {"level": "log", "text": text})
        code = re.sub(r'console\.log\("[^"]*"\);?\s*', "", code).strip()
        if code.startswith("throw"):
            exc = {"name": "Error", "message": "boom", "stack": "Error: boom\n    at <repl>:1:7"}
            self._emit(execution, "exception", exc)
            execution.update(status="error", error=exc)
        elif code == "":
            value = {"type": "undefined", "preview": "undefined", "inspect": "undefined"}
            self._emit(execution, "value", value)
            execution.update(status="ok", result=value)
        else:
            names = dict(session["globals"])
            result = eval(code, {"__builtins__": {}}, names)
            value = {
                "type": "number",
                "preview": str(result),
                "inspect": str(result),
                "json": result,
            }
            self._emit(execution, "value", value)
            execution.update(status="ok", result=value)
        execution["ended_at"] = TS
        execution["metrics"]["event_count"] = len(self.events[execution["id"]])

    def _ready_session(self, session_id: str) -> dict[str, Any] | httpx.Response:
        session = self.sessions.get(session_id)
        if session is None:
            return error(404, "SESSION_NOT_FOUND", "Session not found", session_id=session_id)
        if session["status"] != "ready":
            return error(409, "SESSION_NOT_READY", "Session is not ready")
        return session

    def repl(self, request: httpx.Request) -> httpx.Response:
        body = self.body(request)
        session = self._ready_session(body["session_id"])
        if isinstance(session, httpx.Response):
            return session
        execution = self._new_execution(session["id"], "repl", input=body["input"])
        self._emit(execution, "input_echo", {"text": body["input"]})
        if body["input"] == "spam()":
            self._emit(
                execution,
                "system",
                {"level": "error", "code": "OUTPUT_LIMIT_EXCEEDED", "message": "too much output"},
            )
            execution.update(
                status="error",
                error={"code": "OUTPUT_LIMIT_EXCEEDED", "message": "too much output"},
            )
            return error(
                422,
                "OUTPUT_LIMIT_EXCEEDED",
                "Execution exceeded configured output/event limits",
                execution_id=execution["id"],
            )
        self._evaluate(execution, body["input"], session)
        return httpx.Response(
            202 if body.get("stream") else 201,
            json=self._running_view(execution, body.get("stream", False)),
        )

    def _running_view(self, execution: dict[str, Any], stream: bool) -> dict[str, Any]:
        if not stream:
            return execution
        return {**execution, "status": "running", "result": None, "error": None, "ended_at": None}

    def run_file(self, request: httpx.Request) -> httpx.Response:
        body = self.body(request)
        session = self._ready_session(body["session_id"])
        if isinstance(session, httpx.Response):
            return session
        path = body["path"]
        if path.startswith("/") or ".." in path.split("/"):
            return error(422, "INVALID_PATH", "Path escapes allowed worktree", path=path)
        files = getattr(self, "files", {})
        if path not in files:
            return error(404, "FILE_NOT_FOUND", "File not found", path=path)
        execution = self._new_execution(
            session["id"], "run_file", path=path, args=body.get("args", {}), env=body.get("env", {})
        )
        self._evaluate(execution, files[path], session)
        return httpx.Response(
            202 if body.get("stream") else 201,
            json=self._running_view(execution, body.get("stream", False)),
        )

    def list_executions(self, request: httpx.Request) -> httpx.Response:
        sid = request.url.params.get("session_id")
        found = [e for e in reversed(self.executions.values()) if not sid or e["session_id"] == sid]
        limit = int(request.url.params.get("limit", 50))
        return httpx.Response(200, json=found[:limit])

    def get_execution(self, request: httpx.Request, e: str) -> httpx.Response:
        if e not in self.executions:
            return error(404, "EXECUTION_NOT_FOUND", "Execution not found", execution_id=e)
        return httpx.Response(200, json=self.executions[e])

    def cancel(self, request: httpx.Request, e: str) -> httpx.Response:
        if e not in self.executions:
            return error(404, "EXECUTION_NOT_FOUND", "Execution not found", execution_id=e)
        execution = self.executions[e]
        if execution["status"] == "running":
            execution.update(
                status="cancelled", error={"code": "CANCELLED", "message": "cancelled"}
            )
        return httpx.Response(200, json=execution)

    def list_events(self, request: httpx.Request, e: str) -> httpx.Response:
        if e not in self.executions:
            return error(404, "EXECUTION_NOT_FOUND", "Execution not found", execution_id=e)
        after = int(request.url.params.get("after_seq", 0))
        limit = int(request.url.params.get("limit", 1000))
        found = [x for x in self.events[e] if x["seq"] > after][:limit]
        return httpx.Response(200, json=found)

    def stream_events(self, request: httpx.Request, e: str) -> httpx.Response:
        if e not in self.executions:
            return error(404, "EXECUTION_NOT_FOUND", "Execution not found", execution_id=e)
        after = int(request.url.params.get("after_seq", 0))
        chunks = []
        for event in self.events[e]:
            if event["seq"] > after:
                chunks.append(
                    f"event: {event['type']}\nid: {e}:{event['seq']}\ndata: {json.dumps(event)}\n\n"
                )
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content="".join(chunks).encode()
        )
