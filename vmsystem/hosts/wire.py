"""The messages between the daemon and its hosts: one frozen class per message, one codec.

Every message is a frozen dataclass with its ``op``; :func:`encode` turns one into a JSON-able
dict (``{"op": ..., field: value, ...}``) and :func:`decode` turns such a dict back, checking
it: an unknown op, an unknown or missing field, or a value of the wrong shape is a
:class:`WireError`. Nested data (:class:`~vmsystem.hosts.base.RuntimeSpec`,
:class:`~vmsystem.runtime.ContextOptions`, :class:`~vmsystem.modules.Grant`,
:class:`~vmsystem.runtime.RunLimits`, :class:`~vmsystem.runtime.Outcome`) is serialised from
its declared fields (``dataclasses.fields`` and their type hints), never from hand lists, so a
new field travels to process and Ray hosts without a change here. A field whose metadata says
``{"wire": False}`` (``ContextOptions.host_functions``: Python callables, built inside the
host) stays behind.

Daemon to host: :class:`Create`, :class:`Run`, :class:`Cancel`, :class:`Close`,
:class:`Files`, :class:`Complete`, :class:`Shutdown`. Host to daemon: :class:`Ready` once (its
``protocol_version`` is checked by :func:`check_ready`), :class:`Reply`, :class:`FilesResult`,
:class:`CompleteResult`, :class:`ConsoleBatch`, :class:`RunOutcome`. The process
backend frames them (:mod:`vmsystem.hosts.protocol`); the Ray backend passes the same dicts as
actor-call arguments and results. Models: jupyter_client's message envelope and Dask's
one-class-per-message (``distributed/worker_state_machine.py``).
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Union

from vmsystem.hosts.base import RuntimeSpec
from vmsystem.modules.worktree import FileReply, FileRequest
from vmsystem.runtime import Completion, ConsoleLine, Outcome, RunLimits

__all__ = [
    "MESSAGES",
    "PROTOCOL_VERSION",
    "Cancel",
    "Close",
    "Complete",
    "CompleteResult",
    "ConsoleBatch",
    "Create",
    "Files",
    "FilesResult",
    "Message",
    "Ready",
    "Refusal",
    "Reply",
    "Run",
    "RunOutcome",
    "Shutdown",
    "WireError",
    "check_ready",
    "decode",
    "decode_value",
    "encode",
    "encode_value",
]

#: The version of this protocol; a host speaking another is refused at its :class:`Ready`.
PROTOCOL_VERSION = 1


class WireError(Exception):
    """A message that does not follow the protocol."""


# ---------------------------------------------------------------------- daemon to host
@dataclasses.dataclass(frozen=True, slots=True)
class Create:
    """Build the runtime of ``spec``; answered by a :class:`Reply`."""

    op: ClassVar[str] = "create"
    req: int
    spec: RuntimeSpec


@dataclasses.dataclass(frozen=True, slots=True)
class Run:
    """Run code in a session; answered by :class:`ConsoleBatch` messages while it runs, then a
    :class:`RunOutcome`."""

    op: ClassVar[str] = "run"
    req: int
    sid: str
    code: str
    limits: RunLimits
    filename: str | None = None
    args: Any = None
    env: dict[str, str] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the session's run (no answer: the run's outcome says how it ended)."""

    op: ClassVar[str] = "cancel"
    sid: str


@dataclasses.dataclass(frozen=True, slots=True)
class Close:
    """Close the session's runtime; answered by a :class:`Reply`."""

    op: ClassVar[str] = "close"
    req: int
    sid: str


@dataclasses.dataclass(frozen=True, slots=True)
class Files:
    """A file operation on the session's worktree; answered by a :class:`FilesResult`."""

    op: ClassVar[str] = "files"
    req: int
    sid: str
    request: FileRequest


@dataclasses.dataclass(frozen=True, slots=True)
class Complete:
    """Completions at ``cursor`` in the session's input; answered by a
    :class:`CompleteResult`."""

    op: ClassVar[str] = "complete"
    req: int
    sid: str
    code: str
    cursor: int


@dataclasses.dataclass(frozen=True, slots=True)
class Shutdown:
    """Close every runtime and exit."""

    op: ClassVar[str] = "shutdown"


# ---------------------------------------------------------------------- host to daemon
@dataclasses.dataclass(frozen=True, slots=True)
class Ready:
    """The host is up (sent once, first)."""

    op: ClassVar[str] = "ready"
    pid: int
    protocol_version: int
    engine: str
    engine_version: str
    vmsystem_version: str


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    """The answer to a :class:`Create` or :class:`Close`."""

    op: ClassVar[str] = "reply"
    req: int
    ok: bool
    error: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Refusal:
    """A file operation the host refused (a :class:`~vmsystem.modules.worktree.WorktreeError`)."""

    code: str
    message: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, slots=True)
