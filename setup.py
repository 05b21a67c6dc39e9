"""Build hook: a wheel must carry everything the daemon needs at run time.

The web UI is built by ``npm --prefix ui run build`` into ``vmsystem/web/static`` (gitignored)
and the runtime's JavaScript lives in ``vmsystem/runtime/js``. Both ship as package data, so a
wheel built without them would install a daemon that serves no UI or cannot start a session.
``make dist`` rebuilds the UI before ``python -m build``; this hook refuses to build a wheel
or sdist (not an editable install, which reads the source tree) when the files are missing.
All metadata is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
UI_INDEX = Path("vmsystem/web/static/index.html")
UI_ASSETS = Path("vmsystem/web/static/assets")
RUNTIME_JS = Path("vmsystem/runtime/js")


def missing_runtime_files(root: Path) -> list[str]:
    """What a wheel built from ``root`` would lack: a list of reasons, empty when complete."""
    problems = []
    if not (root / UI_INDEX).is_file():
        problems.append(f"{UI_INDEX} is missing")
    if not any((root / UI_ASSETS).glob("*.js")):
        problems.append(f"{UI_ASSETS}/ holds no .js file")
    if not any((root / RUNTIME_JS).glob("*.js")):
        problems.append(f"{RUNTIME_JS}/ holds no .js file")
    return problems


def require_runtime_files() -> None:
    problems = missing_runtime_files(ROOT)
    if problems:
        raise SystemExit(
            "vm-system: cannot build a package without its run-time assets: "
            + "; ".join(problems)
            + ". Build the web UI first (`npm --prefix ui ci && npm --prefix ui run build`), "
            "or run `make dist`, which does it."
        )


class BuildPyWithAssets(build_py):
    """``build_py`` that checks the UI and runtime JS are there before copying package data."""

    def run(self) -> None:
        if not self.editable_mode:
            require_runtime_files()
        super().run()


class SdistWithAssets(sdist):
    """``sdist`` that checks the same, so that a wheel built from the sdist is complete too."""

    def run(self) -> None:
        require_runtime_files()
        super().run()


setup(cmdclass={"build_py": BuildPyWithAssets, "sdist": SdistWithAssets})
