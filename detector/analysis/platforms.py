"""Which platforms a call runs on, when an ``if`` on the platform decides it.

``if os.name == "nt":`` / ``if sys.platform == "win32":`` / ``sys.platform.startswith("linux")``
/ ``platform.system() == "Darwin"`` (and ``!=``, ``not``, ``and``, ``elif`` and ``else``): a
blocking call under such a test blocks on those platforms only, and the message says so.
Anything else (an unknown string, ``or``, a name bound to something else) decides nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, FrozenSet, Optional

import libcst as cst

from detector.analysis.names import string_literal
from detector.analysis.summary import Value

# (what is tested, the string it is compared with) -> the platform it means.
_EQUALS = {
    ("os.name", "nt"): "Windows",
    ("sys.platform", "win32"): "Windows",
    ("sys.platform", "cygwin"): "Cygwin",
    ("sys.platform", "darwin"): "macOS",
    ("sys.platform", "linux"): "Linux",
    ("sys.platform", "linux2"): "Linux",
    ("platform.system", "Windows"): "Windows",
    ("platform.system", "Darwin"): "macOS",
    ("platform.system", "Linux"): "Linux",
}
_NOT_EQUALS = {("os.name", "posix"): "Windows"}  # os.name == "posix": everywhere but Windows
_PREFIXES = {"win": "Windows", "darwin": "macOS", "linux": "Linux", "cygwin": "Cygwin"}

Evaluate = Callable[[cst.BaseExpression], Value]


@dataclass(frozen=True)
class Platforms:
    """Where code runs: ``only`` one platform, or everywhere but the ``excluded`` ones."""

    only: Optional[str] = None
    excluded: FrozenSet[str] = frozenset()

    def negated(self) -> Optional["Platforms"]:
        if self.only is not None:
            return Platforms(excluded=frozenset({self.only}))
        if len(self.excluded) == 1:
            return Platforms(only=next(iter(self.excluded)))
        return None  # "on Windows or Linux": not one phrase worth the words

    def both(self, other: "Platforms") -> Optional["Platforms"]:
        """Code under both conditions (``None``: they contradict, or say too little)."""
        if self.only and other.only:
            return self if self.only == other.only else None
        only = self.only or other.only
        excluded = self.excluded | other.excluded
        if only is not None:
            return None if only in excluded else Platforms(only=only)
        return Platforms(excluded=excluded)

    def phrase(self) -> str:
        if self.only is not None:
            return f"on {self.only} only"
        return "everywhere but " + " and ".join(sorted(self.excluded))


def test_platforms(test: cst.BaseExpression, evaluate: Evaluate) -> Optional[Platforms]:
    """The platforms on which ``test`` is true, when it is a platform test."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        inner = test_platforms(test.expression, evaluate)
        return inner.negated() if inner is not None else None
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
        return _comparison(test, evaluate)
    if isinstance(test, cst.Call) and isinstance(test.func, cst.Attribute) and test.func.attr.value == "startswith" \
            and len(test.args) == 1 and not test.args[0].keyword and not test.args[0].star:
        prefix = string_literal(test.args[0].value)
        if prefix is not None and _tested(test.func.value, evaluate) == "sys.platform":
            platform = next((name for start, name in _PREFIXES.items() if prefix and start.startswith(prefix)
                             and prefix.startswith(start[:3])), None)
            return Platforms(only=platform) if platform else None
    return None


def body_platforms(test: cst.BaseExpression, evaluate: Evaluate) -> Optional[Platforms]:
    """Where the body of ``if test:`` runs (``a and b``: under both)."""
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        left, right = body_platforms(test.left, evaluate), body_platforms(test.right, evaluate)
        if left is not None and right is not None:
            return left.both(right)
        return left or right
    return test_platforms(test, evaluate)


def else_platforms(test: cst.BaseExpression, evaluate: Evaluate) -> Optional[Platforms]:
    """Where the ``else`` of ``if test:`` runs (only for a plain platform test)."""
    found = test_platforms(test, evaluate)
    return found.negated() if found is not None else None


def _comparison(test: cst.Comparison, evaluate: Evaluate) -> Optional[Platforms]:
    target = test.comparisons[0]
    left, right = test.left, target.comparator
    if string_literal(left) is not None:
        left, right = right, left
    value, tested = string_literal(right), _tested(left, evaluate)
    if value is None or tested is None:
        return None
    if isinstance(target.operator, (cst.Equal, cst.Is)):
        equal = True
    elif isinstance(target.operator, (cst.NotEqual, cst.IsNot)):
        equal = False
    else:
        return None
    if (tested, value) in _EQUALS:
        found = Platforms(only=_EQUALS[(tested, value)])
    elif (tested, value) in _NOT_EQUALS:
        found = Platforms(excluded=frozenset({_NOT_EQUALS[(tested, value)]}))
    else:
        return None
    return found if equal else found.negated()


def _tested(node: cst.BaseExpression, evaluate: Evaluate) -> Optional[str]:
    """``os.name``, ``sys.platform`` or ``platform.system()``, however imported."""
    if isinstance(node, cst.Call):
        if node.args:
            return None
        value = evaluate(node.func)
        return "platform.system" if value is not None and value == ("ref", "platform.system") else None
    value = evaluate(node)
    if value is not None and value.kind == "ref" and value.name in ("os.name", "sys.platform"):
        return value.name
    return None
