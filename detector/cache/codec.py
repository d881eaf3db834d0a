"""offload's records as JSON and back, checked field by field.

The cache stores no Python objects, only JSON: lists, objects, strings, numbers, booleans and
null. A record (a dataclass) is a list of its field values in declaration order. How each
field is written and read back is derived once from the record's own type hints, so a field
added to a summary is cached without touching this module, and a field of a type this module
does not know fails at import time rather than silently.

Decoding only ever builds the record types it was made for, and checks every value against
its declared type (``true`` is not an int, a list of the wrong length is not a record). Any
mismatch raises :class:`Invalid`, which the cache treats as a miss.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import typing
from typing import Any, Callable, Dict, List, Tuple, Type

from detector.analysis.summary import ModuleSummary
from detector.model import Finding


class Invalid(ValueError):
    """The data is not what the record's declaration says."""


# JSON data is untyped by nature: what a decoder accepts is checked at run time.
Encode = Callable[[Any], Any]
Decode = Callable[[Any], Any]
Codec = Tuple[Encode, Decode]


def _identity(value: Any) -> Any:
    return value


_SCALARS = (int, str, bool)


def _scalar(kind: type) -> Codec:
    def decode(value: Any) -> Any:
        if type(value) is not kind:  # exact: a bool is not an int
            raise Invalid(f"expected {kind.__name__}, got {type(value).__name__}")
        return value

    return _identity, decode


def _enum(kind: Type[enum.Enum]) -> Codec:
    if issubclass(kind, enum.IntFlag):
        return _int_flag(kind)

    def decode(value: Any) -> Any:
        if type(value) not in (str, int):
            raise Invalid(f"expected a {kind.__name__} value")
        try:
            return kind(value)
        except ValueError:
            raise Invalid(f"not a {kind.__name__}: {value!r}") from None

    return (lambda member: member.value), decode


def _int_flag(kind: Type[enum.IntFlag]) -> Codec:
    """A set of flags travels as its int; bits no member defines are not a value of ``kind``."""
    known = 0
    for member in kind.__members__.values():
        known |= member.value

    def decode(value: Any) -> Any:
        if type(value) is not int or value < 0 or value & ~known:
            raise Invalid(f"not a {kind.__name__}: {value!r}")
        return kind(value)

    return int, decode


def _literal(choices: Tuple[str, ...]) -> Codec:
    def decode(value: Any) -> Any:
        if type(value) is not str or value not in choices:
            raise Invalid(f"expected one of {', '.join(map(repr, choices))}")
        return value

    return _identity, decode


def _optional(inner: Codec) -> Codec:
    encode_inner, decode_inner = inner
    return ((lambda value: None if value is None else encode_inner(value)),
            (lambda value: None if value is None else decode_inner(value)))


def _sequence(inner: Codec, build: Callable[[List[Any]], Any], hint: object) -> Codec:
    encode_inner, decode_inner = inner
    if hint in _SCALARS:
        def decode_scalars(value: Any) -> Any:
            if type(value) is not list or not all([type(item) is hint for item in value]):
                raise Invalid(f"expected a list of {hint.__name__}")
            return build(value)

        return list, decode_scalars

    def decode(value: Any) -> Any:
        if type(value) is not list:
            raise Invalid("expected a list")
        return build([decode_inner(item) for item in value])

    return (lambda value: [encode_inner(item) for item in value]), decode


def _fixed_tuple(items: List[Codec], hints: Tuple[Any, ...]) -> Codec:
    if all(hint in _SCALARS for hint in hints):  # the common case, checked in one go
        def decode_scalars(value: Any) -> Any:
            if type(value) is not list or tuple(map(type, value)) != hints:
                raise Invalid(f"expected a list of {', '.join(hint.__name__ for hint in hints)}")
            return tuple(value)

        return list, decode_scalars
    encoders = [encode for encode, _ in items]
    decoders = [decode for _, decode in items]

    def decode(value: Any) -> Any:
        if type(value) is not list or len(value) != len(decoders):
            raise Invalid(f"expected a list of {len(decoders)}")
        return tuple(decode_item(item) for decode_item, item in zip(decoders, value))

    return (lambda value: [encode(item) for encode, item in zip(encoders, value)]), decode


def _mapping(key: type, inner: Codec) -> Codec:
    encode_inner, decode_inner = inner
    if key is str:  # a JSON object
        def decode_object(value: Any) -> Any:
            if type(value) is not dict:
                raise Invalid("expected an object")
            return {name: decode_inner(item) for name, item in value.items()}

        return (lambda value: {name: encode_inner(item) for name, item in value.items()}), decode_object
    _, decode_key = _scalar(key)  # other keys (int): a list of [key, value] pairs

    def decode_pairs(value: Any) -> Any:
        if type(value) is not list:
            raise Invalid("expected a list of pairs")
        result: Dict[Any, Any] = {}
        for pair in value:
            if type(pair) is not list or len(pair) != 2:
                raise Invalid("expected a [key, value] pair")
            result[decode_key(pair[0])] = decode_inner(pair[1])
        return result

    return (lambda value: [[name, encode_inner(item)] for name, item in value.items()]), decode_pairs


