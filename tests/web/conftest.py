"""Browser fixtures: a real daemon subprocess serving the built UI, and Debian's Chromium driven
by Playwright's sync API.

The daemon serves ``vmsystem/web/static`` (built by ``make ui``, which ``make test`` runs first).
Chromium is ``/usr/bin/chromium`` (``scripts/install-system-deps.sh --test``); Playwright's own
browser downloads are never used. Screenshots go to ``artifacts/screenshots/`` (gitignored); a
failing test also leaves ``artifacts/screenshots/failed-<test>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
STATIC_INDEX = REPO / "vmsystem" / "web" / "static" / "index.html"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("VMSYSTEM_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AUTH_TOKEN = "browser-test-token"
STARTUP_TIMEOUT_S = 90.0
# Playwright's default for expect() and actions, in milliseconds.
UI_TIMEOUT_MS = 10_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WebDaemon:
    """``python -m vmsystem serve`` on a free loopback port with its own database."""

    root: Path
    token: str | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.root / "daemon.log"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self) -> WebDaemon:
        self.port = _free_port()
        (self.root / "cache").mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "vmsystem", "serve",
            "--db", str(self.root / "vm.db"),
            "--listen", f"127.0.0.1:{self.port}",
            "--cache-dir", str(self.root / "cache"),
            "--worktrees-dir", str(self.root / "worktrees"),
        ]  # fmt: skip
        if self.token:
            cmd += ["--auth-token", self.token]
        env = {k: v for k, v in os.environ.items() if not k.startswith("VMSYSTEM_")}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"daemon exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"daemon not healthy after {STARTUP_TIMEOUT_S} s:\n{self.output()}"
                )
            time.sleep(0.05)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"daemon ignored SIGTERM:\n{self.output()}") from None

    def api(self) -> httpx.Client:
        """An API client for test set-up (with the bearer token when the daemon has one)."""
        headers = {"X-Requested-With": "tests"}  # as the SDK and the UI send it
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=30)


def _require_built_ui() -> None:
    if not STATIC_INDEX.is_file():
        pytest.fail(
            f"The web UI is not built ({STATIC_INDEX.relative_to(REPO)} is missing). Run `make ui` "
            "(npm --prefix ui ci && npm --prefix ui run build) before the browser tests.",
            pytrace=False,
        )


def _start(tmp_path_factory: pytest.TempPathFactory, name: str, token: str | None) -> WebDaemon:
    _require_built_ui()
    return WebDaemon(root=tmp_path_factory.mktemp(name), token=token).start()


@pytest.fixture(scope="session")
def web_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDaemon]:
    """One daemon without auth shared by the browser tests; it must exit 0 on SIGTERM."""
    daemon = _start(tmp_path_factory, "web-daemon", None)
    yield daemon
    code = daemon.stop()
    assert code == 0, daemon.output()


@pytest.fixture(scope="session")
def auth_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDaemon]:
    """A daemon started with ``--auth-token``."""
    daemon = _start(tmp_path_factory, "auth-daemon", AUTH_TOKEN)
    yield daemon
    code = daemon.stop()
    assert code == 0, daemon.output()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (stopped after the web tests: Playwright's sync API keeps
    an event loop running in the main thread, which would break later ``asyncio.run`` calls)."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium "
            "(scripts/install-system-deps.sh --test); Playwright's browser downloads are not used.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


PageFactory = Callable[..., Any]


@pytest.fixture
def open_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[PageFactory]:
    """``open_page(daemon, width=1280, height=800)``: a fresh browser context and page on the
    daemon's UI. Uncaught page errors fail the test; a failed test leaves a screenshot."""
    from playwright.sync_api import expect

    expect.set_options(timeout=UI_TIMEOUT_MS)
    opened: list[tuple[Any, Any, list[str]]] = []

    def open_(daemon: WebDaemon, width: int = 1280, height: int = 800) -> Any:
        context = browser.new_context(
            base_url=daemon.url, viewport={"width": width, "height": height}
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        opened.append((context, page, errors))
        return page

    yield open_
    failed = request.node.stash.get(_CALL_FAILED, False)
    page_errors: list[str] = []
    for context, page, errors in opened:
        if failed and not page.is_closed():
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"failed-{name}.png"), full_page=True)
        page_errors += errors
        context.close()
    assert not page_errors, f"uncaught errors in the page: {page_errors}"


@pytest.fixture
def page(open_page: PageFactory, web_daemon: WebDaemon) -> Any:
    """A 1280x800 page on the shared daemon."""
    return open_page(web_daemon)
