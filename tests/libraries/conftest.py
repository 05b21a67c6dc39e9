"""Hermetic fixtures: a fake ``npm`` executable first on PATH and small UMD packages."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vmsystem.libraries import CatalogEntry, LibraryCache

TINY_JS = "(function (root) { root.tiny = { answer: 42 }; })(this);\n"
OTHER_JS = "(function (root) { root.other = function () { return 'other'; }; })(this);\n"

# The fake npm: `npm pack <pkg>@<ver> --pack-destination DIR ...` writes DIR/<pkg>-<ver>.tgz
# built from $FAKE_NPM_DIR/packages.json and appends its argv to $FAKE_NPM_DIR/calls.jsonl.
FAKE_NPM = r"""
import io, json, os, sys, tarfile, time
state = os.environ["FAKE_NPM_DIR"]
args = sys.argv[1:]
with open(os.path.join(state, "calls.jsonl"), "a") as log:
    log.write(json.dumps({"argv": args, "cwd": os.getcwd()}) + "\n")
if not args or args[0] != "pack":
    sys.stderr.write("fake npm: only pack is supported\n")
    sys.exit(2)
with open(os.path.join(state, "packages.json")) as f:
    packages = json.load(f)
spec = args[1]
dest = args[args.index("--pack-destination") + 1]
package = packages.get(spec)
if package is None:
    sys.stderr.write("npm error code E404\nnpm error 404 Not Found - GET " + spec + "\n")
    sys.exit(1)
time.sleep(package.get("sleep", 0))
if package.get("exit"):
    sys.stderr.write(package.get("stderr", "") + "\n")
    sys.exit(package["exit"])
name, _, version = spec.rpartition("@")
target = os.path.join(dest, name.replace("/", "-").lstrip("@") + "-" + version + ".tgz")
with tarfile.open(target, "w:gz") as tar:
    for member in package["members"]:
        info = tarfile.TarInfo(member["name"])
        if member.get("type") == "symlink":
            info.type = tarfile.SYMTYPE
            info.linkname = member["linkname"]
            tar.addfile(info)
        else:
            data = member["content"].encode()
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
print(json.dumps([{"filename": os.path.basename(target)}]))
"""


def sha256(text: str) -> str:
    """The sha256 of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode()).hexdigest()


def entry_for(
    name: str, package: str, file: str, global_name: str, content: str, *, pinned: bool = True
) -> CatalogEntry:
    """A catalog entry for test content, pinned to its sha256 and size by default."""
    return CatalogEntry(
        name=name,
        version="1.0.0",
        package=package,
        file=file,
        global_name=global_name,
        description=f"test library {name}",
        sha256=sha256(content) if pinned else None,
        size=len(content.encode()) if pinned else None,
    )


TINY = entry_for("tiny", "tiny-pkg", "dist/tiny.min.js", "tiny", TINY_JS)
OTHER = entry_for("other", "@scope/other", "other.js", "other", OTHER_JS)
TEST_CATALOG = (TINY, OTHER)


@dataclass
class FakeNpm:
    """Controls the fake npm: what each ``pkg@ver`` contains, and which calls were made."""

    state: Path
    bin_dir: Path

    def _packages(self) -> dict[str, object]:
        path = self.state / "packages.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _set(self, spec: str, value: dict[str, object]) -> None:
        packages = self._packages()
        packages[spec] = value
        (self.state / "packages.json").write_text(json.dumps(packages))

    def publish(self, spec: str, files: dict[str, str], **extra: object) -> None:
        """Serve ``spec`` as a tarball holding ``package/<path>`` for each file."""
        members = [{"name": f"package/{p}", "content": c} for p, c in files.items()]
        self._set(spec, {"members": members, **extra})

    def publish_members(self, spec: str, members: list[dict[str, str]]) -> None:
        """Serve ``spec`` as a tarball with exactly these raw members."""
        self._set(spec, {"members": members})

    def fail(self, spec: str, stderr: str, code: int = 1) -> None:
        """Make ``npm pack spec`` exit with ``code`` after printing ``stderr``."""
        self._set(spec, {"members": [], "exit": code, "stderr": stderr})

    @property
    def calls(self) -> list[list[str]]:
        """The argv of every npm invocation so far."""
        log = self.state / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line)["argv"] for line in log.read_text().splitlines()]


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNpm]:
    """A fake ``npm`` first on PATH, serving the test catalog's packages."""
    state = tmp_path / "fake-npm"
    bin_dir = tmp_path / "bin"
    state.mkdir()
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(f"#!{sys.executable}\n{FAKE_NPM}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    monkeypatch.setenv("FAKE_NPM_DIR", str(state))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    npm = FakeNpm(state, bin_dir)
    npm.publish("tiny-pkg@1.0.0", {"dist/tiny.min.js": TINY_JS, "README.md": "tiny"})
    npm.publish("@scope/other@1.0.0", {"other.js": OTHER_JS})
    yield npm


@pytest.fixture
def lib_dir(tmp_path: Path) -> Path:
    """A library cache directory that does not exist yet."""
    return tmp_path / "libcache"


@pytest.fixture
def cache(lib_dir: Path) -> LibraryCache:
    """A cache over the test catalog (tiny, other)."""
    return LibraryCache(lib_dir, catalog=TEST_CATALOG)


@pytest.fixture
def umd_file(tmp_path: Path) -> Path:
    """A small local UMD script defining ``tiny``."""
    path = tmp_path / "src" / "tiny.js"
    path.parent.mkdir()
    path.write_text(TINY_JS)
    return path