def _record(kind: Any, codecs: Dict[object, Codec]) -> Codec:
    """A dataclass or a NamedTuple: the list of its field values, in declaration order."""
    hints = typing.get_type_hints(kind)
    names = [field.name for field in dataclasses.fields(kind)] if dataclasses.is_dataclass(kind) else list(kind._fields)
    fields = [_codec(hints[name], codecs) for name in names]
    encoders = list(zip(names, [encode for encode, _ in fields]))
    decoders = [decode for _, decode in fields]
    count = len(names)

    def encode(value: Any) -> Any:
        return [encode_field(getattr(value, name)) for name, encode_field in encoders]

    # JSON types of the fields when every one is a scalar or a set of flags (e.g. CallRecord, by
    # far the most numerous record): the whole record is checked in one go.
    kinds = tuple(int if _is_flags(hint) else hint for hint in (hints[name] for name in names))
    if all(hint in _SCALARS for hint in kinds):
        flags = [(index, decoders[index]) for index, name in enumerate(names) if _is_flags(hints[name])]

        def decode_scalars(value: Any) -> Any:
            if type(value) is not list or tuple(map(type, value)) != kinds:
                raise Invalid(f"expected a {kind.__name__} of {count} fields")
            if flags:
                value = list(value)
                for index, decode_flags in flags:
                    value[index] = decode_flags(value[index])
            return kind(*value)

        return encode, decode_scalars

    def decode(value: Any) -> Any:
        if type(value) is not list or len(value) != count:
            raise Invalid(f"expected a {kind.__name__} of {count} fields")
        return kind(*[decode_field(item) for decode_field, item in zip(decoders, value)])

    return encode, decode


def _is_flags(hint: object) -> bool:
    return isinstance(hint, type) and issubclass(hint, enum.IntFlag)


def _is_named_tuple(hint: object) -> bool:
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")


def _codec(hint: Any, codecs: Dict[object, Codec]) -> Codec:
    if hint in codecs:
        return codecs[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in _SCALARS:
        made = _scalar(hint)
    elif isinstance(hint, type) and issubclass(hint, enum.Enum):
        made = _enum(hint)
    elif isinstance(hint, type) and (dataclasses.is_dataclass(hint) or _is_named_tuple(hint)):
        made = _record(hint, codecs)
    elif origin is typing.Literal and all(type(arg) is str for arg in args):
        made = _literal(args)
    elif origin is typing.Union and len(args) == 2 and type(None) in args:
        made = _optional(_codec(next(arg for arg in args if arg is not type(None)), codecs))
    elif origin is list:
        made = _sequence(_codec(args[0], codecs), list, args[0])
    elif origin is frozenset:
        made = _sequence(_codec(args[0], codecs), frozenset, args[0])
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        made = _sequence(_codec(args[0], codecs), tuple, args[0])
    elif origin is tuple and args:
        made = _fixed_tuple([_codec(arg, codecs) for arg in args], args)
    elif origin is dict and args[0] in (str, int):
        made = _mapping(args[0], _codec(args[1], codecs))
    else:
        raise TypeError(f"the cache cannot store a field of type {hint!r}")
    codecs[hint] = made
    return made


_CODECS: Dict[object, Codec] = {}
_encode_summary, _decode_summary = _codec(ModuleSummary, _CODECS)


@dataclasses.dataclass
class RunFindings:
    """A run's findings, and the library files they were computed from: path -> (size, mtime_ns,
    ctime_ns) as read. The run's key covers the project's files and the installed distributions,
    not each library file: one changed in place (an edit, a reinstall of the same version) changes
    its stat."""

    findings: List[Finding]
    inputs: Dict[str, Tuple[int, int, int]]


_encode_run, _decode_run = _codec(RunFindings, _CODECS)


def _dumps(value: Any) -> bytes:
    # ASCII: lone surrogates (undecodable file names) travel as \\udcxx escapes.
    return json.dumps(value, separators=(",", ":"), check_circular=False).encode("ascii")


def _loads(data: bytes) -> Any:
    try:
        return json.loads(data.decode("ascii"))
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"not JSON: {exc}") from None


def encode_summary(summary: ModuleSummary) -> bytes:
    return _dumps(_encode_summary(summary))


def decode_summary(data: bytes) -> ModuleSummary:
    summary: ModuleSummary = _decode_summary(_loads(data))
    return summary


def encode_findings(run: RunFindings) -> bytes:
    return _dumps(_encode_run(run))


def decode_findings(data: bytes) -> RunFindings:
    run: RunFindings = _decode_run(_loads(data))
    return run


def encode_data(value: Any) -> bytes:
    """Plain JSON data (the index), written like every record."""
    return _dumps(value)


def decode_data(data: bytes) -> Any:
    return _loads(data)
