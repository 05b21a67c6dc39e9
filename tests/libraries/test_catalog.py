"""The npm catalog: the libraries the spec requires, UMD only, each pinned."""

from __future__ import annotations

import pytest

from vmsystem.libraries import CATALOG, CatalogEntry, LibraryNameError, catalog_entry, catalog_names


def test_catalog_has_lodash_dayjs_ramda_and_moment_with_their_globals() -> None:
    globals_by_name = {e.name: (e.version, e.global_name) for e in CATALOG}
    assert globals_by_name["lodash"] == ("4.17.21", "_")
    assert globals_by_name["dayjs"] == ("1.11.10", "dayjs")
    assert globals_by_name["ramda"] == ("0.29.0", "R")
    assert globals_by_name["moment"] == ("2.29.4", "moment")


def test_catalog_has_no_commonjs_zustand_entry() -> None:
    # D-11: zustand's npm files are CommonJS and crash a plain-script load.
    assert "zustand" not in catalog_names()


def test_every_catalog_entry_pins_sha256_and_size() -> None:
    for entry in CATALOG:
        assert entry.sha256 is not None and len(entry.sha256) == 64, entry.name
        assert entry.size is not None and entry.size > 1000, entry.name


def test_catalog_names_are_unique_and_sorted_by_catalog_names() -> None:
    names = [e.name for e in CATALOG]
    assert len(names) == len(set(names))
    assert catalog_names() == sorted(names)


def test_catalog_entry_finds_by_name_and_returns_none_for_unknown() -> None:
    lodash = catalog_entry("lodash")
    assert lodash is not None and lodash.file == "lodash.min.js"
    assert catalog_entry("left-pad") is None


def test_catalog_entry_refuses_an_invalid_name() -> None:
    with pytest.raises(LibraryNameError):
        catalog_entry("../lodash")


@pytest.mark.parametrize("file", ["/abs.js", "../x.js", "dist/../x.js", "dist//x.js", "./x.js"])
def test_catalog_entry_file_must_stay_inside_the_package(file: str) -> None:
    with pytest.raises(ValueError, match="relative path"):
        CatalogEntry("x", "1.0.0", "x", file, "x", "bad")


def test_catalog_as_dict_is_printable_json_with_global_key() -> None:
    ramda = catalog_entry("ramda")
    assert ramda is not None
    row = ramda.as_dict()
    assert row["global"] == "R"
    assert row["file"] == "dist/ramda.min.js"
    assert set(row) == {
        "name",
        "version",
        "package",
        "file",
        "global",
        "description",
        "sha256",
        "size",
    }
    assert ramda.spec == "ramda@0.29.0"
    assert ramda.npm_spec == "ramda@0.29.0"
