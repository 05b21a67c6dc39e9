"""/docs (Swagger UI) and /redoc are served with their assets by the daemon itself: no URL of
another host in the pages, and every asset they load answers from the daemon (offline use)."""

from __future__ import annotations

import re

import pytest

from vmsystem.api.app import DOCS_ASSETS

from .conftest import TestClient

#: src="..." and href="..." and the url: '...' of Swagger UI's and ReDoc's bootstraps.
ASSET = re.compile(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_page_names_no_other_host_and_its_assets_load(
    client: TestClient, page: str
) -> None:
    html = client.get(page)
    assert html.status_code == 200
    assert re.findall(r"https?://|//cdn", html.text) == [], "no CDN, no other host"
    assets = [url for url in ASSET.findall(html.text) if url.startswith(DOCS_ASSETS)]
    assert assets, html.text
    for url in assets:
        loaded = client.get(url)
        assert loaded.status_code == 200, url
        assert len(loaded.content) > 1000, url
    openapi = [url for url in ASSET.findall(html.text) if url.endswith("openapi.json")]
    assert openapi and client.get(openapi[0]).status_code == 200
