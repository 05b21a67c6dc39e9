"""Fixtures of the security suite: attacks against a real V8 session wired like the daemon's
(``tests.core.modules_harness``) and against a real daemon process (``tests.e2e.conftest``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the worktree that no session may read or write."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "secret.txt").write_text("outside-secret")
    return path


def require_tool(name: str) -> str:
    """The path of a system tool an attack needs (CI installs it: scripts/install-system-deps.sh
    --test); missing, the test fails rather than skips."""
    found = shutil.which(name, path="/usr/bin:/bin")
    assert found is not None, f"{name} is needed by this test (scripts/install-system-deps.sh)"
    return found
