"""Deterministic mode in the V8 context: a seeded generator behind Math.random and crypto, and a
virtual clock behind Date and performance that starts at 2000-01-01T00:00:00Z and advances 1 ms
per read, while timers keep the real clock."""

from __future__ import annotations

import time
from collections.abc import Callable

from vmsystem.runtime.v8 import V8Context

from .conftest import Sink, run, value

EPOCH_MS = 946_684_800_000
MakeCtx = Callable[..., V8Context]


def test_the_clock_starts_at_the_epoch_and_advances_one_ms_per_read(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(deterministic_seed=1)
    assert value(ctx, "[Date.now(), Date.now(), new Date().getTime(), performance.now()]") == [
        EPOCH_MS,
        EPOCH_MS + 1,
        EPOCH_MS + 2,
        3,
    ]
    assert value(ctx, "Date()") == value(make_ctx(deterministic_seed=1), "Date()")
    assert value(ctx, "performance.timeOrigin") == EPOCH_MS
    assert value(ctx, "Date.now()") == EPOCH_MS + 5  # Date() read the clock too


def test_date_keeps_its_other_behaviour(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(deterministic_seed=1)
    assert value(
        ctx,
        "class D extends Date { year() { return this.getUTCFullYear(); } }"
        " [new Date(0).toISOString(), new Date(2020, 0, 2).getFullYear(), Date.UTC(2001, 0),"
        " Date.parse('2001-01-01T00:00:00Z'), new Date() instanceof Date,"
        " new Date().constructor === Date, new D().year(), new D(0) instanceof D, Date.name,"
        " Date.length, Number.isNaN(new Date(undefined).getTime())]",
    ) == [
        "1970-01-01T00:00:00.000Z",
        2020,
        978_307_200_000,
        978_307_200_000,
        True,
        True,
        2000,
        True,
        "Date",
        7,
        True,
    ]


def test_the_same_seed_gives_the_same_random_values(make_ctx: MakeCtx) -> None:
    code = (
        "[Math.random(), Math.random(), Array.from(crypto.getRandomValues(new Int32Array(3))),"
        " crypto.randomUUID()]"
    )
    first = value(make_ctx(deterministic_seed=2**53 - 1), code)
    assert first == value(make_ctx(deterministic_seed=2**53 - 1), code)
    assert first != value(make_ctx(deterministic_seed=2**32 - 1), code)
    assert 0 <= first[0] < 1 and first[0] != first[1]
    assert first[3][14] == "4" and first[3][19] in "89ab"  # still a version 4 UUID


def test_timers_still_fire_after_their_real_delay(make_ctx: MakeCtx) -> None:
    ctx = make_ctx(deterministic_seed=3)
    sink = Sink()
    started = time.monotonic()
    outcome = run(
        ctx,
        "const order = []; setTimeout(() => { order.push('b'); console.log(order.join()) }, 60);"
        " setTimeout(() => order.push('a'), 10); await new Promise(r => setTimeout(r, 80));"
        " Date.now()",
        sink=sink,
    )
    assert outcome.kind == "ok" and outcome.value is not None
    assert outcome.value["json"] == EPOCH_MS
    assert time.monotonic() - started >= 0.08
    assert sink.texts == ["a,b"]


def test_without_a_seed_the_real_clock_and_entropy_are_used(make_ctx: MakeCtx) -> None:
    before = time.time() * 1000
    now = value(make_ctx(), "Date.now()")
    assert before - 1000 <= now <= time.time() * 1000 + 1000
    assert value(make_ctx(), "Math.random()") != value(make_ctx(), "Math.random()")
