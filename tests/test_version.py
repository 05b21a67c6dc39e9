"""The version is written once (pyproject.toml) and read from the package metadata."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import vmsystem

REPO = Path(__file__).resolve().parent.parent


def pyproject_version() -> str:
    with (REPO / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def test_version_is_the_installed_package_metadata() -> None:
    assert vmsystem.__version__ == version("vm-system")
    assert vmsystem.__version__ == pyproject_version()


def test_source_tree_without_metadata_reads_pyproject() -> None:
    # -S: no site-packages, so no distribution metadata is found (vmsystem/__init__ needs only
    # the standard library).
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); "
        "import vmsystem; print(vmsystem.__version__)"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == pyproject_version()
