"""Library specs: the three accepted forms, and strict refusal of anything path-like (D-18)."""

from __future__ import annotations

import pytest

from vmsystem.libraries import (
    LibraryNameError,
    LibraryRef,
    parse_spec,
    resolve_name,
    safe_file_name,
    validate_global,
    validate_name,
    validate_version,
)
from vmsystem.libraries.names import is_legacy_ambiguous

UNSAFE_SPECS = [
    "",
    ".",
    "..",
    "../x",
    "../../etc/passwd",
    "a/b",
    "a\\b",
    "/etc/passwd",
    "C:\\lib",
    "~/.ssh/id",
    "a\x00b",
    "lodash\x00",
    "lodash\n",
    " lodash",
    "lodash ",
    "LODASH",
    "Lodash-4.17.21",
    "lodash@",
    "@4.17.21",
    "@scope/pkg",
    "lodash@../x",
    "lodash@4.17.21/../../x",
    "lodash@4.17.21\\..",
    "lodash@.hidden",
    "lodash@1@2",
    "lodash@ 1.0",
    "..-1.0.0",
    ".hidden",
    "-lodash",
    "_lodash",
    "lódash",
    "x" * 65,
    "x" * 1000,
]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("lodash", ("lodash", None)),
        ("lodash@4.17.21", ("lodash", "4.17.21")),
        ("lodash-4.17.21", ("lodash", "4.17.21")),
        ("dayjs-1.11.10", ("dayjs", "1.11.10")),
        ("my-lib", ("my-lib", None)),
        ("my-lib-1.2.3", ("my-lib", "1.2.3")),
        ("my-lib@1.2.3", ("my-lib", "1.2.3")),
        ("lib-2", ("lib-2", None)),
        ("lib-v1.0", ("lib-v1.0", None)),
        ("a-1-2.0.0", ("a-1", "2.0.0")),
        ("foo-1.0.0-beta.1", ("foo", "1.0.0-beta.1")),
        ("foo-1.0.0+build.5", ("foo", "1.0.0+build.5")),
        ("chart.js", ("chart.js", None)),
        ("x@RC1", ("x", "RC1")),
    ],
)
def test_resolve_name_accepts_plain_versioned_and_legacy_specs(
    spec: str, expected: tuple[str, str | None]
) -> None:
    assert resolve_name(spec) == expected


@pytest.mark.parametrize("spec", UNSAFE_SPECS, ids=repr)
def test_resolve_name_rejects_unsafe_or_malformed_specs(spec: str) -> None:
    with pytest.raises(LibraryNameError):
        resolve_name(spec)


def test_library_name_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid library name"):
        resolve_name("../x")


def test_resolve_name_rejects_non_strings() -> None:
    with pytest.raises(LibraryNameError, match="must be a string"):
        resolve_name(None)  # type: ignore[arg-type]


def test_error_message_bounds_and_escapes_untrusted_input() -> None:
    with pytest.raises(LibraryNameError) as caught:
        validate_name("\x00" + "a" * 500)
    message = str(caught.value)
    assert "\x00" not in message
    assert len(message) < 250


@pytest.mark.parametrize("name", ["a", "lodash", "my-lib", "chart.js", "a_b", "0x", "a" * 64])
def test_validate_name_accepts_lowercase_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("version", ["..", ".1", "-1", "1/2", "1\\2", "1 2", "", "1" * 65])
def test_validate_version_rejects_path_like_versions(version: str) -> None:
    with pytest.raises(LibraryNameError, match="invalid library version"):
        validate_version(version)


@pytest.mark.parametrize("global_name", ["_", "R", "dayjs", "$", "_$x1"])
def test_validate_global_accepts_identifiers(global_name: str) -> None:
    assert validate_global(global_name) == global_name


@pytest.mark.parametrize("global_name", ["", "1x", "a.b", "a-b", "a b", "window['x']", "é"])
def test_validate_global_rejects_non_identifiers(global_name: str) -> None:
    with pytest.raises(LibraryNameError, match="invalid global"):
        validate_global(global_name)


def test_safe_file_name_is_name_dash_version_dot_js() -> None:
    assert safe_file_name("lodash", "4.17.21") == "lodash-4.17.21.js"


@pytest.mark.parametrize(("name", "version"), [("../x", "1.0.0"), ("x", "../1"), ("a/b", "1")])
def test_safe_file_name_refuses_traversal(name: str, version: str) -> None:
    with pytest.raises(LibraryNameError):
        safe_file_name(name, version)


@pytest.mark.parametrize(
    ("name", "ambiguous"),
    [("foo-1.0.0", True), ("foo", False), ("lib-2", False), ("my-lib", False)],
)
def test_is_legacy_ambiguous_detects_names_that_read_as_versioned(
    name: str, ambiguous: bool
) -> None:
    assert is_legacy_ambiguous(name) is ambiguous


def test_parse_spec_returns_a_ref_that_prints_as_the_canonical_spec() -> None:
    assert parse_spec("lodash-4.17.21") == LibraryRef("lodash", "4.17.21")
    assert str(parse_spec("lodash-4.17.21")) == "lodash@4.17.21"
    assert str(parse_spec("lodash")) == "lodash"
