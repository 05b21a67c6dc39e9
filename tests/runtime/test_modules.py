"""The module loader in the real V8 engine: ES modules and CommonJS from a worktree, package
resolution, the module cache between runs, confinement, TypeScript and REPL imports."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from vmsystem.modules.loader import loader_functions
from vmsystem.runtime import OutcomeKind, RunLimits
from vmsystem.runtime.entries import library_binding, module_entry, typescript_input
from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run, value

FS_MODULE = """function (hostCall, name) { return { tag: "native fs" }; }"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "wt"
    path.mkdir()
    return Path(os.path.realpath(path))


@pytest.fixture
def mctx(make_ctx: Callable[..., V8Context], root: Path) -> V8Context:
    return make_ctx(host_functions=loader_functions(root), modules={"fs": FS_MODULE})


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def main(ctx: V8Context, path: str, source: str = "") -> tuple[OutcomeKind, list[str], dict]:
    sink = Sink()
    code = module_entry(path, source)
    assert code is not None
    outcome = run(ctx, code, sink=sink, filename=path, args={}, env={})
    return outcome.kind, sink.texts, outcome.exception or {}


def test_a_js_file_runs_as_a_module_only_with_es_module_syntax() -> None:
    assert module_entry("a.js", "const x = require('./y');\n") is None
    assert module_entry("a.js", "// x\nimport { y } from './y.js';\n") is not None
    assert module_entry("a.js", "export default 1;\n") is not None
    for path in ("a.mjs", "a.cjs", "a.ts", "a.mts", "a.cts", "a.tsx"):
        assert module_entry(path, "") is not None


def test_esm_and_commonjs_interoperate_with_re_exports_and_namespaces(
    mctx: V8Context, root: Path
) -> None:
    write(
        root,
        {
            "lib/a.cjs": "exports.one = 1; module.exports.two = 2;\n",
            "lib/b.mjs": "export * from './a.cjs';\nexport { default as three } from './c.js';\n",
            "lib/c.js": "module.exports = 3;\n",
            "lib/index.js": "export const fromIndex = 'index';\n",
            "main.mjs": (
                "import * as b from './lib/b.mjs';\nimport { fromIndex } from './lib';\n"
                "import fs from 'fs';\nimport { tag } from 'node:fs';\n"
                "console.log(b.one + b.two + b.three, fromIndex, fs.tag === tag);\n"
                "console.log(import.meta.url.startsWith('file://'), "
                "import.meta.url.endsWith('/main.mjs'));\n"
            ),
        },
    )
    kind, lines, error = main(mctx, "main.mjs")
    assert kind is OutcomeKind.OK, error
    assert lines == ["6 index true", "true true"]


def test_a_module_is_evaluated_once_and_kept_between_runs(mctx: V8Context, root: Path) -> None:
    write(
        root,
        {
            "counter.mjs": "export let n = 0;\nexport function bump() { return ++n; }\n",
            "main.mjs": "import { bump } from './counter.mjs';\nconsole.log(bump());\n",
        },
    )
    assert main(mctx, "main.mjs")[1] == ["1"]
    assert main(mctx, "main.mjs")[1] == ["2"]  # the unchanged dependency keeps its state
    assert value(mctx, "require('./counter.mjs').n") == 2


def test_an_edited_dependency_reloads_its_importers_too(mctx: V8Context, root: Path) -> None:
    write(
        root,
        {
            "leaf.mjs": "export const v = 'old';\n",
            "mid.mjs": "import { v } from './leaf.mjs';\nexport const w = 'mid:' + v;\n",
            "main.mjs": "import { w } from './mid.mjs';\nconsole.log(w);\n",
        },
    )
    assert main(mctx, "main.mjs")[1] == ["mid:old"]
    write(root, {"leaf.mjs": "export const v = 'brand new';\n"})
    assert main(mctx, "main.mjs")[1] == ["mid:brand new"]


def test_circular_commonjs_sees_partial_exports(mctx: V8Context, root: Path) -> None:
    write(
        root,
        {
            "a.cjs": (
                "exports.early = 'a';\nconst b = require('./b.cjs');\nexports.late = b.seen;\n"
            ),
            "b.cjs": "exports.seen = require('./a.cjs').early;\n",
        },
    )
    assert value(mctx, "require('./a.cjs').late") == "a"