class FilesResult:
    """The answer to :class:`Files`: its ``reply``, or a ``refusal``, or an ``error`` (the
    session's runtime is gone, an internal failure)."""

    op: ClassVar[str] = "files_result"
    req: int
    reply: FileReply | None = None
    refusal: Refusal | None = None
    error: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CompleteResult:
    """The answer to :class:`Complete`: the ``completion``, or ``busy`` (a run is in
    progress), or an ``error`` (the session's runtime is gone, an internal failure)."""

    op: ClassVar[str] = "complete_result"
    req: int
    completion: Completion | None = None
    busy: bool = False
    error: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ConsoleBatch:
    """Console lines of the run ``req``, while it runs."""

    op: ClassVar[str] = "console"
    req: int
    lines: list[ConsoleLine]


@dataclasses.dataclass(frozen=True, slots=True)
class RunOutcome:
    """How the run ``req`` ended (after all its console batches)."""

    op: ClassVar[str] = "outcome"
    req: int
    outcome: Outcome


Message = Union[  # noqa: UP007
    Create,
    Run,
    Cancel,
    Close,
    Files,
    Complete,
    Shutdown,
    Ready,
    Reply,
    FilesResult,
    CompleteResult,
    ConsoleBatch,
    RunOutcome,
]
#: Every message class, by op.
MESSAGES: dict[str, type[Any]] = {cls.op: cls for cls in typing.get_args(Message)}


def encode(message: Message) -> dict[str, Any]:
    """The JSON-able form of ``message`` (its ``op`` and its fields)."""
    data: dict[str, Any] = _encoder(type(message))(message)
    data["op"] = message.op
    return data


def decode(data: Mapping[str, Any]) -> Message:
    """The message ``data`` encodes; WireError for an unknown op or a malformed message."""
    if not isinstance(data, Mapping):
        raise WireError(f"a message is a JSON object, not {type(data).__name__}")
    op = data.get("op")
    cls = MESSAGES.get(op) if isinstance(op, str) else None
    if cls is None:
        raise WireError(f"unknown op {op!r} (known: {', '.join(sorted(MESSAGES))})")
    decoder = _MESSAGE_DECODERS.get(cls)
    if decoder is None:
        decoder = _MESSAGE_DECODERS[cls] = _dataclass_decoder(cls, frozenset({"op"}))
    try:
        message: Message = decoder(data)
    except WireError as exc:
        raise WireError(f"bad {op!r} message: {exc}") from None
    return message


def encode_value(value: Any) -> Any:
    """The JSON-able form of a dataclass such as :class:`RuntimeSpec` (its declared fields)."""
    return _encoder(type(value))(value)


def decode_value(cls: type[Any], data: Any) -> Any:
    """The inverse of :func:`encode_value` for ``cls`` (WireError if ``data`` does not fit)."""
    return _decoder(cls)(data)


def check_ready(ready: Ready, host: str) -> None:
    """Refuse a host that speaks another protocol version (WireError naming both)."""
    if ready.protocol_version != PROTOCOL_VERSION:
        raise WireError(
            f"{host} speaks host protocol version {ready.protocol_version}, this daemon "
            f"{PROTOCOL_VERSION} (vm-system {ready.vmsystem_version} on the host): install the "
            "daemon's vm-system version on every host"
        )


