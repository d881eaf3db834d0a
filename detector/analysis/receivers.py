"""The method a call such as ``f.read()`` runs when the bindings of ``f`` disagree.

Names resolve flow-insensitively (``names``): two bindings of different types leave a name
unknown. For the receiver of a call in a function's own body, two finer answers exist:

* when every binding of the name is a simple statement of the function body itself (or a
  parameter), the latest one before the call is the one the call sees
  (``f = open(p)``; ``await x``; ``f = io.BytesIO()``; ``f.read()`` reads memory);
* otherwise (bindings in branches, ``Union[A, B]``, ``a if c else b``) the name is one of
  several types, and the call is spelled ``A.read|B.read``: the project reports it only when
  every member blocks (``Project.resolve``), and the message says which types it may be.
"""
from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Tuple

import libcst as cst

from detector.analysis.names import Resolver, Scope, Source, binding_scope, identifier
from detector.analysis.summary import UNION, Symbol

# (statement of the function body, small statement of a simple line): straight-line order.
Position = Tuple[int, int]


class Order(NamedTuple):
    """Where in their function's body locals are bound and calls are made (by node and source id)."""

    bound_at: Dict[int, Position]
    used_at: Dict[int, Position]


def method(resolver: Resolver, call: cst.Call, scope: Scope, order: Order) -> Optional[str]:
    """The target of ``name.attr(...)`` from the latest binding of ``name`` before the call,
    else from every type ``name`` may have (``A.attr|B.attr``); None when unknown."""
    func = call.func
    if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
        return None
    attr = identifier(func.attr)
    name = identifier(func.value)
    found = binding_scope(name, scope)
    if found is None or found is not scope.function_scope():
        return None
    sources = found.sources[name]
    latest = _latest(sources, order, order.used_at.get(id(call)))
    if latest is not None:
        if not latest:
            return None
        sources = latest
    members = resolver.members(sources)
    if members is None:
        return None
    targets = sorted({_target(resolver, member, attr) or "" for member in members})
    if "" in targets:
        return None
    return targets[0] if len(targets) == 1 else UNION.join(targets)


def _latest(sources: List[Source], order: Order, used: Optional[Position]) -> Optional[List[Source]]:
    """``[source]``: the binding a use at ``used`` sees; ``[]``: none is bound yet; None: the
    order does not decide (a binding in a branch, a loop, a ``with`` or a nested scope)."""
    if used is None:
        return None
    before: List[Tuple[Position, Source]] = []
    for source in sources:
        place = order.bound_at.get(id(source))
        if place is None:
            return None
        if place < used:
            before.append((place, source))
    if not before:
        return []
    last = max(place for place, _ in before)
    chosen = [source for place, source in before if place == last]
    return chosen if len(chosen) == 1 else None


def _target(resolver: Resolver, value: Optional[Symbol], attr: str) -> Optional[str]:
    method_value = resolver.attribute(value, attr)
    if method_value is None or method_value.kind != "ref":
        return None
    return resolver.catalog.canonical(method_value.name)