def test_package_resolution_walks_up_node_modules_and_follows_exports_patterns(
    mctx: V8Context, root: Path
) -> None:
    write(
        root,
        {
            "node_modules/@scope/kit/package.json": (
                '{"exports": {"./features/*": {"require": "./src/*.cjs"}, ".": "./main.js"}}'
            ),
            "node_modules/@scope/kit/src/alpha.cjs": "module.exports = 'alpha';\n",
            "node_modules/@scope/kit/main.js": "module.exports = 'kit main';\n",
            "node_modules/modfield/package.json": '{"module": "esm.js", "main": "cjs.js"}',
            "node_modules/modfield/esm.js": "export default 'module field';\n",
            "node_modules/modfield/cjs.js": "module.exports = 'main field';\n",
            "node_modules/bare/index.js": "module.exports = 'index';\n",
            "src/deep/use.cjs": (
                "module.exports = [require('@scope/kit/features/alpha'), require('@scope/kit'),"
                " require('modfield'), require('bare')];\n"
            ),
        },
    )
    assert value(mctx, "require('./src/deep/use.cjs')") == [
        "alpha",
        "kit main",
        "main field",
        "index",
    ]
    assert value(mctx, "(await import('modfield')).default") == "module field"
    refused = run(mctx, "require('@scope/kit/private')")
    assert refused.kind is OutcomeKind.EXCEPTION
    assert "not exported" in (refused.exception or {})["message"]


def test_a_package_type_module_makes_js_files_es_modules(mctx: V8Context, root: Path) -> None:
    write(
        root,
        {
            "pkg/package.json": '{"type": "module"}',
            "pkg/strict.js": (
                "export const strict = (function () { return this; })() === undefined;\n"
            ),
        },
    )
    assert value(mctx, "require('./pkg/strict.js').strict") is True


def test_the_run_file_script_requires_relative_to_its_own_directory(
    mctx: V8Context, root: Path
) -> None:
    write(root, {"sub/u.js": "module.exports = 'sub u';\n", "u.js": "module.exports = 'root u';\n"})
    outcome = run(mctx, "require('./u.js')", filename="sub/script.js", args={}, env={})
    assert outcome.value is not None and outcome.value["json"] == "sub u"
    assert value(mctx, "require('./u.js')") == "root u"  # REPL input: the worktree root


def test_top_level_await_in_the_entry_module_is_awaited(mctx: V8Context, root: Path) -> None:
    write(
        root,
        {
            "main.mjs": (
                "const v = await new Promise((r) => setTimeout(() => r('later'), 5));\n"
                "console.log(v);\n"
            ),
            "dep.mjs": "await 1;\nexport const x = 1;\n",
            "uses.mjs": "import { x } from './dep.mjs';\n",
        },
    )
    assert main(mctx, "main.mjs")[:2] == (OutcomeKind.OK, ["later"])
    kind, _lines, error = main(mctx, "uses.mjs")
    assert kind is OutcomeKind.EXCEPTION
    assert "top-level await" in error["message"] and "dep.mjs" in error["message"]


def test_typescript_enums_generics_and_tsx_run_and_namespaces_are_refused_clearly(
    mctx: V8Context, root: Path
) -> None:
    write(
        root,
        {
            "shapes.ts": (
                "export enum Kind { Circle = 'circle', Square = 'square' }\n"
                "export interface Shape { kind: Kind; size: number }\n"
                "export const area = <S extends Shape>(s: S): number => s.size * s.size;\n"
            ),
            "main.mts": (
                "import { Kind, area, type Shape } from './shapes.js';\n"
                "const s: Shape = { kind: Kind.Square, size: 3 };\n"
                "console.log(s.kind, area(s));\n"
            ),
            "view.tsx": (
                "const React = { createElement: (t: string, p: unknown, ...c: unknown[]) => "
                "`<${t}>${c.join('')}</${t}>` };\n"
                "console.log(<b>{'bold'}</b>);\n"
            ),
            "ns.ts": "const a = 1;\nnamespace Inner { export const b = 2; }\n",
            "declared.ts": "declare namespace Lib { const v: number }\nconsole.log('ok');\n",
        },
    )
    assert main(mctx, "main.mts")[:2] == (OutcomeKind.OK, ["square 9"])
    assert main(mctx, "view.tsx")[:2] == (OutcomeKind.OK, ["<b>bold</b>"])
    kind, _lines, error = main(mctx, "ns.ts")
    assert kind is OutcomeKind.EXCEPTION
    assert "namespaces are not supported" in error["message"] and "ns.ts:2" in error["message"]
    assert main(mctx, "declared.ts")[:2] == (OutcomeKind.OK, ["ok"])


