"""The template page's library cache state: the not-cached warning, and Download (a daemon job,
with progress) that makes the library cached, in Debian's Chromium.

The download itself needs the npm registry (as ``tests/libraries/test_network.py``); the test
that uses it is marked ``network`` and skipped when the registry is unreachable. The failure
path runs on a daemon without npm and needs no network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.libraries.test_network import _registry_reachable

from .conftest import PageFactory, WebDaemon, _start
from .helpers import by_attr, create_template, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDaemon]:
    """A daemon with an empty library cache of its own."""
    daemon = _start(tmp_path_factory, "libs-daemon", None)
    yield daemon
    assert daemon.stop() == 0, daemon.output()


@pytest.fixture
def npmless_daemon(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebDaemon]:
    """A daemon whose PATH has no npm."""
    monkeypatch.setenv("PATH", "/nonexistent")
    daemon = _start(tmp_path_factory, "npmless-daemon", None)
    monkeypatch.undo()
    yield daemon
    assert daemon.stop() == 0, daemon.output()


def open_template(open_page: PageFactory, daemon: WebDaemon, name: str) -> Any:
    page = open_page(daemon)
    create_template(page, name)
    return page


@pytest.mark.network
def test_adding_an_uncached_library_warns_and_download_makes_it_cached(
    open_page: PageFactory, fresh_daemon: WebDaemon
) -> None:
    if not _registry_reachable():
        pytest.skip("npm registry unreachable (npm view lodash@4.17.21 failed)")
    page = open_template(open_page, fresh_daemon, "libs-download")
    row = by_attr(page, "library-row", library="dayjs")
    expect(row).to_have_attribute("data-cached", "false")
    expect(row.get_by_test_id("library-not-cached")).to_be_visible()

    row.get_by_test_id("library-toggle-dayjs").check()
    expect(page.get_by_test_id("toast").filter(has_text="not cached")).to_contain_text(
        "download it before starting sessions"
    )
    warning = row.get_by_test_id("library-not-cached-warning")
    expect(warning).to_have_text("Not cached: download it before starting sessions.")

    row.get_by_test_id("library-download").click()
    expect(row).to_have_attribute("data-cached", "true", timeout=90_000)
    expect(row.get_by_test_id("library-cached")).to_be_visible()
    expect(warning).to_have_count(0)
    expect(page.get_by_test_id("toast").filter(has_text="dayjs downloaded")).to_be_visible()
    # The warning toast no longer holds: it is gone with the download.
    expect(page.get_by_test_id("toast").filter(has_text="not cached")).to_have_count(0)
    screenshot(page, "library-downloaded")
    # Other libraries are still not cached and keep their Download button.
    expect(
        by_attr(page, "library-row", library="moment").get_by_test_id("library-download")
    ).to_be_visible()


def test_download_without_npm_on_the_daemon_shows_why(
    open_page: PageFactory, npmless_daemon: WebDaemon
) -> None:
    page = open_template(open_page, npmless_daemon, "libs-no-npm")
    row = by_attr(page, "library-row", library="lodash")
    row.get_by_test_id("library-download").click()
    error = row.get_by_test_id("library-download-error")
    expect(error).to_have_attribute("data-code", "NPM_NOT_FOUND")
    expect(error).to_contain_text("npm was not found")
    expect(row.get_by_test_id("library-download")).to_have_text("Retry download")
    expect(row).to_have_attribute("data-cached", "false")


@pytest.mark.parametrize("width", [1366, 390])
def test_the_libraries_table_fits_its_card_with_badges_and_download_buttons(
    open_page: PageFactory, fresh_daemon: WebDaemon, width: int
) -> None:
    page = open_page(fresh_daemon, width=width, height=900)
    create_template(page, f"libs-fit-{width}")
    row = by_attr(page, "library-row", library="dayjs")
    expect(row.get_by_test_id("library-not-cached")).to_be_visible()
    expect(row.get_by_test_id("library-download")).to_be_visible()
    wrap = page.get_by_test_id("libraries-table").locator("xpath=..")
    sizes = wrap.evaluate("w => ({ scroll: w.scrollWidth, client: w.clientWidth })")
    assert sizes["scroll"] <= sizes["client"], f"the table overflows its card: {sizes}"
    box, outer = row.get_by_test_id("library-download").bounding_box(), wrap.bounding_box()
    assert box and outer and box["x"] + box["width"] <= outer["x"] + outer["width"] + 0.5
    screenshot(page, f"libraries-table-{width}")
