"""Importing a 200-module dependency tree (ES modules, half of them TypeScript) with run-file,
in-process through the core: cold (a fresh session: the module compiler loads and every module
is read, compiled and evaluated) and warm (a second run-file of the same entry: the cache is
checked against the files and only the entry runs again). Beside it, REPL ``1+1`` in a session
that never used a module, and in one that did: the module system costs nothing when unused."""

from __future__ import annotations

import time
from pathlib import Path

from bench.context import Bench, Row
from bench.stats import median, summary

NAME = "modules"
#: Modules in the tree (the entry included).
COUNT = 200


def write_tree(root: Path) -> None:
    """``main.mjs`` and ``m1``..``m199``: module i imports modules 2i and 2i+1 (a binary tree);
    odd ones are TypeScript."""
    root.mkdir(parents=True, exist_ok=True)

    def name(i: int) -> str:
        return "main.mjs" if i == 0 else f"lib/m{i}.{'ts' if i % 2 else 'mjs'}"

    for i in range(COUNT):
        children = [c for c in (2 * i + 1, 2 * i + 2) if c < COUNT]
        lines = [
            f"import {{ v as v{c} }} from './{name(c).removeprefix('lib/')}';" for c in children
        ]
        if i == 0:
            lines = [line.replace("'./", "'./lib/") for line in lines]
        total = " + ".join([str(1), *(f"v{c}" for c in children)])
        typed = ": number" if i % 2 else ""
        lines.append(f"export const v{typed} = {total};")
        if i == 0:
            lines.append("console.log(v);")
        path = root / name(i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(b: Bench) -> list[Row]:
    from vmsystem.core import open_system

    tree = b.workdir / "module-tree"
    write_tree(tree)
    vm = open_system(str(b.workdir / "modules.db"), cache_dir=b.cache_dir)
    try:
        template = vm.templates.create("bench-modules")
        template = vm.templates.update(
            template.id, settings={"limits": {"wall_ms": 60000, "cpu_ms": 60000}}
        )

        def one_1plus1(sid: str) -> float:
            t0 = time.perf_counter()
            x = vm.executions.repl(sid, "1+1")
            assert x.result is not None and x.result["preview"] == "2", x
            return (time.perf_counter() - t0) * 1000

        def run_tree(sid: str) -> float:
            t0 = time.perf_counter()
            x = vm.executions.run_file(sid, "main.mjs")
            ms = (time.perf_counter() - t0) * 1000
            assert x.status.value == "ok", x.error
            return ms

        cold, warm, plain, used = [], [], [], []
        for _ in range(b.n(5, 1)):
            session = vm.sessions.create(template.id, str(tree))
            for _ in range(b.n(200, 20)):
                one_1plus1(session.id)
            plain.extend(one_1plus1(session.id) for _ in range(b.n(500, 40)))
            cold.append(run_tree(session.id))
            warm.extend(run_tree(session.id) for _ in range(b.n(10, 2)))
            used.extend(one_1plus1(session.id) for _ in range(b.n(500, 40)))
            vm.sessions.close(session.id)
    finally:
        vm.close()
    unused_s, used_s = summary(plain), summary(used)
    return [
        Row(
            "modules_import_200_cold",
            f"run-file of a {COUNT}-module ESM/TypeScript tree in a fresh session (wall)",
            median(cold),
            "ms",
            details={"runs_ms": cold},
        ),
        Row(
            "modules_import_200_warm",
            f"run-file of the same {COUNT}-module tree again (cache checked, entry re-run)",
            median(warm),
            "ms",
            details={"runs_ms": warm},
        ),
        Row(
            "modules_repl_1plus1_p50",
            "REPL `1+1` after the tree was imported in the session (p50)",
            used_s["p50"],
            "ms",
            unused_s["p50"],
            "`1+1` in the same session before any module",
            details={"unused": unused_s, "used": used_s},
        ),
    ]
