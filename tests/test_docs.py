"""Docs generated from, or checked against, the code."""

from __future__ import annotations

import re
from pathlib import Path

from vmsystem.api.errors import STATUS_BY_CODE
from vmsystem.settings import SETTINGS, render_settings_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_error_table_lists_every_code_with_its_status() -> None:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| (\d{3}) \|", text, flags=re.M))
    assert {code: int(status) for code, status in rows.items()} == STATUS_BY_CODE


def test_configuration_doc_matches_the_settings_table() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert render_settings_markdown() in text
    for setting in SETTINGS:
        assert setting.env in text


def test_readme_embedding_example_runs(tmp_path: Path, capsys: object) -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Embedding the core", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    worktree = tmp_path / "wt"
    worktree.mkdir()
    code = code.replace('"/tmp/vm.db"', repr(str(tmp_path / "vm.db"))).replace(
        '"/tmp")', repr(str(worktree)) + ")"
    )
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "ok 42" in out


def test_architecture_doc_lists_the_enforced_layers() -> None:
    from tests.test_architecture import ALLOWED, SERVE_EXTRA

    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (.+) \|$", text, flags=re.M))
    assert set(rows) == set(ALLOWED), "docs/architecture.md's layer table lists other packages"
    for layer, allowed in ALLOWED.items():
        always, _, serve_only = rows[layer].partition(";")
        documented = set(re.findall(r"`([a-z]+)`", always))
        expected = {name.removeprefix("vmsystem.") for name in allowed if name != "vmsystem"}
        assert documented == expected, f"{layer}: doc says {documented}, test allows {expected}"
        if layer == "cli":
            in_serve = set(re.findall(r"`([a-z]+)`", serve_only))
            assert in_serve == {n.removeprefix("vmsystem.") for n in SERVE_EXTRA}
