"""Whether a module's ``.send()`` calls step coroutines by hand, or only feed generators.

A hand-written driver (``coro.send(None)`` until StopIteration) runs coroutines with no event
loop, which keeps fixes out of them (``flavour``). A generator is stepped the same way (a parser
fed with ``gen.send(data)``, a body read with ``body.send(None)``), and taking it for a driver
would refuse every fix of the project. A ``.send()`` feeds a generator when its receiver is
bound in the module only from calls of the module's own sync generator functions
(``self._gen = self.parse(...)``), or is tested as one (``isinstance(body, GeneratorType)``,
``inspect.isgenerator(body)``). A pipe's connection is sent ``None`` too (a message to the other
process): a receiver unpacked from ``Pipe()``, or from a parameter annotated as a tuple of
``Connection``s, is no coroutine. Any other receiver may be one.
"""
from __future__ import annotations

from collections import defaultdict
from typing import DefaultDict, Dict, FrozenSet, List, NamedTuple, Optional, Set

import libcst as cst

from detector.analysis.names import dotted

_GENERATOR_TYPES = frozenset({"GeneratorType", "Generator"})
_PIPES = frozenset({"Pipe"})  # ``multiprocessing.Pipe()``, a context's ``ctx.Pipe()``
_CONNECTIONS = frozenset({"Connection", "PipeConnection"})
_TUPLES = frozenset({"tuple", "Tuple"})


def steps_coroutines(tree: cst.Module, sends: List[cst.Call], generators: FrozenSet[str]) -> bool:
    """Whether any of ``sends`` (``x.send(value)`` calls) may step a coroutine. ``generators``
    names the module's sync generator functions and methods."""
    if not sends:
        return False
    receivers = {dotted(send.func.value) if isinstance(send.func, cst.Attribute) else None for send in sends}
    if None in receivers:
        return True  # ``make().send(None)``: nothing says what it steps
    facts = _Facts({r for r in receivers if r is not None})
    tree.visit(facts)
    return any(receiver not in facts.tested and not _no_coroutine(facts, facts.made[receiver], generators)
               for receiver in facts.receivers)


class _Bound(NamedTuple):
    """A binding of a ``.send()`` receiver: the value, and whether the receiver is an item unpacked from it."""
    value: cst.BaseExpression
    unpacked: bool


def _no_coroutine(facts: _Facts, bindings: List[_Bound], generators: FrozenSet[str]) -> bool:
    """Every binding (and there is one) gives a generator of the module's or a pipe's connection."""
    return bool(bindings) and all(_gives_no_coroutine(facts, bound, generators) for bound in bindings)


def _gives_no_coroutine(facts: _Facts, bound: _Bound, generators: FrozenSet[str]) -> bool:
    value = bound.value
    if isinstance(value, cst.Call):
        callee = (dotted(value.func) or "").rsplit(".", 1)[-1]
        return callee in (_PIPES if bound.unpacked else generators)
    if bound.unpacked and isinstance(value, cst.Name):
        annotations = facts.annotations.get(value.value, [])
        return bool(annotations) and all(_connections(annotation) for annotation in annotations)
    return False


def _connections(annotation: Optional[cst.Annotation]) -> bool:
    """``tuple[Connection, Connection]`` (items subscripted or not): a pipe's two ends."""
    if annotation is None or not isinstance(annotation.annotation, cst.Subscript):
        return False
    tuple_type = annotation.annotation
    if (dotted(tuple_type.value) or "").rsplit(".", 1)[-1] not in _TUPLES:
        return False
    items = [element.slice.value for element in tuple_type.slice if isinstance(element.slice, cst.Index)]
    return len(items) == len(tuple_type.slice) and all(
        (dotted(item.value if isinstance(item, cst.Subscript) else item) or "").rsplit(".", 1)[-1] in _CONNECTIONS
        for item in items)


class _Facts(cst.CSTVisitor):
    """What the module binds to, and tests about, the receivers of its ``.send()`` calls."""

    def __init__(self, receivers: Set[str]):
        self.receivers = receivers
        self.made: DefaultDict[str, List[_Bound]] = defaultdict(list)
        self.tested: Set[str] = set()
        self.annotations: Dict[str, List[Optional[cst.Annotation]]] = defaultdict(list)  # parameters, by name

    def visit_Param(self, node: cst.Param) -> None:
        self.annotations[node.name.value].append(node.annotation)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bound(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bound(node.target, node.value)

    def _bound(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        unpacked = isinstance(target, (cst.Tuple, cst.List))
        items = [element.value for element in target.elements] if isinstance(target, (cst.Tuple, cst.List)) else [target]
        for item in items:
            name = dotted(item)
            if name is not None and name in self.receivers:
                self.made[name].append(_Bound(value, unpacked))

    def visit_Call(self, node: cst.Call) -> None:
        test = dotted(node.func)
        if not node.args or test not in ("isinstance", "inspect.isgenerator"):
            return
        subject = dotted(node.args[0].value)
        if subject is None or subject not in self.receivers:
            return
        if test == "inspect.isgenerator":
            self.tested.add(subject)
        elif len(node.args) == 2:
            kinds = node.args[1].value
            names = [e.value for e in kinds.elements] if isinstance(kinds, cst.Tuple) else [kinds]
            if any((dotted(n) or "").rsplit(".", 1)[-1] in _GENERATOR_TYPES for n in names):
                self.tested.add(subject)
