"""When the SDK sets up TLS verification: for https:// daemons (and proxies), not for a plain
http:// daemon reached directly, where loading the CA bundle would only slow every call."""

from __future__ import annotations

import pytest

from vmsystem.client._base import ClientConfig


def config(url: str) -> ClientConfig:
    return ClientConfig.resolve(url, None, 5.0, 0, 0.1, None)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)


def test_a_plain_http_daemon_needs_no_tls_setup() -> None:
    assert config("http://127.0.0.1:3210").verify() is False
    assert config("HTTP://localhost:3210").verify() is False


def test_an_https_daemon_is_verified() -> None:
    assert config("https://vm.example.com").verify() is True


def test_a_proxy_keeps_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "https://proxy.example.com:3128")
    assert config("http://127.0.0.1:3210").verify() is True
