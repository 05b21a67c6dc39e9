"""``cache_info``: per-entry state, sizes and totals for ``vm-system libs cache-info``."""

from __future__ import annotations

import json
from pathlib import Path

from vmsystem.libraries import LibraryCache, cache_info

from .conftest import OTHER_JS, TINY_JS


def test_cache_info_of_an_empty_cache(cache: LibraryCache, lib_dir: Path) -> None:
    info = cache_info(cache)
    assert (info.count, info.total_size, info.healthy) == (0, 0, True)
    assert info.directory == lib_dir
    assert info.untracked == ()


def test_cache_info_reports_ok_missing_corrupt_and_untracked(
    cache: LibraryCache, lib_dir: Path, umd_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.js"
    other.write_text(OTHER_JS)
    cache.add_local(umd_file, "good", "1", "tiny")
    cache.add_local(umd_file, "gone", "1", "tiny")
    cache.add_local(other, "bad", "1", "other")
    (lib_dir / "gone-1.js").unlink()
    (lib_dir / "bad-1.js").write_text(OTHER_JS.replace("other", "OTHER"))
    (lib_dir / "stray.js").write_text("x")
    info = cache_info(cache)
    states = {e.entry.name: (e.status, e.actual_size) for e in info.entries}
    assert states == {
        "good": ("ok", len(TINY_JS)),
        "gone": ("missing", None),
        "bad": ("corrupt", len(OTHER_JS)),
    }
    assert info.total_size == len(TINY_JS) + len(OTHER_JS)
    assert info.healthy is False
    assert info.untracked == ("stray.js",)


def test_cache_info_without_verify_skips_hashing(
    cache: LibraryCache, lib_dir: Path, umd_file: Path
) -> None:
    cache.add_local(umd_file, "good", "1", "tiny")
    (lib_dir / "good-1.js").write_text(TINY_JS.replace("42", "43"))
    [row] = cache_info(cache, verify=False).entries
    assert row.status == "unverified"
    [row] = cache_info(cache).entries
    assert row.status == "corrupt"


def test_cache_info_as_dict_is_json_ready(cache: LibraryCache, umd_file: Path) -> None:
    cache.add_local(umd_file, "good", "1", "tiny")
    data = json.loads(json.dumps(cache_info(cache).as_dict()))
    assert data["count"] == 1 and data["total_size"] == len(TINY_JS)
    [row] = data["entries"]
    assert row["global"] == "tiny" and row["status"] == "ok"
