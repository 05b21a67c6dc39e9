"""``download``: npm pack via a fake npm on PATH, verification, cache hits, safe extraction."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from vmsystem.libraries import (
    DownloadError,
    LibraryCache,
    LibraryNameError,
    NpmNotFoundError,
    UnknownLibrary,
)

from .conftest import OTHER_JS, TEST_CATALOG, TINY, TINY_JS, FakeNpm, sha256


def test_download_packs_the_package_and_stores_the_file(
    fake_npm: FakeNpm, cache: LibraryCache, lib_dir: Path
) -> None:
    [entry] = cache.download(["tiny"])
    assert (entry.name, entry.version, entry.file) == ("tiny", "1.0.0", "tiny-1.0.0.js")
    assert (entry.sha256, entry.size) == (sha256(TINY_JS), len(TINY_JS))
    assert (entry.global_name, entry.source) == ("tiny", "npm")
    assert entry.origin == "npm:tiny-pkg@1.0.0/dist/tiny.min.js"
    assert (lib_dir / "tiny-1.0.0.js").read_text() == TINY_JS
    assert cache.load("tiny").source == TINY_JS
    [argv] = fake_npm.calls
    assert argv[:2] == ["pack", "tiny-pkg@1.0.0"]
    assert "--pack-destination" in argv and "--ignore-scripts" in argv


def test_download_without_names_fetches_the_whole_catalog(
    fake_npm: FakeNpm, cache: LibraryCache
) -> None:
    entries = cache.download()
    assert [e.name for e in entries] == [e.name for e in TEST_CATALOG]
    assert cache.load("other").source == OTHER_JS
    assert sorted(argv[1] for argv in fake_npm.calls) == ["@scope/other@1.0.0", "tiny-pkg@1.0.0"]


@pytest.mark.parametrize("spec", ["tiny", "tiny@1.0.0", "tiny-1.0.0"])
def test_download_accepts_every_spec_form(
    fake_npm: FakeNpm, cache: LibraryCache, spec: str
) -> None:
    assert [e.name for e in cache.download([spec])] == ["tiny"]


def test_download_of_a_cached_library_is_a_hit_without_npm(
    fake_npm: FakeNpm, cache: LibraryCache
) -> None:
    first = cache.download(["tiny"])
    events: list[tuple[str, str]] = []
    again = cache.download(["tiny"], progress=lambda spec, event: events.append((spec, event)))
    assert again == first
    assert len(fake_npm.calls) == 1
    assert events == [("tiny@1.0.0", "cached")]


def test_cache_hit_needs_no_npm_at_all(
    fake_npm: FakeNpm, cache: LibraryCache, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cache.download(["tiny"])
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert [e.name for e in cache.download(["tiny"])] == ["tiny"]


def test_a_corrupted_cached_file_is_fetched_again(
    fake_npm: FakeNpm, cache: LibraryCache, lib_dir: Path
) -> None:
    cache.download(["tiny"])
    (lib_dir / "tiny-1.0.0.js").write_text("garbage")
    cache.download(["tiny"])
    assert len(fake_npm.calls) == 2
    assert (lib_dir / "tiny-1.0.0.js").read_text() == TINY_JS


def test_bytes_differing_from_the_catalog_pin_are_refused_and_not_stored(
    fake_npm: FakeNpm, tmp_path: Path
) -> None:
    fake_npm.publish("lodash@4.17.21", {"lodash.min.js": "var _ = 'not lodash';"})
    cache = LibraryCache(tmp_path / "real-catalog")
    with pytest.raises(DownloadError) as caught:
        cache.download(["lodash"])
    assert "lodash@4.17.21" in caught.value.failures
    assert "catalog pins" in caught.value.failures["lodash@4.17.21"]
    assert cache.list() == []
    assert not (tmp_path / "real-catalog" / "lodash-4.17.21.js").exists()


def test_missing_npm_is_a_clear_error(
    cache: LibraryCache, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(NpmNotFoundError, match="npm was not found") as caught:
        cache.download(["tiny"])
    assert "vm-system libs add FILE" in str(caught.value)


def test_explicit_npm_command_is_used(
    fake_npm: FakeNpm, lib_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    npm_path = str(fake_npm.bin_dir / "npm")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    cache = LibraryCache(lib_dir, npm=npm_path, catalog=TEST_CATALOG)
    assert [e.name for e in cache.download(["tiny"])] == ["tiny"]


def test_npm_failure_reports_its_stderr(fake_npm: FakeNpm, cache: LibraryCache) -> None:
    fake_npm.fail("tiny-pkg@1.0.0", "npm error code E404\nnpm error 404 Not Found - GET tiny-pkg")
    with pytest.raises(DownloadError, match="failed to download 1 of 1") as caught:
        cache.download(["tiny"])
    reason = caught.value.failures["tiny@1.0.0"]
    assert "exit 1" in reason and "404 Not Found" in reason


def test_npm_timeout_is_a_download_error(fake_npm: FakeNpm, lib_dir: Path) -> None:
    fake_npm.publish("tiny-pkg@1.0.0", {"dist/tiny.min.js": TINY_JS}, sleep=5)
    cache = LibraryCache(lib_dir, catalog=TEST_CATALOG, npm_timeout=0.5)
    with pytest.raises(DownloadError) as caught:
        cache.download(["tiny"])
    assert "timed out" in caught.value.failures["tiny@1.0.0"]


def test_one_failure_does_not_lose_the_others(fake_npm: FakeNpm, cache: LibraryCache) -> None:
    fake_npm.fail("@scope/other@1.0.0", "npm error network")
    events: list[tuple[str, str]] = []
    with pytest.raises(DownloadError) as caught:
        cache.download(progress=lambda spec, event: events.append((spec, event)))
    assert set(caught.value.failures) == {"other@1.0.0"}
    assert [e.name for e in caught.value.completed] == ["tiny"]
    assert cache.load("tiny").source == TINY_JS
    assert ("tiny@1.0.0", "downloaded") in events and ("other@1.0.0", "failed") in events


def test_progress_reports_downloading_then_downloaded_on_the_calling_thread(
    fake_npm: FakeNpm, cache: LibraryCache
) -> None:
    seen: list[tuple[str, str, int]] = []
    cache.download(["tiny"], lambda spec, event: seen.append((spec, event, threading.get_ident())))
    me = threading.get_ident()
    assert seen == [("tiny@1.0.0", "downloading", me), ("tiny@1.0.0", "downloaded", me)]


@pytest.mark.parametrize("spec", ["lodash", "tiny@2.0.0", "tiny-2.0.0"])
def test_names_outside_the_catalog_are_refused_before_any_npm_call(
    fake_npm: FakeNpm, cache: LibraryCache, spec: str
) -> None:
    with pytest.raises(UnknownLibrary):
        cache.download(["tiny", spec])
    assert fake_npm.calls == []


@pytest.mark.parametrize("spec", ["../tiny", "tiny/../../x", "/tmp/x", "tiny@../../x"])
def test_unsafe_download_names_are_refused_before_any_npm_call(
    fake_npm: FakeNpm, cache: LibraryCache, spec: str
) -> None:
    with pytest.raises(LibraryNameError):
        cache.download([spec])
    assert fake_npm.calls == []


def test_a_bare_string_is_not_taken_as_a_list_of_names(cache: LibraryCache) -> None:
    with pytest.raises(TypeError):
        cache.download("tiny")


def test_file_missing_from_the_tarball_is_a_download_error(
    fake_npm: FakeNpm, cache: LibraryCache
) -> None:
    fake_npm.publish("tiny-pkg@1.0.0", {"dist/tiny.js": TINY_JS})
    with pytest.raises(DownloadError) as caught:
        cache.download(["tiny"])
    assert "dist/tiny.min.js is not in the package tarball" in caught.value.failures["tiny@1.0.0"]


def test_a_symlink_in_place_of_the_file_is_refused(fake_npm: FakeNpm, cache: LibraryCache) -> None:
    fake_npm.publish_members(
        "tiny-pkg@1.0.0",
        [{"name": "package/dist/tiny.min.js", "type": "symlink", "linkname": "/etc/passwd"}],
    )
    with pytest.raises(DownloadError) as caught:
        cache.download(["tiny"])
    assert "not a regular file" in caught.value.failures["tiny@1.0.0"]
    assert cache.list() == []


def test_traversal_members_in_the_tarball_are_never_written(
    fake_npm: FakeNpm, cache: LibraryCache, tmp_path: Path, lib_dir: Path
) -> None:
    fake_npm.publish_members(
        "tiny-pkg@1.0.0",
        [
            {"name": "package/../../evil.js", "content": "evil"},
            {"name": "../dist/tiny.min.js", "content": "evil"},
            {"name": "/abs/evil.js", "content": "evil"},
            {"name": "package/dist/tiny.min.js", "content": TINY_JS},
        ],
    )
    cache.download(["tiny"])
    assert cache.load("tiny").source == TINY_JS
    assert sorted(p.name for p in lib_dir.iterdir()) == [
        ".manifest.lock",
        "manifest.json",
        "tiny-1.0.0.js",
    ]
    assert not list(tmp_path.rglob("evil.js"))


def test_a_duplicated_member_is_refused(fake_npm: FakeNpm, cache: LibraryCache) -> None:
    fake_npm.publish_members(
        "tiny-pkg@1.0.0",
        [
            {"name": "package/dist/tiny.min.js", "content": TINY_JS},
            {"name": "package/dist/tiny.min.js", "content": "evil"},
        ],
    )
    with pytest.raises(DownloadError) as caught:
        cache.download(["tiny"])
    assert "more than once" in caught.value.failures["tiny@1.0.0"]


def test_unpinned_catalog_entries_are_stored_as_served(fake_npm: FakeNpm, lib_dir: Path) -> None:
    from .conftest import entry_for

    unpinned = entry_for("tiny", "tiny-pkg", "dist/tiny.min.js", "tiny", "", pinned=False)
    fake_npm.publish("tiny-pkg@1.0.0", {"dist/tiny.min.js": "var tiny = 1;"})
    cache = LibraryCache(lib_dir, catalog=(unpinned,))
    [entry] = cache.download()
    assert entry.sha256 == sha256("var tiny = 1;")


def test_download_writes_a_manifest_readable_by_a_fresh_instance(
    fake_npm: FakeNpm, cache: LibraryCache, lib_dir: Path
) -> None:
    cache.download()
    doc = json.loads((lib_dir / "manifest.json").read_text())
    assert doc["format"] == 1
    assert {e["name"] for e in doc["libraries"]} == {"tiny", "other"}
    fresh = LibraryCache(lib_dir, catalog=(TINY,))
    assert fresh.load("other@1.0.0").source == OTHER_JS
