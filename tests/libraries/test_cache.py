"""The cache: local adds, manifest view, resolution, integrity and the not-cached message."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import vmsystem.libraries.cache as cache_module
from vmsystem.libraries import (
    IntegrityError,
    LibraryCache,
    LibraryError,
    LibraryNameError,
    LibraryNotCachedError,
    UnknownLibrary,
    check_known,
    default_cache_dir,
    is_known,
)
from vmsystem.libraries.manifest import parse_manifest

from .conftest import OTHER_JS, TINY_JS, sha256
from .test_names import UNSAFE_SPECS


def test_default_cache_dir_honours_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VMSYSTEM_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"


def test_default_cache_dir_is_under_home_dot_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VMSYSTEM_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "vm-system" / "libraries"
    assert LibraryCache().path == tmp_path / ".cache" / "vm-system" / "libraries"


def test_empty_cache_lists_nothing_and_creates_no_directory(
    cache: LibraryCache, lib_dir: Path
) -> None:
    assert cache.list() == []
    assert cache.get("tiny") is None
    assert not lib_dir.exists()


def test_add_local_stores_file_and_manifest_entry(
    cache: LibraryCache, lib_dir: Path, umd_file: Path
) -> None:
    entry = cache.add_local(umd_file, "my-lib", "1.0.0", "tiny")
    assert entry.file == "my-lib-1.0.0.js"
    assert entry.sha256 == sha256(TINY_JS)
    assert entry.size == len(TINY_JS)
    assert entry.source == "local"
    assert entry.origin == str(umd_file.resolve())
    assert (lib_dir / "my-lib-1.0.0.js").read_text() == TINY_JS
    manifest = json.loads((lib_dir / "manifest.json").read_text())
    assert manifest["libraries"] == [
        {
            "name": "my-lib",
            "version": "1.0.0",
            "file": "my-lib-1.0.0.js",
            "sha256": sha256(TINY_JS),
            "size": len(TINY_JS),
            "global": "tiny",
            "source": "local",
            "origin": str(umd_file.resolve()),
        }
    ]
    assert cache.list() == [entry]


def test_add_local_replaces_the_same_name_and_version(
    cache: LibraryCache, umd_file: Path, tmp_path: Path
) -> None:
    cache.add_local(umd_file, "my-lib", "1.0.0", "tiny")
    newer = tmp_path / "other.js"
    newer.write_text(OTHER_JS)
    entry = cache.add_local(newer, "my-lib", "1.0.0", "other")
    assert cache.list() == [entry]
    assert cache.read(entry) == OTHER_JS


@pytest.mark.parametrize(
    ("name", "version", "global_name"),
    [("../x", "1.0.0", "x"), ("x", "../1", "x"), ("x", "1.0.0", "a.b"), ("X", "1", "x")],
)
def test_add_local_rejects_invalid_name_version_or_global(
    cache: LibraryCache, umd_file: Path, lib_dir: Path, name: str, version: str, global_name: str
) -> None:
    with pytest.raises(LibraryNameError):
        cache.add_local(umd_file, name, version, global_name)
    assert not lib_dir.exists()


def test_add_local_rejects_a_name_that_reads_as_a_legacy_versioned_spec(
    cache: LibraryCache, umd_file: Path
) -> None:
    with pytest.raises(LibraryNameError, match="--version"):
        cache.add_local(umd_file, "foo-1.0.0", "2.0.0", "foo")


def test_add_local_rejects_missing_directory_and_binary_files(
    cache: LibraryCache, tmp_path: Path
) -> None:
    with pytest.raises(LibraryError, match="not a regular file"):
        cache.add_local(tmp_path / "absent.js", "x", "1", "x")
    with pytest.raises(LibraryError, match="not a regular file"):
        cache.add_local(tmp_path, "x", "1", "x")
    binary = tmp_path / "bin.js"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(LibraryError, match="UTF-8"):
        cache.add_local(binary, "x", "1", "x")
    assert cache.list() == []


def test_add_local_refuses_two_specs_sharing_one_file_name(
    cache: LibraryCache, umd_file: Path
) -> None:
    first = cache.add_local(umd_file, "a-1", "2", "tiny")
    with pytest.raises(LibraryError, match=re.escape("share the cache file a-1-2.js")):
        cache.add_local(umd_file, "a", "1-2", "tiny")
    assert cache.list() == [first]


def test_get_without_version_prefers_the_catalog_version(
    cache: LibraryCache, umd_file: Path
) -> None:
    cache.add_local(umd_file, "tiny", "0.9.0", "tiny")
    cache.add_local(umd_file, "tiny", "1.0.0", "tiny")
    cache.add_local(umd_file, "tiny", "1.1.0", "tiny")
    found = cache.get("tiny")
    assert found is not None and found.version == "1.0.0"


def test_get_without_version_takes_the_most_recently_added_local_version(
    cache: LibraryCache, umd_file: Path
) -> None:
    for version in ("1.0.0", "2.0.0", "1.5.0"):
        cache.add_local(umd_file, "mine", version, "tiny")
    found = cache.get("mine")
    assert found is not None and found.version == "1.5.0"
    exact = cache.get("mine", "2.0.0")
    assert exact is not None and exact.version == "2.0.0"
    assert cache.get("mine", "3.0.0") is None


def test_get_sees_a_library_added_through_another_instance_at_once(
    lib_dir: Path, umd_file: Path
) -> None:
    daemon_view = LibraryCache(lib_dir)
    assert daemon_view.get("mine") is None
    LibraryCache(lib_dir).add_local(umd_file, "mine", "1.0.0", "tiny")
    found = daemon_view.get("mine")
    assert found is not None and found.version == "1.0.0"


def test_get_does_not_reparse_an_unchanged_manifest(
    cache: LibraryCache, umd_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache.add_local(umd_file, "mine", "1.0.0", "tiny")
    parses: list[str] = []
    real = parse_manifest

    def counting(text: str | bytes, where: str = "manifest") -> tuple[object, ...]:
        parses.append(where)
        return real(text, where)

    monkeypatch.setattr(cache_module, "parse_manifest", counting)
    for _ in range(5):
        assert cache.get("mine") is not None
    assert len(parses) == 1


@pytest.mark.parametrize("spec", UNSAFE_SPECS, ids=repr)
def test_every_entry_point_rejects_unsafe_specs(cache: LibraryCache, spec: str) -> None:
    for call in (cache.resolve, cache.load, cache.check_known):
        with pytest.raises(LibraryNameError):
            call(spec)
    assert cache.is_known(spec) is False


@pytest.mark.parametrize("name", ["../x", "a/b", "/abs", "x\x00"])
def test_get_rejects_unsafe_names(cache: LibraryCache, name: str) -> None:
    with pytest.raises(LibraryNameError):
        cache.get(name)
    with pytest.raises(LibraryNameError):
        cache.get("tiny", name)


def test_tampered_manifest_entries_pointing_outside_are_ignored(
    lib_dir: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.js"
    secret.write_text("secret")
    lib_dir.mkdir()
    good = {
        "name": "ok",
        "version": "1",
        "file": "ok-1.js",
        "sha256": sha256("x"),
        "size": 1,
        "global": "ok",
        "source": "local",
    }
    bad = [
        {**good, "name": "evil", "file": "../secret.js"},
        {**good, "name": "../secret", "file": "../secret-1.js"},
        {**good, "name": "evil2", "file": str(secret)},
        {**good, "name": "evil3", "file": "evil3-1.js", "global": "a;b"},
        {**good, "name": "evil4", "file": "evil4-1.js", "source": "http"},
        "not an object",
    ]
    (lib_dir / "manifest.json").write_text(json.dumps({"format": 1, "libraries": [*bad, good]}))
    cache = LibraryCache(lib_dir)
    assert [e.name for e in cache.list()] == ["ok"]
    assert cache.get("evil") is None


def test_corrupt_manifest_is_a_clear_library_error(lib_dir: Path) -> None:
    lib_dir.mkdir()
    (lib_dir / "manifest.json").write_text("{not json")
    with pytest.raises(LibraryError, match="not valid JSON"):
        LibraryCache(lib_dir).list()


def test_read_returns_text_of_an_intact_file(cache: LibraryCache, umd_file: Path) -> None:
    entry = cache.add_local(umd_file, "mine", "1.0.0", "tiny")
    assert cache.read(entry) == TINY_JS


def test_read_detects_a_sha256_mismatch_with_same_size(
    cache: LibraryCache, umd_file: Path, lib_dir: Path
) -> None:
    entry = cache.add_local(umd_file, "mine", "1.0.0", "tiny")
    tampered = TINY_JS.replace("42", "43")
    assert len(tampered) == len(TINY_JS)
    (lib_dir / entry.file).write_text(tampered)
    with pytest.raises(IntegrityError, match="corrupt") as caught:
        cache.read(entry)
    assert caught.value.hint == "vm-system libs add FILE --name mine --version 1.0.0 --global tiny"


def test_read_of_a_corrupt_catalog_library_names_libs_download(
    cache: LibraryCache, umd_file: Path, lib_dir: Path
) -> None:
    entry = cache.add_local(umd_file, "tiny", "1.0.0", "tiny")
    (lib_dir / entry.file).write_text("truncated")
    with pytest.raises(IntegrityError, match="run `vm-system libs download tiny`"):
        cache.load("tiny")


def test_read_of_a_deleted_file_is_not_cached(
    cache: LibraryCache, umd_file: Path, lib_dir: Path
) -> None:
    entry = cache.add_local(umd_file, "tiny", "1.0.0", "tiny")
    (lib_dir / entry.file).unlink()
    with pytest.raises(LibraryNotCachedError) as caught:
        cache.read(entry)
    assert str(caught.value) == (
        "library tiny@1.0.0 is not cached: run `vm-system libs download tiny`"
    )


@pytest.mark.parametrize("spec", ["lodash", "lodash@4.17.21", "lodash-4.17.21"])
def test_known_but_uncached_library_message_names_the_fixing_command(
    lib_dir: Path, spec: str
) -> None:
    real_catalog_cache = LibraryCache(lib_dir)
    with pytest.raises(LibraryNotCachedError) as caught:
        real_catalog_cache.load(spec)
    assert str(caught.value) == (
        "library lodash@4.17.21 is not cached: run `vm-system libs download lodash`"
    )
    assert caught.value.hint == "vm-system libs download lodash"
    assert (caught.value.name, caught.value.version) == ("lodash", "4.17.21")


@pytest.mark.parametrize("spec", ["left-pad", "lodash@4.17.20", "lodash-4.17.20", "my-lib"])
def test_unknown_library_is_unknown_not_uncached(lib_dir: Path, spec: str) -> None:
    real_catalog_cache = LibraryCache(lib_dir)
    with pytest.raises(UnknownLibrary):
        real_catalog_cache.resolve(spec)
    with pytest.raises(UnknownLibrary):
        real_catalog_cache.check_known(spec)
    assert real_catalog_cache.is_known(spec) is False


def test_unknown_version_message_names_the_catalog_version(lib_dir: Path) -> None:
    with pytest.raises(UnknownLibrary, match=re.escape("the catalog has lodash@4.17.21")):
        LibraryCache(lib_dir).check_known("lodash@4.17.20")


def test_check_known_accepts_catalog_and_local_libraries(lib_dir: Path, umd_file: Path) -> None:
    cache = LibraryCache(lib_dir)
    assert str(cache.check_known("dayjs-1.11.10")) == "dayjs@1.11.10"
    assert str(cache.check_known("moment")) == "moment"
    with pytest.raises(UnknownLibrary):
        cache.check_known("my-lib")
    cache.add_local(umd_file, "my-lib", "0.1.0", "tiny")
    assert cache.is_known("my-lib")
    assert cache.is_known("my-lib@0.1.0")
    assert cache.is_known("my-lib-0.1.0")
    assert not cache.is_known("my-lib@0.2.0")


def test_module_is_known_uses_the_catalog_and_optionally_a_cache(
    lib_dir: Path, umd_file: Path
) -> None:
    assert is_known("lodash") and is_known("ramda@0.29.0") and is_known("moment-2.29.4")
    assert not is_known("zustand")
    assert not is_known("../lodash")
    cache = LibraryCache(lib_dir)
    cache.add_local(umd_file, "my-lib", "0.1.0", "tiny")
    assert not is_known("my-lib")
    assert is_known("my-lib", cache)
    assert str(check_known("my-lib-0.1.0", cache)) == "my-lib@0.1.0"


@pytest.mark.parametrize("spec", ["mine", "mine@1.0.0", "mine-1.0.0"])
def test_load_resolves_all_three_spec_forms_to_the_verified_text(
    cache: LibraryCache, umd_file: Path, spec: str
) -> None:
    cache.add_local(umd_file, "mine", "1.0.0", "tiny")
    loaded = cache.load(spec)
    assert loaded.source == TINY_JS
    assert loaded.entry.global_name == "tiny"


def test_stale_entry_is_refused_but_load_picks_up_a_concurrent_readd(
    lib_dir: Path, umd_file: Path, tmp_path: Path
) -> None:
    daemon_view = LibraryCache(lib_dir)
    old = LibraryCache(lib_dir).add_local(umd_file, "mine", "1.0.0", "tiny")
    assert daemon_view.load("mine").source == TINY_JS
    newer = tmp_path / "newer.js"
    newer.write_text(OTHER_JS)
    LibraryCache(lib_dir).add_local(newer, "mine", "1.0.0", "other")
    with pytest.raises(IntegrityError):
        daemon_view.read(old)
    loaded = daemon_view.load("mine")
    assert loaded.source == OTHER_JS and loaded.entry.global_name == "other"


def test_files_are_written_with_no_leftover_temporaries(
    cache: LibraryCache, umd_file: Path, lib_dir: Path
) -> None:
    for version in ("1", "2", "3"):
        cache.add_local(umd_file, "mine", version, "tiny")
    assert sorted(os.listdir(lib_dir)) == [
        ".manifest.lock",
        "manifest.json",
        "mine-1.js",
        "mine-2.js",
        "mine-3.js",
    ]
