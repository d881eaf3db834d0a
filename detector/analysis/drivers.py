"""Whether a module's ``.send()`` calls step coroutines by hand, or only feed generators.

A hand-written driver (``coro.send(None)`` until StopIteration) runs coroutines with no event
loop, which keeps fixes out of them (``flavour``). A generator is stepped the same way (a parser
fed with ``gen.send(data)``, a body read with ``body.send(None)``), and taking it for a driver
would refuse every fix of the project. A ``.send()`` feeds a generator when its receiver is
bound in the module only from calls of the module's own sync generator functions
(``self._gen = self.parse(...)``), or is tested as one (``isinstance(body, GeneratorType)``,
``inspect.isgenerator(body)``). Any other receiver may be a coroutine.
"""
from __future__ import annotations

from collections import defaultdict
from typing import DefaultDict, FrozenSet, List, Optional, Set

import libcst as cst

from detector.analysis.names import dotted

_GENERATOR_TYPES = frozenset({"GeneratorType", "Generator"})


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
    return any(receiver not in facts.tested and not _made_by(facts.made[receiver], generators)
               for receiver in facts.receivers)


def _made_by(callees: List[Optional[str]], generators: FrozenSet[str]) -> bool:
    """Every binding calls one of the module's generator functions (and there is one)."""
    return bool(callees) and all(c is not None and c.rsplit(".", 1)[-1] in generators for c in callees)


class _Facts(cst.CSTVisitor):
    """What the module binds to, and tests about, the receivers of its ``.send()`` calls."""

    def __init__(self, receivers: Set[str]):
        self.receivers = receivers
        self.made: DefaultDict[str, List[Optional[str]]] = defaultdict(list)  # the callee of each binding
        self.tested: Set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bound(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bound(node.target, node.value)

    def _bound(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        name = dotted(target)
        if name is not None and name in self.receivers:
            self.made[name].append(dotted(value.func) if isinstance(value, cst.Call) else None)

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