# ---------------------------------------------------------------------- the codec
def _wire_fields(cls: type[Any]) -> list[tuple[str, Any, bool]]:
    """``(name, type, required)`` of the fields of ``cls`` that travel."""
    hints = typing.get_type_hints(cls)
    return [
        (
            f.name,
            hints[f.name],
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
        if f.metadata.get("wire", True)
    ]


_ENCODERS: dict[Any, Callable[[Any], Any]] = {}
#: Decoders of whole messages (their ``op`` key ignored), by message class.
_MESSAGE_DECODERS: dict[Any, Callable[[Any], Any]] = {}
_DECODERS: dict[Any, Callable[[Any], Any]] = {}


def _encoder(tp: Any) -> Callable[[Any], Any]:
    found = _ENCODERS.get(tp)
    if found is None:
        found = _ENCODERS[tp] = _make_encoder(tp)
    return found


def _decoder(tp: Any) -> Callable[[Any], Any]:
    found = _DECODERS.get(tp)
    if found is None:
        found = _DECODERS[tp] = _make_decoder(tp)
    return found


def _make_encoder(tp: Any) -> Callable[[Any], Any]:
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        parts = [(name, _encoder(hint)) for name, hint, _ in _wire_fields(tp)]
        return lambda value: {name: enc(getattr(value, name)) for name, enc in parts}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            enc = _encoder(inner[0])
            return lambda value: None if value is None else enc(value)
        return _identity
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return lambda value: value.value
    if tp is bytes:
        return lambda value: base64.b64encode(value).decode("ascii")
    if origin in (tuple, list) and args and args[-1] is not Ellipsis and origin is tuple:
        encs = [_encoder(a) for a in args]
        return lambda value: [enc(item) for enc, item in zip(encs, value, strict=True)]
    if origin in (tuple, list):
        enc = _encoder(args[0]) if args else _identity
        if enc is _identity:
            return list
        return lambda value: [enc(item) for item in value]
    if origin in (dict, Mapping) or tp is dict:
        enc = _encoder(args[1]) if len(args) == 2 else _identity
        if enc is _identity:
            return dict
        return lambda value: {key: enc(item) for key, item in value.items()}
    return _identity


def _identity(value: Any) -> Any:
    return value


def _make_decoder(tp: Any) -> Callable[[Any], Any]:
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_decoder(tp)
    if tp is Any:
        return _identity
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            dec = _decoder(inner[0])
            return lambda value: None if value is None else dec(value)
        return _identity
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _checked(lambda value: tp(value), tp.__name__)
    if origin is tuple and args and args[-1] is not Ellipsis:
        decs = [_decoder(a) for a in args]

        def fixed(value: Any) -> Any:
            if not isinstance(value, list | tuple) or len(value) != len(decs):
                raise WireError(f"expected {len(decs)} items, got {value!r:.80}")
            return tuple(dec(item) for dec, item in zip(decs, value, strict=True))

        return fixed
    if origin in (tuple, list):
        dec = _decoder(args[0]) if args else _identity
        build = tuple if origin is tuple else list

        def sequence(value: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise WireError(f"expected a list, got {type(value).__name__}")
            return build(dec(item) for item in value)

        return sequence
    if origin in (dict, Mapping) or tp is dict:
        dec = _decoder(args[1]) if len(args) == 2 else _identity

        def mapping(value: Any) -> Any:
            if not isinstance(value, Mapping):
                raise WireError(f"expected an object, got {type(value).__name__}")
            return {str(key): dec(item) for key, item in value.items()}

        return mapping
    if tp is bytes:
        return _checked(lambda value: base64.b64decode(value, validate=True), "base64 bytes")
    if tp is float:
        return _checked(_number, "a number")
    if tp is int:
        return _checked(_strict_int, "an integer")
    if tp is str:
        return _checked(_strict(str), "a string")
    if tp is bool:
        return _checked(_strict(bool), "a boolean")
    return _identity


def _strict(kind: type[Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, kind):
            raise TypeError(value)
        return value

    return check


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    return float(value)


def _strict_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(value)
    return value


def _checked(convert: Callable[[Any], Any], what: str) -> Callable[[Any], Any]:
    def run(value: Any) -> Any:
        try:
            return convert(value)
        except (TypeError, ValueError):
            raise WireError(f"expected {what}, got {value!r:.80}") from None

    return run


#: Types whose values pass as they are when their type is exactly this one (JSON's own):
#: the generated decoder checks ``type(v) is T`` inline and calls the type's decoder only
#: for anything else (to convert, e.g. an int where a float is declared, or to refuse).
_EXACT = (str, int, float, bool)


def _dataclass_decoder(cls: type[Any], extra: frozenset[str] = frozenset()) -> Callable[[Any], Any]:
    """A decoder of ``cls`` from a mapping of its wire fields (plus the keys ``extra``, which
    are ignored), generated as straight-line code: it runs for every message, and a loop
    over per-field closures cost several times more."""
    parts = _wire_fields(cls)
    known = frozenset(name for name, _, _ in parts) | extra
    scope: dict[str, Any] = {
        "Mapping": Mapping,
        "WireError": WireError,
        "cls": cls,
        "known": known,
        "unknown": lambda value: WireError(
            f"unknown fields {sorted(set(value) - known)} of {cls.__name__}"
        ),
    }
    lines = [
        "def decode_fields(value):",
        "    if type(value) is not dict and not isinstance(value, Mapping):",
        "        raise WireError(f'{cls.__name__} is an object, not {type(value).__name__}')",
        "    if not known.issuperset(value):",
        "        raise unknown(value)",
        "    kwargs = {}",
    ]
    for i, (name, hint, required) in enumerate(parts):
        scope[f"dec{i}"] = _decoder(hint)
        optional, inner = _optional(hint)
        convert = [
            "try:",
            f"    v = dec{i}(v)",
            "except WireError as exc:",
            f"    raise WireError(f'{{cls.__name__}}.{name}: {{exc}}') from None",
        ]
        if inner is Any:
            convert = []
        elif inner in _EXACT:
            scope[f"t{i}"] = inner
            convert = [f"if type(v) is not t{i}:", *("    " + line for line in convert)]
        if optional and convert:
            convert = ["if v is not None:", *("    " + line for line in convert)]
        body = [f"v = value[{name!r}]", *convert, f"kwargs[{name!r}] = v"]
        lines.append(f"    if {name!r} in value:")
        lines.extend("        " + line for line in body)
        if required:
            lines.append("    else:")
            lines.append(f"        raise WireError(f'{{cls.__name__}}.{name} is missing')")
    lines.append("    return cls(**kwargs)")
    exec("\n".join(lines), scope)  # field names are identifiers; values never reach the code
    decode_fields: Callable[[Any], Any] = scope["decode_fields"]
    return decode_fields


def _optional(tp: Any) -> tuple[bool, Any]:
    """Whether ``tp`` is ``X | None``, and ``X`` (or ``tp`` itself)."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) == 1 and len(inner) < len(typing.get_args(tp)):
            return True, inner[0]
    return False, tp
