"""The SDK's and the web UI's hand-written response types agree, field by field, with what the
daemon answers.

The response shapes have one source, the API's builders (``vmsystem/api/responses.py``);
the SDK's TypedDicts (``vmsystem/client/types.py``) and the UI's interfaces
(``ui/src/api/types.ts``) describe them. Real answers of the real app (SQLite, V8) are read
here, and for each typed object: every field the daemon sends is declared, and every field
declared as always present (required in the TypedDict, without ``?`` in TypeScript) is sent.
Nested objects are checked the same way, through the types the fields name.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any, Union, get_args, get_origin, is_typeddict

import pytest

from vmsystem.client import types as sdk

from .conftest import API, TestClient
from .helpers import wait_for

UI_TYPES = Path(__file__).resolve().parents[2] / "ui" / "src" / "api" / "types.ts"


# ------------------------------------------------------------------------- the SDK's TypedDicts


def _typeddicts(hint: Any) -> list[tuple[str, Any]]:
    """The TypedDicts a field's type names: ``("one", T)`` for ``T`` (or ``T | None``),
    ``("list", T)`` for ``list[T]``."""
    origin = get_origin(hint)
    if is_typeddict(hint):
        return [("one", hint)]
    if origin in (Union, types.UnionType):
        return [found for arg in get_args(hint) for found in _typeddicts(arg)]
    if origin is list:
        return [("list", t) for kind, t in _typeddicts(get_args(hint)[0]) if kind == "one"]
    return []


def _required(td: Any) -> set[str]:
    """The keys ``td`` requires. Python 3.11 does not read ``NotRequired`` in postponed
    annotations (``from __future__ import annotations``) into ``__required_keys__``."""
    hints = typing.get_type_hints(td, include_extras=True)
    required = set(td.__required_keys__) | {
        k for k, hint in hints.items() if get_origin(hint) is typing.Required
    }
    return {k for k in required if get_origin(hints[k]) is not typing.NotRequired}


def sdk_mismatches(value: Any, td: Any, where: str) -> list[str]:
    """Where ``value`` (a JSON object) and the TypedDict ``td`` disagree."""
    if not isinstance(value, dict):
        return [f"{where}: not an object"]
    declared = set(td.__required_keys__) | set(td.__optional_keys__)
    problems = [f"{where}.{k}: sent, not in {td.__name__}" for k in sorted(set(value) - declared)]
    problems += [
        f"{where}.{k}: required by {td.__name__}, not sent"
        for k in sorted(_required(td) - set(value))
    ]
    hints = typing.get_type_hints(td)
    for key in sorted(declared & set(value)):
        for kind, inner in _typeddicts(hints[key]):
            item = value[key]
            if kind == "one" and isinstance(item, dict):
                problems += sdk_mismatches(item, inner, f"{where}.{key}")
            elif kind == "list" and isinstance(item, list):
                for i, element in enumerate(item):
                    problems += sdk_mismatches(element, inner, f"{where}.{key}[{i}]")
    return problems


# ------------------------------------------------------------------------- the UI's interfaces

INTERFACE = re.compile(r"^export interface (\w+)(?: extends (\w+))? \{", re.M)
FIELD = re.compile(r"^  (\w+)(\??): (.+?);?$")


def ui_interfaces() -> dict[str, dict[str, tuple[bool, str]]]:
    """Every exported interface of types.ts: field -> (optional, type text), top level only
    (with those of the interface it extends)."""
    text = UI_TYPES.read_text(encoding="utf-8")
    found: dict[str, dict[str, tuple[bool, str]]] = {}
    for match in INTERFACE.finditer(text):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        body = text[match.end() : i - 1]
        fields = {}
        for line in body.splitlines():
            field = FIELD.match(line)
            if field:
                fields[field[1]] = (field[2] == "?", field[3])
        found[match[1]] = {**found[match[2]], **fields} if match[2] else fields
    return found


def ui_mismatches(value: Any, name: str, where: str, interfaces: dict[str, Any]) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: not an object"]
    fields = interfaces[name]
    problems = [f"{where}.{k}: sent, not in {name}" for k in sorted(set(value) - set(fields))]
    problems += [
        f"{where}.{k}: required by {name}, not sent"
        for k, (optional, _) in sorted(fields.items())
        if not optional and k not in value
    ]
    for key in sorted(set(fields) & set(value)):
        for part in (p.strip() for p in fields[key][1].split("|")):
            many = part.endswith("[]")
            inner = part.removesuffix("[]")
            if inner not in interfaces or value[key] is None:
                continue
            items = value[key] if many else [value[key]]
            for i, item in enumerate(items):
                problems += ui_mismatches(item, inner, f"{where}.{key}[{i}]", interfaces)
    return problems


# ------------------------------------------------------------------------- real answers


@pytest.fixture
def answers(client: TestClient, tmp_path: Path) -> dict[str, Any]:
    """One real answer of each shape (the key names the SDK's TypedDict and the UI's type)."""

    def ok(response: Any) -> Any:
        assert response.status_code < 300, response.text
        return response.json()

    template = ok(client.post(f"{API}/templates", json={"name": "shapes"}))
    tid = template["id"]
    capability = ok(
        client.post(f"{API}/templates/{tid}/capabilities", json={"kind": "fs", "name": "write"})
    )
    (tmp_path / "start.js").write_text("globalThis.started = 1;\n")
    startup = ok(client.post(f"{API}/templates/{tid}/startup-files", json={"path": "start.js"}))
    session = ok(
        client.post(f"{API}/sessions", json={"template_id": tid, "worktree_path": str(tmp_path)})
    )
    sid = session["id"]
    execution = ok(
        client.post(
            f"{API}/executions/repl",
            json={"session_id": sid, "input": "console.log('shapes'); ({a: 1})"},
        )
    )
    failed = ok(client.post(f"{API}/executions/repl", json={"session_id": sid, "input": "null.x"}))
    events = ok(client.get(f"{API}/executions/{execution['id']}/events"))
    completion = ok(client.post(f"{API}/sessions/{sid}/complete", json={"code": "Mat"}))
    fork = ok(client.post(f"{API}/sessions/{sid}/fork", json={}))
    page = wait_for(
        lambda: (
            (p := ok(client.get(f"{API}/executions/search", params={"q": "shapes"})))["results"]
            and p
        )
    )
    return {
        "Template": template,
        "TemplateDetail": ok(client.get(f"{API}/templates/{tid}")),
        "Capability": capability,
        "StartupFile": startup,
        "Session": ok(client.get(f"{API}/sessions/{sid}")),
        "Execution": execution,
        "Execution:error": failed,
        "Event": events,
        "ExecutionSearchPage": page,
        "FileListing": ok(client.get(f"{API}/sessions/{sid}/files")),
        "RuntimeSummary": ok(client.get(f"{API}/runtime/summary")),
        "Completion": completion,
        "SessionFork": fork,
        "LibraryInfo": ok(client.get(f"{API}/metadata/libraries")),
        "Health": ok(client.get(f"{API}/health")),
        "EngineInfo": ok(client.get(f"{API}/metadata/engines")),
        "ModuleInfo": ok(client.get(f"{API}/metadata/modules")),
        "CapabilityInfo": ok(client.get(f"{API}/metadata/capabilities")),
    }


def _each(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_sdk_types_declare_every_field_the_daemon_sends(answers: dict[str, Any]) -> None:
    problems = []
    for key, value in answers.items():
        name = key.partition(":")[0]
        for i, item in enumerate(_each(value)):
            problems += sdk_mismatches(item, getattr(sdk, name), f"{key}[{i}]")
    assert problems == [], "\n".join(problems)


def test_the_ui_types_declare_every_field_the_daemon_sends(answers: dict[str, Any]) -> None:
    interfaces = ui_interfaces()
    assert {"Template", "Session", "Execution", "TemplateSnapshot"} <= set(interfaces)
    problems = []
    for key, value in answers.items():
        name = key.partition(":")[0]
        if name == "Event":  # a union of EventBase<type, payload> in the UI
            continue
        for i, item in enumerate(_each(value)):
            problems += ui_mismatches(item, name, f"{key}[{i}]", interfaces)
    assert problems == [], "\n".join(problems)


def test_the_checks_find_a_field_that_is_not_declared() -> None:
    template = {"id": "t", "name": "n", "undeclared": 1}
    found = sdk_mismatches(template, sdk.Template, "x")
    assert "x.undeclared: sent, not in Template" in found
    assert "x.created_at: required by Template, not sent" in found
    session = {"template_snapshot": {"name": "n", "odd": 1}}
    assert "x.template_snapshot.odd: sent, not in TemplateSnapshot" in sdk_mismatches(
        session, sdk.Session, "x"
    )
    found = ui_mismatches(template, "Template", "x", ui_interfaces())
    assert "x.undeclared: sent, not in Template" in found
    assert "x.created_at: required by Template, not sent" in found
