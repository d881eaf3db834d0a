"""Check-then-set in a coroutine: an ``await`` added between them lets another coroutine in.

Between two ``await`` points a coroutine runs alone, so

    if token not in self.bots:
        self.bots[token] = Bot(token)

makes one ``Bot`` per token however many coroutines ask at once. Rewritten to
``self.bots[token] = await asyncio.to_thread(Bot, token)``, every coroutine that asks while the
first waits passes the same test, and each makes its own. The collector notes, for each ``if``
of a coroutine whose test reads state other coroutines share (an attribute of ``self``, a
module-level name), the calls its body makes before it changes that state with no ``await``
in between; a rewrite of one of those calls is then only a suggestion.
"""
from __future__ import annotations

from typing import Callable, FrozenSet, List, Optional, Set, Tuple

import libcst as cst

from detector.analysis.names import dotted, string_literal


class Check:
    """An ``if`` being walked whose test reads shared state: that state (``self.bots``) and the
    calls made in its body so far, while no ``await`` has come between."""

    __slots__ = ("reads", "calls", "suspended")

    def __init__(self, reads: FrozenSet[str]):
        self.reads = reads
        self.calls: List[cst.Call] = []
        self.suspended = False


def shared_reads(test: cst.BaseExpression, owner: Optional[str], shared_name: Callable[[str], bool]) -> FrozenSet[str]:
    """The shared state ``test`` reads: ``self.x`` (``owner`` is the method's first parameter),
    ``hasattr(self, "x")``, or a module-level name (``shared_name``) and its attributes."""
    found: Set[str] = set()
    pending: List[cst.CSTNode] = [test]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.Call) and dotted(node.func) in ("hasattr", "getattr") and len(node.args) >= 2:
            subject, name = dotted(node.args[0].value), string_literal(node.args[1].value)
            if subject is not None and name is not None:
                pending.append(node.args[0].value)
                found.add(f"{subject}.{name}")
                continue
        if isinstance(node, (cst.Attribute, cst.Name)):
            text = dotted(node)
            if text is not None and _shared(text, owner, shared_name):
                found.add(text)
                continue
        pending.extend(node.children)
    return frozenset(text for text in found if _shared(text, owner, shared_name))


def written(target: cst.BaseExpression) -> Optional[str]:
    """The state an assignment target changes: ``self.bots`` for ``self.bots[token]``."""
    while isinstance(target, cst.Subscript):
        target = target.value
    return dotted(target)


def changes(reads: FrozenSet[str], state: str) -> bool:
    """Whether changing ``state`` changes what a test reading ``reads`` sees."""
    return any(state == read or state.startswith(read + ".") or read.startswith(state + ".") for read in reads)


def calls_and_awaits(node: cst.CSTNode) -> Tuple[List[cst.Call], bool]:
    """The calls in ``node`` (an assigned value, a mutator's arguments), and whether it awaits."""
    calls: List[cst.Call] = []
    awaits = False
    pending: List[cst.CSTNode] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, (cst.Await, cst.Yield)):
            awaits = True
        elif isinstance(current, cst.Call):
            calls.append(current)
        elif isinstance(current, (cst.Lambda, cst.FunctionDef)):
            continue
        pending.extend(current.children)
    return calls, awaits


def _shared(text: str, owner: Optional[str], shared_name: Callable[[str], bool]) -> bool:
    head, _, rest = text.partition(".")
    if owner is not None and head == owner:
        return bool(rest)  # ``self`` itself is not state; ``self.bots`` is
    return shared_name(head)
