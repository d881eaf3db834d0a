"""Calls a method makes only when an attribute of ``self`` is set.

``if self.CSS_PATH is not None: load(self.CSS_PATH)`` runs ``load`` only when the instance's
``CSS_PATH`` is not None. A class that sets ``CSS_PATH = None`` in its body (and a subclass
that inherits it) never runs it when constructed: ``project.Project.falsy_attribute`` knows the
value, ``chains.reached`` drops such calls for that class (``AttributeNeed.failed_by``). The
shapes read, on ``self`` (or ``cls``), with ``not``, ``and`` and ``or`` around them:

- ``if self.A:`` / ``if self.A is not None:`` (and the ``else`` of their negations);
- ``x if self.A else y``, ``self.A and f()``;
- a loop or comprehension over ``items if <test> else []``: its body runs only when the test holds;
- after ``if self.A is None: return`` the rest of the block needs ``A``.
"""
from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import libcst as cst

from detector.analysis.names import identifier, is_none


class Need(NamedTuple):
    """The code runs only when ``self.<attribute>`` is not None (``none_only``) or else truthy."""

    attribute: str
    none_only: bool


Needs = Tuple[Need, ...]


def needs(test: cst.BaseExpression, owner: str, outcome: bool) -> Needs:
    """What ``test`` coming out as ``outcome`` requires of the attributes of ``owner`` (``self``)."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return needs(test.expression, owner, not outcome)
    if isinstance(test, cst.BooleanOperation):
        # ``a and b`` true needs both true; ``a or b`` false needs both false. The other outcome
        # leaves either side possible: nothing is known.
        if isinstance(test.operator, cst.And) == outcome:
            return needs(test.left, owner, outcome) + needs(test.right, owner, outcome)
        return ()
    attribute = _attribute(test, owner)
    if attribute is not None:
        return (Need(attribute, False),) if outcome else ()
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and is_none(test.comparisons[0].comparator):
        attribute = _attribute(test.left, owner)
        operator = test.comparisons[0].operator
        if attribute is not None and isinstance(operator, (cst.Is, cst.IsNot)):
            # ``A is not None`` true, or ``A is None`` false: A is not None.
            return (Need(attribute, True),) if isinstance(operator, cst.IsNot) == outcome else ()
    return ()


def falsy_literal(node: cst.BaseExpression) -> Optional[bool]:
    """A literal that is false: True for ``None``, False for ``False``, ``0``, ``""``, ``()``,
    ``[]``, ``{}``; None for anything else."""
    if is_none(node):
        return True
    if isinstance(node, cst.Name) and identifier(node) == "False":
        return False
    if isinstance(node, (cst.Integer, cst.Float)) and node.evaluated_value == 0:
        return False
    if isinstance(node, cst.SimpleString) and not node.evaluated_value:
        return False
    return False if empty(node) else None


def empty(node: cst.BaseExpression) -> bool:
    """``[]``, ``()``, ``{}``: a loop over it runs its body never."""
    return isinstance(node, (cst.List, cst.Tuple, cst.Dict)) and not node.elements


def _attribute(node: cst.BaseExpression, owner: str) -> Optional[str]:
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and identifier(node.value) == owner:
        return identifier(node.attr)
    return None
