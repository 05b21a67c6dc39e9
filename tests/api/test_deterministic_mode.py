"""Deterministic mode over the REST API: ``settings.deterministic.seed`` makes two sessions of
one template give identical results and console output for the same inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from .conftest import API, create_session, create_template, events, repl

#: Every source of entropy deterministic mode covers, read twice, logged and returned.
INPUTS = (
    "const sample = () => [Math.random(), Array.from(crypto.getRandomValues(new Uint8Array(4))),"
    " crypto.randomUUID(), Date.now(), new Date().toISOString(), performance.now()];"
    " const first = sample(); console.log(JSON.stringify(first)); first",
    "const second = sample(); console.log('again', second); second",
)


def _template(client: TestClient, seed: int | None) -> str:
    tid: str = create_template(client, f"det-{seed}")["id"]
    r = client.patch(f"{API}/templates/{tid}", json={"settings": {"deterministic": {"seed": seed}}})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["deterministic"] == {"seed": seed}
    return tid


def _transcript(client: TestClient, template_id: str, worktree: Path) -> list[Any]:
    sid = create_session(client, template_id, worktree)["id"]
    out: list[Any] = []
    for code in INPUTS:
        x = repl(client, sid, code)
        assert x["status"] == "ok", x
        console = [e["payload"]["text"] for e in events(client, x["id"]) if e["type"] == "console"]
        out.append((x["result"]["json"], console))
    return out


def test_two_sessions_of_a_seeded_template_give_identical_results_and_console(
    client: TestClient, worktree: Path
) -> None:
    tid = _template(client, 42)
    first = _transcript(client, tid, worktree)
    assert first == _transcript(client, tid, worktree)
    (values, console), (again, _) = first
    # The virtual clock starts at 2000-01-01T00:00:00Z and advances 1 ms per read.
    assert values[3] == 946_684_800_000
    assert values[4] == "2000-01-01T00:00:00.001Z"
    assert values[5] == 2
    assert again[3] == 946_684_800_003
    assert console[0].startswith("[0.")
    assert values != again  # the generator and the clock move on within a session


def test_another_seed_or_no_seed_gives_other_values(client: TestClient, worktree: Path) -> None:
    seeded = _transcript(client, _template(client, 42), worktree)
    other = _transcript(client, _template(client, 43), worktree)
    assert seeded[0][0][:3] != other[0][0][:3]
    assert seeded[0][0][3:] == other[0][0][3:]  # the clock does not depend on the seed
    off = _template(client, None)
    a, b = _transcript(client, off, worktree), _transcript(client, off, worktree)
    assert a[0][0][:3] != b[0][0][:3]
    assert a[0][0][3] > 946_684_800_000 * 1.5  # the real clock


def test_a_bad_seed_is_a_validation_error(client: TestClient) -> None:
    tid = create_template(client, "bad-seed")["id"]
    for seed in (-1, 1.5, "7", True, 2**53):
        r = client.patch(
            f"{API}/templates/{tid}", json={"settings": {"deterministic": {"seed": seed}}}
        )
        assert r.status_code == 400, (seed, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = client.patch(f"{API}/templates/{tid}", json={"settings": {"deterministic": {"salt": 1}}})
    assert r.status_code == 400
