"""The real catalog against the real npm registry (skipped when it is unreachable)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from vmsystem.libraries import CATALOG, CatalogEntry, LibraryCache, ManifestEntry

pytestmark = pytest.mark.network

_DEFINES_GLOBAL = """
const vm = require('vm'), fs = require('fs');
const context = {};
vm.createContext(context);
vm.runInContext(fs.readFileSync(process.argv[1], 'utf8'), context);
process.stdout.write(typeof context[process.argv[2]]);
"""


def _registry_reachable() -> bool:
    npm = shutil.which("npm")
    if npm is None:
        return False
    try:
        proc = subprocess.run(
            [npm, "view", "lodash@4.17.21", "version"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and proc.stdout.strip() == "4.17.21"


@pytest.fixture(scope="module")
def downloaded(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LibraryCache, dict[str, ManifestEntry]]]:
    """The whole real catalog downloaded once with the real npm into a fresh cache."""
    if not _registry_reachable():
        pytest.skip("npm registry unreachable (npm view lodash@4.17.21 failed)")
    cache = LibraryCache(tmp_path_factory.mktemp("real-cache"))
    entries = cache.download()
    yield cache, {e.name: e for e in entries}


@pytest.mark.parametrize("item", CATALOG, ids=lambda e: e.spec)
def test_real_npm_download_matches_the_pinned_sha256_and_size(
    downloaded: tuple[LibraryCache, dict[str, ManifestEntry]], item: CatalogEntry
) -> None:
    cache, entries = downloaded
    entry = entries[item.name]
    data = cache.file_path(entry).read_bytes()
    assert (entry.sha256, entry.size) == (item.sha256, item.size)
    assert hashlib.sha256(data).hexdigest() == item.sha256
    assert entry.source == "npm"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("item", CATALOG, ids=lambda e: e.spec)
def test_real_catalog_file_defines_its_global_as_a_plain_script(
    downloaded: tuple[LibraryCache, dict[str, ManifestEntry]], item: CatalogEntry
) -> None:
    cache, entries = downloaded
    path: Path = cache.file_path(entries[item.name])
    node = shutil.which("node")
    assert node is not None
    proc = subprocess.run(
        [node, "-e", _DEFINES_GLOBAL, str(path), item.global_name],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert proc.stdout in ("function", "object")