def test_a_syntax_error_in_a_dependency_names_its_file_and_line(
    mctx: V8Context, root: Path
) -> None:
    write(
        root,
        {
            "bad.cjs": "module.exports = 1;\n\nconst = 2;\n",
            "bad.json": "{nope}",
            "main.mjs": "import x from './bad.cjs';\n",
        },
    )
    kind, _lines, error = main(mctx, "main.mjs")
    assert kind is OutcomeKind.EXCEPTION
    assert error["name"] == "SyntaxError" and "bad.cjs:3" in error["message"]
    outcome = run(mctx, "require('./bad.json')")
    assert outcome.exception is not None and "bad.json" in outcome.exception["message"]


def test_specifiers_out_of_the_worktree_are_refused_before_anything_is_read(
    mctx: V8Context, root: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.js"
    secret.write_text("module.exports = 'SECRET';\n")
    os.symlink(secret, root / "link.js")
    os.symlink(tmp_path, root / "dirlink")
    (root / "node_modules").mkdir()
    os.symlink(tmp_path, root / "node_modules" / "linked")
    for spec in ("./link.js", str(secret), "../secret.js", "./dirlink/secret.js", "linked/secret"):
        outcome = run(mctx, f"require({spec!r})")
        assert outcome.kind is OutcomeKind.EXCEPTION, spec
        message = (outcome.exception or {})["message"]
        assert spec in message and "outside the session worktree" in message, message
        assert "SECRET" not in str(outcome.exception)


def test_repl_imports_bind_names_and_dynamic_import_resolves_from_the_root(
    mctx: V8Context, root: Path
) -> None:
    write(root, {"lib/m.mjs": "export default 'dflt';\nexport const named = 'nm';\n"})
    lines = "import d, { named as n } from './lib/m.mjs'\nimport * as ns from './lib/m.mjs'"
    assert value(mctx, lines) is None
    assert value(mctx, "[d, n, ns.named]") == ["dflt", "nm", "nm"]
    assert value(mctx, "const m = await import('./lib/m.mjs'); m.default") == "dflt"
    assert run(mctx, "n = 1").kind is OutcomeKind.EXCEPTION  # imports are constant


def test_typescript_repl_input_keeps_repl_semantics(mctx: V8Context, root: Path) -> None:
    write(root, {"lib/m.ts": "export const twice = (x: number): number => x * 2;\n"})
    assert value(mctx, typescript_input("const n: number = 2; n * 21")) == 42
    assert value(mctx, typescript_input("import { twice } from './lib/m.ts'")) is None
    awaited = typescript_input("const r: number = await Promise.resolve(twice(4)); r")
    assert value(mctx, awaited) == 8
    bad = run(mctx, typescript_input("const = ;"))
    assert bad.kind is OutcomeKind.EXCEPTION
    assert (bad.exception or {})["name"] == "SyntaxError"


def test_a_template_library_is_importable_by_its_name(mctx: V8Context) -> None:
    source = "var Lib = { hello: function () { return 'hi'; } };"
    assert run(mctx, source + library_binding("mylib", "Lib")).kind is OutcomeKind.OK
    assert value(mctx, "require('mylib').hello()") == "hi"
    assert value(mctx, "const { default: L } = await import('mylib'); L.hello()") == "hi"


def test_a_module_that_threw_is_evaluated_again_on_the_next_import(
    mctx: V8Context, root: Path
) -> None:
    write(
        root, {"flaky.cjs": "if (!globalThis.ready) throw new Error('not yet');\nexports.ok = 1;\n"}
    )
    failed = run(mctx, "require('./flaky.cjs')")
    assert failed.kind is OutcomeKind.EXCEPTION
    assert (failed.exception or {})["message"] == "not yet"
    assert value(mctx, "globalThis.ready = true; require('./flaky.cjs').ok") == 1


def test_module_loading_runs_under_the_run_limits(
    make_ctx: Callable[..., V8Context], root: Path
) -> None:
    ctx = make_ctx(host_functions=loader_functions(root))
    write(
        root,
        {
            "spin.mjs": "export const x = 1;\nwhile (true) {}\n",
            "main.mjs": "import { x } from './spin.mjs';\nconsole.log(x);\n",
            "ok.mjs": "console.log('still usable');\n",
        },
    )
    limits = RunLimits(wall_ms=300, cpu_ms=5000)
    stopped = run(ctx, module_entry("main.mjs", "") or "", limits=limits)
    assert stopped.kind is OutcomeKind.WALL_TIMEOUT
    sink = Sink()
    again = run(ctx, module_entry("ok.mjs", "") or "", sink=sink)
    assert again.kind is OutcomeKind.OK and sink.texts == ["still usable"]
