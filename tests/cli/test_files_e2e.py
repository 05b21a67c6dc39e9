"""``vm-system files put|get|ls|rm`` and ``session create`` without a worktree, against a real
daemon."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from .daemon import running_daemon

pytestmark = pytest.mark.e2e


def test_files_commands_on_a_managed_session(tmp_path: Path) -> None:
    home = tmp_path / "daemon"
    home.mkdir()
    project = tmp_path / "project"
    (project / "lib").mkdir(parents=True)
    (project / "lib" / "k.mjs").write_text("export const k = 41;\n")
    (project / "app.mjs").write_text("import { k } from './lib/k.mjs';\nconsole.log(k + 1);\n")
    single = tmp_path / "note.txt"
    single.write_bytes(b"\x00binary\xff")
    extra = ("--worktrees-dir", str(tmp_path / "worktrees"))
    with running_daemon(home, extra) as daemon:
        daemon.cli("template", "create", "--name", "files-cli", check=True)
        created = daemon.cli(
            "session", "create", "--template", "files-cli", "-o", "json", check=True
        )
        session = json.loads(created.stdout)
        sid = session["id"]
        assert session["worktree_managed"] is True
        assert Path(session["worktree_path"]).parent == tmp_path / "worktrees"

        put_dir = daemon.cli("files", "put", sid, str(project), check=True)
        assert "Wrote app.mjs" in put_dir.stdout and "Wrote lib/k.mjs" in put_dir.stdout
        put_file = daemon.cli("files", "put", sid, str(single), "data/note.txt", check=True)
        assert "Wrote data/note.txt (8 bytes)" in put_file.stdout

        listing = daemon.cli("files", "ls", sid, "-r", "-o", "json", check=True)
        paths = [e["path"] for e in json.loads(listing.stdout)["entries"]]
        assert paths == ["app.mjs", "data", "data/note.txt", "lib", "lib/k.mjs"]
        table = daemon.cli("files", "ls", sid, check=True)
        assert "app.mjs" in table.stdout and "directory" in table.stdout

        ran = daemon.cli("exec", "run-file", sid, "app.mjs", check=True)
        assert "42" in ran.stdout

        out = tmp_path / "copy.txt"
        daemon.cli("files", "get", sid, "data/note.txt", str(out), check=True)
        assert out.read_bytes() == b"\x00binary\xff"
        to_stdout = daemon.cli("files", "get", sid, "lib/k.mjs", check=True)
        assert to_stdout.stdout == "export const k = 41;\n"
        archive = tmp_path / "tree.tar.gz"
        daemon.cli("files", "get", sid, ".", str(archive), "--archive", check=True)
        with tarfile.open(fileobj=io.BytesIO(archive.read_bytes())) as tar:
            assert "lib/k.mjs" in tar.getnames()

        assert "Removed data" in daemon.cli("files", "rm", sid, "data", check=True).stdout
        missing = daemon.cli("files", "get", sid, "data/note.txt")
        assert missing.returncode != 0 and "FILE_NOT_FOUND" in missing.stderr
        escape = daemon.cli("files", "put", sid, str(single), "../escape.txt")
        assert escape.returncode != 0 and "INVALID_PATH" in escape.stderr
        assert not (tmp_path / "worktrees" / "escape.txt").exists()
