"""The host wire: every message through the one codec, declared fields only, strict decoding,
the protocol version checked at Ready, unknown ops refused on both sides."""

from __future__ import annotations

import dataclasses
import struct
import typing
from typing import Any

import orjson
import pytest

from vmsystem.hosts import RuntimeSpec, wire
from vmsystem.modules import Grant
from vmsystem.modules.worktree import FileReply, FileRequest
from vmsystem.runtime import (
    Completion,
    ContextOptions,
    EngineError,
    Outcome,
    OutcomeKind,
    RunLimits,
)

from .conftest import Lost, make_pool, spec

pytestmark = pytest.mark.timeout(120)


def _non_default(name: str, hint: Any, default: Any) -> Any:
    """A value of type ``hint`` that differs from ``default``."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if hint is bool:
        return not default
    if hint is int or (args == [int]):
        return (default or 0) + 7
    if hint is str:
        return f"{name}-value"
    origin = typing.get_origin(hint)
    if origin is tuple:
        return ("first", "second")
    if origin in (dict, typing.get_origin(typing.Mapping[str, str])):
        return {"KEY": f"{name}-value"}
    raise AssertionError(f"no sample for {name}: {hint}")


def full_options() -> ContextOptions:
    """ContextOptions with every travelling field set away from its default."""
    hints = typing.get_type_hints(ContextOptions)
    values = {}
    for f in dataclasses.fields(ContextOptions):
        if not f.metadata.get("wire", True):
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        values[f.name] = _non_default(f.name, hints[f.name], default)
    return ContextOptions(**values)


def full_spec() -> RuntimeSpec:
    return RuntimeSpec(
        session_id="s-1",
        worktree="/tmp/worktree",
        options=full_options(),
        modules=("fs", "exec"),
        grants=(Grant("module", "exec", True, {"allow": ["ls"], "n": 2}),),
    )


MESSAGES: list[wire.Message] = [
    wire.Create(1, full_spec()),
    wire.Run(
        2, "s-1", "1+1", RunLimits(wall_ms=100.5, cpu_ms=None), "a.js", {"x": [1]}, {"A": "b"}
    ),
    wire.Run(3, "s-1", "2", RunLimits()),
    wire.Cancel("s-1"),
    wire.Close(4, "s-1"),
    wire.Files(9, "s-1", FileRequest("read", "a/b.txt", b"\x00\xffbytes", start=1, end=5)),
    wire.Complete(13, "s-1", "Math.ma", 7),
    wire.Shutdown(),
    wire.Ready(12, wire.PROTOCOL_VERSION, "v8", "12.0.1", "1.0.0"),
    wire.Reply(5, False, "it failed"),
    wire.Reply(6, True),
    wire.FilesResult(10, reply=FileReply("a", b"data", 4, 0, 3, 1.5, [{"name": "a"}], True)),
    wire.FilesResult(11, refusal=wire.Refusal("INVALID_PATH", "no", {"path": ".."})),
    wire.FilesResult(12, error="gone"),
    wire.CompleteResult(14, completion=Completion(("max", "min"), 5, 7)),
    wire.CompleteResult(15, busy=True, error="the session is running code"),
    wire.CompleteResult(16, error="gone"),
    wire.ConsoleBatch(7, [("log", "hello", 1.5), ("error", "bad", 2.0)]),
    wire.RunOutcome(
        8,
        Outcome(
            OutcomeKind.EXCEPTION,
            value={"preview": "x"},
            exception={"name": "TypeError", "message": "m"},
            message="msg",
            duration_ms=1.25,
            cpu_ms=0.5,
            console_events=3,
            output_bytes=44,
        ),
    ),
]


def test_every_message_class_is_covered_here() -> None:
    assert {type(m) for m in MESSAGES} == set(wire.MESSAGES.values())


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: f"{m.op}")
def test_every_message_round_trips_through_the_codec_and_json(message: wire.Message) -> None:
    data = orjson.loads(orjson.dumps(wire.encode(message)))
    assert data["op"] == message.op
    assert wire.decode(data) == message


def test_every_declared_context_option_travels_and_host_functions_stay_behind() -> None:
    sent = full_spec()
    data = orjson.loads(orjson.dumps(wire.encode(wire.Create(1, sent))))
    assert "host_functions" not in data["spec"]["options"]
    got = wire.decode(data)
    assert isinstance(got, wire.Create)
    assert got.spec == sent
    for f in dataclasses.fields(ContextOptions):
        if f.metadata.get("wire", True):
            assert getattr(got.spec.options, f.name) != getattr(ContextOptions(), f.name), f.name


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"op": "teleport"}, "unknown op 'teleport'"),
        ({"sid": "s"}, "unknown op None"),
        ({"op": "cancel"}, "Cancel.sid is missing"),
        ({"op": "cancel", "sid": "s", "extra": 1}, "unknown fields \\['extra'\\]"),
        ({"op": "close", "req": "1", "sid": "s"}, "Close.req: expected an integer"),
        ({"op": "reply", "req": True, "ok": True}, "Reply.req: expected an integer"),
        (
            {"op": "outcome", "req": 1, "outcome": {"kind": "exploded"}},
            "Outcome.kind: expected OutcomeKind",
        ),
        ({"op": "console", "req": 1, "lines": [["log", "x"]]}, "expected 3 items"),
        ({"op": "cancel", "sid": None}, "Cancel.sid: expected a string"),
        ({"op": "cancel", "sid": 7}, "Cancel.sid: expected a string"),
        (
            {"op": "outcome", "req": 1, "outcome": {"kind": "ok", "duration_ms": True}},
            "Outcome.duration_ms: expected a number",
        ),
        (
            {"op": "outcome", "req": 1, "outcome": {"kind": "ok", "cpu_ms": "1"}},
            "Outcome.cpu_ms: expected a number",
        ),
        ({"op": "outcome", "req": 1, "outcome": ["ok"]}, "Outcome is an object, not list"),
    ],
)
def test_a_malformed_message_is_an_error_naming_what_is_wrong(
    data: dict[str, Any], error: str
) -> None:
    with pytest.raises(wire.WireError, match=error):
        wire.decode(data)


def test_a_host_of_another_protocol_version_is_refused_at_ready() -> None:
    ready = wire.Ready(1, wire.PROTOCOL_VERSION + 1, "v8", "1", "0.0.1")
    with pytest.raises(wire.WireError, match="protocol version"):
        wire.check_ready(ready, "session host 1")
    wire.check_ready(dataclasses.replace(ready, protocol_version=wire.PROTOCOL_VERSION), "h")


@pytest.mark.parametrize("kind", ["process", "ray"])
def test_a_pool_refuses_hosts_speaking_another_protocol_version(
    kind: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hosts (other processes) speak the real version; this daemon now expects another.
    monkeypatch.setattr(wire, "PROTOCOL_VERSION", wire.PROTOCOL_VERSION + 100)
    with pytest.raises(EngineError, match="protocol version"):
        pool = make_pool(kind, request, processes=1)
        try:
            pool.start_runtime(spec(), Lost())
        finally:
            pool.close()


def test_a_host_given_an_unknown_op_dies_naming_it(request: pytest.FixtureRequest) -> None:
    pool = make_pool("process", request, processes=1)
    try:
        rt = pool.start_runtime(spec(), Lost())
        worker = pool._slots[0].host  # type: ignore[attr-defined]
        body = orjson.dumps({"op": "teleport", "sid": rt.host_id})
        worker.channel.sock.sendall(struct.pack(">I", len(body)) + body)
        worker.reader.join(timeout=30)
        assert not worker.alive
        assert "unknown op 'teleport'" in (worker.cause or "")
    finally:
        pool.close()


def test_json_numbers_take_the_declared_type_and_optional_fields_their_defaults() -> None:
    got = wire.decode(
        {"op": "outcome", "req": 1, "outcome": {"kind": "ok", "duration_ms": 3, "cpu_ms": None}}
    )
    assert isinstance(got, wire.RunOutcome)
    assert got.outcome == Outcome(OutcomeKind.OK, duration_ms=3.0, cpu_ms=None)
    assert type(got.outcome.duration_ms) is float  # an integer where a float is declared
    assert got.outcome.side_effects == ()  # absent: the declared default
