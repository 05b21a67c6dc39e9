"""Against a real daemon, through the SDK and the CLI: run a notebook in a session, export the
session back (ipynb, md, jsonl), on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from sqlalchemy import create_engine, text

from vmsystem import client as sdk
from vmsystem.store.engine import resolve_url

from .conftest import Daemon, DaemonFactory, free_port, run_cli

pytestmark = pytest.mark.e2e

POSTGRES_URL_ENV = "VMSYSTEM_TEST_POSTGRES_URL"


def _notebook(*sources: str) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# e2e")] + [
        nbformat.v4.new_code_cell(s) for s in sources
    ]
    return json.loads(nbformat.writes(nb))  # type: ignore[no-any-return]


def _src(cell: Any) -> str:
    """A cell's source (nbformat.writes splits it into lines)."""
    return "".join(cell.source) if isinstance(cell.source, list) else str(cell.source)


def _valid(body: Any) -> Any:
    nb = nbformat.from_dict(body)
    nbformat.validate(nb)
    return nb


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(
    request: pytest.FixtureRequest, start_daemon: DaemonFactory, tmp_path: Path
) -> Iterator[Daemon]:
    """A daemon on SQLite, or on a fresh PostgreSQL schema when the test server is set."""
    if request.param == "sqlite":
        yield start_daemon()
        return
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    schema = f"vmnb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(resolve_url(base))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = resolve_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    port = free_port()
    (tmp_path / "cache").mkdir(exist_ok=True)
    flags = (
        "--listen",
        f"127.0.0.1:{port}",
        "--db",
        url.render_as_string(hide_password=False),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    try:
        yield start_daemon(*flags, port=port, bare=True)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_a_notebook_runs_in_a_session_and_exports_back(served: Daemon, tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    worktree.mkdir()
    with sdk.Client(served.url) as client:
        template = client.create_template(f"nb-{uuid.uuid4().hex[:8]}")
        sid = client.create_session(template["id"], str(worktree))["id"]
        nb = _notebook(
            "const xs = [1, 2, 3]",
            "console.log('sum'); xs.reduce((a, b) => a + b)",
            "xs.map((x) => x * 2)",
        )
        ran = _valid(client.run_notebook(sid, nb))
        assert [c.get("execution_count") for c in ran.cells] == [None, 1, 2, 3]
        assert ran.cells[2].outputs[0].text == "sum\n"
        assert ran.cells[3].outputs[0].data["application/json"] == [2, 4, 6]

        exported = _valid(json.loads(client.export_session(sid, "ipynb")))
        assert [c.source for c in exported.cells] == [_src(c) for c in ran.cells[1:]]
        assert [c.metadata.vmsystem.execution_id for c in exported.cells] == [
            c.metadata.vmsystem.execution_id for c in ran.cells[1:]
        ]
        assert [c.outputs for c in exported.cells] == [c.outputs for c in ran.cells[1:]]
        lines = client.export_session(sid, "jsonl").splitlines()
        assert [json.loads(line)["input"] for line in lines] == [_src(c) for c in ran.cells[1:]]
        assert "```js\nconst xs = [1, 2, 3]\n```" in client.export_session(sid, "md")

    async def run_async() -> tuple[dict[str, Any], str]:
        async with sdk.AsyncClient(served.url) as aclient:
            failing = _notebook("nope()", "'still'")
            done = await aclient.run_notebook(sid, failing, continue_on_error=True)
            return done, await aclient.export_session(sid, "md")

    done, md = asyncio.run(run_async())
    # text/plain is the value's inspect form: a string quoted, as a REPL shows it
    assert done["cells"][2]["outputs"][0]["data"]["text/plain"] == "'still'"
    assert "ReferenceError" in md


def test_the_cli_runs_a_notebook_file_and_exports_the_session(
    daemon: Daemon, tmp_path: Path
) -> None:
    worktree = tmp_path / "wt"
    worktree.mkdir()
    with sdk.Client(daemon.url) as client:
        template = client.create_template(f"nb-cli-{uuid.uuid4().hex[:8]}")
        sid = client.create_session(template["id"], str(worktree))["id"]
    source = tmp_path / "in.ipynb"
    source.write_text(json.dumps(_notebook("let k = 6", "k * 7", "missing", "k")))
    out = tmp_path / "out.ipynb"
    url = ("--server-url", daemon.url)
    done = run_cli([*url, "session", "run-notebook", sid, str(source), "--out", str(out)])
    assert done.returncode == 1, done.stderr
    assert "Error: cell 4: ReferenceError" in done.stderr
    assert f"Ran 3 cells (1 failed) in session {sid}" in done.stdout
    ran = _valid(json.loads(out.read_text()))
    assert ran.cells[2].outputs[0].data["text/plain"] == "42"
    assert ran.cells[4].metadata.vmsystem.status == "skipped"

    exported = run_cli([*url, "session", "export", sid, "--format", "ipynb"])
    assert exported.returncode == 0, exported.stderr
    nb = _valid(json.loads(exported.stdout))
    assert [c.source for c in nb.cells] == ["let k = 6", "k * 7", "missing"]

    md_file = tmp_path / "t.md"
    done = run_cli(
        [*url, "session", "export", sid, "--format", "md", "--out", str(md_file), "-o", "json"]
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["file"] == str(md_file)
    assert md_file.read_text().startswith(f"# Session {sid}")
    bad = run_cli([*url, "session", "export", sid, "--format", "pdf"])
    assert bad.returncode == 2
    missing = run_cli([*url, "session", "run-notebook", sid, str(tmp_path / "none.ipynb")])
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr
