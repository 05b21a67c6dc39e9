"""JupyterLab in Debian's Chromium with the vm-system kernel: a notebook opened in JupyterLab
runs a cell in a vm-system session (of the shared test daemon) that displays an SVG, and
JupyterLab shows the image."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS, WebDaemon, _free_port

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

LAB_TOKEN = "lab-test-token"
LAB_STARTUP_TIMEOUT_S = 120.0
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="40">'
    '<rect width="80" height="40" fill="#0a0"/></svg>'
)


@pytest.fixture
def template(web_daemon: WebDaemon) -> str:
    name = f"lab-{uuid.uuid4().hex[:8]}"
    with web_daemon.api() as http:
        assert http.post("/templates", json={"name": name}).status_code == 201
    return name


@pytest.fixture
def lab(web_daemon: WebDaemon, template: str, tmp_path: Path) -> Iterator[str]:
    """``jupyter lab`` on a free port with the vm-system kernelspec installed for the daemon;
    the notebook folder holds ``display.ipynb``. Yields the server URL."""
    prefix = tmp_path / "prefix"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VMSYSTEM_", "JUPYTER"))}
    if web_daemon.token:
        env["VMSYSTEM_AUTH_TOKEN"] = web_daemon.token
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "vmsystem",
            "--server-url",
            web_daemon.url,
            "kernel",
            "install",
            "--prefix",
            str(prefix),
            "--template",
            template,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    cell = f"display({{'image/svg+xml': '{SVG}', 'text/plain': 'chart'}})"
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {
                "name": "vm-system",
                "display_name": "JavaScript (vm-system)",
                "language": "javascript",
            },
        },
        "cells": [
            {
                "cell_type": "code",
                "id": "c1",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": cell,
            },
        ],
    }
    (notebooks / "display.ipynb").write_text(json.dumps(notebook))
    port = _free_port()
    env["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "config")
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "data")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    log = (tmp_path / "lab.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--allow-root",
            f"--ServerApp.token={LAB_TOKEN}",
            f"--ServerApp.root_dir={notebooks}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + LAB_STARTUP_TIMEOUT_S
        while True:
            assert process.poll() is None, (tmp_path / "lab.log").read_text()
            try:
                r = httpx.get(f"{url}/api/kernelspecs", params={"token": LAB_TOKEN}, timeout=2)
                if r.status_code == 200 and "vm-system" in r.json()["kernelspecs"]:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "lab.log").read_text()
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_jupyterlab_runs_a_cell_in_a_session_and_shows_its_svg(
    browser: Any, lab: str, web_daemon: WebDaemon, template: str
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        page.goto(f"{lab}/lab/tree/display.ipynb?token={LAB_TOKEN}")
        # The notebook opens with the vm-system kernel, which becomes idle.
        expect(page.locator(".jp-Notebook")).to_be_visible(timeout=120_000)
        expect(page.get_by_text("JavaScript (vm-system) | Idle")).to_be_visible(timeout=120_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_text("Run All Cells", exact=True).click()
        expect(page.locator(".jp-InputPrompt").first).to_have_text("[1]:", timeout=60_000)
        image = page.locator(".jp-RenderedSVG img, .jp-RenderedSVG svg").first
        expect(image).to_be_visible(timeout=60_000)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "jupyterlab-svg.png"))
    except Exception:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "failed-jupyterlab.png"))
        raise
    finally:
        context.close()
    # The cell ran in a vm-system session of the template: its display event is recorded.
    with web_daemon.api() as http:
        (template_id,) = [t["id"] for t in http.get("/templates").json() if t["name"] == template]
        (session,) = http.get("/sessions", params={"template_id": template_id}).json()
        executions = http.get("/executions", params={"session_id": session["id"]}).json()
        events = http.get(f"/executions/{executions[0]['id']}/events").json()
    assert [e["payload"]["data"]["image/svg+xml"] for e in events if e["type"] == "display"] == [
        SVG
    ]
