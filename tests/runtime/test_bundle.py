"""The committed npm bundles (``vmsystem/runtime/js/bundle-*.js``) are what ``make runtime-js``
builds from ``runtime-js/package-lock.json``: rebuilt here from a clean ``npm ci``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vmsystem.runtime.isolate import BUNDLES

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "runtime-js"
COMMITTED = ROOT / "vmsystem" / "runtime" / "js"

pytestmark = pytest.mark.network


@pytest.mark.timeout(600)
def test_committed_bundles_match_a_clean_build(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    work = tmp_path / "runtime-js"
    work.mkdir()
    for name in (
        "package.json",
        "package-lock.json",
        "build.mjs",
        "inject.js",
        *(f"{name}.js" for name in sorted(BUNDLES)),
    ):
        shutil.copy(SOURCE / name, work / name)
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work, check=True
    )
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(["node", "build.mjs", str(out)], cwd=work, check=True)
    for name in sorted(BUNDLES):
        built = (out / f"bundle-{name}.js").read_text(encoding="utf-8")
        committed = (COMMITTED / f"bundle-{name}.js").read_text(encoding="utf-8")
        assert built == committed, f"bundle-{name}.js is stale: run `make runtime-js`"
