"""Modules and TypeScript over the REST API of a real daemon whose sessions live in host
processes: ES modules, CommonJS, node_modules packages, the REPL's import, edit-and-rerun,
confinement, TypeScript files and TypeScript REPL input."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Daemon, create_session, create_template, free_port

pytestmark = pytest.mark.e2e

SECRET = "OUTSIDE-SECRET-7f3a"


@pytest.fixture(scope="module")
def process_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    root = tmp_path_factory.mktemp("modules-daemon")
    (root / "cache").mkdir()
    d = Daemon(
        db=root / "vm.db",
        cache_dir=root / "cache",
        log=root / "daemon.log",
        port=free_port(),
        flags=("--hosts", "process"),
    )
    d.start()
    yield d
    code, _ = d.terminate()
    assert code == 0, d.output()


@pytest.fixture(scope="module")
def http(process_daemon: Daemon) -> Iterator[httpx.Client]:
    with process_daemon.client() as client:
        yield client


@pytest.fixture(scope="module")
def template(http: httpx.Client) -> dict[str, Any]:
    return create_template(http, "modules", wall_ms=10000, cpu_ms=10000)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "wt"
    root.mkdir()
    write(
        root,
        {
            "lib/util.mjs": (
                "export default function greet(n) { return `hello ${n}`; }\n"
                "export const add = (a, b) => a + b;\n"
            ),
            "main.mjs": (
                "import greet, { add } from './lib/util.mjs';\n"
                "console.log(greet('world'), add(2, 3));\n"
            ),
        },
    )
    return root


def session(http: httpx.Client, template: dict[str, Any], root: Path) -> str:
    return str(create_session(http, template["id"], root)["id"])


def run_file(http: httpx.Client, sid: str, path: str) -> dict[str, Any]:
    r = http.post("/executions/run-file", json={"session_id": sid, "path": path})
    assert r.status_code == 201, r.text
    return dict(r.json())


def repl(http: httpx.Client, sid: str, code: str, **extra: Any) -> dict[str, Any]:
    r = http.post("/executions/repl", json={"session_id": sid, "input": code, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def console(http: httpx.Client, execution: dict[str, Any]) -> list[str]:
    r = http.get(f"/executions/{execution['id']}/events")
    assert r.status_code == 200, r.text
    body = r.json()
    events = body["items"] if isinstance(body, dict) else body
    return [e["payload"]["text"] for e in events if e["type"] == "console"]


def test_an_es_module_imports_a_default_and_a_named_export(
    http: httpx.Client, template: dict[str, Any], project: Path
) -> None:
    sid = session(http, template, project)
    x = run_file(http, sid, "main.mjs")
    assert x["status"] == "ok", x
    assert console(http, x) == ["hello world 5"]


def test_commonjs_requires_a_js_file_and_a_json_file(
    http: httpx.Client, template: dict[str, Any], project: Path
) -> None:
    write(
        project,
        {
            "u.js": "module.exports = { n: 40, file: __filename.endsWith('u.js') };\n",
            "d.json": '{"n": 2}\n',
            "main.cjs": (
                "const u = require('./u');\nconst d = require('./d.json');\n"
                "console.log(u.n + d.n, u.file, typeof __dirname);\n"
            ),
        },
    )
    sid = session(http, template, project)
    x = run_file(http, sid, "main.cjs")
    assert x["status"] == "ok", x
    assert console(http, x) == ["42 true string"]


def test_a_package_exports_map_gives_esm_to_import_and_cjs_to_require(
    http: httpx.Client, template: dict[str, Any], project: Path
) -> None:
    write(
        project,
        {
            "node_modules/dual/package.json": (
                '{"name": "dual", "exports": {".": {"import": "./esm/index.mjs", '
                '"require": "./cjs/index.cjs"}}}'
            ),
            "node_modules/dual/esm/index.mjs": "export const flavour = 'esm';\n",
            "node_modules/dual/cjs/index.cjs": "exports.flavour = 'cjs';\n",
            "node_modules/plain/package.json": '{"name": "plain", "main": "lib/main.js"}',
            "node_modules/plain/lib/main.js": "module.exports = 'plain main';\n",
            "imp.mjs": (
                "import { flavour } from 'dual';\nimport plain from 'plain';\n"
                "console.log(flavour, plain);\n"
            ),
            "req.cjs": "console.log(require('dual').flavour, require('plain'));\n",
        },
    )
    sid = session(http, template, project)
    assert console(http, run_file(http, sid, "imp.mjs")) == ["esm plain main"]
    assert console(http, run_file(http, sid, "req.cjs")) == ["cjs plain main"]


def test_the_repl_imports_dynamically_and_binds_static_imports_for_later_inputs(
    http: httpx.Client, template: dict[str, Any], project: Path
) -> None:
    sid = session(http, template, project)
    x = repl(http, sid, "const m = await import('./lib/util.mjs'); m.add(20, 22)")
    assert x["status"] == "ok", x
    assert x["result"]["preview"] == "42"
    x = repl(http, sid, "import { add } from './lib/util.mjs'")
    assert x["status"] == "ok", x
    x = repl(http, sid, "add(1, 2)")
    assert x["status"] == "ok", x
    assert x["result"]["preview"] == "3"


def test_editing_a_dependency_changes_the_next_run(
    http: httpx.Client, template: dict[str, Any], project: Path
) -> None:
    sid = session(http, template, project)
    assert console(http, run_file(http, sid, "main.mjs")) == ["hello world 5"]
    util = project / "lib" / "util.mjs"
    util.write_text(
        "export default function greet(n) { return `bye ${n}`; }\n"
        "export const add = (a, b) => a * b;\n",
        encoding="utf-8",
    )
    assert console(http, run_file(http, sid, "main.mjs")) == ["bye world 6"]


@pytest.mark.parametrize("syntax", ["import", "require"])
def test_specifiers_leading_outside_the_worktree_are_refused(
    http: httpx.Client, template: dict[str, Any], tmp_path: Path, syntax: str
) -> None:
    root = tmp_path / "deep" / "wt"
    root.mkdir(parents=True)
    outside = tmp_path / "deep" / "secret.js"
    outside.write_text(f"module.exports = '{SECRET}'; console.log('{SECRET}');\n")
    os.symlink(outside, root / "link.js")
    specifiers = {"symlink": "./link.js", "absolute": str(outside), "dotdot": "../secret.js"}
    files = {}
    for kind, spec in specifiers.items():
        if syntax == "import":
            files[f"{kind}.mjs"] = f"import s from {spec!r};\nconsole.log(s);\n"
        else:
            files[f"{kind}.cjs"] = f"console.log(require({spec!r}));\n"
    write(root, files)
    sid = session(http, template, root)
    ext = "mjs" if syntax == "import" else "cjs"
    for kind, spec in specifiers.items():
        x = run_file(http, sid, f"{kind}.{ext}")
        assert x["status"] == "error", x
        assert spec in x["error"]["message"], x
        assert "outside the session worktree" in x["error"]["message"], x
        r = http.get(f"/executions/{x['id']}/events")
        assert SECRET not in r.text
        assert SECRET not in str(x)


def test_a_typescript_file_runs_and_its_stack_names_its_own_line(
    http: httpx.Client, template: dict[str, Any], project: Path
) -> None:
    write(
        project,
        {
            "main.ts": (
                "interface Point { x: number; y: number }\n"
                "function first<T>(items: T[]): T { return items[0]; }\n"
                "const p: Point = first<Point>([{ x: 1, y: 2 }]);\n"
                "enum Color { Red, Green }\n"
                "console.log(p.x + p.y, Color.Green);\n"
                "throw new Error('typed failure');\n"
            )
        },
    )
    sid = session(http, template, project)
    x = run_file(http, sid, "main.ts")
    assert x["status"] == "error", x
    assert x["error"]["message"] == "typed failure"
    assert "main.ts:6" in x["error"]["stack"]
    assert console(http, x) == ["3 1"]


def test_typescript_repl_input(http: httpx.Client, template: dict[str, Any], project: Path) -> None:
    sid = session(http, template, project)
    x = repl(http, sid, "const n: number = 2; n * 21", language="typescript")
    assert x["status"] == "ok", x
    assert x["result"]["preview"] == "42"
    r = http.post("/executions/repl", json={"session_id": sid, "input": "1", "language": "cobol"})
    assert r.status_code in (400, 422), r.text


def test_the_template_setting_makes_typescript_the_repl_default(
    http: httpx.Client, project: Path
) -> None:
    t = create_template(http, "typescript-default")
    bad = http.patch(f"/templates/{t['id']}", json={"settings": {"runtime": {"language": "c"}}})
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["code"] == "VALIDATION_ERROR"
    settings = {"runtime": {"language": "typescript"}}
    r = http.patch(f"/templates/{t['id']}", json={"settings": settings})
    assert r.status_code == 200, r.text
    sid = session(http, t, project)
    x = repl(http, sid, "type N = number; const k: N = 6; k * 7")
    assert x["status"] == "ok", x
    assert x["result"]["preview"] == "42"


def test_a_missing_dependency_and_a_syntax_error_name_the_file(
    http: httpx.Client, template: dict[str, Any], project: Path
) -> None:
    write(
        project,
        {
            "missing.mjs": "\n\nimport x from './nowhere.mjs';\n",
            "lib/broken.mjs": "export const a = 1;\nexport const b = ;\n",
            "broken.mjs": "import { a } from './lib/broken.mjs';\n",
        },
    )
    sid = session(http, template, project)
    x = run_file(http, sid, "missing.mjs")
    assert x["status"] == "error", x
    assert "./nowhere.mjs" in x["error"]["message"]
    assert "missing.mjs" in x["error"]["message"]
    x = run_file(http, sid, "broken.mjs")
    assert x["status"] == "error", x
    assert x["error"]["name"] == "SyntaxError"
    assert "lib/broken.mjs:2" in x["error"]["message"]
