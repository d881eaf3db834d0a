"""Tests on the Python version that every Python 3 decides the same way.

Code written for Python 2 and 3 alike (``if sys.version_info >= (3, 0):``, ``if
sys.version_info[0] == 2:``, ``if six.PY2:``) keeps a branch no Python that offload analyses
runs. The live side of such a test runs on every call, like code outside any ``if``; the dead
side never runs, so its calls and bindings are not part of the program. A test that depends on
the minor version (``>= (3, 11)``) is not decided here: it is an ordinary branch.
"""
from __future__ import annotations

import operator
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

import libcst as cst

from detector.analysis.names import dotted

_VERSION = "sys.version_info"
_MAJOR = 3
# Names whose value every Python 3 knows.
_CONSTANTS = {"six.PY2": False, "six.PY3": True}
_COMPARE: Dict[Type[cst.BaseCompOp], Callable[[Any, Any], Any]] = {
    cst.LessThan: operator.lt, cst.LessThanEqual: operator.le, cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge, cst.Equal: operator.eq, cst.NotEqual: operator.ne,
}
# Two Python 3 versions that differ in everything a test could read after the major version.
_LOWEST = (_MAJOR, 0, 0, "alpha", 0)
_HIGHEST = (_MAJOR, 10 ** 6, 10 ** 6, "final", 10 ** 6)


def outcome(test: cst.BaseExpression) -> Optional[bool]:
    """True or False when every Python 3 evaluates ``test`` so; None otherwise."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = outcome(test.expression)
        return None if inner is None else not inner
    if isinstance(test, (cst.Name, cst.Attribute)):
        return _CONSTANTS.get(dotted(test) or "")
    if isinstance(test, cst.Comparison):
        return _comparison(test)
    return None


def _comparison(test: cst.Comparison) -> Optional[bool]:
    """``left op right [op right ...]``, each link decided alike for the lowest and the highest Python 3."""
    result = True
    left = test.left
    for target in test.comparisons:
        compare = _COMPARE.get(type(target.operator))
        if compare is None:
            return None
        each = [_link(compare, left, target.comparator, version) for version in (_LOWEST, _HIGHEST)]
        if None in each or each[0] != each[1]:
            return None
        result = result and bool(each[0])
        left = target.comparator
    return result


def _link(compare: Callable[[Any, Any], Any], left: cst.BaseExpression, right: cst.BaseExpression,
          version: Tuple[object, ...]) -> Optional[bool]:
    first, second = _value(left, version), _value(right, version)
    if first is None or second is None or (isinstance(first, tuple) != isinstance(second, tuple)):
        return None
    try:
        return bool(compare(first, second))
    except TypeError:
        return None


def _value(node: cst.BaseExpression, version: Tuple[object, ...]) -> Optional[object]:
    """What ``node`` is on a Python of ``version``: the version tuple, its major number, or a literal."""
    name = dotted(node)
    if name == _VERSION:
        return version
    if name == _VERSION + ".major":
        return version[0]
    if isinstance(node, cst.Subscript) and dotted(node.value) == _VERSION and len(node.slice) == 1:
        index = node.slice[0].slice
        if isinstance(index, cst.Index) and isinstance(index.value, cst.Integer) and index.value.value == "0":
            return version[0]
        return None
    if isinstance(node, cst.Integer):
        return node.evaluated_value
    if isinstance(node, cst.Tuple):
        items: List[object] = []
        for element in node.elements:
            if not isinstance(element.value, cst.Integer):
                return None
            items.append(element.value.evaluated_value)
        return tuple(items)
    return None
