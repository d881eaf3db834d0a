"""``isinstance`` against a runtime-checkable ``typing.Protocol``: a structural test.

``isinstance(x, P)`` for ``class P(Protocol)`` (decorated ``@runtime_checkable``) is true when
``x`` has every member ``P`` declares, whatever its class: imagesize's ``isinstance(f,
ReadSeekBinary)`` takes an ``io.BytesIO`` as it is and never opens it. The members of the few
standard types an argument is known to be (in-memory streams, file objects, strings, paths) are
read from this interpreter's own classes.
"""
from __future__ import annotations

import io
import pathlib
from typing import AbstractSet, Dict, FrozenSet, Optional, Tuple

PROTOCOL_BASES = frozenset({"typing.Protocol", "typing_extensions.Protocol"})

# What a Protocol's body binds that ``isinstance`` does not test (``typing._SPECIAL_NAMES`` and
# the attributes every class has).
NOT_MEMBERS = frozenset({
    "__abstractmethods__", "__annotations__", "__dict__", "__doc__", "__init__", "__module__", "__new__",
    "__slots__", "__subclasshook__", "__weakref__", "__class_getitem__", "__match_args__", "__parameters__",
    "__orig_bases__", "__qualname__", "_is_protocol", "_is_runtime_protocol", "__protocol_attrs__",
})


def _members(*classes: type) -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """The members every one of ``classes`` has, and those some has."""
    sets = [frozenset(dir(cls)) for cls in classes]
    return frozenset.intersection(*sets), frozenset.union(*sets)


# A file object from ``open()`` (the catalogue's ``io.IOBase``) is a text or a binary one.
_STANDARD: Dict[str, Tuple[FrozenSet[str], FrozenSet[str]]] = {
    "io.IOBase": _members(io.TextIOWrapper, io.BufferedReader, io.BufferedWriter, io.BufferedRandom, io.FileIO),
    "io.BytesIO": _members(io.BytesIO),
    "io.StringIO": _members(io.StringIO),
    "str": _members(str),
    "bytes": _members(bytes),
    "bytearray": _members(bytearray),
    "pathlib.Path": _members(pathlib.Path),
    "dict": _members(dict),
    "list": _members(list),
    "tuple": _members(tuple),
    "int": _members(int),
    "bool": _members(bool),
    "float": _members(float),
    "NoneType": _members(type(None)),
}


def has_members(type_name: str, members: AbstractSet[str]) -> Optional[bool]:
    """Whether an instance of the standard type ``type_name`` has all of ``members``; None when
    the type is not one of those known here, or it depends on which of its kinds it is."""
    known = _STANDARD.get(type_name)
    if known is None:
        return None
    always, sometimes = known
    if members <= always:
        return True
    return False if not members <= sometimes else None
